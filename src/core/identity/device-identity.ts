import { fromBase64Url, toBase64Url } from './base64url';

/**
 * Signature algorithm: ECDSA on P-256 with SHA-256 (FIPS 186-5; WebCrypto names
 * `ECDSA`/`P-256`), chosen because every browser's WebCrypto has it. Public keys
 * travel as the 65-byte uncompressed point, signatures as the 64-byte r‖s
 * (IEEE P1363) form WebCrypto produces; both base64url.
 */
export const SIGNATURE_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_PARAMS = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A base64url P-256 public key: 65 bytes → 87 characters. */
export const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{87}$/;
/** A base64url P-256 signature: 64 bytes → 86 characters. */
export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;

/** What is kept per room on the device: the key pair (private key non-extractable) and the next sequence number. */
export interface StoredIdentity {
  /** The room key (`${appId}\n${room}`). */
  room: string;
  /** The public key: the 65-byte uncompressed P-256 point, base64url (87 characters). */
  publicKey: string;
  /** The private key (WebCrypto, non-extractable: it never leaves the browser's key store). */
  privateKey: CryptoKey;
  /** Next sequence number this device will give a record in the room (starts at 1). */
  nextSeq: number;
}

/** Where identities are kept (the Dexie `identities` table, or memory when storage is unavailable). */
export interface IdentityStore {
  /** The room's identity, if one is stored. */
  get(room: string): Promise<StoredIdentity | undefined>;
  /** Stores (inserts or replaces) a room's identity. */
  put(identity: StoredIdentity): Promise<void>;
  /**
   * Stores `identity` unless the room already has one, atomically; returns the one kept.
   * (Two tabs opening a room at once must end up with one key.)
   */
  putIfAbsent?(identity: StoredIdentity): Promise<StoredIdentity>;
  /**
   * Atomically returns the room's next sequence number and advances it past `atLeast - 1`.
   * (Two tabs sharing the key must never use the same number.)
   */
  reserveSeq?(room: string, atLeast?: number): Promise<number>;
}

/**
 * This device's identity in one room: a key pair made for that room only, so a
 * user cannot be linked across rooms by key. Signs records and hands out
 * increasing sequence numbers.
 */
export class DeviceIdentity {
  /**
   * The next sequence number, reserved (persisted as used) in the background after each
   * {@link DeviceIdentity.nextSeq}, so a record is signed and sent without waiting for IndexedDB.
   * A page that closes without using it leaves a gap of one number in its own sequence.
   */
  private ahead: Promise<number | null> | null = null;

  private constructor(
    private stored: StoredIdentity,
    private readonly store: IdentityStore,
  ) {}

  /** Loads the room's identity, or creates and stores one. A failing store still yields a working (session-only) identity. */
  static async forRoom(room: string, store: IdentityStore): Promise<DeviceIdentity> {
    let stored: StoredIdentity | undefined;
    try {
      stored = await store.get(room);
    } catch {
      stored = undefined;
    }
    if (!stored) {
      const pair = (await crypto.subtle.generateKey(SIGNATURE_ALGORITHM, false, ['sign', 'verify'])) as CryptoKeyPair;
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      const made: StoredIdentity = { room, publicKey: toBase64Url(raw), privateKey: pair.privateKey, nextSeq: 1 };
      stored = store.putIfAbsent ? await store.putIfAbsent(made).catch(() => made) : made;
      if (!store.putIfAbsent) await store.put(made).catch(() => undefined);
    }
    return new DeviceIdentity(stored, store);
  }

  /** base64url public key: the author id of this device's records in this room. */
  get publicKey(): string {
    return this.stored.publicKey;
  }

