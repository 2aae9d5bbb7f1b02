import type { Unsubscribe } from 'nanoevents';
import type * as v from 'valibot';
import type { FeatureMesh } from '../mesh';
import { PROTOCOL_VERSION, type MessageSpec } from '../wire';
import type { RecordBook } from './record-book';
import type { SignedRecordBase } from './signed-record';

/** A message schema whose decoded value carries one record. */
type RecordSchema<R> = v.GenericSchema<{ v: number; record: R }, { v: number; record: R }>;
/** A message schema whose decoded value carries a batch of records. */
type ListSchema<R> = v.GenericSchema<{ v: number; records: R[] }, { v: number; records: R[] }>;
/** The schema of a query (nothing but the protocol version). */
type QuerySchema = v.GenericSchema<{ v: number }, { v: number }>;

/** How a feature's records travel between holders (see {@link startRecordExchange}). */
export interface RecordExchangeOptions<R extends SignedRecordBase> {
  /** The room the records travel in. */
  mesh: FeatureMesh;
  /** Where received records go (the book applies the rules). */
  book: RecordBook<R & { target?: number }, string>;
  /** The three messages of the kind: one new record (to everyone), a batch (the answer, to the asker only), a query. */
  messages: { record: MessageSpec<RecordSchema<R>>; list: MessageSpec<ListSchema<R>>; query: MessageSpec<QuerySchema> };
  /** The records this device answers a query with: those it holds (its own, and what it keeps a copy of). */
  answer(): R[];
  /** Batch policy of an answer: at most `maxRecords` records and `maxBytes` bytes of JSON per message (one record over it goes alone). */
  batch: { maxRecords: number; maxBytes: number };
}

/**
 * When a peer asked on join has sent no batch, it is asked again after these waits, ms (3, 6 and
 * 12 s: at 3, 9 and 21 s after the first query). A query is lost when it reaches a page before that
 * page lists the asker: mesh-room.ts holds such messages 5 s, but with Chromium 156 a neighbour in
 * a partial mesh was seen listing a newcomer more than 5 s after the newcomer listed it (why is not
 * known yet). A peer that holds nothing answers nothing, so the asker cannot tell; a query costs
 * one small message.
 */
export const QUERY_RETRY_MS = [3000, 6000, 12_000] as const;

/** A running exchange: `publish` sends a new record of this device to every peer; `stop` unsubscribes. */
export interface RecordExchange<R> {
  /** Sends a record to every peer in the room. Resolves when handed to the data channels. */
  publish(record: R): Promise<void>;
  /** Stops answering and receiving. Idempotent. */
  stop(): void;
}

/**
 * The ask-the-holder exchange that gallery and music share, written once: every record received
 * (alone or in a batch) goes to the book, which applies the rules; a peer that joins is asked for
 * what it holds (`query`), and this device answers a query, to the asker only, with `answer()` in
 * batches. Messages arrive already validated by the wire (schema, size, rate), so a hostile batch
 * costs at most its schema's `maxLength` records.
 */
export function startRecordExchange<R extends SignedRecordBase>(o: RecordExchangeOptions<R>): RecordExchange<R> {
  const { mesh, book, messages } = o;
  const records = mesh.channel(messages.record);
  const lists = mesh.channel(messages.list);
  const queries = mesh.channel(messages.query);
  /** Peers a batch came from since they were asked. */
  const answered = new Set<string>();
  const retries = new Map<string, ReturnType<typeof setTimeout>>();
  const ask = (peerId: string, attempt = 0) => {
    if (attempt === 0) answered.delete(peerId);
    void queries.send({ v: PROTOCOL_VERSION }, peerId).catch(() => undefined);
    clearTimeout(retries.get(peerId));
    retries.delete(peerId);
    if (attempt < QUERY_RETRY_MS.length)
      retries.set(
        peerId,
        setTimeout(() => {
          retries.delete(peerId);
          if (!answered.has(peerId) && mesh.peers.has(peerId)) ask(peerId, attempt + 1);
        }, QUERY_RETRY_MS[attempt]),
      );
  };
  const answer = async (peerId: string) => {
    for (const batch of batches(o.answer(), o.batch)) await lists.send({ v: PROTOCOL_VERSION, records: batch }, peerId);
  };
  let offs: Unsubscribe[] = [
    records.onMessage(({ record }) => void book.ingest(record)),
    lists.onMessage(({ records: batch }, peerId) => {
      answered.add(peerId);
      batch.forEach(r => void book.ingest(r));
    }),
    queries.onMessage((_, peerId) => void answer(peerId).catch(() => undefined)),
    mesh.on('peerJoin', peer => ask(peer.id)),
    mesh.on('peerLeave', peer => {
      clearTimeout(retries.get(peer.id));
      retries.delete(peer.id);
      answered.delete(peer.id);
    }),
  ];
  for (const peerId of mesh.peers.keys()) ask(peerId);
  return {
    publish: record => records.send({ v: PROTOCOL_VERSION, record }),
    stop() {
      offs.forEach(off => off());
      offs = [];
      retries.forEach(t => clearTimeout(t));
      retries.clear();
    },
  };
}

/** Splits records into batches of at most `maxRecords` and `maxBytes` (UTF-8 JSON) each. */
export function batches<R>(records: readonly R[], limit: { maxRecords: number; maxBytes: number }): R[][] {
  const out: R[][] = [];
  const encoder = new TextEncoder();
  let batch: R[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = encoder.encode(JSON.stringify(record)).byteLength;
    if (batch.length && (batch.length >= limit.maxRecords || bytes + size > limit.maxBytes)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(record);
    bytes += size;
  }
  if (batch.length) out.push(batch);
  return out;
}
