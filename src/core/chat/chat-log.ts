import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { DeviceIdentity } from '../identity';
import type { StoredChatRecord } from '../store';
import { StorageError, toStorageError } from '../store';
import type { ChatRecordWire } from '../wire';
import { recordKey, signRecord, UnsignedRecord, verifyRecord } from './chat-record';
import type { PageCursor, RecordStore } from './record-store';
import { DEFAULT_RETENTION_MS, windowStart } from './retention';
import { buildStateVector, covers, StateVector } from './state-vector';

/** Greatest accepted lead of a record's timestamp over our clock, ms (5 minutes). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Why an incoming record was refused (counted in {@link ChatLog.refused}). */
export type RefusalReason = 'bad-signature' | 'future' | 'outside-window' | 'duplicate' | 'conflict' | 'bad-target';

/** Outcome of {@link ChatLog.ingest}. */
export type IngestResult =
  | { status: 'accepted'; record: StoredChatRecord; stored: boolean; retractedTarget?: StoredChatRecord }
  | { status: 'refused'; reason: RefusalReason; existing?: StoredChatRecord };

export interface ChatLogEvents {
  /** A record was accepted (own or a peer's, live or by sync). */
  record: (record: StoredChatRecord, retractedTarget?: StoredChatRecord) => void;
  /** A write failed; the record is still shown for this session. */
  storageError: (error: StorageError) => void;
  /** Records were pruned by the retention window. */
  pruned: (count: number) => void;
}

export interface ChatLogOptions {
  /** Retention window, ms (0 = forever). Default 30 days. */
  retentionMs?: number;
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
  retentionMs: number;
  private readonly emitter = createNanoEvents<ChatLogEvents>();
  private readonly now: () => number;
  private markedKeys = new Set<string>();
  /** Burn records seen this session (never stored), so a replay is refused as a duplicate. */
  private readonly burnSeen = new Set<string>();
  /** Serializes writes so a record and its tombstone never race. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly room: string,
    readonly store: RecordStore,
    readonly identity: DeviceIdentity,
    options: ChatLogOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? (() => Date.now());
  }

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
  async author(fields: { kind: 'msg'; name: string; text: string; burn?: true } | { kind: 'retract'; target: number } | { kind: 'mode'; burn: boolean }): Promise<{ wire: ChatRecordWire; result: IngestResult }> {
    const unsigned = { ...fields, author: this.identity.publicKey, seq: await this.identity.nextSeq(), ts: this.now() } as UnsignedRecord;
    if (unsigned.kind === 'msg' && !unsigned.burn) delete (unsigned as { burn?: true }).burn;
    const wire = await signRecord(this.room, this.identity, unsigned);
    return { wire, result: await this.ingest(wire) };
  }

  /**
   * Applies the rules to a record from anywhere (own, live, sync) and stores it.
   * Never throws: refusals are counted, storage failures emitted as `storageError`
   * (the record is then accepted but not stored).
   */
  ingest(record: ChatRecordWire): Promise<IngestResult> {
    const run = this.queue.then(() => this.ingestNow(record));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ingestNow(record: ChatRecordWire): Promise<IngestResult> {
    const now = this.now();
    const refuse = (reason: RefusalReason, existing?: StoredChatRecord): IngestResult => {
      this.refused[reason]++;
      return existing ? { status: 'refused', reason, existing } : { status: 'refused', reason };
    };
    if (record.ts > now + MAX_FUTURE_SKEW_MS) return refuse('future');
    if (record.ts < this.windowStart()) return refuse('outside-window');
    if (!(await verifyRecord(this.room, record))) return refuse('bad-signature');
    if (record.kind === 'retract' && record.target >= record.seq) return refuse('bad-target');

    const stored: StoredChatRecord = { ...record, room: this.room, receivedAt: now };
    const burn = record.kind === 'msg' && record.burn === true;
    let existing: StoredChatRecord | undefined;
    try {
      existing = burn ? undefined : await this.store.get(record.author, record.seq);
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
    let ok = true;
    try {
      if (record.kind === 'msg' && (await this.store.tombstoneFor(record.author, record.seq))) stored.retracted = true;
      if (record.kind === 'retract') {
        const target = await this.store.get(record.author, record.target);
        if (target?.kind === 'msg' && !target.retracted) {
          retractedTarget = { ...target, retracted: true };
          await this.store.put(retractedTarget);
        }
      }
      await this.store.put(stored);
    } catch (err) {
      ok = false;
      this.emitter.emit('storageError', toStorageError(err));
    }
    this.emitter.emit('record', stored, retractedTarget);
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
