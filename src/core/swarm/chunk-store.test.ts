import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { P2pDatabase, StorageError, StoredSwarmFile } from '../store';
import { ChunkStore, DexieChunkStore, fileEntry, MemoryChunkStore } from './chunk-store';
import { buildManifest, Manifest } from './manifest';
import { freshDatabase as freshTestDatabase } from '../testing';
import { CHUNK_WRITE_WORKER_SOURCE, ChunkWriteWorker } from './chunk-write-worker';

/**
 * The chunk-writing worker's script run in this process over fake-indexeddb, behind a stand-in for
 * `Worker`: messages cross as in a browser (structured clone, transfer, asynchronously).
 */
function inProcessWorker(options: { repliesLost?: () => boolean } = {}): Worker {
  const page = {
    onmessage: null as ((e: { data: unknown }) => void) | null,
    onerror: null as (() => void) | null,
    postMessage: (data: unknown, transfer: Transferable[] = []) => {
      const copy = structuredClone(data, { transfer });
      setTimeout(() => receive({ data: copy }));
    },
    terminate: () => undefined,
  };
  const post = (data: unknown) => {
    if (options.repliesLost?.()) return; // the worker dies before its answer gets out
    const copy = structuredClone(data);
    setTimeout(() => page.onmessage?.({ data: copy }));
  };
  const receive = new Function('indexedDB', 'DOMException', 'postMessage', `let onmessage; ${CHUNK_WRITE_WORKER_SOURCE}; return e => onmessage(e);`)(indexedDB, DOMException, post) as (e: { data: unknown }) => void;
  return page as unknown as Worker;
}

const KIB = 1024;
const databases: P2pDatabase[] = [];

afterEach(() => {
  vi.useRealTimers();
  databases.splice(0).forEach(db => db.close());
});

/** A new, empty database with a unique name; `failWrites()` makes chunk writes fail as on a full disk. */
function freshDatabase() {
  const db = freshTestDatabase('chunk-store-test', 'swarmChunks');
  databases.push(db);
  return db;
}

const stores: [string, () => ChunkStore][] = [
  ['DexieChunkStore', () => new DexieChunkStore(freshDatabase())],
  ['DexieChunkStore writing through the worker', () => new DexieChunkStore(freshDatabase(), ChunkWriteWorker.over(inProcessWorker()))],
  ['MemoryChunkStore', () => new MemoryChunkStore()],
];

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

let manifests: Manifest[] | null = null;
/** Two real manifests: 3 chunks of 16 KiB + 1 000 bytes, and 2 chunks. */
async function twoManifests(): Promise<[Manifest, Manifest]> {
  manifests ??= [
    await buildManifest(new Blob([bytes(2 * 16 * KIB + 1000, 1)]), { chunkSize: 16 * KIB }),
    await buildManifest(new Blob([bytes(2 * 16 * KIB, 2)]), { chunkSize: 16 * KIB }),
  ];
  return manifests as [Manifest, Manifest];
}

/** Fixes Date.now (only Date: IndexedDB's timers keep running). */
function clockAt(ms: number) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

