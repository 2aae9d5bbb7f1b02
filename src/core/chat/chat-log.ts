import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { DeviceIdentity } from '../identity';
import type { StoredChatRecord } from '../store';
import { StorageError, toStorageError } from '../store';
import type { ChatRecordWire } from '../wire';
import { signRecord, UnsignedRecord, verifyRecord } from './chat-record';
import type { PageCursor, RecordStore } from './record-store';
import { DEFAULT_RETENTION_MS, windowStart } from './retention';
import { buildStateVector, covers, StateVector } from './state-vector';
import { recordKey, targetKey, targetsEarlierRecord } from '../records';

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
 * The rules of one room's chat history on this device: records are signed by
 * their author's per-room key and verified on arrival; the first record seen for
 * an (author, seq) wins; a tombstone retracts only its author's own message; records
 * older than the retention window are neither accepted nor kept, unless marked;
 * burn-after-reading records are never stored.
 */
export class ChatLog {
  /** Refused incoming records by reason. */
  readonly refused: Record<RefusalReason, number> = { 'bad-signature': 0, future: 0, 'outside-window': 0, duplicate: 0, conflict: 0, 'bad-target': 0 };
  /** Retention window, ms (0 = forever). */
  retentionMs: number;
  private readonly emitter = createNanoEvents<ChatLogEvents>();
  private readonly now: () => number;
  private markedKeys = new Set<string>();
  /** Burn records seen this session (never stored), so a replay is refused as a duplicate. */
  private readonly burnSeen = new Set<string>();
  /** Serializes writes so a record and its tombstone never race. */
  private queue: Promise<unknown> = Promise.resolve();

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
   */
  async author(
    fields: { kind: 'msg'; name: string; text: string; burn?: true } | { kind: 'retract'; target: number } | { kind: 'mode'; burn: boolean },
    send?: (wire: ChatRecordWire) => Promise<void>,
  ): Promise<{ wire: ChatRecordWire; result: IngestResult }> {
    const unsigned = { ...fields, author: this.identity.publicKey, seq: await this.identity.nextSeq(), ts: this.now() } as UnsignedRecord;
    if (unsigned.kind === 'msg' && !unsigned.burn) delete (unsigned as { burn?: true }).burn;
    const wire = await signRecord(this.room, this.identity, unsigned);
    // Sent while it is being stored (a record this device just signed needs no verification): peers
    // do not wait for this device's IndexedDB. A failed write is reported as for any record.
    const [result] = await Promise.all([this.enqueue(() => this.ingestNow(wire, true)), send?.(wire)]);
    return { wire, result };
  }

  /**
   * Applies the rules to a record from anywhere (own, live, sync) and stores it.
   * Never throws: refusals are counted, storage failures emitted as `storageError`
   * (the record is then accepted but not stored).
   */
  ingest(record: ChatRecordWire): Promise<IngestResult> {
    return this.enqueue(() => this.ingestNow(record));
  }

