/**
 * The script of the worker that writes verified chunks into IndexedDB, off the page's main thread
 * (issue "Transfers at the speed of the data channel": a third of a receiving page's main thread
 * went to IndexedDB puts and Dexie, `bench/swarm-profile-probe.mjs`). Plain JavaScript in a string,
 * started from a `blob:` URL: it needs no file beside the bundle (a worker script must be
 * same-origin, and the widgets are often loaded from another origin) and no bundler support.
 *
 * It writes the same rows as `DexieChunkStore.putChunk`, in the tables Dexie created (`swarmChunks`,
 * key path `[cid+index]`, and `swarmFiles`, key `cid`): the chunk, and the file's `storedBytes` and
 * `lastAccess`, in one transaction. Writes that arrive together go in one transaction (the page
 * sends one per verified chunk; a fast download queues several while one commits). It opens the
 * database without a version (the page opened and upgraded it first) and closes it when another
 * page asks for a new version, opening it again for the next write.
 *
 * Messages in: `{ t: 'put', id, db, cid, index, data: ArrayBuffer, fresh: boolean | null }`
 * (`fresh` null: look whether the chunk is stored). Out: `{ t: 'done', ids }`, or
 * `{ t: 'failed', ids, name, message }` with the DOMException's name (`QuotaExceededError`, …).
 */
export const CHUNK_WRITE_WORKER_SOURCE = `
'use strict';
const connections = new Map();
const queues = new Map();
function open(name) {
  let c = connections.get(name);
  if (!c) {
    c = new Promise((resolve, reject) => {
      const req = indexedDB.open(name);
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); connections.delete(name); };
        db.onclose = () => connections.delete(name);
        resolve(db);
      };
      req.onerror = () => { connections.delete(name); reject(req.error); };
      req.onblocked = () => { connections.delete(name); reject(new DOMException('database blocked', 'InvalidStateError')); };
    });
    connections.set(name, c);
  }
  return c;
}
function write(name, batch) {
  return open(name).then(db => new Promise((resolve, reject) => {
    const tx = db.transaction(['swarmChunks', 'swarmFiles'], 'readwrite');
    const chunks = tx.objectStore('swarmChunks');
    const files = tx.objectStore('swarmFiles');
    const added = new Map();
    let pending = batch.length;
    const counted = () => {
      if (--pending > 0) return;
      for (const [cid, bytes] of added) {
        const get = files.get(cid);
        get.onsuccess = () => {
          const file = get.result;
          if (file) files.put(Object.assign({}, file, { storedBytes: file.storedBytes + bytes, lastAccess: Date.now() }));
        };
      }
    };
    for (const w of batch) {
      if (!added.has(w.cid)) added.set(w.cid, 0);
      const store = () => {
        chunks.put({ cid: w.cid, index: w.index, data: w.data });
        counted();
      };
      if (w.fresh === true) { added.set(w.cid, added.get(w.cid) + w.data.byteLength); store(); }
      else if (w.fresh === false) store();
      else {
        const seen = chunks.getKey([w.cid, w.index]);
        seen.onsuccess = () => {
          if (seen.result === undefined) added.set(w.cid, added.get(w.cid) + w.data.byteLength);
          store();
        };
      }
    }
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException('transaction aborted', 'AbortError'));
  }));
}
function flush(name) {
  const q = queues.get(name);
  if (!q || q.running || !q.items.length) return;
  const batch = q.items.splice(0);
  q.running = true;
  write(name, batch).then(
    () => postMessage({ t: 'done', ids: batch.map(w => w.id) }),
    err => postMessage({ t: 'failed', ids: batch.map(w => w.id), name: (err && err.name) || 'Error', message: String((err && err.message) || err) }),
  ).then(() => { q.running = false; flush(name); });
}
onmessage = e => {
  const m = e.data;
  if (!m || m.t !== 'put') return;
  let q = queues.get(m.db);
  if (!q) queues.set(m.db, (q = { items: [], running: false }));
  q.items.push(m);
  flush(m.db);
};
`;

