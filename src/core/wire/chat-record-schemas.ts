import * as v from 'valibot';
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN } from '../identity/device-identity';
import { defineMessage, PROTOCOL_VERSION } from './message-definition';
import { codePointLength, MAX_CHAT_TEXT_LENGTH, MAX_NAME_LENGTH } from './message-schemas';

const version = v.literal(PROTOCOL_VERSION);
const seq = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15));
const author = v.pipe(v.string(), v.regex(PUBLIC_KEY_PATTERN));
const sig = v.pipe(v.string(), v.regex(SIGNATURE_PATTERN));
const name = v.pipe(v.string(), v.minLength(1), v.check(n => n.trim() === n && codePointLength(n) <= MAX_NAME_LENGTH));

/**
 * A signed chat record as it travels. Kinds:
 * - `msg`: a message (`name`, `text`; `burn: true` when sent in burn-after-reading mode: never stored, never synced)
 * - `retract`: the author's tombstone for their own message `target` (a sequence number)
 * - `mode`: the room's burn-after-reading switch set to `burn`
 * `sig` is the author's ECDSA P-256 signature over the record's canonical bytes
 * (see `recordSigningBytes` in src/core/chat/chat-record.ts), which include the room.
 */
export const chatRecordSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('msg'), author, seq, ts: ms, name, text: v.pipe(v.string(), v.minLength(1), v.check(t => codePointLength(t) <= MAX_CHAT_TEXT_LENGTH)), burn: v.optional(v.literal(true)), sig }),
  v.strictObject({ kind: v.literal('retract'), author, seq, ts: ms, target: seq, sig }),
  v.strictObject({ kind: v.literal('mode'), author, seq, ts: ms, burn: v.boolean(), sig }),
]);

/** A signed chat record as it travels. */
export type ChatRecordWire = v.InferOutput<typeof chatRecordSchema>;

/**
 * `chat`: one live record (a new message, a retraction, a mode switch), broadcast when made.
 * Shape `{ v: 1, record }`. Limits: 72 KiB, 5/s with a burst of 20 per peer.
 */
export const chatRecordMessage = defineMessage({
  channel: 'chat',
  schema: v.strictObject({ v: version, record: chatRecordSchema }),
  maxBytes: 72 * 1024,
  rate: { ratePerSecond: 5, burst: 20 },
  flood: true,
  syncedOnConnect: true,
});

/** Most authors in one state vector (`chat-sync-req`). */
export const MAX_VECTOR_AUTHORS = 2000;
/** Most ranges per author in one state vector. */
export const MAX_RANGES_PER_AUTHOR = 2000;

/**
 * `chat-sync-req`: "here is what I hold since `since` (ms); send me what I lack".
 * `vector` maps author → sorted, disjoint inclusive ranges of sequence numbers held
 * (a state vector with gaps, as in Scuttlebutt / Yjs). `id` names the request in the replies.
 * Limits: 256 KiB, 1/s with a burst of 5 per peer.
 */
export const chatSyncRequestMessage = defineMessage({
  channel: 'chat-sync-req',
  schema: v.strictObject({
    v: version,
    id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/)),
    since: ms,
    vector: v.pipe(
      v.record(author, v.pipe(v.array(v.tuple([seq, seq])), v.maxLength(MAX_RANGES_PER_AUTHOR))),
      v.check(r => Object.keys(r).length <= MAX_VECTOR_AUTHORS),
    ),
  }),
  maxBytes: 256 * 1024,
  rate: { ratePerSecond: 1, burst: 5 },
});

/** Most records in one sync batch. */
export const MAX_BATCH_RECORDS = 250;

/**
 * `chat-sync-batch`: records answering request `id`, oldest first; `done` on the last batch.
 * Limits: 512 KiB, 40/s with a burst of 100 per peer.
 */
export const chatSyncBatchMessage = defineMessage({
  channel: 'chat-sync-batch',
  schema: v.strictObject({
    v: version,
    id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/)),
    records: v.pipe(v.array(chatRecordSchema), v.maxLength(MAX_BATCH_RECORDS)),
    done: v.boolean(),
  }),
  maxBytes: 512 * 1024,
  rate: { ratePerSecond: 40, burst: 100 },
});
