import { createNanoEvents, type Unsubscribe } from 'nanoevents';
import type { DeviceIdentity } from '../identity';
import { toStorageError, type P2pDatabase, type RecordFeature, type StorageError } from '../store';
import { MemoryRecordIndex, type HeldRecord, type KeyTuple, type RecordIndex } from './record-index';
import { openRoomStorage } from './room-storage';
import { recordKey, targetKey, targetsEarlierRecord, type DistributiveOmit, type RecordKind, type SignedRecordBase, type Unsigned } from './signed-record';

/**
 * Why a record was refused: the shared rules' reasons (see {@link RecordBook} for their order), plus
 * the kind's own from `check`. `future` and `outside-window` exist only for a book with a `window`,
 * `too-many` only with bounds, `check-failed` only with a `check`.
 */
export type RecordRefusal = 'future' | 'outside-window' | 'duplicate' | 'too-many' | 'bad-signature' | 'bad-target' | 'conflict' | 'check-failed';

/**
 * The acceptance window of a kind (chat): which record timestamps are accepted, against the book's clock.
 */
export interface AcceptanceWindow {
  /** Greatest accepted lead of a record's `ts` over the book's clock, ms; a record further ahead is refused `future`. */
  maxFutureSkewMs: number;
  /**
   * The oldest `ts` accepted now, ms since epoch (the retention window's start; 0: any age); an
   * older record is refused `outside-window`. Asked at each ingestion, so a window changed in the
   * settings applies at once.
   */
  start(): number;
}

/**
 * How one kind of signed record is kept: what the {@link RecordBook} checks before it accepts a
 * record (after the wire schema: the shape is already valid when a record gets here). `R` is the
 * record as it travels (signed), `H` the record as it is held (`hold`; the same by default).
 */
export interface RecordRules<R extends SignedRecordBase, C extends string = never, H extends HeldRecord = R & HeldRecord> {
  /** Signing and verification of the kind (see `defineRecordKind`). */
  kind: RecordKind<R>;
  /** The room key, `${appId}\n${room}` (records are signed for it, and stored under it). */
  room: string;
  /** Records kept per room, all authors and kinds: a bound on what strangers can make this device store. Default: no bound. */
  maxRecords?: number;
  /** Whether a record amends another (`target` set: an alt text, a removal, a tombstone); the others are primary records. */
  amends(r: H): boolean;
  /** Whether an amendment retires its target (a removal, a tombstone): the target no longer counts toward its author's cap. */
  retires?(r: H): boolean;
  /** Live primary records one author may have (not retired); more are refused `too-many`. Default: no per-author cap. */
  maxPerAuthor?: number;
  /**
   * The dedup slot of an amendment: an amendment is refused `duplicate` when an amendment of the
   * same target in the same slot, with a higher `seq`, is held (a kind whose newest amendment
   * replaces the older ones, an alt text, uses one slot per target and kind). Asked of amendments
   * only, and only amendments of one target share a slot; a primary record's slot is its key.
   * Default: every record its own slot (only the very same key is a duplicate).
   */
  slot?(r: H): string;
  /** The kind's own checks after the shared rules (a thumbnail or cover header): a refusal reason, or null to accept. A check that throws refuses the record (`check-failed`). */
  check?(r: R): Promise<C | null>;
  /** Clock, ms since epoch (authored records' `ts`, the acceptance window). Default `Date.now`. */
  now?: () => number;
  /** Which timestamps are accepted (chat's future skew and retention window); default: any. */
  window?: AcceptanceWindow;
  /**
   * Whether an accepted record is ephemeral (chat's burn after reading): emitted, never stored; its
   * key and signature are remembered in memory for the session, so a replay is refused `duplicate`.
   */
  ephemeral?(r: H): boolean;
  /**
   * An amendment that marks its target where it is stored (chat's tombstone sets `retracted` on the
   * message, which the paged history reads): the target as it is to be stored once marked by
   * `amendment`, or null when this amendment leaves it as it is (not a message, already retracted).
   * Asked when the amendment is accepted with its target held (the marked target is stored with it,
   * in the same transaction) and when a record arrives after an amendment of it (stored marked).
   */
  marks?(target: H, amendment: H): H | null;
  /** The record as held and stored, from the record as received and the time it was accepted (ms): chat adds its room and `receivedAt`. Default: the record itself. */
  hold?(r: R, receivedAt: number): H;
}