/** The name of the error `put` rejects with when the worker failed to load or died (nothing was written). */
export const WORKER_STOPPED = 'WorkerStopped';

/** An error the worker reported, with the DOMException's name (`toStorageError` reads it). */
class WorkerWriteError extends Error {
  constructor(
    readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The page's side of the chunk-writing worker: sends each verified chunk to the worker (the
 * bytes are copied once and the copy transferred, so the caller keeps its buffer) and resolves
 * when its transaction committed. One worker per page, shared by every swarm.
 */
export class ChunkWriteWorker {
  private static shared: ChunkWriteWorker | null | undefined;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<{ t: 'done' | 'failed'; ids: number[]; name?: string; message?: string }>) => {
      const m = e.data;
      for (const id of m.ids) {
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        if (m.t === 'done') w?.resolve();
        else w?.reject(new WorkerWriteError(m.name ?? 'Error', m.message ?? 'chunk write failed'));
      }
    };
    // A worker that fails to load or dies: every write waiting, and every later one, fails with
    // `WorkerStopped`, and the chunk store writes on the main thread instead.
    worker.onerror = () => {
      this.stopped = true;
      // An uncaught error need not end a worker: end it, so nothing it still holds is written after this.
      worker.terminate();
      this.failAll();
    };
  }

  /** Set when the worker failed to load or died. */
  private stopped = false;

  /** A writer over a worker started elsewhere (tests run the script in Node over fake-indexeddb). */
  static over(worker: Worker): ChunkWriteWorker {
    return new ChunkWriteWorker(worker);
  }

  /**
   * The page's worker, started on first use; null where workers cannot start (no `Worker`, or a
   * Content Security Policy without `worker-src blob:`): chunks are then written on the main thread.
   */
  static get(): ChunkWriteWorker | null {
    if (ChunkWriteWorker.shared !== undefined) return ChunkWriteWorker.shared;
    if (typeof Worker === 'undefined' || typeof Blob === 'undefined' || typeof URL?.createObjectURL !== 'function') return (ChunkWriteWorker.shared = null);
    try {
      const url = URL.createObjectURL(new Blob([CHUNK_WRITE_WORKER_SOURCE], { type: 'text/javascript' }));
      const worker = new Worker(url, { name: 'p2p-widgets chunk writer' });
      URL.revokeObjectURL(url);
      ChunkWriteWorker.shared = new ChunkWriteWorker(worker);
    } catch {
      // The page has workers but refused this one (a Content Security Policy without `worker-src blob:`).
      ChunkWriteWorker.shared = null;
      ChunkWriteWorker.refused = true;
    }
    return ChunkWriteWorker.shared;
  }

  /** Set when this page has workers but refused to start ours (see {@link ChunkWriteWorker.get}). */
  static refused = false;

  /** Whether the worker failed to load or died: every write now rejects with {@link WORKER_STOPPED}. */
  get hasStopped(): boolean {
    return this.stopped;
  }

  /**
   * Writes chunk `index` of `cid` into the database named `db` (see the worker's messages above).
   * @throws an Error named as the worker's DOMException (`QuotaExceededError`, …) when the write failed
   */
  put(db: string, cid: string, index: number, bytes: Uint8Array, fresh?: boolean): Promise<void> {
    if (this.stopped) return Promise.reject(new WorkerWriteError(WORKER_STOPPED, 'the chunk-writing worker stopped'));
    const data = bytes.slice().buffer;
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ t: 'put', id, db, cid, index, data, fresh: fresh ?? null }, [data]);
    });
  }

  private failAll(): void {
    for (const w of this.waiting.values()) w.reject(new WorkerWriteError(WORKER_STOPPED, 'the chunk-writing worker stopped'));
    this.waiting.clear();
  }
}
