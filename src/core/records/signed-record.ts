import { canonicalBytes, verifySignature, verifySignatures, type DeviceIdentity } from '../identity';

/** `Omit` that distributes over a union (each record kind keeps its own fields). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A record before it is signed: every field but `sig`. */
export type Unsigned<R> = DistributiveOmit<R, 'sig'>;

/** What every signed record carries: its author's per-room public key (base64url, P-256), a per-author sequence number, a time (ms since epoch), a kind and the signature (base64url). */
export interface SignedRecordBase {
  /** The author's per-room public key (base64url, 87 characters). */
  author: string;
  /** The author's sequence number in the room (from 1, increasing with each record it signs). */
  seq: number;
  /** The author's clock when it signed, ms since epoch. */
  ts: number;
  /** What the record is (`msg`, `pic`, `track`, an amendment's kind, …). */
  kind: string;
  /** ECDSA P-256 signature over the record's canonical bytes (base64url, 86 characters). */
  sig: string;
}

/** `author:seq`, the key of a record within a room. */
export function recordKey(r: { author: string; seq: number }): string {
  return `${r.author}:${r.seq}`;
}

/** `author:target`: the key of the record an amendment (a retraction, an alt text, a removal) targets. */
export function targetKey(r: { author: string; target?: number }): string {
  return `${r.author}:${r.target}`;
}

/**
 * The owner-only rule of amendments, the same for every kind (a chat tombstone, a gallery alt text or
 * removal, a music untrack): an amendment names only a `target` seq, so it can only ever amend a record
 * of its own author (`author:target`), and that target must be an earlier seq of the author (a record
 * cannot amend one signed after it). False when `target` is missing.
 */
export function targetsEarlierRecord(r: { seq: number; target?: number }): boolean {
  return typeof r.target === 'number' && r.target < r.seq;
}

/** Signing and verification of one kind of record (chat, gallery, music); see {@link defineRecordKind}. */
export interface RecordKind<R extends SignedRecordBase> {
  /** Domain-separation tag of the signed bytes (bump it with any change of the canonical form). */
  readonly tag: string;
  /**
   * The bytes an author signs: `canonicalBytes(tag, room, [author, seq, ts, kind, ...fields])`,
   * UTF-8 JSON with absent values as null. The room stops a record from being replayed into another room.
   */
  signingBytes(room: string, r: Unsigned<R>): Uint8Array;
  /**
   * Signs a record of this device (ECDSA P-256, SHA-256: see DeviceIdentity).
   * @throws Error when `r.author` is not this device's key
   */
  sign(room: string, identity: DeviceIdentity, r: Unsigned<R>): Promise<R>;
  /** Whether `record.sig` is its author's signature over the record in `room`. Never throws. */
  verify(room: string, record: R): Promise<boolean>;
  /** {@link RecordKind.verify} for many records (a sync batch): off the main thread where a worker runs (identity's `verifySignatures`). Never throws; one result per record, in order. */
  verifyMany(room: string, records: readonly R[]): Promise<boolean[]>;
}

/**
 * Defines a kind of signed record once: its tag and the kind-specific fields in their signed order
 * (after author, seq, ts and kind). Chat, gallery and music records are defined with it, so signing
 * and verifying exist once.
 */
export function defineRecordKind<R extends SignedRecordBase>(tag: string, fields: (r: Unsigned<R>) => readonly unknown[]): RecordKind<R> {
  const signingBytes = (room: string, r: Unsigned<R>) => {
    const base = r as unknown as Omit<SignedRecordBase, 'sig'>;
    return canonicalBytes(tag, room, [base.author, base.seq, base.ts, base.kind, ...fields(r)]);
  };
  return {
    tag,
    signingBytes,
    async sign(room, identity, r) {
      if ((r as unknown as SignedRecordBase).author !== identity.publicKey) throw new Error('a device can only sign its own records');
      return { ...r, sig: await identity.sign(signingBytes(room, r)) } as unknown as R;
    },
    verify(room, record) {
      const { sig, ...unsigned } = record;
      return verifySignature(record.author, signingBytes(room, unsigned as unknown as Unsigned<R>), sig);
    },
    verifyMany(room, records) {
      return verifySignatures(
        records.map(record => {
          const { sig, ...unsigned } = record;
          return { publicKey: record.author, data: signingBytes(room, unsigned as unknown as Unsigned<R>), signature: sig };
        }),
      );
    },
  };
}