/** The options of {@link RecordBook.open}: the rules, and where the book's records are kept (all of them in memory, loaded at open). */
export interface RecordBookOptions<R extends SignedRecordBase & HeldRecord, C extends string = never> extends RecordRules<R, C, R> {
  /** Which feature's records (the table partition: `gallery` or `music`; chat's records are paged, through a {@link DexieRecordIndex}). */
  feature: Exclude<RecordFeature, 'chat'>;
  /** undefined: the page's shared database; null: memory only (nothing survives a reload). */
  database?: P2pDatabase | null;
}

/** What happened to one record given to {@link RecordBook.accept} or {@link RecordBook.acceptBatch}. */
export type RecordOutcome<H, C extends string = never> =
  | {
      status: 'accepted';
      /** The record as held (for an ephemeral record, only emitted). */
      record: H;
      /** Whether it is stored: false for an ephemeral record, or when its write failed (then a `error` event was emitted). */
      stored: boolean;
      /** The held target this amendment marked (see {@link RecordRules.marks}), as now stored. */
      markedTarget?: H;
    }
  | {
      status: 'refused';
      /** Which rule refused it. */
      reason: RecordRefusal | C;
      /** For `duplicate` and `conflict`: the record held under its key (the first seen). */
      existing?: H;
    };

/** One record accepted in a batch, as the `batch` event gives it. */
export interface Accepted<H> {
  /** The record as held (for an ephemeral record, only emitted). */
  record: H;
  /** The held target this amendment marked, as now stored. */
  markedTarget?: H;
}

/** Events of a {@link RecordBook}. */
export interface RecordBookEvents<H> {
  /**
   * A record was accepted by {@link RecordBook.accept} (authored here or received), with the
   * target it marked, if any: emitted while it is being written (an in-memory index already holds
   * it); a failed write follows as `error`.
   */
  record: (record: H, markedTarget?: H) => void;
  /** Records accepted together by {@link RecordBook.acceptBatch}, after their one transaction, in batch order; `record` is not emitted for them. Never empty. */
  batch: (accepted: Accepted<H>[]) => void;
  /** A read or write failed (quota, storage gone): see the index's `keepsFailedWrites` for what is still held. */
  error: (error: StorageError) => void;
}

/** What the index held of the records being decided, read at once. */
interface Held<H> {
  records: Map<string, H>;
  amendments: Map<string, H[]>;
  count: number;
  live: Map<string, number>;
}

/** The decisions on a run of records, in order, before anything is applied. */
interface Plan<H, C extends string> {
  outcomes: RecordOutcome<H, C>[];
  refusals: (RecordRefusal | C)[];
  /** What to write, by key, in order (a marked target before its amendment). */
  writes: Map<string, H>;
  /** Amendments accepted in the plan, by target key. */
  amendments: Map<string, H[]>;
  /** Ephemeral records accepted in the plan: key → signature. */
  seen: Map<string, string>;
  accepted: Accepted<H>[];
  /** Highest seq of this device's own records accepted (-1: none). */
  ownSeq: number;
}

/** What a failed (or skipped) read gives: nothing held. */
const nothingHeld = <H>(): Held<H> => ({ records: new Map(), amendments: new Map(), count: 0, live: new Map() });

