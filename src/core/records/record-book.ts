import { createNanoEvents, type Unsubscribe } from 'nanoevents';
import type { DeviceIdentity } from '../identity';
import { toStorageError, type P2pDatabase, type RecordFeature, type StorageError, type StoredSignedRecord } from '../store';
import { openRoomStorage } from './room-storage';
import { recordKey, targetKey, targetsEarlierRecord, type DistributiveOmit, type RecordKind, type SignedRecordBase, type Unsigned } from './signed-record';

/** A record that amends another record of the same author (`target` is that record's `seq`). */
type Amending = { target?: number };

/** Why a record was refused: the shared rules' reasons, plus the kind's own from `check`. */
export type RecordRefusal = 'duplicate' | 'too-many' | 'bad-signature' | 'bad-target' | 'check-failed';

/**
 * How one kind of signed record is kept: what the {@link RecordBook} checks before it stores a record
 * (after the wire schema: the shape is already valid when a record gets here).
 */
export interface RecordBookOptions<R extends SignedRecordBase & Amending, C extends string = never> {
  /** Which feature's records (the table partition: `gallery` or `music`; chat keeps its rows through its own store, for paging by time). */
  feature: Exclude<RecordFeature, 'chat'>;
  /** Signing and verification of the kind (see `defineRecordKind`). */
  kind: RecordKind<R>;
  /** The room key, `${appId}\n${room}` (records are signed for it, and stored under it). */
  room: string;
  /** undefined: the page's shared database; null: memory only (nothing survives a reload). */
  database?: P2pDatabase | null;
  /** Records kept per room, all authors and kinds: a bound on what strangers can make this device store. */
  maxRecords: number;
  /** Whether a record amends another (`target` set: an alt text, a removal, an edit); the others are primary records. */
  amends(r: R): boolean;
  /** Whether an amendment retires its target (a removal): the target no longer counts toward its author's cap. */
  retires?(r: R): boolean;
  /** Live primary records one author may have (not retired); more are refused `too-many`. Default: no per-author cap. */
  maxPerAuthor?: number;
  /**
   * The dedup slot of a record: a record whose slot already holds one with an equal or higher `seq` is
   * refused `duplicate`. Default: the record key (`author:seq`), so only the very same record is a duplicate;
   * a kind whose newest amendment replaces the older ones (an alt text) uses one slot per target and kind.
   */
  slot?(r: R): string;
  /** The kind's own checks after the signature (a thumbnail or cover header): a refusal reason, or null to accept. A check that throws refuses the record (`check-failed`). */
  check?(r: R): Promise<C | null>;
  /** Clock for authored records, ms since epoch. Default `Date.now`. */
  now?: () => number;
}

/** Events of a {@link RecordBook}. */
export interface RecordBookEvents<R> {
  /** A record was accepted (authored here or received), after it was stored. */
  record: (record: R) => void;
  /** A write failed (quota, storage gone): the record is kept in memory for this session. */
  error: (error: StorageError) => void;
}

/**
 * The signed records of one kind in one room, written once for every feature that keeps them
 * (gallery pictures, music tracks): loads what this device stored, authors its own records
 * (sequence number, time, signature), and accepts a record from anywhere only after the shared
 * rules, in this order, each refusal counted by reason:
 *
 * 1. **dedup**: a record whose slot holds one with an equal or higher `seq` (see `slot`);
 * 2. **bounds**: at most `maxRecords` per room, `maxPerAuthor` live primary records per author;
 * 3. **signature**: the author's ECDSA P-256 signature over the record's canonical bytes in this room;
 * 4. **owner-only**: an amendment names only a `target` seq, so it can only ever amend its own
 *    author's record (`author:target`); one whose target is not an earlier seq is refused `bad-target`;
 * 5. the kind's own `check` (a check that throws refuses: `check-failed`).
 *
 * Then it is stored (one Dexie table for every feature, `signedRecords`, keyed by
 * `[feature+room+author+seq]`), indexed (by key, amendments by target, live count per author: lookups,
 * not scans) and emitted as `record`. Ingestion is serialized, so two copies of one record arriving
 * at once are one accept and one duplicate.
 */
