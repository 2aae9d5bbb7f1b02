import { toStorageError, type P2pDatabase, type RecordFeature, type StoredSignedRecord } from '../store';
import { recordKey, targetKey, type SignedRecordBase } from './signed-record';

/** A record as a book holds it: a signed record, which may amend another of its author (`target`: that record's `seq`). */
export type HeldRecord = SignedRecordBase & { target?: number };

/** The key of a record as a tuple, `[author, seq]` (an IndexedDB key part). */
export type KeyTuple = readonly [author: string, seq: number];

/** What an index must know of a kind's records to count them: which amend, and which amendments retire their target. */
export interface RecordShape<H> {
  /** Whether a record amends another (`target` set: an alt text, a removal, a tombstone); the others are primary records. */
  amends(r: H): boolean;
  /** Whether an amendment retires its target (a removal, a tombstone): the target no longer counts toward its author's live records. */
  retires?(r: H): boolean;
}

/** Where a kind's records live in the shared `signedRecords` table: the feature and room partition, and how a row is read back. */
export interface RecordTable<H> {
  /** The feature partition of the rows (`chat`, `gallery`, `music`). */
  feature: RecordFeature;
  /** The room key, `${appId}\n${room}`. */
  room: string;
  /** The held record of a row. Default: the row without `feature` and `room` (the wire record). */
  fromRow?(row: StoredSignedRecord): H;
}

/**
 * What a {@link RecordBook} reads to decide on records and writes once it accepted them: the
 * lookups its rules need (held records by key, the amendments of a target, counts per room and of
 * live records per author) and its writes. Every read resolves for many records at once, so a sync
 * batch costs one read. Reads and writes reject with a `StorageError` (quota, storage forbidden).
 *
 * Two implementations: {@link MemoryRecordIndex} (every record in memory, loaded at open: gallery
 * and music, whose views read it synchronously; chat without IndexedDB) and {@link DexieRecordIndex}
 * (IndexedDB lookups over the kind's rows of `signedRecords`, nothing in memory: chat, whose
 * history is paged).
 */
export interface RecordIndex<H extends HeldRecord> {
  /** Whether records survive a reload (IndexedDB), or live in memory for the session. */
  readonly persistent: boolean;
  /**
   * Whether the records of a failed write are still held for the session (true for an in-memory
   * index, whose memory is the truth; a persistent index holds nothing of a failed write, so the
   * same record arriving again is accepted again). Default false.
   */
  readonly keepsFailedWrites?: boolean;
  /** The records held under each `[author, seq]` key, in the order of `keys` (undefined where none is held). One read. */
  getMany(keys: readonly KeyTuple[]): Promise<(H | undefined)[]>;
  /** The held amendments (tombstones, alt texts, removals) whose `[author, target]` is among `targets`, in any order. One read. */
  amendmentsFor(targets: readonly KeyTuple[]): Promise<H[]>;
  /** How many records the room holds (all authors and kinds). */
  count(): Promise<number>;
  /** How many live primary records `author` has: primary records not retired by one of its amendments (see {@link RecordShape}). */
  liveCount(author: string): Promise<number>;
  /**
   * Writes all `records` (insert, or replace by `[author, seq]`: a target marked by its amendment)
   * in one transaction: either every record is stored or, when it rejects (`storage-full` on quota),
   * none of them is and what was stored before is untouched (see `keepsFailedWrites` for what is held).
   */
  putMany(records: readonly H[]): Promise<void>;
}

/** The wire record of a row: the row without its table partition (`feature`, `room`). */
function wireOf<H>(row: StoredSignedRecord): H {
  const { feature: _feature, room: _room, ...record } = row;
  void _feature;
  void _room;
  return record as unknown as H;
}

/** The row a held record is stored as: the record with its feature and room. */
function rowOf<H>(table: RecordTable<H>, record: H): StoredSignedRecord {
  return { ...record, feature: table.feature, room: table.room } as unknown as StoredSignedRecord;
}

/**
 * Writes rows in one IndexedDB transaction: a failing write aborts it, so none of them is kept.
 * @throws StorageError naming the first failed request (Dexie reports a bulk write's failures as one BulkError)
 */
