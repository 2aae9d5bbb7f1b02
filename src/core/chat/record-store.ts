import type { P2pDatabase, StoredChatRecord, StoredMark, StoredRoomSettings, StoredSignedRecord } from '../store';
import { DexieRecordIndex, MemoryRecordIndex, recordKey, type RecordIndex, type RecordTable } from '../records';
import { chatRecordShape } from './chat-record';

/**
 * Where one room's chat records, marks and settings live on this device: the chat record book's
 * index (lookups by key and tombstone target, one transaction per batch; see `RecordIndex`), and
 * what only chat reads: the history by time (state vectors, paging), retention pruning, marks and
 * settings. Writes reject with a `StorageError` (quota, storage forbidden).
 */
export interface RecordStore extends RecordIndex<StoredChatRecord> {
  /** The record `author:seq`, if held. */
  get(author: string, seq: number): Promise<StoredChatRecord | undefined>;
  /** Inserts or replaces one record (by author+seq). */
  put(record: StoredChatRecord): Promise<void>;
  /** The author's tombstone for `target`, if held. */
  tombstoneFor(author: string, target: number): Promise<StoredChatRecord | undefined>;
  /** The held tombstones whose `[author, target]` is among `targets` (any order; one read): the book's `amendmentsFor`. */
  tombstonesFor(targets: readonly (readonly [author: string, target: number])[]): Promise<StoredChatRecord[]>;
  /** Records with `ts >= since`, oldest first. */
  since(since: number): Promise<StoredChatRecord[]>;
  /** Up to `limit` records with `ts >= since` ordered after the cursor `[ts, author, seq]` (null: from the oldest), oldest first (in `[ts, author, seq]` order). */
  sincePage(since: number, after: PageCursor | null, limit: number): Promise<StoredChatRecord[]>;
  /** Up to `limit` records ordered before the cursor `[ts, author, seq]` (null: from the newest), newest first. */
  newest(before: PageCursor | null, limit: number): Promise<StoredChatRecord[]>;
  /** Deletes records with `ts < cutoff` whose key is not in `keep`; returns how many. */
  deleteOlderThan(cutoff: number, keep: Set<string>): Promise<number>;
  /** The room's marks on this device. */
  marks(): Promise<StoredMark[]>;
  /** Marks (kept beyond the retention window) or unmarks the record `author:seq`. */
  setMark(author: string, seq: number, marked: boolean): Promise<void>;
  /** The room's settings on this device (`{ room }` when none were saved). */
  settings(): Promise<StoredRoomSettings>;
  /** Replaces the room's settings. */
  putSettings(settings: StoredRoomSettings): Promise<void>;
}

/** A position in the history, ordered by timestamp, then author, then sequence number. */
export type PageCursor = [ts: number, author: string, seq: number];

/** Orders records as the history is paged: ts, then author, then seq. */
export function compareRecords(a: { ts: number; author: string; seq: number }, b: { ts: number; author: string; seq: number }): number {
  return a.ts - b.ts || (a.author < b.author ? -1 : a.author > b.author ? 1 : a.seq - b.seq);
}

const CHAT = 'chat' as const;

/** A chat record index class (IndexedDB or memory), which {@link withChatLookups} extends (a mixin's base constructor must take `any[]`). */
type ChatIndexClass = abstract new (...args: any[]) => RecordIndex<StoredChatRecord>;

/** Adds chat's one-record lookups and write (`get`, `put`, `tombstoneFor`, `tombstonesFor`) to a chat record index, over its batch methods. */
function withChatLookups<B extends ChatIndexClass>(Base: B) {
  /** The chat lookups over an index's batch methods. */
  abstract class ChatLookups extends Base {
    /** The record `author:seq`, if held. */
    async get(author: string, seq: number): Promise<StoredChatRecord | undefined> {
      return (await this.getMany([[author, seq]]))[0];
    }
    /** Inserts or replaces one record (by author+seq). */
    async put(record: StoredChatRecord): Promise<void> {
      await this.putMany([record]);
    }
    /** The author's tombstone for `target`, if held. */
    async tombstoneFor(author: string, target: number): Promise<StoredChatRecord | undefined> {
      return (await this.amendmentsFor([[author, target]]))[0];
    }
    /** The held tombstones whose `[author, target]` is among `targets` (any order; one read). */
    tombstonesFor(targets: readonly (readonly [author: string, target: number])[]): Promise<StoredChatRecord[]> {
      return this.amendmentsFor(targets);
    }
  }
  return ChatLookups;
}

