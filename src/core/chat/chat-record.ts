import type { DeviceIdentity } from '../identity';
import { verifySignature } from '../identity';
import type { ChatRecordWire } from '../wire';

/** Domain-separation tag of the signed bytes; bump with any change of the canonical form. */
export const RECORD_SIGNING_TAG = 'p2p-widgets/chat-record/1';

/** A record without its signature. */
export type UnsignedRecord = DistributiveOmit<ChatRecordWire, 'sig'>;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * The bytes an author signs: UTF-8 JSON of a fixed-order array
 * `[tag, room, author, seq, ts, kind, name, text, burn, target]` (absent fields as null).
 * Including the room stops a record from being replayed into another room.
 */
export function recordSigningBytes(room: string, r: UnsignedRecord): Uint8Array {
  const name = r.kind === 'msg' ? r.name : null;
  const text = r.kind === 'msg' ? r.text : null;
  const burn = r.kind === 'msg' ? (r.burn ?? null) : r.kind === 'mode' ? r.burn : null;
  const target = r.kind === 'retract' ? r.target : null;
  return new TextEncoder().encode(JSON.stringify([RECORD_SIGNING_TAG, room, r.author, r.seq, r.ts, r.kind, name, text, burn, target]));
}

/** Signs a record as this device (its `author` must be the identity's public key). */
export async function signRecord(room: string, identity: DeviceIdentity, r: UnsignedRecord): Promise<ChatRecordWire> {
  if (r.author !== identity.publicKey) throw new Error('a device can only sign its own records');
  return { ...r, sig: await identity.sign(recordSigningBytes(room, r)) } as ChatRecordWire;
}

/** Whether `record.sig` is its author's signature over the record in `room`. Never throws. */
export function verifyRecord(room: string, record: ChatRecordWire): Promise<boolean> {
  const { sig, ...unsigned } = record;
  return verifySignature(record.author, recordSigningBytes(room, unsigned as UnsignedRecord), sig);
}

/** `author:seq`, the key of a record within a room. */
export function recordKey(r: { author: string; seq: number }): string {
  return `${r.author}:${r.seq}`;
}
