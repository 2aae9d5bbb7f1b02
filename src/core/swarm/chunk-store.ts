import type { P2pDatabase, StoredSwarmFile } from '../store';
import { toStorageError } from '../store';
import type { Manifest } from './manifest';
import { WORKER_STOPPED, type ChunkWriteWorker } from './chunk-write-worker';

/**
 * Where the swarm keeps files and their verified chunks on this device. Writes
 * reject with a `StorageError`. Implemented over Dexie; a memory version serves
 * browsers that forbid IndexedDB.
 */
export interface ChunkStore {
  /** Every file entry stored. */
  files(): Promise<StoredSwarmFile[]>;
  /** The file entry of `cid`, if stored. */
  file(cid: string): Promise<StoredSwarmFile | undefined>;
  /** Inserts or replaces a file entry. */
  putFile(file: StoredSwarmFile): Promise<void>;
  /** Indices of the chunks stored for `cid`. */
  chunkIndices(cid: string): Promise<number[]>;
  /** The bytes of chunk `index` of `cid`, if stored. */
  getChunk(cid: string, index: number): Promise<Uint8Array | undefined>;
  /**
   * Stores a verified chunk and updates the file's byte count and access time in one transaction.
   * @param fresh the caller knows the chunk is not stored yet (skips a read); default: check
   */
  putChunk(cid: string, index: number, data: Uint8Array, fresh?: boolean): Promise<void>;
  /** Deletes a file's chunks, and the file entry too unless `keepEntry`. */
  deleteFile(cid: string, keepEntry?: boolean): Promise<void>;
  /** Sets the file's last access to now (for least-recently-used eviction). */
  touch(cid: string): Promise<void>;
}

const run = async <T>(op: () => Promise<T>): Promise<T> => {
  try {
    return await op();
  } catch (err) {
    throw toStorageError(err);
  }
};

/**
 * The chunk store in IndexedDB (the `swarmFiles` and `swarmChunks` tables); rejects with
 * {@link StorageError}. With a `writer`, chunks are written by the page's worker (off the main
 * thread, see `chunk-write-worker.ts`); on the main thread when there is none or it stopped.
 */
export class DexieChunkStore implements ChunkStore {
  /** Set once {@link DexieChunkStore.onMainThreadWrites} was called. */
  private told = false;

  /**
   * @param db - the page's database
   * @param writer - the page's chunk-writing worker, or null to write on the main thread
   * @param options.workerRefused - the page refused the worker (so `writer` is null): chunks are written here in its stead
   * @param options.onMainThreadWrites - called once, at the first chunk written on the main thread in the worker's stead (it was refused or stopped); the write itself goes on
   */
  constructor(
    private readonly db: P2pDatabase,
    private readonly writer: ChunkWriteWorker | null = null,
    private readonly options: { workerRefused?: boolean; onMainThreadWrites?: () => void } = {},
  ) {}

  files() {
    return run(() => this.db.swarmFiles.toArray());
  }
  file(cid: string) {
    return run(() => this.db.swarmFiles.get(cid));
  }
  async putFile(file: StoredSwarmFile) {
    await run(() => this.db.swarmFiles.put(file));
  }
  chunkIndices(cid: string) {
    return run(async () => (await this.db.swarmChunks.where('[cid+index]').between([cid], [cid, Infinity]).primaryKeys()).map(k => k[1]));
  }
  async getChunk(cid: string, index: number) {
    const row = await run(() => this.db.swarmChunks.get([cid, index]));
    return row ? new Uint8Array(row.data) : undefined;
  }
  async putChunk(cid: string, index: number, data: Uint8Array, fresh?: boolean) {
    // A database closed here is closed for the worker too (the main-thread path rejects as before).
    if (this.writer && !this.db.hasBeenClosed()) {
      try {
        // Dexie opens (creates and upgrades) the database first: opened by the worker first, an
        // absent database would be created empty, without its tables.
        if (!this.db.isOpen()) await this.db.open();
        return await this.writer.put(this.db.name, cid, index, data, fresh);
      } catch (err) {
        if ((err as Error).name !== WORKER_STOPPED) throw toStorageError(err);
        // The worker may have committed this chunk before it stopped: look before counting its bytes.
        fresh = undefined;
      }
    }
    if (!this.told && (this.writer?.hasStopped || (!this.writer && this.options.workerRefused)) && !this.db.hasBeenClosed()) {
      this.told = true;
      this.options.onMainThreadWrites?.();
    }
    const copy = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : (data.slice().buffer as ArrayBuffer);
    await run(() =>
      this.db.transaction('rw', this.db.swarmChunks, this.db.swarmFiles, async () => {
        const exists = fresh === true ? false : fresh === false ? true : !!(await this.db.swarmChunks.get([cid, index]));
        await this.db.swarmChunks.put({ cid, index, data: copy });
        const file = await this.db.swarmFiles.get(cid);
        if (file) await this.db.swarmFiles.put({ ...file, storedBytes: file.storedBytes + (exists ? 0 : data.byteLength), lastAccess: Date.now() });
      }),
    );
  }
  async deleteFile(cid: string, keepEntry = false) {
    await run(() =>
      this.db.transaction('rw', this.db.swarmChunks, this.db.swarmFiles, async () => {
        await this.db.swarmChunks.where('[cid+index]').between([cid], [cid, Infinity]).delete();
        if (keepEntry) {
          const file = await this.db.swarmFiles.get(cid);
          if (file) await this.db.swarmFiles.put({ ...file, storedBytes: 0 });
        } else await this.db.swarmFiles.delete(cid);
      }),
    );
  }
  async touch(cid: string) {
    await run(() => this.db.swarmFiles.update(cid, { lastAccess: Date.now() }));
  }
}

/** Memory-only chunk store (storage forbidden): works for the session. */
export class MemoryChunkStore implements ChunkStore {
  private readonly fileMap = new Map<string, StoredSwarmFile>();
  private readonly chunks = new Map<string, Map<number, Uint8Array>>();

  async files() {
    return [...this.fileMap.values()];
  }
  async file(cid: string) {
    return this.fileMap.get(cid);
  }
  async putFile(file: StoredSwarmFile) {
    this.fileMap.set(file.cid, file);
  }
  async chunkIndices(cid: string) {
    return [...(this.chunks.get(cid)?.keys() ?? [])];
  }
  async getChunk(cid: string, index: number) {
    return this.chunks.get(cid)?.get(index)?.slice();
  }
  async putChunk(cid: string, index: number, data: Uint8Array) {
    let map = this.chunks.get(cid);
    if (!map) this.chunks.set(cid, (map = new Map()));
    const fresh = !map.has(index);
    map.set(index, data.slice());
    const file = this.fileMap.get(cid);
    if (file) this.fileMap.set(cid, { ...file, storedBytes: file.storedBytes + (fresh ? data.byteLength : 0), lastAccess: Date.now() });
  }
  async deleteFile(cid: string, keepEntry = false) {
    this.chunks.delete(cid);
    const file = this.fileMap.get(cid);
    if (keepEntry && file) this.fileMap.set(cid, { ...file, storedBytes: 0 });
    else this.fileMap.delete(cid);
  }
  async touch(cid: string) {
    const file = this.fileMap.get(cid);
    if (file) this.fileMap.set(cid, { ...file, lastAccess: Date.now() });
  }
}

/** Creates the file entry for a manifest. */
export function fileEntry(manifest: Manifest, pinned: boolean): StoredSwarmFile {
  return { cid: manifest.cid, manifest, pinned, storedBytes: 0, lastAccess: Date.now() };
}
