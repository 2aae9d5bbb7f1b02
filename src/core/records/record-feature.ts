import { createNanoEvents, type Emitter, type Unsubscribe } from 'nanoevents';
import type { StorageError } from '../store';
import type { RecordBook, RecordRefusal } from './record-book';
import { startRecordExchange, type RecordExchange, type RecordExchangeOptions } from './record-exchange';
import type { DistributiveOmit, SignedRecordBase, Unsigned } from './signed-record';

/** The events every feature over a {@link RecordBook} emits, at least (each adds its own). */
export interface RecordFeatureEvents {
  /** A write failed (quota, storage gone): what was accepted is kept in memory for the session. */
  error: (error: StorageError) => void;
}

/** What a feature passes to {@link RecordFeature}: its book, the exchange (its answer is the feature's `held()`) and the visitor's name. */
export interface RecordFeatureSetup<R extends SignedRecordBase & { target?: number }, C extends string> {
  /** The feature's opened record book. */
  book: RecordBook<R, C>;
  /** The room and the kind's three messages and batch policy (book and answer are filled in). */
  exchange: Omit<RecordExchangeOptions<R>, 'book' | 'answer'>;
  /** The visitor's display name, put in what it shares. */
  userName: string;
}

/**
 * What gallery and music share as features over signed records, once: the book (rules and storage)
 * and the ask-the-holder exchange started with it, events (`on`), the refusal counters, the
 * storage state, this device's key, the visitor's name, authoring a record (signed, accepted, sent to
 * every peer) and `destroy`. A subclass adds its view of the records (`accepted` runs for every record
 * the book accepts) and its own methods.
 */
export abstract class RecordFeature<R extends SignedRecordBase & { target?: number }, C extends string, E extends RecordFeatureEvents> {
  protected readonly emitter: Emitter<E> = createNanoEvents<E>();
  /** Unsubscribed by `destroy`: a subclass adds its own subscriptions here. */
  protected readonly offs: Unsubscribe[] = [];
  protected readonly book: RecordBook<R, C>;
  private readonly exchange: RecordExchange<R>;
  /** The name put in what this visitor shares from now on. */
  protected userName: string;

  protected constructor(setup: RecordFeatureSetup<R, C>) {
    this.book = setup.book;
    this.userName = setup.userName;
    this.offs.push(
      this.book.on('record', r => this.accepted(r)),
      this.book.on('error', e => (this.emitter as unknown as Emitter<RecordFeatureEvents>).emit('error', e)),
    );
    this.exchange = startRecordExchange({ ...setup.exchange, book: this.book, answer: () => this.held() });
    this.offs.push(() => this.exchange.stop());
  }

  /** A record was accepted (authored here or received), after it was stored. */
  protected abstract accepted(record: R): void;

  /** What this device answers a peer's query with: the records of what it holds. */
  protected abstract held(): R[];

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof E>(event: K, handler: E[K]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Records refused from peers since the feature opened, by reason (counts; see `RecordBook`). */
  get refused(): Readonly<Record<RecordRefusal | C, number>> {
    return this.book.refused;
  }

  /** Set when the database could not be opened: the feature then works in memory only (nothing survives a reload). */
  get storageError(): StorageError | null {
    return this.book.storageError;
  }

  /** This device's public key in the room (base64url, P-256): the `author` of its records. */
  get publicKey(): string {
    return this.book.publicKey;
  }

  /** The name put in what this visitor shares from now on (peers hear it through the mesh's `presence`). */
  setUserName(name: string): void {
    this.userName = name;
  }

  /**
   * Applies the rules to a record from anywhere (see `RecordBook`): deduplicated, bounded, verified,
   * the kind's own check, stored. Resolves whether it was accepted; never throws.
   */
  ingest(record: R): Promise<boolean> {
    return this.book.ingest(record);
  }

  /** Stops listening and releases subscriptions; the data stays stored. Idempotent. */
  destroy(): void {
    this.offs.splice(0).forEach(off => off());
    this.emitter.events = {};
  }

  /**
   * Signs a record of this visitor, keeps it and sends it to every peer.
   * @throws Error when the book's rules refused it (`refusedMessage`: what the visitor is told)
   */
  protected async author(fields: DistributiveOmit<Unsigned<R>, 'author' | 'seq' | 'ts'>, refusedMessage: string): Promise<R> {
    const record = await this.book.author(fields);
    if (!record) throw new Error(refusedMessage);
    await this.exchange.publish(record);
    return record;
  }
}