async function writeRows(db: P2pDatabase, rows: readonly StoredSignedRecord[]): Promise<void> {
  if (!rows.length) return;
  try {
    await db.transaction('rw', db.signedRecords, () => db.signedRecords.bulkPut(rows as StoredSignedRecord[]));
  } catch (err) {
    throw toStorageError((err as { name?: string }).name === 'BulkError' ? ((err as { failures: unknown[] }).failures[0] ?? err) : err);
  }
}

/**
 * Every record of a kind in one room held in memory, indexed (by key, amendments by target, live
 * primary records per author), with synchronous views for features that render from it (gallery,
 * music). With a table, it is loaded from the kind's rows at open ({@link MemoryRecordIndex.load})
 * and every write goes through to IndexedDB; a failed write is reported but the records stay held
 * for the session (`keepsFailedWrites`). Without one, nothing survives a reload.
 */
export class MemoryRecordIndex<H extends HeldRecord> implements RecordIndex<H> {
  /** True with a table (written through to IndexedDB). */
  readonly persistent: boolean;
  /** Always true: memory is the truth, IndexedDB a copy for the next visit. */
  readonly keepsFailedWrites = true;
  private readonly records = new Map<string, H>();
  private readonly amendments = new Map<string, H[]>();
  private readonly liveByAuthor = new Map<string, number>();

  constructor(
    private readonly shape: RecordShape<H>,
    /** The kind's rows to load from and write through to; null: memory only. */
    private readonly table: (RecordTable<H> & { db: P2pDatabase }) | null = null,
  ) {
    this.persistent = table !== null;
  }

  /**
   * Loads the kind's stored rows (in seq order) into memory; call once, before use. Stored records
   * are not checked again (only accepted records are ever stored).
   * @throws StorageError when the rows cannot be read
   */
  async load(): Promise<void> {
    const t = this.table;
    if (!t) return;
    let rows: StoredSignedRecord[];
    try {
      rows = await t.db.signedRecords.where('[feature+room]').equals([t.feature, t.room]).toArray();
    } catch (err) {
      throw toStorageError(err);
    }
    rows.sort((a, b) => a.seq - b.seq);
    for (const row of rows) this.hold(t.fromRow ? t.fromRow(row) : wireOf<H>(row));
  }

  /** The record with this key (`author:seq`), if held. */
  byKey(key: string): H | undefined {
    return this.records.get(key);
  }

  /** Every held record, in the order first held (stored ones first, by seq). */
  all(): IterableIterator<H> {
    return this.records.values();
  }

  /** Number of held records. */
  get size(): number {
    return this.records.size;
  }

  /** The held amendments of the record with key `key` (`author:seq`), in the order held. */
  amendmentsOf(key: string): readonly H[] {
    return this.amendments.get(key) ?? [];
  }

  /** Whether the record with key `key` is retired by one of its author's held amendments (see {@link RecordShape.retires}). */
  isRetired(key: string): boolean {
    const retires = this.shape.retires;
    return !!retires && this.amendmentsOf(key).some(a => retires(a));
  }

  /** See {@link RecordIndex.getMany}. */
  async getMany(keys: readonly KeyTuple[]): Promise<(H | undefined)[]> {
    return keys.map(([author, seq]) => this.records.get(recordKey({ author, seq })));
  }

  /** See {@link RecordIndex.amendmentsFor}. */
  async amendmentsFor(targets: readonly KeyTuple[]): Promise<H[]> {
    return [...new Set(targets.map(([author, seq]) => recordKey({ author, seq })))].flatMap(key => this.amendmentsOf(key));
  }

  /** See {@link RecordIndex.count}. */
  async count(): Promise<number> {
    return this.records.size;
  }

  /** See {@link RecordIndex.liveCount}. */
  async liveCount(author: string): Promise<number> {
    return this.liveByAuthor.get(author) ?? 0;
  }

  /**
   * Holds the records at once (synchronously, before the returned promise settles: a listener of
   * the book's `record` event already finds them), then writes them through to the table.
   * @throws StorageError when the write fails (the records stay held for the session)
   */
  putMany(records: readonly H[]): Promise<void> {
    for (const r of records) this.hold(r);
    const t = this.table;
    return t ? writeRows(t.db, records.map(r => rowOf(t, r))) : Promise.resolve();
  }

