import type { P2pDatabase, StoredChatRecord, StoredMark, StoredRoomSettings, StoredSignedRecord } from '../store';
import { toStorageError } from '../store';
import { recordKey, targetKey } from '../records';

/**
 * Where one room's chat records, marks and settings live on this device.
 * Writes reject with a `StorageError` (quota, storage forbidden).
 */
export interface RecordStore {
  /** Whether records survive a reload (IndexedDB), or live in memory for the session. */
  readonly persistent: boolean;
  /** The record `author:seq`, if held. */
  get(author: string, seq: number): Promise<StoredChatRecord | undefined>;
  /** Inserts or replaces one record (by author+seq). */
  put(record: StoredChatRecord): Promise<void>;
  /**
   * The records held under each `[author, seq]` key, in the order of `keys` (undefined where
   * none is held). One read for a whole sync batch.
   */
  getMany(keys: readonly (readonly [author: string, seq: number])[]): Promise<(StoredChatRecord | undefined)[]>;
  /**
   * Writes all `records` (insert or replace by author+seq) in one transaction: either every
   * record is stored or, when it rejects (with a `StorageError`: `storage-full` on quota),
   * none of them is and what was stored before is untouched.
   */
  putMany(records: readonly StoredChatRecord[]): Promise<void>;
  /** The author's tombstone for `target`, if held. */
  tombstoneFor(author: string, target: number): Promise<StoredChatRecord | undefined>;
  /** The held tombstones whose `[author, target]` is among `targets` (any order; one read). */
  tombstonesFor(targets: readonly (readonly [author: string, target: number])[]): Promise<StoredChatRecord[]>;
  /** Records with `ts >= since`, oldest first. */
  since(since: number): Promise<StoredChatRecord[]>;
  /** Up to `limit` records ordered before the cursor `[ts, author, seq]` (null: from the newest), newest first. */
  newest(before: PageCursor | null, limit: number): Promise<StoredChatRecord[]>;
  /** Deletes records with `ts < cutoff` whose key is not in `keep`; returns how many. */
  deleteOlderThan(cutoff: number, keep: Set<string>): Promise<number>;
  /** How many records the room holds. */
  count(): Promise<number>;
  /** The room's marks on this device. */
  marks(): Promise<StoredMark[]>;
  /** Marks (kept beyond the retention window) or unmarks the record `author:seq`. */
  setMark(author: string, seq: number, marked: boolean): Promise<void>;
  /** The room's settings on this device (`{ room }` when none were saved). */
  settings(): Promise<StoredRoomSettings>;
  /** Replaces the room's settings. */
  putSettings(settings: StoredRoomSettings): Promise<void>;
}

const key = (r: { author: string; seq: number }) => recordKey(r);

/** A position in the history, ordered by timestamp, then author, then sequence number. */
export type PageCursor = [ts: number, author: string, seq: number];

/** Orders records as the history is paged: ts, then author, then seq. */
export function compareRecords(a: { ts: number; author: string; seq: number }, b: { ts: number; author: string; seq: number }): number {
  return a.ts - b.ts || (a.author < b.author ? -1 : a.author > b.author ? 1 : a.seq - b.seq);
}

/** A chat row of the shared `signedRecords` table. */
type ChatRow = StoredChatRecord & { feature: 'chat' };

const CHAT = 'chat' as const;

/** The stored record without its table partition (what the chat log and its tests see). */
function fromRow(row: StoredSignedRecord | undefined): StoredChatRecord | undefined {
  if (!row) return undefined;
  const { feature: _feature, ...record } = row as ChatRow;
  return record;
}

const fromRows = (rows: StoredSignedRecord[]) => rows.map(r => fromRow(r)!);

/**
 * The Dexie (IndexedDB) store of one room's chat: its records are the `chat` rows of the shared
 * `signedRecords` table (see `P2pDatabase`), its marks and settings in their own tables.
 */
