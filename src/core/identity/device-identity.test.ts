import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { dexieIdentityStore, P2pDatabase } from '../store';
import { fromBase64Url, randomBase64Url, toBase64Url } from './base64url';
import { DeviceIdentity, IdentityStore, MemoryIdentityStore, PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN, verifySignature } from './device-identity';

const bytes = (text: string) => new TextEncoder().encode(text);
const opened: P2pDatabase[] = [];
let n = 0;

/** The identity store ChatSession uses over the Dexie database. */
function dexieIdentities(db: P2pDatabase): IdentityStore {
  return { get: room => db.identities.get(room), put: async identity => void (await db.identities.put(identity)) };
}
function database(name: string): P2pDatabase {
  const db = new P2pDatabase(name);
  opened.push(db);
  return db;
}

afterEach(() => {
  opened.splice(0).forEach(db => db.close());
});

describe('base64url', () => {
  it('round-trips bytes without padding and with the URL-safe alphabet', () => {
    const data = new Uint8Array([0xfb, 0xff, 0xbf, 0x00, 0x01]);
    const text = toBase64Url(data);
    expect(text).toBe('-_-_AAE');
    expect(fromBase64Url(text)).toEqual(data);
    expect(toBase64Url(new Uint8Array(65))).toHaveLength(87);
    expect(toBase64Url(new Uint8Array(64))).toHaveLength(86);
  });

  it('refuses characters outside the alphabet', () => {
    expect(() => fromBase64Url('ab+/')).toThrow();
    expect(() => fromBase64Url('ab==')).toThrow();
  });

  it('makes random ids of 22 characters for 16 bytes', () => {
    const a = randomBase64Url();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomBase64Url()).not.toBe(a);
  });
});

describe('DeviceIdentity', () => {
  it('signs data that verifies under its public key, and nothing else verifies', async () => {
    const id = await DeviceIdentity.forRoom('room-a', new MemoryIdentityStore());
    expect(id.publicKey).toMatch(PUBLIC_KEY_PATTERN);
    const sig = await id.sign(bytes('hello'));
    expect(sig).toMatch(SIGNATURE_PATTERN);
    expect(await verifySignature(id.publicKey, bytes('hello'), sig)).toBe(true);
    expect(await verifySignature(id.publicKey, bytes('hellO'), sig)).toBe(false);
    const other = await DeviceIdentity.forRoom('room-a', new MemoryIdentityStore());
    expect(await verifySignature(other.publicKey, bytes('hello'), sig)).toBe(false);
  });

  it('has a distinct key per room, even on the same device', async () => {
    const store = new MemoryIdentityStore();
    const a = await DeviceIdentity.forRoom('room-a', store);
    const b = await DeviceIdentity.forRoom('room-b', store);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect((await DeviceIdentity.forRoom('room-a', store)).publicKey).toBe(a.publicKey);
  });

  it('persists the key pair and the sequence counter in the database: the same identity after re-opening it', async () => {
    const name = `identity-${++n}-${Math.random()}`;
    const db1 = database(name);
    const a1 = await DeviceIdentity.forRoom('room-a', dexieIdentities(db1));
    const b1 = await DeviceIdentity.forRoom('room-b', dexieIdentities(db1));
    expect(await a1.nextSeq()).toBe(1);
    expect(await a1.nextSeq()).toBe(2);
    expect(await a1.nextSeq()).toBe(3);
    db1.close();

    const db2 = database(name);
    const a2 = await DeviceIdentity.forRoom('room-a', dexieIdentities(db2));
    const b2 = await DeviceIdentity.forRoom('room-b', dexieIdentities(db2));
    expect(a2.publicKey).toBe(a1.publicKey);
    expect(b2.publicKey).toBe(b1.publicKey);
    expect(a2.publicKey).not.toBe(b2.publicKey);
    // 4 was reserved ahead by a1 after it handed out 3 (and never used): a2 continues after it.
    expect(await a2.nextSeq()).toBe(5);
    expect(await b2.nextSeq()).toBe(1);
    // the private key survived too: a signature made after re-opening verifies under the old public key
    expect(await verifySignature(a1.publicKey, bytes('x'), await a2.sign(bytes('x')))).toBe(true);
    // and the private key is stored non-extractable
    const stored = await db2.identities.get('room-a');
    expect(stored?.privateKey.extractable).toBe(false);
  });

  it('raises the counter above a sequence number seen by sync, never lowers it', async () => {
    const id = await DeviceIdentity.forRoom('r', new MemoryIdentityStore());
    await id.observeOwnSeq(9);
    expect(await id.nextSeq()).toBe(10);
    await id.observeOwnSeq(3);
    expect(await id.nextSeq()).toBe(11);
  });

  it('hands out the next number without waiting for the store (reserved ahead), and never one sync brought back', async () => {
    const memory = new MemoryIdentityStore();
    let counter = 1;
    const waiting: (() => void)[] = [];
    // A store whose reservations complete only when the test says so (as an IndexedDB write queued behind another).
    const slow: IdentityStore = {
      get: room => memory.get(room),
      put: identity => memory.put(identity),
      reserveSeq: (_room, atLeast = 1) =>
        new Promise(resolve => {
          const seq = Math.max(counter, atLeast);
          counter = seq + 1;
          waiting.push(() => resolve(seq));
        }),
    };
    const id = await DeviceIdentity.forRoom('r', slow);
    const first = id.nextSeq();
    waiting.shift()!();
    expect(await first).toBe(1);
    // The reservation of 2 started at once; once it is done, the next call needs no store round trip.
    waiting.shift()!();
    await Promise.resolve();
    const second = id.nextSeq();
    expect(await second).toBe(2);
    expect(waiting.length).toBe(1); // only the reservation of 3 is in flight, in the background
    // Sync brings back our own record 3 before the reservation of 3 is done (say, sent by another
    // tab whose store was lost): the reserved 3 is not used, a new number above it is.
    const observed = id.observeOwnSeq(3);
    waiting.splice(0).forEach(done => done());
    await observed;
    const next = id.nextSeq();
    // Let every reservation it makes complete (however many ticks it takes to ask for them).
    for (let i = 0; i < 20; i++) {
      waiting.splice(0).forEach(done => done());
      await new Promise(resolve => setTimeout(resolve, 0));
    }
    expect(await next).toBeGreaterThan(3);
  });

  it('never gives two instances sharing the database (two tabs) the same number', async () => {
    const db = database(`identity-tabs-${++n}`);
    const store = dexieIdentityStore(db);
    const a = await DeviceIdentity.forRoom('r', store);
    const b = await DeviceIdentity.forRoom('r', store);
    const seqs = await Promise.all([...Array(20)].map((_, i) => (i % 2 ? a : b).nextSeq()));
    expect(new Set(seqs).size).toBe(20);
  });

  it('still works for the session when the store fails', async () => {
    const broken: IdentityStore = {
      get: () => Promise.reject(new Error('no storage')),
      put: () => Promise.reject(new Error('no storage')),
    };
    const id = await DeviceIdentity.forRoom('r', broken);
    expect(await id.nextSeq()).toBe(1);
    expect(await id.nextSeq()).toBe(2);
    expect(await verifySignature(id.publicKey, bytes('x'), await id.sign(bytes('x')))).toBe(true);
  });
});