  /** Forgets the records with these keys (pruned); returns how many were held. */
  delete(keys: Iterable<string>): number {
    let n = 0;
    for (const key of keys) {
      const r = this.records.get(key);
      if (!r) continue;
      n++;
      this.records.delete(key);
      if (!this.shape.amends(r)) {
        if (!this.isRetired(key)) this.addLive(r.author, -1);
        continue;
      }
      const target = targetKey(r);
      const wasRetired = this.isRetired(target);
      const list = (this.amendments.get(target) ?? []).filter(a => a !== r);
      if (list.length) this.amendments.set(target, list);
      else this.amendments.delete(target);
      if (wasRetired && !this.isRetired(target) && this.records.has(target)) this.addLive(r.author, 1);
    }
    return n;
  }

  /** Indexes a record: by key, amendments by target, live primaries per author. A held key is replaced in place (a target marked by its amendment). */
  private hold(r: H): void {
    const key = recordKey(r);
    const had = this.records.get(key);
    this.records.set(key, r);
    if (had) {
      const list = this.shape.amends(had) ? this.amendments.get(targetKey(had)) : undefined;
      const at = list ? list.indexOf(had) : -1;
      if (list && at >= 0) list[at] = r;
      return;
    }
    if (!this.shape.amends(r)) {
      if (!this.isRetired(key)) this.addLive(r.author, 1);
      return;
    }
    const target = targetKey(r);
    const wasRetired = this.isRetired(target);
    const list = this.amendments.get(target);
    if (list) list.push(r);
    else this.amendments.set(target, [r]);
    if (!wasRetired && this.isRetired(target) && this.records.has(target)) this.addLive(r.author, -1);
  }

  private addLive(author: string, by: number): void {
    this.liveByAuthor.set(author, Math.max(0, (this.liveByAuthor.get(author) ?? 0) + by));
  }
}

/**
 * A kind's records in one room as IndexedDB lookups over its rows of `signedRecords` (keyed by
 * `[feature+room+author+seq]`; amendments found by `[feature+room+author+target]`): no record is
 * held in memory, so a history of any length costs what the rules read of it. A failed write holds
 * nothing.
 *
 * One number per author is kept: an upper bound of the highest `seq` stored (read once per author,
 * raised when a write is issued, never lowered). A key above it cannot be held, and no amendment
 * of it can be (an amendment's seq is above its target's), so a live record newer than all of its
 * author's (the usual case) is decided without reading IndexedDB. Another tab of the same site may
 * have stored it meanwhile: it is then accepted here too (and shown), and its row written again.
 */
export class DexieRecordIndex<H extends HeldRecord> implements RecordIndex<H> {
  /** Always true. */
  readonly persistent = true;
  /** Per author: an upper bound of the highest seq stored (see the class comment). */
  private readonly highest = new Map<string, number>();
  /**
   * Records whose write is issued but not committed, by key: lookups answer them from here, so the
   * book may decide the next record before the commit (and no read depends on transaction order).
   * `count` and `liveCount` read what is committed; the books with bounds (gallery, music) keep
   * their records in a `MemoryRecordIndex`, which holds a record as its write is issued.
   */
  private readonly writing = new Map<string, H>();

  constructor(
    /** The page's database. */
    protected readonly db: P2pDatabase,
    /** The kind's partition of `signedRecords`. */
    protected readonly table: RecordTable<H>,
    private readonly shape: RecordShape<H>,
  ) {}