describe.each(stores)('%s', (_name, make) => {
  it('stores and lists file entries', async () => {
    const store = make();
    const [a, b] = await twoManifests();
    expect(await store.files()).toEqual([]);
    expect(await store.file(a.cid)).toBeUndefined();
    clockAt(1_000);
    await store.putFile(fileEntry(a, true));
    await store.putFile(fileEntry(b, false));
    expect(await store.file(a.cid)).toEqual({ cid: a.cid, manifest: a, pinned: true, storedBytes: 0, lastAccess: 1_000 });
    expect((await store.files()).map(f => f.cid).sort()).toEqual([a.cid, b.cid].sort());
    await store.putFile({ ...fileEntry(a, false), lastAccess: 5 });
    expect(await store.file(a.cid)).toMatchObject({ pinned: false, lastAccess: 5 });
    expect(await store.files()).toHaveLength(2);
  });

  it('stores chunks and gives them back', async () => {
    const store = make();
    const [a] = await twoManifests();
    await store.putFile(fileEntry(a, false));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 7));
    await store.putChunk(a.cid, 2, bytes(1000, 9));
    expect(await store.getChunk(a.cid, 0)).toEqual(bytes(16 * KIB, 7));
    expect(await store.getChunk(a.cid, 2)).toEqual(bytes(1000, 9));
    expect(await store.getChunk(a.cid, 1)).toBeUndefined();
    expect(await store.getChunk('other', 0)).toBeUndefined();
  });

  it('counts storedBytes once per chunk: re-putting a chunk does not double count', async () => {
    const store = make();
    const [a] = await twoManifests();
    await store.putFile(fileEntry(a, false));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    expect((await store.file(a.cid))!.storedBytes).toBe(16 * KIB);
    await store.putChunk(a.cid, 2, bytes(1000, 1));
    expect((await store.file(a.cid))!.storedBytes).toBe(16 * KIB + 1000);
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    await store.putChunk(a.cid, 2, bytes(1000, 1));
    expect((await store.file(a.cid))!.storedBytes).toBe(16 * KIB + 1000);
    await store.putChunk(a.cid, 1, bytes(16 * KIB, 1));
    expect((await store.file(a.cid))!.storedBytes).toBe(a.size);
  });

  it('counts the bytes of the view it is given, not of its whole buffer', async () => {
    const store = make();
    const [a] = await twoManifests();
    await store.putFile(fileEntry(a, false));
    const big = bytes(64 * KIB, 3);
    big.set(bytes(1000, 5), 100);
    await store.putChunk(a.cid, 2, big.subarray(100, 1100));
    expect((await store.file(a.cid))!.storedBytes).toBe(1000);
    expect(await store.getChunk(a.cid, 2)).toEqual(bytes(1000, 5));
  });

  it('keeps its own copy of a chunk put into it', async () => {
    const store = make();
    const [a] = await twoManifests();
    const data = bytes(1000, 4);
    await store.putChunk(a.cid, 2, data);
    data.fill(0);
    expect(await store.getChunk(a.cid, 2)).toEqual(bytes(1000, 4));
  });

  // MemoryChunkStore hands out the array it keeps (see the report): a caller that changes it changes the store.
  it('gives out a copy: changing a chunk read back does not change the store', async () => {
    const store = make();
    const [a] = await twoManifests();
    await store.putChunk(a.cid, 2, bytes(1000, 4));
    (await store.getChunk(a.cid, 2))!.fill(0);
    expect(await store.getChunk(a.cid, 2)).toEqual(bytes(1000, 4));
  });

  it('updates lastAccess when a chunk is put', async () => {
    const store = make();
    const [a] = await twoManifests();
    clockAt(1_000);
    await store.putFile(fileEntry(a, false));
    clockAt(2_000);
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    expect((await store.file(a.cid))!.lastAccess).toBe(2_000);
  });

  it('stores a chunk without a file entry, creating no entry', async () => {
    const store = make();
    const [a] = await twoManifests();
    await store.putChunk(a.cid, 1, bytes(16 * KIB, 1));
    expect(await store.file(a.cid)).toBeUndefined();
    expect(await store.chunkIndices(a.cid)).toEqual([1]);
  });

  it('lists the chunk indices of one file only', async () => {
    const store = make();
    const [a, b] = await twoManifests();
    await store.putFile(fileEntry(a, false));
    await store.putFile(fileEntry(b, false));
    expect(await store.chunkIndices(a.cid)).toEqual([]);
    await store.putChunk(a.cid, 2, bytes(1000, 1));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    await store.putChunk(b.cid, 1, bytes(16 * KIB, 2));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    expect(sorted(await store.chunkIndices(a.cid))).toEqual([0, 2]);
    expect(await store.chunkIndices(b.cid)).toEqual([1]);
    expect(await store.chunkIndices('nope')).toEqual([]);
  });

  it('deleteFile removes the chunks and the entry', async () => {
    const store = make();
    const [a, b] = await twoManifests();
    await store.putFile(fileEntry(a, false));
    await store.putFile(fileEntry(b, false));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    await store.putChunk(a.cid, 1, bytes(16 * KIB, 1));
    await store.putChunk(b.cid, 0, bytes(16 * KIB, 2));
    await store.deleteFile(a.cid);
    expect(await store.file(a.cid)).toBeUndefined();
    expect(await store.chunkIndices(a.cid)).toEqual([]);
    expect(await store.getChunk(a.cid, 0)).toBeUndefined();
    // the other file is untouched
    expect((await store.files()).map(f => f.cid)).toEqual([b.cid]);
    expect(await store.chunkIndices(b.cid)).toEqual([0]);
    expect((await store.file(b.cid))!.storedBytes).toBe(16 * KIB);
  });

  it('deleteFile with keepEntry removes the chunks, keeps the entry and zeroes storedBytes', async () => {
    const store = make();
    const [a] = await twoManifests();
    await store.putFile(fileEntry(a, true));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    await store.putChunk(a.cid, 2, bytes(1000, 1));
    const before = (await store.file(a.cid))!;
    await store.deleteFile(a.cid, true);
    expect(await store.chunkIndices(a.cid)).toEqual([]);
    expect(await store.getChunk(a.cid, 0)).toBeUndefined();
    expect(await store.file(a.cid)).toEqual({ ...before, storedBytes: 0 });
    // chunks stored again count from zero
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    expect((await store.file(a.cid))!.storedBytes).toBe(16 * KIB);
  });

  it('deleteFile of an unknown file does nothing, with or without keepEntry', async () => {
    const store = make();
    await store.deleteFile('nope');
    await store.deleteFile('nope', true);
    expect(await store.files()).toEqual([]);
    expect(await store.file('nope')).toBeUndefined();
  });

  it('touch updates lastAccess only', async () => {
    const store = make();
    const [a] = await twoManifests();
    clockAt(1_000);
    await store.putFile(fileEntry(a, false));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    const before = (await store.file(a.cid))!;
    clockAt(50_000);
    await store.touch(a.cid);
    const after = (await store.file(a.cid)) as StoredSwarmFile;
    expect(after).toEqual({ ...before, lastAccess: 50_000 });
  });

  it('touch of an unknown file creates nothing', async () => {
    const store = make();
    await store.touch('nope');
    expect(await store.files()).toEqual([]);
  });
});