export class DexieRecordStore implements RecordStore {
  readonly persistent = true;
  constructor(
    private readonly db: P2pDatabase,
    private readonly room: string,
  ) {}

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toStorageError(err);
    }
  }

  private row(record: StoredChatRecord): ChatRow {
    return { ...record, feature: CHAT };
  }

  get(author: string, seq: number) {
    return this.run(async () => fromRow(await this.db.signedRecords.get([CHAT, this.room, author, seq])));
  }
  async put(record: StoredChatRecord) {
    await this.run(() => this.db.signedRecords.put(this.row(record)));
  }
  getMany(keys: readonly (readonly [author: string, seq: number])[]) {
    if (!keys.length) return Promise.resolve([]);
    return this.run(async () => (await this.db.signedRecords.bulkGet(keys.map(([author, seq]) => [CHAT, this.room, author, seq] as [typeof CHAT, string, string, number]))).map(fromRow));
  }
  async putMany(records: readonly StoredChatRecord[]) {
    if (!records.length) return;
    // An explicit transaction: a failing write aborts it, so none of the batch is kept.
    try {
      await this.db.transaction('rw', this.db.signedRecords, () => this.db.signedRecords.bulkPut(records.map(r => this.row(r))));
    } catch (err) {
      // Dexie reports failed requests of a bulk write as one BulkError; name the first cause (e.g. QuotaExceededError).
      throw toStorageError((err as { name?: string; failures?: unknown[] }).name === 'BulkError' ? ((err as { failures: unknown[] }).failures[0] ?? err) : err);
    }
  }
  tombstoneFor(author: string, target: number) {
    return this.run(async () => fromRow(await this.db.signedRecords.where('[feature+room+author+target]').equals([CHAT, this.room, author, target]).first()));
  }
  tombstonesFor(targets: readonly (readonly [author: string, target: number])[]) {
    if (!targets.length) return Promise.resolve([]);
    return this.run(async () =>
      fromRows(
        await this.db.signedRecords
          .where('[feature+room+author+target]')
          .anyOf(targets.map(([author, target]) => [CHAT, this.room, author, target]))
          .toArray(),
      ),
    );
  }
  since(since: number) {
    return this.run(async () => fromRows(await this.db.signedRecords.where('[feature+room+ts]').between([CHAT, this.room, since], [CHAT, this.room, Infinity], true, true).toArray()));
  }
  newest(before: PageCursor | null, limit: number) {
    // [chat, room] sorts before and [chat, room, Infinity] after every [chat, room, ts, author, seq] (IndexedDB key order).
    const upper = before ? [CHAT, this.room, ...before] : [CHAT, this.room, Infinity];
    return this.run(async () =>
      fromRows(
        await this.db.signedRecords
          .where('[feature+room+ts+author+seq]')
          .between([CHAT, this.room], upper, true, false)
          .reverse()
          .limit(limit)
          .toArray(),
      ),
    );
  }
  deleteOlderThan(cutoff: number, keep: Set<string>) {
    return this.run(() =>
      this.db.signedRecords
        .where('[feature+room+ts]')
        .between([CHAT, this.room], [CHAT, this.room, cutoff], true, false)
        .filter(r => !keep.has(key(r)))
        .delete(),
    );
  }
  count() {
    return this.run(() => this.db.signedRecords.where('[feature+room]').equals([CHAT, this.room]).count());
  }
  marks() {
    return this.run(() => this.db.chatMarks.where('room').equals(this.room).toArray());
  }
  async setMark(author: string, seq: number, marked: boolean) {
    await this.run(async () => {
      if (marked) await this.db.chatMarks.put({ room: this.room, author, seq, markedAt: Date.now() });
      else await this.db.chatMarks.delete([this.room, author, seq]);
    });
  }
  async settings() {
    return (await this.run(() => this.db.roomSettings.get(this.room))) ?? { room: this.room };
  }
  async putSettings(settings: StoredRoomSettings) {
    await this.run(() => this.db.roomSettings.put(settings));
  }
}

/** A memory-only store for browsers that forbid IndexedDB: the chat works, nothing survives a reload. */
export class MemoryRecordStore implements RecordStore {
  readonly persistent = false;
  private readonly records = new Map<string, StoredChatRecord>();
  private readonly markMap = new Map<string, StoredMark>();
  private roomSettings: StoredRoomSettings;

  constructor(private readonly room: string) {
    this.roomSettings = { room };
  }

  async get(author: string, seq: number) {
    return this.records.get(recordKey({ author, seq }));
  }
  async put(record: StoredChatRecord) {
    this.records.set(key(record), record);
  }
  async getMany(keys: readonly (readonly [author: string, seq: number])[]) {
    return keys.map(([author, seq]) => this.records.get(recordKey({ author, seq })));
  }
  async putMany(records: readonly StoredChatRecord[]) {
    for (const r of records) this.records.set(key(r), r);
  }
  async tombstoneFor(author: string, target: number) {
    return [...this.records.values()].find(r => r.kind === 'retract' && r.author === author && r.target === target);
  }
  async tombstonesFor(targets: readonly (readonly [author: string, target: number])[]) {
    const wanted = new Set(targets.map(([author, target]) => recordKey({ author, seq: target })));
    return [...this.records.values()].filter(r => r.kind === 'retract' && wanted.has(targetKey(r)));
  }
  async since(since: number) {
    return [...this.records.values()].filter(r => r.ts >= since).sort((a, b) => a.ts - b.ts);
  }
  async newest(before: PageCursor | null, limit: number) {
    const cursor = before ? { ts: before[0], author: before[1], seq: before[2] } : null;
    return [...this.records.values()]
      .filter(r => !cursor || compareRecords(r, cursor) < 0)
      .sort((a, b) => compareRecords(b, a))
      .slice(0, limit);
  }
  async deleteOlderThan(cutoff: number, keep: Set<string>) {
    let n = 0;
    for (const [k, r] of this.records) {
      if (r.ts < cutoff && !keep.has(k)) {
        this.records.delete(k);
        n++;
      }
    }
    return n;
  }
  async count() {
    return this.records.size;
  }
  async marks() {
    return [...this.markMap.values()];
  }
  async setMark(author: string, seq: number, marked: boolean) {
    if (marked) this.markMap.set(recordKey({ author, seq }), { room: this.room, author, seq, markedAt: Date.now() });
    else this.markMap.delete(recordKey({ author, seq }));
  }
  async settings() {
    return this.roomSettings;
  }
  async putSettings(settings: StoredRoomSettings) {
    this.roomSettings = settings;
  }
}
