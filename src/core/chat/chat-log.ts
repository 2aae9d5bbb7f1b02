import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { DeviceIdentity } from '../identity';
import type { StoredChatRecord } from '../store';
import { StorageError, toStorageError } from '../store';
import type { ChatRecordWire } from '../wire';
import { chatRecordKind, chatRecordShape } from './chat-record';
import type { PageCursor, RecordStore } from './record-store';
import { DEFAULT_RETENTION_MS, windowStart } from './retention';
import { buildStateVector, covers, StateVector } from './state-vector';
import { RecordBook, recordKey, type RecordOutcome } from '../records';

/** Records read from the store at a time when serving a sync (see {@link ChatLog.missingPages}): two batches' worth. */
export const MISSING_PAGE_RECORDS = 500;

/** Greatest accepted lead of a record's timestamp over our clock, ms (5 minutes). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Why an incoming record was refused (counted in {@link ChatLog.refused}). */
export type RefusalReason = 'bad-signature' | 'future' | 'outside-window' | 'duplicate' | 'conflict' | 'bad-target';

/** Outcome of {@link ChatLog.ingest}. */
export type IngestResult =
  | { status: 'accepted'; record: StoredChatRecord; stored: boolean; retractedTarget?: StoredChatRecord }
  | { status: 'refused'; reason: RefusalReason; existing?: StoredChatRecord };

/** One record accepted by {@link ChatLog.ingestBatch}, with the stored message it retracted, if any. */
export interface AcceptedRecord {
  /** The record as stored (or, for burn-after-reading, only shown). */
  record: StoredChatRecord;
  /** The stored message a tombstone of the batch retracted (now marked `retracted`). */
  retractedTarget?: StoredChatRecord;
}

/** Events of a {@link ChatLog}. */
export interface ChatLogEvents {
  /** A record was accepted by {@link ChatLog.ingest} (own or a peer's, live or by sync). */
  record: (record: StoredChatRecord, retractedTarget?: StoredChatRecord) => void;
  /**
   * Records accepted together by {@link ChatLog.ingestBatch} (and stored in one transaction),
   * in batch order; `record` is not emitted for them. Emitted once per batch, never empty.
   */
  batch: (accepted: AcceptedRecord[]) => void;
  /** A write failed; the record is still shown for this session. */
  storageError: (error: StorageError) => void;
  /** Records were pruned by the retention window. */
  pruned: (count: number) => void;
}

/** How a chat log keeps records: the retention window (ms) and the clock. */
export interface ChatLogOptions {
  /** Retention window, ms (0 = forever). Default 30 days. */
  retentionMs?: number;
  /** Clock, ms since epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * One room's chat history on this device, over the shared record book (core/records' `RecordBook`,
 * whose index is the room's {@link RecordStore}: IndexedDB lookups, or memory without IndexedDB).
 * The book applies the rules, written once for every kind: the acceptance window (future skew,
 * retention window), first seen wins for an (author, seq) (`duplicate` / `conflict`), the author's
 * signature, a tombstone retracts only its author's own earlier message (`bad-target`) and marks it
 * `retracted` where it is stored, burn-after-reading records are emitted but never stored. What is
 * chat's own stays here: the retention window's length and pruning (marked records are kept), the
 * state vector and what a peer lacks (sync), the paged history, and the store's settings.
 */
export class ChatLog {
  /** Retention window, ms (0 = forever). */
  retentionMs: number;
  /** The record book that applies the rules and stores through {@link ChatLog.store}. */
  readonly book: RecordBook<ChatRecordWire, never, StoredChatRecord>;
  private readonly emitter = createNanoEvents<ChatLogEvents>();
  private readonly now: () => number;
  private markedKeys = new Set<string>();

  constructor(
    /** The room key (`${appId}\n${room}`): records are signed for it. */
    readonly room: string,
    /** Where the room's records, marks and settings live on this device. */
    readonly store: RecordStore,
    /** This device's key pair in the room (authors and verifies its own records). */
    readonly identity: DeviceIdentity,
    options: ChatLogOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? (() => Date.now());
    this.book = new RecordBook<ChatRecordWire, never, StoredChatRecord>(
      {
        kind: chatRecordKind,
        room,
        now: this.now,
        ...chatRecordShape,
        window: { maxFutureSkewMs: MAX_FUTURE_SKEW_MS, start: () => this.windowStart() },
        ephemeral: r => r.kind === 'msg' && r.burn === true,
        marks: target => (target.kind === 'msg' && !target.retracted ? { ...target, retracted: true } : null),
        hold: (r, receivedAt) => ({ ...r, room, receivedAt }),
      },
      identity,
      store,
    );
    this.book.on('record', (record, target) => this.emitter.emit('record', record, target));
    this.book.on('batch', accepted => this.emitter.emit('batch', accepted.map(a => ({ record: a.record, retractedTarget: a.markedTarget }))));
    this.book.on('error', err => this.emitter.emit('storageError', err));
  }