describe('DexieChunkStore over IndexedDB', () => {
  it('keeps chunks and byte counts across reopening the database', async () => {
    const db = freshDatabase();
    const [a] = await twoManifests();
    const store = new DexieChunkStore(db);
    await store.putFile(fileEntry(a, false));
    await store.putChunk(a.cid, 1, bytes(16 * KIB, 6));
    db.close();
    const again = new P2pDatabase(db.name);
    databases.push(again);
    const reopened = new DexieChunkStore(again);
    expect(await reopened.chunkIndices(a.cid)).toEqual([1]);
    expect(await reopened.getChunk(a.cid, 1)).toEqual(bytes(16 * KIB, 6));
    expect((await reopened.file(a.cid))!.storedBytes).toBe(16 * KIB);
  });

  it('lists chunk indices in ascending order', async () => {
    const store = new DexieChunkStore(freshDatabase());
    for (const i of [5, 0, 3, 10, 1]) await store.putChunk('c', i, bytes(10, i));
    expect(await store.chunkIndices('c')).toEqual([0, 1, 3, 5, 10]);
  });

  it('rejects a write on a full disk with StorageError storage-full, and changes nothing', async () => {
    const db = freshDatabase();
    const [a] = await twoManifests();
    const store = new DexieChunkStore(db);
    await store.putFile(fileEntry(a, false));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    db.failWrites();
    const err = await store.putChunk(a.cid, 1, bytes(16 * KIB, 1)).catch(e => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('storage-full');
    expect((await store.file(a.cid))!.storedBytes).toBe(16 * KIB);
    expect(await store.chunkIndices(a.cid)).toEqual([0]);
  });

  it.each([
    ['on the main thread', false],
    ['through the worker', true],
  ])('rejects with StorageError storage-unavailable once the database is closed (writes %s)', async (_, worker) => {
    const db = freshDatabase();
    const store = new DexieChunkStore(db, worker ? ChunkWriteWorker.over(inProcessWorker()) : null);
    await store.files();
    db.close();
    for (const op of [() => store.files(), () => store.putChunk('c', 0, bytes(1, 1)), () => store.deleteFile('c'), () => store.touch('c'), () => store.chunkIndices('c'), () => store.getChunk('c', 0)]) {
      const err = await op().catch(e => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('storage-unavailable');
    }
  });
});

describe('DexieChunkStore when the chunk-writing worker is refused or dies', () => {
  it('writes a chunk in flight and every later one on the main thread when the worker dies, and says so once', async () => {
    const db = freshDatabase();
    const [a] = await twoManifests();
    let lost = false;
    const worker = inProcessWorker({ repliesLost: () => lost });
    const told = vi.fn();
    const store = new DexieChunkStore(db, ChunkWriteWorker.over(worker), { onMainThreadWrites: told });
    await store.putFile(fileEntry(a, false));
    await store.putChunk(a.cid, 0, bytes(16 * KIB, 1));
    expect(told).not.toHaveBeenCalled();
    // The worker dies while a write waits for it (its `error` event, as when its script fails).
    // As the swarm does, the chunks are put as new (`fresh`): the one in flight may have been
    // committed by the worker before it stopped, and must not be counted twice.
    lost = true;
    const inFlight = store.putChunk(a.cid, 1, bytes(16 * KIB, 2), true);
    await new Promise(resolve => setTimeout(resolve, 50)); // the worker commits it, its answer is lost…
    (worker.onerror as unknown as () => void)(); // …then its error: the write is done again here
    await inFlight;
    await store.putChunk(a.cid, 2, bytes(1000, 3), true);
    expect(told).toHaveBeenCalledTimes(1);
    expect(await store.chunkIndices(a.cid)).toEqual([0, 1, 2]);
    expect(await store.getChunk(a.cid, 1)).toEqual(bytes(16 * KIB, 2));
    expect((await store.file(a.cid))!.storedBytes).toBe(32 * KIB + 1000);
  });

  it('says once that it writes on the main thread when the page refused the worker, and not when the platform has none', async () => {
    const refused = vi.fn();
    const store = new DexieChunkStore(freshDatabase(), null, { workerRefused: true, onMainThreadWrites: refused });
    await store.putChunk('c', 0, bytes(10, 1));
    await store.putChunk('c', 1, bytes(10, 2));
    expect(refused).toHaveBeenCalledTimes(1);
    const none = vi.fn();
    await new DexieChunkStore(freshDatabase(), null, { onMainThreadWrites: none }).putChunk('c', 0, bytes(10, 1));
    expect(none).not.toHaveBeenCalled();
  });
});

describe('fileEntry', () => {
  it('makes an empty entry for a manifest', async () => {
    const [a] = await twoManifests();
    clockAt(123);
    expect(fileEntry(a, true)).toEqual({ cid: a.cid, manifest: a, pinned: true, storedBytes: 0, lastAccess: 123 });
  });
});