  /** Runs `op` after every ingestion queued before it (live records and sync batches never interleave). */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Applies the rules to a batch of records (a sync batch, oldest first) with the same outcome
   * as {@link ChatLog.ingest} on each record in order: the same results, refusal counters, stored
   * records and events; but signatures are verified concurrently, the store is read once for the
   * whole batch ({@link RecordStore.getMany}, {@link RecordStore.tombstonesFor}) and every record
   * to keep (and every message a tombstone of the batch retracts) is written in one transaction
   * ({@link RecordStore.putMany}). Accepted records are emitted together as one `batch` event.
   *
   * A failed write is all-or-nothing: when the transaction (or the read) fails, nothing of the
   * batch has been applied yet (no counter, no event, nothing stored), and the records then go
   * one by one through {@link ChatLog.ingest}'s path (signatures not verified again). So a full
   * disk gives exactly what one-by-one ingestion gives: the records that still fit are stored,
   * the others are accepted with `stored: false` and a `storageError` (`storage-full`) each,
   * and nothing stored before is lost.
   *
   * Serialized with {@link ChatLog.ingest} (a live message never interleaves with a batch).
   * Never throws.
   * @param records records as received (any kinds, any order, duplicates allowed)
   * @returns one result per record, in the order of `records`
   */
  ingestBatch(records: readonly ChatRecordWire[]): Promise<IngestResult[]> {
    const run = this.queue.then(() => this.ingestBatchNow(records));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ingestBatchNow(records: readonly ChatRecordWire[]): Promise<IngestResult[]> {
    if (!records.length) return [];
    const now = this.now();
    const start = this.windowStart();
    // 1. Checks that need no storage; signatures verified concurrently.
    const signed: boolean[] = [];
    const pre: (RefusalReason | null)[] = await Promise.all(
      records.map(async (r, i): Promise<RefusalReason | null> => {
        if (r.ts > now + MAX_FUTURE_SKEW_MS) return 'future';
        if (r.ts < start) return 'outside-window';
        if (!(signed[i] = await verifyRecord(this.room, r))) return 'bad-signature';
        if (r.kind === 'retract' && !targetsEarlierRecord(r)) return 'bad-target';
        return null;
      }),
    );
    const fallback = () => this.ingestEach(records, signed);

    // 2. One read for what the store holds of the batch: the records, the targets of its tombstones, the tombstones of its messages.
    const keys = new Map<string, [string, number]>();
    const tombTargets: [string, number][] = [];
    records.forEach((r, i) => {
      if (pre[i] || (r.kind === 'msg' && r.burn === true)) return;
      keys.set(recordKey(r), [r.author, r.seq]);
      if (r.kind === 'retract') keys.set(targetKey(r), [r.author, r.target]);
      if (r.kind === 'msg') tombTargets.push([r.author, r.seq]);
    });
    const held = new Map<string, StoredChatRecord>();
    const tombstoned = new Set<string>();
    try {
      const [got, tombs] = await Promise.all([this.store.getMany([...keys.values()]), this.store.tombstonesFor(tombTargets)]);
      got.forEach(r => r && held.set(recordKey(r), r));
      tombs.forEach(t => tombstoned.add(recordKey({ author: t.author, seq: t.target as number })));
    } catch {
      return fallback();
    }

    // 3. The rules, in batch order, against the store plus what the batch already accepted; nothing applied yet.
    const results: IngestResult[] = [];
    const refusals: RefusalReason[] = [];
    const writes = new Map<string, StoredChatRecord>();
    const burnNew = new Set<string>();
    const accepted: AcceptedRecord[] = [];
    let ownSeq = -1;
    records.forEach((record, i) => {
      const refuse = (reason: RefusalReason, existing?: StoredChatRecord) => {
        refusals.push(reason);
        results.push(existing ? { status: 'refused', reason, existing } : { status: 'refused', reason });
      };
      const reason = pre[i];
      if (reason) return refuse(reason);
      const key = recordKey(record);
      const stored: StoredChatRecord = { ...record, room: this.room, receivedAt: now };
      const burn = record.kind === 'msg' && record.burn === true;
      if (burn) {
        if (this.burnSeen.has(key) || burnNew.has(key)) return refuse('duplicate');
        burnNew.add(key);
      } else {
        const existing = writes.get(key) ?? held.get(key);
        if (existing) return refuse(existing.sig === record.sig ? 'duplicate' : 'conflict', existing);
      }
      if (record.author === this.identity.publicKey) ownSeq = Math.max(ownSeq, record.seq);
      if (burn) {
        accepted.push({ record: stored });
        results.push({ status: 'accepted', record: stored, stored: false });
        return;
      }
      let retractedTarget: StoredChatRecord | undefined;
      if (record.kind === 'msg' && tombstoned.has(key)) stored.retracted = true;
      if (record.kind === 'retract') {
        const targetKeyOf = targetKey(record);
        const target = writes.get(targetKeyOf) ?? held.get(targetKeyOf);
        if (target?.kind === 'msg' && !target.retracted) {
          retractedTarget = { ...target, retracted: true };
          writes.set(targetKeyOf, retractedTarget);
        }
        tombstoned.add(targetKeyOf);
      }
      writes.set(key, stored);
      accepted.push({ record: stored, retractedTarget });
      results.push({ status: 'accepted', record: stored, stored: true, retractedTarget });
    });

    // 4. One transaction; on failure nothing of the batch is stored or applied, and it goes record by record.
    try {
      await this.store.putMany([...writes.values()]);
    } catch {
      return fallback();
    }
    for (const reason of refusals) this.refused[reason]++;
    burnNew.forEach(key => this.burnSeen.add(key));
    if (ownSeq >= 0) await this.identity.observeOwnSeq(ownSeq);
    if (accepted.length) this.emitter.emit('batch', accepted);
    return results;
  }

  /** The one-by-one path for a batch whose read or write failed (`signed[i]`: signature already verified). */
  private async ingestEach(records: readonly ChatRecordWire[], signed: boolean[]): Promise<IngestResult[]> {
    const results: IngestResult[] = [];
    for (const [i, record] of records.entries()) results.push(await this.ingestNow(record, signed[i] === true));
    return results;
  }

  private async ingestNow(record: ChatRecordWire, verified = false): Promise<IngestResult> {
    const now = this.now();
    const refuse = (reason: RefusalReason, existing?: StoredChatRecord): IngestResult => {
      this.refused[reason]++;
      return existing ? { status: 'refused', reason, existing } : { status: 'refused', reason };
    };
    if (record.ts > now + MAX_FUTURE_SKEW_MS) return refuse('future');
    if (record.ts < this.windowStart()) return refuse('outside-window');
    if (!verified && !(await verifyRecord(this.room, record))) return refuse('bad-signature');
    if (record.kind === 'retract' && !targetsEarlierRecord(record)) return refuse('bad-target');

    const stored: StoredChatRecord = { ...record, room: this.room, receivedAt: now };
    const burn = record.kind === 'msg' && record.burn === true;
    let existing: StoredChatRecord | undefined;
    let tombstone = false;
    try {
      // The two reads a live record needs, at once (each is an IndexedDB transaction).
      [existing, tombstone] = burn
        ? [undefined, false]
        : await Promise.all([this.store.get(record.author, record.seq), record.kind === 'msg' ? this.store.tombstoneFor(record.author, record.seq).then(Boolean) : Promise.resolve(false)]);
    } catch (err) {
      this.emitter.emit('storageError', toStorageError(err));
    }
    if (existing) return refuse(existing.sig === record.sig ? 'duplicate' : 'conflict', existing);
    if (burn) {
      if (this.burnSeen.has(recordKey(record))) return refuse('duplicate');
      this.burnSeen.add(recordKey(record));
    }
    if (record.author === this.identity.publicKey) await this.identity.observeOwnSeq(record.seq);
    if (burn) {
      this.emitter.emit('record', stored);
      return { status: 'accepted', record: stored, stored: false };
    }

    let retractedTarget: StoredChatRecord | undefined;
    if (tombstone) stored.retracted = true;
    if (record.kind === 'retract') {
      try {
        const target = await this.store.get(record.author, record.target);
        if (target?.kind === 'msg' && !target.retracted) retractedTarget = { ...target, retracted: true };
      } catch (err) {
        this.emitter.emit('storageError', toStorageError(err));
      }
    }
    // Shown first, stored right after (the queue holds the next record until the write is done, so
    // the duplicate check above always sees it); a failed write is reported, the record stays shown.
    this.emitter.emit('record', stored, retractedTarget);
    let ok = true;
    try {
      if (retractedTarget) await this.store.put(retractedTarget);
      await this.store.put(stored);
    } catch (err) {
      ok = false;
      this.emitter.emit('storageError', toStorageError(err));
    }
    return { status: 'accepted', record: stored, stored: ok, retractedTarget };
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
    const from = Math.max(since, this.windowStart());
    const records = await this.store.since(from);
    const out: ChatRecordWire[] = [];
    for (const r of records) {
      if (r.burn && r.kind === 'msg') continue;
      if (r.kind === 'msg' && r.retracted) continue;
      if (covers(vector, r.author, r.seq)) continue;
      out.push(toWire(r));
    }
    return out;
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

/** A stored record as it travels (without room and local fields). */
export function toWire(r: StoredChatRecord): ChatRecordWire {
  if (r.kind === 'msg') return { kind: 'msg', author: r.author, seq: r.seq, ts: r.ts, name: r.name!, text: r.text!, ...(r.burn ? { burn: true as const } : {}), sig: r.sig };
  if (r.kind === 'retract') return { kind: 'retract', author: r.author, seq: r.seq, ts: r.ts, target: r.target!, sig: r.sig };
  return { kind: 'mode', author: r.author, seq: r.seq, ts: r.ts, burn: r.burn ?? false, sig: r.sig };
}