  /**
   * The next sequence number of this device in the room, never handed out before (by this page or
   * another tab sharing the key): the counter is persisted past it before it is returned. The number
   * after it is reserved at once in the background, so the next call usually returns without waiting
   * for IndexedDB (a record answered at once used to wait 7–8 ms for the write of the record it answered).
   * Numbers may skip (one per page session that sent something); peers' state vectors then hold a gap.
   */
  async nextSeq(): Promise<number> {
    const ahead = this.ahead;
    this.ahead = null;
    let seq = ahead ? await ahead : null;
    // A number at or below one that sync brought back (observeOwnSeq) is not ours to use any more.
    if (seq === null || seq <= this.highestObserved) seq = await this.reserve();
    this.ahead ??= this.reserve().catch(() => null);
    return seq;
  }

  /** The highest own sequence number {@link DeviceIdentity.observeOwnSeq} was told of (0: none). */
  private highestObserved = 0;

  /** Reserves one number: atomically in the store when it can (two tabs never get the same), else in memory. */
  private async reserve(): Promise<number> {
    if (this.store.reserveSeq) {
      try {
        const seq = await this.store.reserveSeq(this.stored.room, this.stored.nextSeq);
        this.stored = { ...this.stored, nextSeq: seq + 1 };
        return seq;
      } catch {
        /* storage failed: fall back to the counter in memory */
      }
    }
    const seq = this.stored.nextSeq;
    this.stored = { ...this.stored, nextSeq: seq + 1 };
    await this.store.put(this.stored).catch(() => undefined);
    return seq;
  }

  /** Raises the counter above `seq` (e.g. when sync brings back our own records after the local store was lost). */
  async observeOwnSeq(seq: number): Promise<void> {
    this.highestObserved = Math.max(this.highestObserved, seq);
    if (seq < this.stored.nextSeq) return;
    this.stored = { ...this.stored, nextSeq: seq + 1 };
    if (this.store.reserveSeq) await this.store.reserveSeq(this.stored.room, seq + 1).catch(() => undefined);
    else await this.store.put(this.stored).catch(() => undefined);
  }

  /** Signs `data`; returns the base64url P1363 signature. */
  async sign(data: Uint8Array): Promise<string> {
    return toBase64Url(new Uint8Array(await crypto.subtle.sign(SIGN_PARAMS, this.stored.privateKey, data as BufferSource)));
  }
}

const importedKeys = new Map<string, Promise<CryptoKey>>();

/**
 * Verifies a base64url signature by a base64url public key. Never throws:
 * malformed keys or signatures verify as false. Imported keys are cached (bounded).
 */
export async function verifySignature(publicKey: string, data: Uint8Array, signature: string): Promise<boolean> {
  if (!PUBLIC_KEY_PATTERN.test(publicKey) || !SIGNATURE_PATTERN.test(signature)) return false;
  try {
    let key = importedKeys.get(publicKey);
    if (!key) {
      key = crypto.subtle.importKey('raw', fromBase64Url(publicKey) as BufferSource, SIGNATURE_ALGORITHM, false, ['verify']);
      if (importedKeys.size > 5000) importedKeys.delete(importedKeys.keys().next().value as string);
      importedKeys.set(publicKey, key);
    }
    return await crypto.subtle.verify(SIGN_PARAMS, await key, fromBase64Url(signature) as BufferSource, data as BufferSource);
  } catch {
    importedKeys.delete(publicKey);
    return false;
  }
}

/** An in-memory identity store, for browsers that forbid IndexedDB (identity then lasts one session). */
export class MemoryIdentityStore implements IdentityStore {
  private readonly map = new Map<string, StoredIdentity>();
  async get(room: string) {
    return this.map.get(room);
  }
  async put(identity: StoredIdentity) {
    this.map.set(identity.room, identity);
  }
}

/**
 * Canonical bytes of a signed record: UTF-8 JSON of `[tag, room, ...values]` (absent values as null).
 * The tag separates record types; the room stops a record from being replayed into another room.
 */
export function canonicalBytes(tag: string, room: string, values: readonly unknown[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([tag, room, ...values.map(v => (v === undefined ? null : v))]));
}