/**
 * The signed records of one kind in one room, written once for every feature (chat messages,
 * gallery pictures, music tracks): authors this device's records (sequence number, time,
 * signature), and accepts a record from anywhere only after the shared rules, in this order, each
 * refusal counted by reason:
 *
 * 1. **window** (with `window`): `future` beyond the allowed clock skew, `outside-window` older than
 *    the retention window's start;
 * 2. **dedup**: the record held (or seen, if ephemeral) under its key with the same signature is a
 *    `duplicate` (first seen wins; a replay costs no verification), and so is an amendment whose
 *    slot holds a newer one (see `slot`);
 * 3. **bounds** (a key not held yet): at most `maxRecords` per room, `maxPerAuthor` live primary
 *    records per author (`too-many`);
 * 4. **signature**: the author's ECDSA P-256 signature over the record's canonical bytes in this room;
 * 5. **owner-only**: an amendment names only a `target` seq, so it can only ever amend its own
 *    author's record (`author:target`); one whose target is not an earlier seq is refused `bad-target`;
 * 6. **conflict**: a validly signed record under a held key with another signature (its author
 *    signed two records with one seq): the first seen is kept;
 * 7. the kind's own `check` (a check that throws refuses: `check-failed`).
 *
 * An accepted record is then held in its {@link RecordIndex} and emitted (`record`), or, when
 * ephemeral, only emitted; an amendment that marks its target stores the marked target with it.
 * Ingestion is serialized, so two copies of one record arriving at once are one accept and one
 * duplicate, and a record never races its amendment.
 */
