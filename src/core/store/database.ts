import Dexie, { Table } from 'dexie';
import type { StoredIdentity } from '../identity';
import type { GalleryRecordWire, MusicRecordWire } from '../wire';

/** A chat record as this device keeps it (one row per author+seq in a room). */
export interface StoredChatRecord {
  /** The room key (`${appId}\n${room}`). */
  room: string;
  /** The author's per-room public key (base64url). */
  author: string;
  /** The author's sequence number. */
  seq: number;
  /** Author's timestamp, ms since epoch. */
  ts: number;
  /** `msg` a message, `retract` a tombstone, `mode` a burn-after-reading switch. */
  kind: 'msg' | 'retract' | 'mode';
  /** `msg`: the author's display name. */
  name?: string;
  /** `msg`: the message text. */
  text?: string;
  /** `msg`: sent in burn-after-reading mode (such messages are never stored); `mode`: the switch's new state. */
  burn?: boolean;
  /** `retract`: the sequence number of the author's message it retracts. */
  target?: number;
  /** The author's signature (base64url, see core/chat/chat-record.ts). */
  sig: string;
  /** For `msg`: set when the author's tombstone arrived; the body stays here but is never sent again. */
  retracted?: boolean;
  /** When this device stored it, ms (local clock). */
  receivedAt: number;
}

/** A device-local mark that keeps a record beyond the retention window. */
export interface StoredMark {
  /** The room key. */
  room: string;
  /** The marked record's author (public key). */
  author: string;
  /** The marked record's sequence number. */
  seq: number;
  /** When it was marked, ms since epoch. */
  markedAt: number;
}

/** Per-room settings of this device. */
export interface StoredRoomSettings {
  /** The room key (for the music room: `music\n` before it). */
  room: string;
  /** Retention window chosen in the widget, ms (0 = keep forever). */
  retentionMs?: number;
  /** Music: the authors whose track lists this device keeps listing while they are offline (public keys). */
  rememberedLists?: string[];
  /** The room's burn-after-reading switch from the newest `mode` record seen (its timestamp, ms). */
  burn?: { on: boolean; ts: number };
}

/** A file the swarm knows on this device (own, cached, or downloading). */
export interface StoredSwarmFile {
  /** Content id (the manifest's root hash, base64url). */
  cid: string;
  /** The file's manifest (see core/swarm/manifest.ts). */
  manifest: { cid: string; size: number; chunkSize: number; mime: string; hashes: string[] };
  /** Kept regardless of the cache cap (the user's own files, "keep a copy"). */
  pinned: boolean;
  /** Bytes of verified chunks stored. */
  storedBytes: number;
  /** Last time it was read or written, ms (for least-recently-used eviction). */
  lastAccess: number;
}

/** One verified chunk of a file. */
export interface StoredSwarmChunk {
  /** Content id of the file. */
  cid: string;
  /** Chunk index, from 0. */
  index: number;
  /** The chunk's bytes (verified against its manifest hash before they were stored). */
  data: ArrayBuffer;
}

/**
 * The features whose signed records share the `signedRecords` table, all through core/records'
 * `RecordBook`: gallery and music held in memory, chat looked up in place (its `DexieRecordStore`:
 * paged history, retention window).
 */
export type RecordFeature = 'gallery' | 'music' | 'chat';

/**
 * A signed record kept on this device (own, and those seen in the room): the wire record, its shape
 * from `core/wire`'s schemas, with the feature it belongs to and the room key (`${appId}\n${room}`);
 * a chat record also keeps its local fields (`retracted`, `receivedAt`).
 */
export type StoredSignedRecord =
  | (GalleryRecordWire & { feature: 'gallery'; room: string })
  | (MusicRecordWire & { feature: 'music'; room: string })
  | (StoredChatRecord & { feature: 'chat' });

/** A gallery record as versions 4–6 of the database kept it (moved to `signedRecords` by version 6). */
type LegacyGalleryRecord = GalleryRecordWire & { room: string };
/** A music record as version 5–6 of the database kept it (moved to `signedRecords` by version 6). */
type LegacyMusicRecord = MusicRecordWire & { room: string };

/**
 * The one IndexedDB database of p2p-widgets (Dexie). Every feature declares its
 * tables here; a schema change adds a `version(n)` with its upgrade, never edits
 * an old one (Dexie's versioning: https://dexie.org/docs/Tutorial/Design#database-versioning).
 */
export class P2pDatabase extends Dexie {
  /** Marked chat records (kept past the retention window) by [room, author, seq]. */
  chatMarks!: Table<StoredMark, [string, string, number]>;
  /** This device's signing identity (ECDSA P-256 key pair, next sequence number) per room. */
  identities!: Table<StoredIdentity, string>;
  /** Per-room settings of this device. */
  roomSettings!: Table<StoredRoomSettings, string>;
  /** Files the swarm holds, by content id. */
  swarmFiles!: Table<StoredSwarmFile, string>;
  /** Verified chunks, by [content id, chunk index]. */
  swarmChunks!: Table<StoredSwarmChunk, [string, number]>;
  /**
   * Signed chat, gallery and music records by [feature, room, author, seq]; listed per [feature, room];
   * chat pages its history by [feature, room, ts, author, seq] and finds tombstones by [feature, room, author, target].
   */
  signedRecords!: Table<StoredSignedRecord, [RecordFeature, string, string, number]>;