  /** Runs a read or write, rejecting with a `StorageError`. */
  protected async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toStorageError(err);
    }
  }

  /** The held record of a row (undefined stays undefined). */
  protected fromRow(row: StoredSignedRecord): H;
  protected fromRow(row: StoredSignedRecord | undefined): H | undefined;
  protected fromRow(row: StoredSignedRecord | undefined): H | undefined {
    if (!row) return undefined;
    return this.table.fromRow ? this.table.fromRow(row) : wireOf<H>(row);
  }

  /** The primary key of the record `author:seq` in this partition. */
  protected key(author: string, seq: number): [RecordFeature, string, string, number] {
    return [this.table.feature, this.table.room, author, seq];
  }

  /** The keys among `keys` that may be held: at or below their author's highest stored seq (read once per author). */
  private async mayBeHeld(keys: readonly KeyTuple[]): Promise<KeyTuple[]> {
    const unknown = [...new Set(keys.map(([author]) => author))].filter(author => !this.highest.has(author));
    await Promise.all(
      unknown.map(async author => {
        const last = await this.db.signedRecords.where('[feature+room+author+seq]').between(this.key(author, -Infinity), this.key(author, Infinity)).last();
        this.highest.set(author, Math.max(this.highest.get(author) ?? 0, last?.seq ?? 0));
      }),
    );
    return keys.filter(([author, seq]) => seq <= (this.highest.get(author) ?? Infinity));
  }

  /** See {@link RecordIndex.getMany}: no read for keys above their author's highest stored seq, nor for records being written. */
  getMany(keys: readonly KeyTuple[]): Promise<(H | undefined)[]> {
    if (!keys.length) return Promise.resolve([]);
    // Taken now: a write that commits while the rest is read leaves the map but was not read.
    const pending = new Map(keys.flatMap(([author, seq]) => {
      const r = this.writing.get(recordKey({ author, seq }));
      return r ? [[recordKey(r), r] as const] : [];
    }));
    return this.run(async () => {
      const wanted = await this.mayBeHeld(keys.filter(([author, seq]) => !pending.has(recordKey({ author, seq }))));
      const rows = wanted.length ? await this.db.signedRecords.bulkGet(wanted.map(([author, seq]) => this.key(author, seq))) : [];
      const held = new Map(rows.flatMap(row => (row ? [[recordKey(row), this.fromRow(row)] as const] : [])));
      return keys.map(([author, seq]) => pending.get(recordKey({ author, seq })) ?? held.get(recordKey({ author, seq })));
    });
  }

  /** See {@link RecordIndex.amendmentsFor}: no read for targets above their author's highest stored seq; amendments being written are included. */
  amendmentsFor(targets: readonly KeyTuple[]): Promise<H[]> {
    if (!targets.length) return Promise.resolve([]);
    const asked = new Set(targets.map(([author, target]) => targetKey({ author, target })));
    const pending = [...this.writing.values()].filter(r => this.shape.amends(r) && asked.has(targetKey(r)));
    return this.run(async () => {
      const wanted = await this.mayBeHeld(targets);
      const stored = wanted.length
        ? (
            await this.db.signedRecords
              .where('[feature+room+author+target]')
              .anyOf(wanted.map(([author, target]) => this.key(author, target)))
              .toArray()
          ).map(row => this.fromRow(row))
        : [];
      const keys = new Set(pending.map(recordKey));
      return [...pending, ...stored.filter(r => !keys.has(recordKey(r)))];
    });
  }

  /** See {@link RecordIndex.count}: an index count of the partition. */
  count(): Promise<number> {
    return this.run(() => this.db.signedRecords.where('[feature+room]').equals([this.table.feature, this.table.room]).count());
  }

  /** See {@link RecordIndex.liveCount}: reads the author's rows (one range of the primary key), not the room's. */
  liveCount(author: string): Promise<number> {
    return this.run(async () => {
      const rows = (await this.db.signedRecords.where('[feature+room+author+seq]').between(this.key(author, -Infinity), this.key(author, Infinity)).toArray()).map(row => this.fromRow(row));
      const retired = new Set(rows.filter(r => this.shape.amends(r) && this.shape.retires?.(r)).map(r => r.target));
      return rows.filter(r => !this.shape.amends(r) && !retired.has(r.seq)).length;
    });
  }

  /** See {@link RecordIndex.putMany}: one IndexedDB transaction (each author's highest stored seq is raised as it is issued). */
  putMany(records: readonly H[]): Promise<void> {
    for (const r of records) {
      if (this.highest.has(r.author)) this.highest.set(r.author, Math.max(this.highest.get(r.author)!, r.seq));
      this.writing.set(recordKey(r), r);
    }
    const settled = () => {
      for (const r of records) if (this.writing.get(recordKey(r)) === r) this.writing.delete(recordKey(r));
    };
    return writeRows(this.db, records.map(r => rowOf(this.table, r))).finally(settled);
  }
}