/** The stored record of a chat row: the row without its table partition (a chat record keeps its room). */
function fromRow(row: StoredSignedRecord): StoredChatRecord {
  const { feature: _feature, ...record } = row as StoredChatRecord & { feature: typeof CHAT };
  void _feature;
  return record;
}

/**
 * The Dexie (IndexedDB) store of one room's chat: its records are the `chat` rows of the shared
 * `signedRecords` table (see `P2pDatabase`), looked up through the book's `DexieRecordIndex` (nothing
 * held in memory), paged by `[feature+room+ts+author+seq]`; its marks and settings in their own tables.
 */
export class DexieRecordStore extends withChatLookups(DexieRecordIndex<StoredChatRecord>) implements RecordStore {
  constructor(db: P2pDatabase, room: string) {
    super(db, { feature: CHAT, room, fromRow } satisfies RecordTable<StoredChatRecord>, chatRecordShape);
  }

  private get room(): string {
    return this.table.room;
  }

  since(since: number) {
    return this.run(async () => (await this.db.signedRecords.where('[feature+room+ts]').between([CHAT, this.room, since], [CHAT, this.room, Infinity], true, true).toArray()).map(fromRow));
  }
  sincePage(since: number, after: PageCursor | null, limit: number) {
    // [chat, room, since] sorts before every [chat, room, since, author, seq] (a shorter key first; IndexedDB key order).
    const lower = after && after[0] >= since ? [CHAT, this.room, ...after] : [CHAT, this.room, since];
    return this.run(async () =>
      (
        await this.db.signedRecords
          .where('[feature+room+ts+author+seq]')
          .between(lower, [CHAT, this.room, Infinity], lower.length === 3, false)
          .limit(limit)
          .toArray()
      ).map(fromRow),
    );
  }
  newest(before: PageCursor | null, limit: number) {
    // [chat, room] sorts before and [chat, room, Infinity] after every [chat, room, ts, author, seq] (IndexedDB key order).
    const upper = before ? [CHAT, this.room, ...before] : [CHAT, this.room, Infinity];
    return this.run(async () =>
      (
        await this.db.signedRecords
          .where('[feature+room+ts+author+seq]')
          .between([CHAT, this.room], upper, true, false)
          .reverse()
          .limit(limit)
          .toArray()
      ).map(fromRow),
    );
  }
  deleteOlderThan(cutoff: number, keep: Set<string>) {
    return this.run(() =>
      this.db.signedRecords
        .where('[feature+room+ts]')
        .between([CHAT, this.room], [CHAT, this.room, cutoff], true, false)
        .filter(r => !keep.has(recordKey(r)))
        .delete(),
    );
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

/**
 * A memory-only store for browsers that forbid IndexedDB: the chat works, nothing survives a reload.
 * Its records are the book's `MemoryRecordIndex` (lookups by key and tombstone target); history
 * reads go over every record held (a session's worth).
 */
export class MemoryRecordStore extends withChatLookups(MemoryRecordIndex<StoredChatRecord>) implements RecordStore {
  private readonly markMap = new Map<string, StoredMark>();
  private roomSettings: StoredRoomSettings;

  constructor(private readonly room: string) {
    super(chatRecordShape);
    this.roomSettings = { room };
  }

  /** Every record held, in the order first held. */
  private held(): StoredChatRecord[] {
    return [...this.all()];
  }

  async since(since: number) {
    return this.held().filter(r => r.ts >= since).sort((a, b) => a.ts - b.ts);
  }
  async sincePage(since: number, after: PageCursor | null, limit: number) {
    const cursor = after ? { ts: after[0], author: after[1], seq: after[2] } : null;
    return this.held()
      .filter(r => r.ts >= since && (!cursor || compareRecords(r, cursor) > 0))
      .sort(compareRecords)
      .slice(0, limit);
  }
  async newest(before: PageCursor | null, limit: number) {
    const cursor = before ? { ts: before[0], author: before[1], seq: before[2] } : null;
    return this.held()
      .filter(r => !cursor || compareRecords(r, cursor) < 0)
      .sort((a, b) => compareRecords(b, a))
      .slice(0, limit);
  }
  async deleteOlderThan(cutoff: number, keep: Set<string>) {
    return this.delete(this.held().filter(r => r.ts < cutoff && !keep.has(recordKey(r))).map(recordKey));
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