  constructor(name = 'p2p-widgets') {
    super(name);
    this.version(1).stores({
      chatRecords: '[room+author+seq], [room+ts], [room+author+target]',
      chatMarks: '[room+author+seq], room',
      identities: 'room',
      roomSettings: 'room',
    });
    // v2: the swarm's files and chunks (tables added; nothing earlier changes).
    this.version(2).stores({
      swarmFiles: 'cid, lastAccess',
      swarmChunks: '[cid+index]',
    });
    // v3: page chat history by (ts, author, seq), so pages never skip or repeat records that share a timestamp.
    this.version(3).stores({
      chatRecords: '[room+author+seq], [room+ts], [room+author+target], [room+ts+author+seq]',
    });
    // v4: the gallery's signed records.
    this.version(4).stores({
      galleryRecords: '[room+author+seq], room',
    });
    // v5: the music room's signed records.
    this.version(5).stores({
      musicRecords: '[room+author+seq], room',
    });
    // v6: one table for every feature's signed records (core/records' RecordBook); the rows of the
    // two tables it replaces are copied over (Dexie: copy in the version that adds the table, delete
    // the old ones in the next: https://dexie.org/docs/Tutorial/Design#database-versioning).
    this.version(6)
      .stores({ signedRecords: '[feature+room+author+seq], [feature+room]' })
      .upgrade(async tx => {
        const gallery = (await tx.table<LegacyGalleryRecord>('galleryRecords').toArray()).map(r => ({ ...r, feature: 'gallery' as const }));
        const music = (await tx.table<LegacyMusicRecord>('musicRecords').toArray()).map(r => ({ ...r, feature: 'music' as const }));
        await tx.table<StoredSignedRecord>('signedRecords').bulkPut([...gallery, ...music]);
      });
    // v7: the per-feature record tables are gone (their rows moved to signedRecords in v6).
    this.version(7).stores({ galleryRecords: null, musicRecords: null });
    // v8: chat records join the one signed-record table (feature 'chat'), with the indexes chat reads by
    // (time window, tombstone of a message, history pages); the chat table's rows are copied over.
    this.version(8)
      .stores({
        signedRecords: '[feature+room+author+seq], [feature+room], [feature+room+ts], [feature+room+author+target], [feature+room+ts+author+seq]',
      })
      .upgrade(async tx => {
        const chat = (await tx.table<StoredChatRecord>('chatRecords').toArray()).map(r => ({ ...r, feature: 'chat' as const }));
        await tx.table<StoredSignedRecord>('signedRecords').bulkPut(chat);
      });
    // v9: the chat table is gone (its rows moved to signedRecords in v8).
    this.version(9).stores({ chatRecords: null });
  }
}

/** Why storage failed, as shown to the user and emitted as `p2pError`. */
export type StorageErrorCode = 'storage-unavailable' | 'storage-full' | 'storage-failed' | 'worker-unavailable';

/**
 * A storage failure in plain words; `code` says which (full, unavailable, failed), or that the
 * background worker that writes transfers is unavailable (`worker-unavailable`: nothing is lost,
 * the page writes them itself).
 */
export class StorageError extends Error {
  constructor(
    /** Which failure: full, unavailable or failed. */
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Maps a Dexie/IndexedDB failure to a {@link StorageError} in plain words. */
export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const name = (err as { name?: string; inner?: { name?: string } })?.inner?.name ?? (err as { name?: string })?.name ?? '';
  if (name === 'QuotaExceededError') return new StorageError('storage-full', 'The browser has no room left to save messages; new ones are shown but not kept.');
  if (['MissingAPIError', 'InvalidStateError', 'SecurityError', 'OpenFailedError', 'DatabaseClosedError'].includes(name)) {
    return new StorageError('storage-unavailable', 'This browser does not allow saving messages (private mode or storage blocked); the chat works but keeps nothing.');
  }
  return new StorageError('storage-failed', `Saving failed: ${(err as Error)?.message ?? String(err)}`);
}

let shared: Promise<P2pDatabase> | null = null;

/**
 * Opens the page's shared database once. Rejects with a {@link StorageError}
 * (`storage-unavailable`) when IndexedDB is missing or forbidden.
 */
export function openDatabase(name?: string): Promise<P2pDatabase> {
  if (name) return openNamed(name);
  shared ??= openNamed(undefined).catch(err => {
    shared = null;
    throw err;
  });
  return shared;
}

async function openNamed(name: string | undefined): Promise<P2pDatabase> {
  try {
    const db = new P2pDatabase(name);
    await db.open();
    return db;
  } catch (err) {
    throw toStorageError(err);
  }
}
