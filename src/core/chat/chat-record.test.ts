import { describe, expect, it } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import type { ChatRecordWire } from '../wire';
import { recordKey, recordSigningBytes, RECORD_SIGNING_TAG, signRecord, UnsignedRecord, verifyRecord } from './chat-record';

const ROOM = 'room-a';
const T0 = 1_700_000_000_000;

async function identities() {
  const ann = await DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());
  const bob = await DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());
  return { ann, bob };
}

/** Changes the first character of a base64url string (the last one may carry only padding bits). */
function flipFirst(text: string): string {
  return (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
}

describe('recordSigningBytes', () => {
  it('is the UTF-8 JSON of the documented fixed-order array, absent fields as null', () => {
    const bytes = recordSigningBytes(ROOM, { kind: 'msg', author: 'K', seq: 1, ts: 2, name: 'Ann', text: 'hi' } as unknown as UnsignedRecord);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual([RECORD_SIGNING_TAG, ROOM, 'K', 1, 2, 'msg', 'Ann', 'hi', null, null]);
    const retract = recordSigningBytes(ROOM, { kind: 'retract', author: 'K', seq: 3, ts: 4, target: 1 } as unknown as UnsignedRecord);
    expect(JSON.parse(new TextDecoder().decode(retract))).toEqual([RECORD_SIGNING_TAG, ROOM, 'K', 3, 4, 'retract', null, null, null, 1]);
    const mode = recordSigningBytes(ROOM, { kind: 'mode', author: 'K', seq: 5, ts: 6, burn: false } as unknown as UnsignedRecord);
    expect(JSON.parse(new TextDecoder().decode(mode))).toEqual([RECORD_SIGNING_TAG, ROOM, 'K', 5, 6, 'mode', null, null, false, null]);
  });

  it('does not let text and name swap or merge into the same bytes', () => {
    const a = recordSigningBytes(ROOM, { kind: 'msg', author: 'K', seq: 1, ts: 2, name: 'a","b', text: 'c' } as unknown as UnsignedRecord);
    const b = recordSigningBytes(ROOM, { kind: 'msg', author: 'K', seq: 1, ts: 2, name: 'a', text: 'b","c' } as unknown as UnsignedRecord);
    expect(new TextDecoder().decode(a)).not.toBe(new TextDecoder().decode(b));
  });
});

describe('signRecord / verifyRecord', () => {
  it('round-trips a message, a burn message, a retraction and a mode switch', async () => {
    const { ann } = await identities();
    const records: UnsignedRecord[] = [
      { kind: 'msg', author: ann.publicKey, seq: 1, ts: T0, name: 'Ann', text: 'hello 😀' },
      { kind: 'msg', author: ann.publicKey, seq: 2, ts: T0, name: 'Ann', text: 'gone soon', burn: true },
      { kind: 'retract', author: ann.publicKey, seq: 3, ts: T0 + 1, target: 1 },
      { kind: 'mode', author: ann.publicKey, seq: 4, ts: T0 + 2, burn: true },
    ];
    for (const unsigned of records) {
      const signed = await signRecord(ROOM, ann, unsigned);
      expect(signed).toEqual({ ...unsigned, sig: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) });
      expect(await verifyRecord(ROOM, signed)).toBe(true);
      // it still verifies after travelling as JSON
      expect(await verifyRecord(ROOM, JSON.parse(JSON.stringify(signed)) as ChatRecordWire)).toBe(true);
    }
  });

  it('refuses to sign a record whose author is another key', async () => {
    const { ann, bob } = await identities();
    await expect(signRecord(ROOM, ann, { kind: 'msg', author: bob.publicKey, seq: 1, ts: T0, name: 'Bob', text: 'x' })).rejects.toThrow(/own records/);
  });

  it('fails when any field of a message is altered', async () => {
    const { ann, bob } = await identities();
    const signed = (await signRecord(ROOM, ann, { kind: 'msg', author: ann.publicKey, seq: 5, ts: T0, name: 'Ann', text: 'pay Bob 10' })) as Extract<ChatRecordWire, { kind: 'msg' }>;
    const altered: ChatRecordWire[] = [
      { ...signed, author: bob.publicKey },
      { ...signed, seq: 6 },
      { ...signed, ts: T0 + 1 },
      { ...signed, name: 'Eve' },
      { ...signed, text: 'pay Bob 1000' },
      { ...signed, text: 'pay Bob 10 ' },
      { ...signed, burn: true },
      { ...signed, sig: flipFirst(signed.sig) },
      { kind: 'mode', author: signed.author, seq: signed.seq, ts: signed.ts, burn: true, sig: signed.sig },
      { kind: 'retract', author: signed.author, seq: signed.seq, ts: signed.ts, target: 1, sig: signed.sig },
    ];
    for (const record of altered) expect(await verifyRecord(ROOM, record), JSON.stringify(record)).toBe(false);
    expect(await verifyRecord(ROOM, signed)).toBe(true);
  });

  it('fails when the target of a retraction or the switch of a mode record is altered', async () => {
    const { ann } = await identities();
    const retract = (await signRecord(ROOM, ann, { kind: 'retract', author: ann.publicKey, seq: 9, ts: T0, target: 4 })) as Extract<ChatRecordWire, { kind: 'retract' }>;
    expect(await verifyRecord(ROOM, { ...retract, target: 5 })).toBe(false);
    expect(await verifyRecord(ROOM, { ...retract, seq: 10 })).toBe(false);
    const mode = (await signRecord(ROOM, ann, { kind: 'mode', author: ann.publicKey, seq: 10, ts: T0, burn: true })) as Extract<ChatRecordWire, { kind: 'mode' }>;
    expect(await verifyRecord(ROOM, { ...mode, burn: false })).toBe(false);
    const burnMsg = (await signRecord(ROOM, ann, { kind: 'msg', author: ann.publicKey, seq: 11, ts: T0, name: 'A', text: 't', burn: true })) as Extract<ChatRecordWire, { kind: 'msg' }>;
    const { burn: _burn, ...withoutBurn } = burnMsg;
    expect(await verifyRecord(ROOM, withoutBurn as ChatRecordWire)).toBe(false);
  });

  it('fails in another room: a record signed for room A cannot be replayed into room B', async () => {
    const { ann } = await identities();
    const signed = await signRecord(ROOM, ann, { kind: 'msg', author: ann.publicKey, seq: 1, ts: T0, name: 'Ann', text: 'hi' });
    expect(await verifyRecord(ROOM, signed)).toBe(true);
    expect(await verifyRecord('room-b', signed)).toBe(false);
    expect(await verifyRecord(ROOM + ' ', signed)).toBe(false);
  });

  it('verifies false without throwing for malformed authors and signatures', async () => {
    const { ann } = await identities();
    const signed = await signRecord(ROOM, ann, { kind: 'msg', author: ann.publicKey, seq: 1, ts: T0, name: 'Ann', text: 'hi' });
    const bad: ChatRecordWire[] = [
      { ...signed, author: 'A'.repeat(87) },
      { ...signed, author: 'not a key' },
      { ...signed, sig: 'A'.repeat(86) },
      { ...signed, sig: 'short' },
      { ...signed, sig: '' },
    ];
    for (const record of bad) await expect(verifyRecord(ROOM, record)).resolves.toBe(false);
  });
});

describe('recordKey', () => {
  it('is author:seq', () => {
    expect(recordKey({ author: 'K', seq: 3 })).toBe('K:3');
  });
});