export class RecordBook<R extends SignedRecordBase, C extends string = never, H extends HeldRecord = R & HeldRecord> {
  /** Records refused since the book opened, by reason (counts; a kind's own `check` reasons appear from their first refusal). */
  readonly refused: Record<RecordRefusal | C, number>;
  /** Set when the database could not be opened or read: the book then works in memory only. */
  storageError: StorageError | null = null;
  private readonly emitter = createNanoEvents<RecordBookEvents<H>>();
  private readonly now: () => number;
  /** Ephemeral records seen this session (never stored): key → signature. */
  private readonly ephemeralSeen = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: RecordRules<R, C, H>,
    /** This device's identity in the room: its public key is the `author` of what it signs. */
    readonly identity: DeviceIdentity,
    /** Where the records are held and looked up. */
    readonly index: RecordIndex<H>,
    /** The database the book's feature keeps its own settings in (null: none). */
    readonly database: P2pDatabase | null = null,
  ) {
    this.now = options.now ?? Date.now;
    const o = options;
    const reasons: RecordRefusal[] = [
      ...(o.window ? (['future', 'outside-window'] as const) : []),
      'duplicate',
      ...(o.maxRecords !== undefined || o.maxPerAuthor !== undefined ? (['too-many'] as const) : []),
      'bad-signature',
      'bad-target',
      'conflict',
      ...(o.check ? (['check-failed'] as const) : []),
    ];
    this.refused = Object.fromEntries(reasons.map(r => [r, 0])) as Record<RecordRefusal | C, number>;
  }

  /**
   * Opens the book of a room with every record in memory (gallery, music): the database (or memory
   * only, see `database`), this device's identity in the room, and every record this device stored
   * for it (indexed, not re-verified: only verified records are ever stored). Never throws for
   * storage: a database that cannot be opened or read is reported in `storageError`.
   * @throws Error when WebCrypto cannot make or load the identity's key pair
   */
  static async open<R extends SignedRecordBase & HeldRecord, C extends string = never>(options: RecordBookOptions<R, C>): Promise<RecordBook<R, C, R>> {
    const { db, storageError, identity } = await openRoomStorage(options.room, options.database);
    const index = new MemoryRecordIndex<R>(options, db ? { db, feature: options.feature, room: options.room } : null);
    const book = new RecordBook<R, C, R>(options, identity, index, db);
    book.storageError = storageError;
    await index.load().catch((err: unknown) => void (book.storageError ??= toStorageError(err)));
    return book;
  }

  /** Subscribes to an event (see {@link RecordBookEvents}); returns the unsubscribe function. */
  on<E extends keyof RecordBookEvents<H>>(event: E, handler: RecordBookEvents<H>[E]): Unsubscribe {
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

  /** The in-memory index (a book opened with {@link RecordBook.open}). @throws Error for a book over an IndexedDB index */
  private get memory(): MemoryRecordIndex<H> {
    if (this.index instanceof MemoryRecordIndex) return this.index;
    throw new Error('this record book does not hold its records in memory: look them up through its index');
  }

  /** The record with this key (`author:seq`), if accepted. In-memory books only. @throws Error for a book over an IndexedDB index */
  get(key: string): H | undefined {
    return this.memory.byKey(key);
  }

  /** Every accepted record, in the order accepted (stored ones first, by seq). In-memory books only. @throws Error for a book over an IndexedDB index */
  all(): IterableIterator<H> {
    return this.memory.all();
  }

  /** Number of accepted records. In-memory books only. @throws Error for a book over an IndexedDB index */
  get size(): number {
    return this.memory.size;
  }

  /** The amendments of the record with key `key` (`author:seq`), in the order accepted. In-memory books only. @throws Error for a book over an IndexedDB index */
  amendmentsOf(key: string): readonly H[] {
    return this.memory.amendmentsOf(key);
  }

  /** Whether the record with key `key` was retired by one of its author's amendments (see `retires`). In-memory books only. @throws Error for a book over an IndexedDB index */
  isRetired(key: string): boolean {
    return this.memory.isRetired(key);
  }

  /**
   * Signs a record of this device: its next sequence number, the time (`now`) and its signature
   * over the fields. Not accepted yet (see {@link RecordBook.author}).
   */
  async sign(fields: DistributiveOmit<Unsigned<R>, 'author' | 'seq' | 'ts'>): Promise<R> {
    const unsigned = { ...fields, author: this.identity.publicKey, seq: await this.identity.nextSeq(), ts: this.now() } as unknown as Unsigned<R>;
    return this.options.kind.sign(this.options.room, this.identity, unsigned);
  }

  /**
   * Authors a record of this device ({@link RecordBook.sign}), then accepts it like any other (so
   * the same rules hold for it).
   * @returns the signed record, or null when the rules refused it (the refusal is counted)
   */
  async author(fields: DistributiveOmit<Unsigned<R>, 'author' | 'seq' | 'ts'>): Promise<R | null> {
    const record = await this.sign(fields);
    return (await this.ingest(record)) ? record : null;
  }

  /** {@link RecordBook.accept}, resolving only whether the record was accepted; never throws. */
  ingest(record: R): Promise<boolean> {
    return this.accept(record).then(
      o => o.status === 'accepted',
      () => false,
    );
  }

  /**
   * Applies the rules to a record from anywhere (see the class comment), then holds and emits it
   * (`record`, while it is written). At most two reads of the index (the held record and, for a
   * record an amendment may mark, its amendments; a failed read is emitted as `error` and the
   * record decided as if nothing were held) and one write (the record and the target it marks, in
   * one transaction; a failed write is emitted as `error` and the record is accepted with
   * `stored: false`). Refusals are counted.
   * @param options.verified the signature is known to be valid (a record this device just signed)
   */
  accept(record: R, options: { verified?: boolean } = {}): Promise<RecordOutcome<H, C>> {
    // The queue moves on once the write is issued (the index answers later lookups of a record it
    // is still writing); the outcome waits for the write. A live record then never waits behind the
    // IndexedDB commit of the one before (8–20 ms under load: bench/chat-rtt-probe.mjs TIMELINE=1).
    return this.enqueue(() => this.acceptNow(record, options.verified === true)).then(written => written());
  }

  /**
   * Applies the rules to a batch of records (a sync batch, oldest first) with the same outcome as
   * {@link RecordBook.accept} on each record in order: the same outcomes, refusal counters, held
   * records and events; but signatures are verified concurrently, the index is read once for the
   * whole batch and every record to keep (with every target an amendment of the batch marks) is
   * written in one transaction. Accepted records are emitted together as one `batch` event.
   *
   * A failed read or write is all-or-nothing: nothing of the batch has been applied yet (no
   * counter, no event, nothing held), and the records then go one by one through
   * {@link RecordBook.accept}'s path (signatures not verified again). So a full disk gives exactly
   * what one-by-one ingestion gives: the records that still fit are stored, the others accepted
   * with `stored: false` and an `error` each, and nothing stored before is lost. (An index that
   * `keepsFailedWrites` holds the batch anyway: it is accepted unstored, an `error` per record.)
   * A book with bounds (`maxRecords`, `maxPerAuthor`) takes a batch one record at a time, as the
   * bounds count what each accepted record adds.
   *
   * Serialized with {@link RecordBook.accept} (a live record never interleaves with a batch).
   * @param records records as received (any kinds, any order, duplicates allowed)
   * @returns one outcome per record, in the order of `records`
   */
  acceptBatch(records: readonly R[], options: { verifying?: Promise<boolean[]> } = {}): Promise<RecordOutcome<H, C>[]> {
    return this.enqueue(() => this.acceptBatchNow(records, options.verifying));
  }

  /**
   * Starts checking the signatures of a batch that will be given to {@link RecordBook.acceptBatch}
   * (as its `verifying` option, aligned with `records`), so that the check, off the main thread where
   * a worker runs, overlaps the batches decided and written before it. Never rejects.
   * @returns one result per record, in order
   */
  verifyBatch(records: readonly R[]): Promise<boolean[]> {
    return this.options.kind.verifyMany(this.options.room, records);
  }

  /** Runs `op` after every ingestion queued before it. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Decides `r` and applies the decision (see {@link RecordBook.accept}); resolves once its write is
   * issued, with a function that waits for the write and gives the outcome (`stored: false` and an
   * `error` event when it failed).
   */
  private async acceptNow(r: R, verified: boolean): Promise<() => Promise<RecordOutcome<H, C>>> {
    const now = this.now();
    const h = this.hold(r, now);
    const early = this.windowRefusal(h, now);
    let held = nothingHeld<H>();
    if (!early) {
      try {
        held = await this.read([h]);
      } catch (err) {
        this.emitter.emit('error', toStorageError(err));
      }
    }
    const plan = await this.decide([r], [h], [early], held, () => (verified ? Promise.resolve(true) : this.options.kind.verify(this.options.room, r)));
    const [outcome] = plan.outcomes;
    const done = () => Promise.resolve(outcome);
    this.apply(plan);
    if (outcome.status === 'refused') return done;
    if (plan.ownSeq >= 0) await this.identity.observeOwnSeq(plan.ownSeq);
    if (!plan.writes.size) {
      this.emitter.emit('record', outcome.record);
      return done;
    }
    // Emitted while it is written (the index answers lookups of a record it is writing, so the
    // dedup above sees it for the next record); a failed write is reported, the record stays emitted.
    const writing = this.index.putMany([...plan.writes.values()]);
    this.emitter.emit('record', outcome.record, outcome.markedTarget);
    const written = writing.then(
      () => outcome,
      (err: unknown) => {
        outcome.stored = false;
        this.emitter.emit('error', toStorageError(err));
        return outcome;
      },
    );
    return () => written;
  }

  private async acceptBatchNow(records: readonly R[], preverified?: Promise<boolean[]>): Promise<RecordOutcome<H, C>[]> {
    const o = this.options;
    const each = async (verified: readonly boolean[]) => {
      const outcomes: RecordOutcome<H, C>[] = [];
      for (const [i, r] of records.entries()) outcomes.push(await (await this.acceptNow(r, verified[i] === true))());
      return outcomes;
    };
    if (!records.length) return [];
    if (o.maxRecords !== undefined || o.maxPerAuthor !== undefined) return each([]);
    const now = this.now();
    const hs = records.map(r => this.hold(r, now));
    const early = hs.map(h => this.windowRefusal(h, now));
    // Every signature verified together (off the main thread where a worker runs); the rules use the results in order.
    const verified = records.map(() => false);
    if (preverified) {
      const results = await preverified;
      records.forEach((_, i) => (verified[i] = !early[i] && results[i] === true));
    } else {
      const toVerify = records.flatMap((_, i) => (early[i] ? [] : [i]));
      const results = await o.kind.verifyMany(
        o.room,
        toVerify.map(i => records[i]),
      );
      toVerify.forEach((i, j) => (verified[i] = results[j] === true));
    }
    const verifying = verified.map(v => Promise.resolve(v));
    let held: Held<H>;
    try {
      held = await this.read(hs.filter((_, i) => !early[i]));
    } catch {
      return each(verified);
    }
    const plan = await this.decide(records, hs, early, held, i => verifying[i]);
    const unstored: StorageError[] = [];
    try {
      if (plan.writes.size) await this.index.putMany([...plan.writes.values()]);
    } catch (err) {
      if (!this.index.keepsFailedWrites) return each(verified);
      for (const outcome of plan.outcomes) {
        if (outcome.status === 'accepted' && outcome.stored) {
          outcome.stored = false;
          unstored.push(toStorageError(err));
        }
      }
    }
    this.apply(plan);
    if (plan.ownSeq >= 0) await this.identity.observeOwnSeq(plan.ownSeq);
    unstored.forEach(err => this.emitter.emit('error', err));
    if (plan.accepted.length) this.emitter.emit('batch', plan.accepted);
    return plan.outcomes;
  }

  /** The record as held (see `hold`). */
  private hold(r: R, now: number): H {
    return this.options.hold ? this.options.hold(r, now) : (r as unknown as H);
  }

  /** Rule 1: the acceptance window. */
  private windowRefusal(h: H, now: number): RecordRefusal | null {
    const w = this.options.window;
    if (!w) return null;
    if (h.ts > now + w.maxFutureSkewMs) return 'future';
    if (h.ts < w.start()) return 'outside-window';
    return null;
  }

  /**
   * One read of the index for the records to decide (concurrent lookups): the records under their
   * keys and the targets amendments may mark, the amendments of records that may be marked or
   * slotted, and the counts the bounds need.
   */
  private async read(hs: readonly H[]): Promise<Held<H>> {
    const o = this.options;
    const keys = new Map<string, KeyTuple>();
    const targets = new Map<string, KeyTuple>();
    const authors = new Set<string>();
    for (const h of hs) {
      keys.set(recordKey(h), [h.author, h.seq]);
      if (o.amends(h)) {
        if (typeof h.target !== 'number') continue;
        if (o.marks) keys.set(targetKey(h), [h.author, h.target]);
        if (o.slot) targets.set(targetKey(h), [h.author, h.target]);
      } else {
        if (o.marks && !o.ephemeral?.(h)) targets.set(recordKey(h), [h.author, h.seq]);
        if (o.maxPerAuthor !== undefined) authors.add(h.author);
      }
    }
    const [records, amendments, count, live] = await Promise.all([
      this.index.getMany([...keys.values()]),
      targets.size ? this.index.amendmentsFor([...targets.values()]) : [],
      o.maxRecords === undefined ? 0 : this.index.count(),
      Promise.all([...authors].map(async a => [a, await this.index.liveCount(a)] as const)),
    ]);
    const held: Held<H> = { records: new Map(), amendments: new Map(), count, live: new Map(live) };
    for (const r of records) if (r) held.records.set(recordKey(r), r);
    for (const a of amendments) push(held.amendments, targetKey(a), a);
    return held;
  }

  /**
   * The rules, in order, on each record against what the index held plus what the records before
   * it in the run were accepted as; nothing is applied (see {@link RecordBook.apply}).
   * `early[i]`: the window's refusal of record i; `verified(i)`: its signature check.
   */
  private async decide(records: readonly R[], hs: readonly H[], early: readonly (RecordRefusal | null)[], held: Held<H>, verified: (i: number) => Promise<boolean>): Promise<Plan<H, C>> {
    const o = this.options;
    const plan: Plan<H, C> = { outcomes: [], refusals: [], writes: new Map(), amendments: new Map(), seen: new Map(), accepted: [], ownSeq: -1 };
    const amendmentsOf = (key: string) => [...(held.amendments.get(key) ?? []), ...(plan.amendments.get(key) ?? [])];
    const refuse = (reason: RecordRefusal | C, existing?: H) => {
      plan.refusals.push(reason);
      plan.outcomes.push(existing ? { status: 'refused', reason, existing } : { status: 'refused', reason });
    };
    for (const [i, r] of records.entries()) {
      const h = hs[i];
      const key = recordKey(h);
      const existing = plan.writes.get(key) ?? held.records.get(key);
      const seenSig = plan.seen.get(key) ?? this.ephemeralSeen.get(key);
      const amends = o.amends(h);
      const taken = existing !== undefined || seenSig !== undefined;
      const slot = amends && o.slot ? o.slot(h) : undefined;
      const refusal =
        early[i] ?? // 1. window
        (existing?.sig === h.sig || seenSig === h.sig || (slot !== undefined && amendmentsOf(targetKey(h)).some(a => a.seq > h.seq && o.slot!(a) === slot)) ? 'duplicate' : null) ?? // 2. dedup
        (!taken && this.overBounds(h, amends, held) ? 'too-many' : null) ?? // 3. bounds
        (!(await verified(i)) ? 'bad-signature' : null) ?? // 4. signature
        (amends && !targetsEarlierRecord(h) ? 'bad-target' : null) ?? // 5. owner-only
        (taken ? 'conflict' : null) ?? // 6. conflict
        (o.check ? await o.check(r).catch((): 'check-failed' => 'check-failed') : null); // 7. the kind's own check
      if (refusal) {
        refuse(refusal, refusal === 'duplicate' || refusal === 'conflict' ? existing : undefined);
        continue;
      }
      if (h.author === this.identity.publicKey) plan.ownSeq = Math.max(plan.ownSeq, h.seq);
      if (o.ephemeral?.(h)) {
        plan.seen.set(key, h.sig);
        plan.accepted.push({ record: h });
        plan.outcomes.push({ status: 'accepted', record: h, stored: false });
        continue;
      }
      let record = h;
      let markedTarget: H | undefined;
      if (amends) {
        const target = targetKey(h);
        const current = plan.writes.get(target) ?? held.records.get(target);
        const marked = o.marks && current ? o.marks(current, h) : null;
        if (marked) plan.writes.set(target, (markedTarget = marked));
        push(plan.amendments, target, h);
      } else if (o.marks) {
        for (const a of amendmentsOf(key)) record = o.marks(record, a) ?? record;
      }
      plan.writes.set(key, record);
      plan.accepted.push({ record, markedTarget });
      plan.outcomes.push({ status: 'accepted', record, stored: true, markedTarget });
    }
    return plan;
  }

  /** Rule 3: whether the room, or the author's live primary records, are at their bound. */
  private overBounds(h: H, amends: boolean, held: Held<H>): boolean {
    const o = this.options;
    if (o.maxRecords !== undefined && held.count >= o.maxRecords) return true;
    return !amends && o.maxPerAuthor !== undefined && (held.live.get(h.author) ?? 0) >= o.maxPerAuthor;
  }

  /** Applies a plan's bookkeeping: refusal counters and the ephemeral records seen. */
  private apply(plan: Plan<H, C>): void {
    for (const reason of plan.refusals) this.refused[reason] = (this.refused[reason] ?? 0) + 1; // a kind's own reasons start at their first refusal
    plan.seen.forEach((sig, key) => this.ephemeralSeen.set(key, sig));
  }
}

/** Appends to the list under `key`. */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