  /** Refused incoming records by reason (the book's counters: exactly the reasons of {@link RefusalReason}). */
  get refused(): Record<RefusalReason, number> {
    return this.book.refused as Record<RefusalReason, number>;
  }

  /** Subscribes to an event (see {@link ChatLogEvents}); returns the unsubscribe function. */
  on<E extends keyof ChatLogEvents>(event: E, handler: ChatLogEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Loads the device's marks; call once before use. */
  async init(): Promise<void> {
    try {
      this.markedKeys = new Set((await this.store.marks()).map(recordKey));
    } catch (err) {
      this.emitter.emit('storageError', toStorageError(err));
    }
  }

  /** Oldest timestamp inside this device's window now. */
  windowStart(): number {
    return windowStart(this.retentionMs, this.now());
  }

  /**
   * Makes, signs and ingests a record of this device.
   * @param fields the record without author, seq, ts and sig
   * @param send sends the signed record to the room; runs while it is being stored (peers do not wait for this device's IndexedDB)
   */
  async author(
    fields: { kind: 'msg'; name: string; text: string; burn?: true } | { kind: 'retract'; target: number } | { kind: 'mode'; burn: boolean },
    send?: (wire: ChatRecordWire) => Promise<void>,
  ): Promise<{ wire: ChatRecordWire; result: IngestResult }> {
    const { burn, ...rest } = fields as { burn?: boolean };
    const wire = await this.book.sign((fields.kind === 'msg' && !burn ? rest : fields) as typeof fields);
    // A record this device just signed needs no verification. A failed write is reported as for any record.
    const [outcome] = await Promise.all([this.book.accept(wire, { verified: true }), send?.(wire)]);
    return { wire, result: toResult(outcome) };
  }

  /**
   * Applies the rules to a record from anywhere (own, live, sync) and stores it (see
   * `RecordBook.accept`: at most two reads, one write). Never throws: refusals are counted, storage
   * failures emitted as `storageError` (the record is then accepted but not stored).
   */
  async ingest(record: ChatRecordWire): Promise<IngestResult> {
    return toResult(await this.book.accept(record));
  }

  /**
   * Applies the rules to a batch of records (a sync batch, oldest first) with the same outcome
   * as {@link ChatLog.ingest} on each record in order: the same results, refusal counters, stored
   * records and events; but signatures are verified concurrently, the store is read once for the
   * whole batch ({@link RecordStore.getMany}, {@link RecordStore.amendmentsFor}) and every record
   * to keep (and every message a tombstone of the batch retracts) is written in one transaction
   * ({@link RecordStore.putMany}). Accepted records are emitted together as one `batch` event.
   *
   * A failed write is all-or-nothing: when the transaction (or the read) fails, nothing of the
   * batch has been applied yet (no counter, no event, nothing stored), and the records then go
   * one by one through {@link ChatLog.ingest}'s path (signatures not verified again). So a full
   * disk gives exactly what one-by-one ingestion gives: the records that still fit are stored,
   * the others are accepted with `stored: false` and a `storageError` (`storage-full`) each,
   * and nothing stored before is lost. (The book's `acceptBatch`.)
   *
   * Serialized with {@link ChatLog.ingest} (a live message never interleaves with a batch).
   * Never throws.
   * @param records records as received (any kinds, any order, duplicates allowed)
   * @param verifying the batch's signature checks, started early ({@link ChatLog.verifyBatch}), aligned with `records`
   * @returns one result per record, in the order of `records`
   */
  async ingestBatch(records: readonly ChatRecordWire[], verifying?: Promise<boolean[]>): Promise<IngestResult[]> {
    return (await this.book.acceptBatch(records, { verifying })).map(toResult);
  }

  /** Starts checking a batch's signatures before its turn (the book's `verifyBatch`); give the promise to {@link ChatLog.ingestBatch}. Never rejects. */
  verifyBatch(records: readonly ChatRecordWire[]): Promise<boolean[]> {
    return this.book.verifyBatch(records);
  }

  /** What this device holds inside `since`, as a state vector; a tombstone also covers its target. */
  async stateVector(since: number): Promise<StateVector> {
    const records = await this.store.since(since);
    return buildStateVector(records.flatMap(r => (r.kind === 'retract' && r.target !== undefined ? [r, { author: r.author, seq: r.target }] : [r])));
  }

  /**
   * The records a peer lacks, oldest first: held records with `ts >= since` that
   * `vector` does not cover. A retracted message is never sent: its tombstone is.
   */
  async missingFor(vector: StateVector, since: number): Promise<ChatRecordWire[]> {
    const out: ChatRecordWire[] = [];
    for await (const page of this.missingPages(vector, since)) out.push(...page);
    return out;
  }

  /**
   * {@link ChatLog.missingFor} page by page: each read of the store takes `pageSize` records (by
   * `[ts, author, seq]`), so a peer's first batch leaves after one page is read rather than the whole
   * history (10,000 records took most of a second to read on the serving page). Yields only pages
   * with something missing; a page may hold fewer than `pageSize`.
   * @throws StorageError when a read fails
   */
  async *missingPages(vector: StateVector, since: number, pageSize = MISSING_PAGE_RECORDS): AsyncGenerator<ChatRecordWire[]> {
    const from = Math.max(since, this.windowStart());
    let after: PageCursor | null = null;
    for (;;) {
      const records = await this.store.sincePage(from, after, pageSize);
      const out: ChatRecordWire[] = [];
      for (const r of records) {
        if (r.burn && r.kind === 'msg') continue;
        if (r.kind === 'msg' && r.retracted) continue;
        if (covers(vector, r.author, r.seq)) continue;
        out.push(toWire(r));
      }
      if (out.length) yield out;
      if (records.length < pageSize) return;
      const last = records[records.length - 1];
      after = [last.ts, last.author, last.seq];
    }
  }

  /** Newest records before the cursor (for the view), newest first. */
  newest(before: PageCursor | null, limit: number): Promise<StoredChatRecord[]> {
    return this.store.newest(before, limit);
  }

  /** Whether the visitor marked this message (kept beyond the retention window). */
  isMarked(r: { author: string; seq: number }): boolean {
    return this.markedKeys.has(recordKey(r));
  }

  /** Marks or unmarks a record on this device (kept beyond the retention window while marked). */
  async setMark(r: { author: string; seq: number }, marked: boolean): Promise<void> {
    if (marked) this.markedKeys.add(recordKey(r));
    else this.markedKeys.delete(recordKey(r));
    try {
      await this.store.setMark(r.author, r.seq, marked);
    } catch (err) {
      this.emitter.emit('storageError', toStorageError(err));
    }
  }

  /** The marked records held, newest first. */
  async marked(): Promise<StoredChatRecord[]> {
    const marks = await this.store.marks();
    const records = await Promise.all(marks.map(m => this.store.get(m.author, m.seq)));
    return records.filter((r): r is StoredChatRecord => !!r).sort((a, b) => b.ts - a.ts);
  }

  /** Deletes unmarked records older than the window; returns how many. */
  async prune(): Promise<number> {
    if (this.retentionMs === 0) return 0;
    try {
      const n = await this.store.deleteOlderThan(this.windowStart(), this.markedKeys);
      if (n) this.emitter.emit('pruned', n);
      return n;
    } catch (err) {
      this.emitter.emit('storageError', toStorageError(err));
      return 0;
    }
  }
}

/** The chat result of one of the book's outcomes (a tombstone's marked target is the message it retracted). */
function toResult(o: RecordOutcome<StoredChatRecord>): IngestResult {
  if (o.status === 'refused') return o as IngestResult;
  return { status: 'accepted', record: o.record, stored: o.stored, ...(o.markedTarget ? { retractedTarget: o.markedTarget } : {}) };
}

/** A stored record as it travels (without room and local fields). */
export function toWire(r: StoredChatRecord): ChatRecordWire {
  if (r.kind === 'msg') return { kind: 'msg', author: r.author, seq: r.seq, ts: r.ts, name: r.name!, text: r.text!, ...(r.burn ? { burn: true as const } : {}), sig: r.sig };
  if (r.kind === 'retract') return { kind: 'retract', author: r.author, seq: r.seq, ts: r.ts, target: r.target!, sig: r.sig };
  return { kind: 'mode', author: r.author, seq: r.seq, ts: r.ts, burn: r.burn ?? false, sig: r.sig };
}
