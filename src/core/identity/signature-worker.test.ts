import { describe, expect, it } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from './device-identity';
import { signatureWorkerStats, verifySignatures, WORKER_MIN_BATCH } from './signature-worker';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('verifySignatures', () => {
  it('gives one result per check, in order: genuine true; tampered, foreign-key and malformed false (main thread where there are no workers)', async () => {
    const [ann, bob] = await Promise.all(['ann', 'bob'].map(room => DeviceIdentity.forRoom(room, new MemoryIdentityStore())));
    const checks = await Promise.all(
      Array.from({ length: WORKER_MIN_BATCH + 4 }, async (_, i) => ({ publicKey: ann.publicKey, data: bytes(`record ${i}`), signature: await ann.sign(bytes(`record ${i}`)) })),
    );
    checks[2] = { ...checks[2], data: bytes('record 2, tampered') };
    checks[5] = { ...checks[5], publicKey: bob.publicKey };
    checks[7] = { ...checks[7], signature: 'not a signature' };
    checks[9] = { ...checks[9], publicKey: '<script>' };
    const before = signatureWorkerStats.onMainThread;
    const ok = await verifySignatures(checks);
    expect(ok).toEqual(checks.map((_, i) => ![2, 5, 7, 9].includes(i)));
    // Node has no Worker: the whole batch was checked on this thread.
    expect(signatureWorkerStats.onMainThread - before).toBe(checks.length);
    expect(await verifySignatures([])).toEqual([]);
  });
});