describe('verifySignature', () => {
  it('returns false without throwing for malformed keys and signatures', async () => {
    const id = await DeviceIdentity.forRoom('r', new MemoryIdentityStore());
    const data = bytes('data');
    const sig = await id.sign(data);
    const notAPoint = 'A'.repeat(87); // right length, not a point on P-256
    const cases: [string, string][] = [
      ['', sig],
      ['short', sig],
      [id.publicKey + 'A', sig],
      [id.publicKey.slice(0, 86) + '+', sig],
      [notAPoint, sig],
      [(id.publicKey[0] === 'B' ? 'A' : 'B') + id.publicKey.slice(1), sig], // wrong point-format byte (0x04 → 0x00)
      [id.publicKey, ''],
      [id.publicKey, sig.slice(1)],
      [id.publicKey, sig + 'A'],
      [id.publicKey, sig.slice(0, 85) + '='],
      [id.publicKey, 'A'.repeat(86)], // well-formed but all zero: r = s = 0
      [id.publicKey, '_'.repeat(86)], // r, s larger than the curve order
    ];
    for (const [key, signature] of cases) {
      await expect(verifySignature(key, data, signature)).resolves.toBe(false);
    }
    // a failed import is not cached as good, and a good key still works afterwards
    await expect(verifySignature(notAPoint, data, sig)).resolves.toBe(false);
    await expect(verifySignature(id.publicKey, data, sig)).resolves.toBe(true);
  });

  it('rejects a signature with any byte changed', async () => {
    const id = await DeviceIdentity.forRoom('r', new MemoryIdentityStore());
    const data = bytes('data');
    const raw = fromBase64Url(await id.sign(data));
    for (const i of [0, 10, 31, 32, 50, 63]) {
      const changed = raw.slice();
      changed[i] ^= 0x01;
      expect(await verifySignature(id.publicKey, data, toBase64Url(changed))).toBe(false);
    }
  });
});
