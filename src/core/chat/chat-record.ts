import { defineRecordKind, recordKey, type RecordShape, type Unsigned } from '../records';
import type { StoredChatRecord } from '../store';
import type { ChatRecordWire } from '../wire';

/** Domain-separation tag of the signed bytes; bump with any change of the canonical form. */
export const RECORD_SIGNING_TAG = 'p2p-widgets/chat-record/1';

/** A record without its signature. */
export type UnsignedRecord = Unsigned<ChatRecordWire>;

/**
 * Chat records: signed bytes are UTF-8 JSON of `[tag, room, author, seq, ts, kind, name, text, burn, target]`
 * (absent fields as null; see core/records).
 */
export const chatRecordKind = defineRecordKind<ChatRecordWire>(RECORD_SIGNING_TAG, r => [
  r.kind === 'msg' ? r.name : null,
  r.kind === 'msg' ? r.text : null,
  r.kind === 'msg' ? (r.burn ?? null) : r.kind === 'mode' ? r.burn : null,
  r.kind === 'retract' ? r.target : null,
]);

/** The bytes an author signs (see {@link chatRecordKind}). */
export const recordSigningBytes = chatRecordKind.signingBytes;
/** Signs a record as this device. @throws Error when its `author` is not the identity's public key */
export const signRecord = chatRecordKind.sign;
/** Whether `record.sig` is its author's signature over the record in `room`. Never throws. */
export const verifyRecord = chatRecordKind.verify;
export { recordKey };

/** Chat's amendments: a tombstone (`retract`) amends its author's earlier message, and retires it (it no longer counts as live). */
export const chatRecordShape: RecordShape<StoredChatRecord> = {
  amends: r => r.kind === 'retract',
  retires: r => r.kind === 'retract',
};