export class RecordBook<R extends SignedRecordBase & Amending, C extends string = never> {
  /** Records refused since the book opened, by reason (counts; a kind's own `check` reasons appear from their first refusal). */
  readonly refused: Record<RecordRefusal | C, number>;
  /** Set when the database could not be opened or read: the book then works in memory only. */
  storageError: StorageError | null = null;
  private readonly records = new Map<string, R>();
  private readonly amendments = new Map<string, R[]>();
  private readonly slots = new Map<string, number>();
  private readonly liveByAuthor = new Map<string, number>();
  private readonly emitter = createNanoEvents<RecordBookEvents<R>>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: RecordBookOptions<R, C>,
    /** This device's identity in the room: its public key is the `author` of what it signs. */
    readonly identity: DeviceIdentity,
    /** The database the book writes to (null: memory only); a feature keeps its own settings there too. */
    readonly database: P2pDatabase | null,
  ) {
    this.refused = { duplicate: 0, 'too-many': 0, 'bad-signature': 0, 'bad-target': 0, 'check-failed': 0 } as Record<RecordRefusal | C, number>;
  }

  /**
   * Opens the book of a room: the database (or memory only, see `database`), this device's identity in
   * the room, and every record this device stored for it (indexed, not re-verified: only verified
   * records are ever stored). Never throws for storage: a database that cannot be opened or read is
   * reported in `storageError`.
   * @throws Error when WebCrypto cannot make or load the identity's key pair
   */
  static async open<R extends SignedRecordBase & Amending, C extends string = never>(options: RecordBookOptions<R, C>): Promise<RecordBook<R, C>> {
    const { db, storageError, identity } = await openRoomStorage(options.room, options.database);
    const book = new RecordBook<R, C>(options, identity, db);
    book.storageError = storageError;
    if (db) {
      try {
        const rows = await db.signedRecords.where('[feature+room]').equals([options.feature, options.room]).toArray();
        rows.sort((a, b) => a.seq - b.seq);
        for (const row of rows) book.index(fromStored<R>(row));
      } catch (err) {
        book.storageError ??= toStorageError(err);
      }
    }
    return book;
  }

  /** Subscribes to an event (see {@link RecordBookEvents}); returns the unsubscribe function. */
  on<E extends keyof RecordBookEvents<R>>(event: E, handler: RecordBookEvents<R>[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The room key the records are signed for and stored under (`${appId}\n${room}`). */
  get room(): string {
    return this.options.room;
  }

  /** This device's public key in the room (base64url, P-256). */
  get publicKey(): string {
    return this.identity.publicKey;
  }

  /** The record with this key (`author:seq`), if accepted. */
  get(key: string): R | undefined {
    return this.records.get(key);
  }

  /** Every accepted record, in the order accepted (stored ones first, by seq). */
  all(): IterableIterator<R> {
    return this.records.values();
  }

  /** Number of accepted records. */
  get size(): number {
    return this.records.size;
  }

  /** The amendments of the record with key `key` (`author:seq`), in the order accepted. */
  amendmentsOf(key: string): readonly R[] {
    return this.amendments.get(key) ?? [];
  }

  /** Whether the record with key `key` was retired by one of its author's amendments (see `retires`). */
  isRetired(key: string): boolean {
    const retires = this.options.retires;
    return !!retires && this.amendmentsOf(key).some(a => retires(a));
  }

  /**
   * Authors a record of this device: its next sequence number, the time and its signature; then
   * accepts it like any other (so the same rules hold for it).
   * @returns the signed record, or null when the rules refused it (the refusal is counted)
   */
  async author(fields: DistributiveOmit<Unsigned<R>, 'author' | 'seq' | 'ts'>): Promise<R | null> {
    const unsigned = { ...fields, author: this.identity.publicKey, seq: await this.identity.nextSeq(), ts: (this.options.now ?? Date.now)() } as unknown as Unsigned<R>;
    const record = await this.options.kind.sign(this.options.room, this.identity, unsigned);
    return (await this.ingest(record)) ? record : null;
  }

  /** Applies the rules to a record from anywhere (see the class comment). Resolves whether it was accepted; never throws. */
  ingest(record: R): Promise<boolean> {
    const run = this.queue.then(() => this.ingestNow(record));
    this.queue = run.catch(() => undefined);
    return run.catch(() => false);
  }

  private async ingestNow(record: R): Promise<boolean> {
    const o = this.options;
    const slot = o.slot?.(record) ?? recordKey(record);
    const held = this.slots.get(slot);
    if (this.records.has(recordKey(record)) || (held !== undefined && held >= record.seq)) return this.refuse('duplicate');
    const amends = o.amends(record);
    const overAuthorCap = !amends && o.maxPerAuthor !== undefined && (this.liveByAuthor.get(record.author) ?? 0) >= o.maxPerAuthor;
    if (this.records.size >= o.maxRecords || overAuthorCap) return this.refuse('too-many');
    if (!(await o.kind.verify(o.room, record))) return this.refuse('bad-signature');
    if (amends && !targetsEarlierRecord(record)) return this.refuse('bad-target');
    const refusal = o.check ? await o.check(record).catch((): 'check-failed' => 'check-failed') : null;
    if (refusal) return this.refuse(refusal);
    try {
      await this.database?.signedRecords.put(toStored(o.feature, o.room, record));
    } catch (err) {
      this.emitter.emit('error', toStorageError(err));
    }
    this.index(record);
    this.emitter.emit('record', record);
    return true;
  }

  private refuse(reason: RecordRefusal | C): false {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1; // a kind's own reasons start at their first refusal
    return false;
  }

  /** Keeps an accepted record in the indexes: by key, by slot, amendments by target, live primaries per author. */
  private index(r: R): void {
    const o = this.options;
    const key = recordKey(r);
    this.records.set(key, r);
    const slot = o.slot?.(r) ?? key;
    this.slots.set(slot, Math.max(this.slots.get(slot) ?? -1, r.seq));
    if (!o.amends(r)) {
      if (!this.isRetired(key)) this.liveByAuthor.set(r.author, (this.liveByAuthor.get(r.author) ?? 0) + 1);
      return;
    }
    const target = targetKey(r);
    const wasRetired = this.isRetired(target);
    const list = this.amendments.get(target);
    if (list) list.push(r);
    else this.amendments.set(target, [r]);
    if (!wasRetired && this.isRetired(target) && this.records.has(target)) {
      this.liveByAuthor.set(r.author, Math.max(0, (this.liveByAuthor.get(r.author) ?? 0) - 1));
    }
  }
}

/** The row a record is stored as: the wire record, its feature and room. */
function toStored<R extends SignedRecordBase>(feature: RecordFeature, room: string, r: R): StoredSignedRecord {
  return { ...r, feature, room } as unknown as StoredSignedRecord;
}

/** The wire record of a stored row (its feature and room taken off). */
function fromStored<R>(row: StoredSignedRecord): R {
  const { feature: _feature, room: _room, ...record } = row;
  void _feature;
  void _room;
  return record as unknown as R;
}
