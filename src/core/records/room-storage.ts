import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import { dexieIdentityStore, openDatabase, toStorageError, type P2pDatabase, type StorageError } from '../store';

/** The page's database, or why there is none. */
export interface OpenedStorage {
  /** null: memory only (asked for, or the database could not be opened). */
  db: P2pDatabase | null;
  /** Why the database could not be opened (private mode, storage blocked, …); null when it was, or was not asked for. */
  storageError: StorageError | null;
}

/** A feature's storage in one room: the database and this device's identity (its key pair) in the room. */
export interface RoomStorage extends OpenedStorage {
  /** This device's key pair and sequence counter in the room. */
  identity: DeviceIdentity;
}

/**
 * Opens the page's shared database (`database` undefined), uses the given one, or none (`null`:
 * memory only). Never throws: a database that cannot be opened is reported in `storageError` and the
 * feature keeps working in memory (nothing survives a reload).
 */
export async function openStorage(database?: P2pDatabase | null): Promise<OpenedStorage> {
  if (database === null) return { db: null, storageError: null };
  try {
    return { db: database ?? (await openDatabase()), storageError: null };
  } catch (err) {
    return { db: null, storageError: toStorageError(err) };
  }
}

/**
 * {@link openStorage}, then this device's identity in `room` (`${appId}\n${room}`), kept in the
 * database (or in memory without one), so a reload keeps the same author key.
 * @throws Error when WebCrypto cannot make or load the key pair
 */
export async function openRoomStorage(room: string, database?: P2pDatabase | null): Promise<RoomStorage> {
  const opened = await openStorage(database);
  const identity = await DeviceIdentity.forRoom(room, opened.db ? dexieIdentityStore(opened.db) : new MemoryIdentityStore());
  return { ...opened, identity };
}
