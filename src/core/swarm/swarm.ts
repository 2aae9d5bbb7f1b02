import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { BulkLink, BulkNetwork } from '../mesh';
import { FLOOD_UNIT_BYTES as FLOOD_UNIT } from '../mesh/bulk-links';
import { OwnedTimers } from '../mesh/owned-timers';
import { P2pDatabase, StorageError, toStorageError } from '../store';
import { openStorage } from '../records/room-storage';
import { DropCounters, encodeMessage, InboundValidator, parseDataFrame, PROTOCOL_VERSION, swarmControlMessage, type SwarmControl } from '../wire';
import { ChunkRequester, type PendingRequest } from './chunk-requester';
import { SchedulerOptions } from './chunk-scheduler';
import { ChunkServer, type ChunkServerHost } from './chunk-server';
import { ChunkStore, DexieChunkStore, fileEntry, MemoryChunkStore } from './chunk-store';
import { ChunkWriteWorker } from './chunk-write-worker';
import { Download, type DownloadHost, type TransferProgress } from './download';
import { HaveMap } from './have-map';
import { UploadLimiter } from './upload-limiter';
import { buildManifest, chunkHash, chunkLength, Manifest, verifyManifest } from './manifest';
import { ResourceIndex, type LocalFile, type RemoteFile } from './resource-index';

export type { TransferProgress } from './download';
export type { RemoteFile } from './resource-index';

/** Events of a {@link Swarm}. */
export interface SwarmEvents {
  /** A peer's resource index changed (or it left); `''`: a page further away said it holds a file (partial mesh). */
  index: (peerId: string) => void;
  /** A download's progress (on start, per stored chunk and at the end). */
  progress: (progress: TransferProgress) => void;
  /** A file is now complete on this device. */
  complete: (cid: string) => void;
  /** A chunk failed verification (the sender is penalised; the chunk is fetched again). */
  badChunk: (cid: string, index: number, peerId: string) => void;
  /** A write failed (quota, storage gone). */
  error: (error: StorageError) => void;
}

/** Options of a swarm; sizes in bytes, times in ms. */
export interface SwarmOptions {
  /** Database; default the page's shared one; null = memory only. */
  database?: P2pDatabase | null;
  /** Cap on cached (not pinned) bytes; least recently used files are evicted. Default 500 MB. */
  cacheBytes?: number;
  /** Chunk requests a peer may have outstanding with us; more are refused as busy. Default 8. */
  maxServePerPeer?: number;
  /** A request with no data for this long is given up and sent elsewhere, ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Tuning of every download's scheduler. */
  scheduler?: SchedulerOptions;
  /**
   * This swarm's upload cap (everything the page serves in this room), bytes per second: a token
   * bucket shared by every peer ({@link UploadLimiter}); undefined or null = none. Like the other
   * options, only the first caller's counts (see {@link Swarm.acquire}); change it later with
   * {@link Swarm.setUploadLimit}.
   */
  maxUploadBytesPerSecond?: number | null;
}

/** Re-asks (every {@link INDEX_RETRY_MS}) a peer whose `index` has not come, at most this many times. */
const INDEX_RETRIES = 5;
/** ms between `index-q` retries to a peer that has not answered. */
const INDEX_RETRY_MS = 6000;
/** ms over which `have` diffs are batched, so a fast download does not send one message per chunk. */
const HAVE_BATCH_MS = 250;
const swarms = new WeakMap<BulkNetwork, Promise<Swarm>>();

/**
 * Content-addressed chunk transfer over a mesh room's bulk links, shared by every widget on the
 * page that uses the room. Files become manifests (SHA-256 per chunk, root hash = content id);
 * peers announce what they hold (have-maps) and changes as diffs; a download requests each chunk
 * from one peer at a time, different chunks from different peers in parallel, rarest first or in
 * order near an urgent position; every chunk is verified before it is stored or served; chunks go
 * straight to IndexedDB; whatever is held is served.
 *
 * This class wires its parts: the {@link ResourceIndex} (who holds what), the {@link ChunkRequester}
 * (asking), the {@link ChunkServer} (serving), one {@link Download} per file being fetched, and the
 * {@link ChunkStore}. Control messages are validated (schema, size, rate) before any part sees them;
 * data frames nobody asked for are penalised through the network's one penalty path.
 */
export class Swarm implements DownloadHost {
  /**
   * Counters for the bench and diagnostics: bytes uploaded and downloaded (every asked-for byte,
   * the endgame's losing copies too), chunks that failed verification, chunks served and received,
   * requests sent `elsewhere` as a seeder, and bytes of cancelled requests dropped on arrival.
   */
  readonly stats = { bytesUploaded: 0, bytesDownloaded: 0, badChunks: 0, chunksServed: 0, chunksReceived: 0, sentElsewhere: 0, lateBytes: 0 };
  /** Set when the database could not be opened: the feature then works in memory only (nothing survives a reload). */
  storageError: StorageError | null = null;
  private readonly emitter = createNanoEvents<SwarmEvents>();
  private readonly index = new ResourceIndex();
  private readonly downloads = new Map<string, Download>();
  private readonly manifestWaiters = new Map<string, ((m: Manifest) => void)[]>();
  private readonly haveBatches = new Map<string, Set<number>>();
  private readonly timers = new OwnedTimers();
  private haveTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly validator: InboundValidator<typeof swarmControlMessage.schema>;
  private readonly requester: ChunkRequester;
  private readonly server: ChunkServer;
  private readonly offs: Unsubscribe[] = [];
  private destroyed = false;
  /** Widgets holding this swarm (see {@link Swarm.acquire}). */
  private holds = 0;
  private readonly o: Required<Omit<SwarmOptions, 'database' | 'scheduler' | 'maxUploadBytesPerSecond'>> & { scheduler: SchedulerOptions };

  private constructor(
    /** The bulk links this swarm runs on (the mesh room's, or an in-memory network's in tests). */
    readonly network: BulkNetwork,
    private readonly store: ChunkStore,
    options: SwarmOptions,
  ) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.o = { cacheBytes: 500e6, maxServePerPeer: 8, requestTimeoutMs: 10_000, scheduler: {}, ...given };
    if (options.maxUploadBytesPerSecond != null) this.uploadLimiter.setRate(options.maxUploadBytesPerSecond);
    this.validator = new InboundValidator(swarmControlMessage, new DropCounters());
    this.requester = new ChunkRequester((peerId, message) => this.send(peerId, message), this.o.requestTimeoutMs);
    this.server = new ChunkServer(
      {
        holds: (cid, index) => this.index.localFile(cid)?.have.has(index) ?? false,
        seeds: cid => this.index.localFile(cid)?.have.complete ?? false,
        heldElsewhere: (cid, index, askerId) => this.heldByADownloader(cid, index, askerId),
        sentElsewhere: () => void this.stats.sentElsewhere++,
        readChunk: (cid, index) => this.store.getChunk(cid, index),
        link: peerId => this.network.link(peerId),
        send: (peerId, message) => this.send(peerId, message),
        served: (bytes, chunkDone) => {
          this.stats.bytesUploaded += bytes;
          if (chunkDone) this.stats.chunksServed++;
        },
      },
      this.o.maxServePerPeer,
      this.uploadLimiter,
    );
  }

  /** The upload cap (see {@link SwarmOptions.maxUploadBytesPerSecond}). */
  private readonly uploadLimiter = new UploadLimiter();

  /**
   * Caps what this page uploads in this room to every peer together, bytes per second; null removes the cap.
   * Takes effect from the next data frame.
   * @throws RangeError when `bytesPerSecond` is not null and not a positive finite number
   */
  setUploadLimit(bytesPerSecond: number | null): void {
    this.uploadLimiter.setRate(bytesPerSecond);
  }

  /** The upload cap in bytes per second, or null when there is none. */
  get uploadLimit(): number | null {
    return this.uploadLimiter.rate;
  }

  /**
   * The swarm of a room's bulk links (created once per room per page, with the first caller's
   * options). Prefer {@link Swarm.acquire}, which merges the callers' options and destroys the swarm
   * with its last user.
   */
  static forRoom(network: BulkNetwork, options: SwarmOptions = {}): Promise<Swarm> {
    let swarm = swarms.get(network);
    if (!swarm) {
      swarm = Swarm.open(network, options);
      swarms.set(network, swarm);
    }
    return swarm;
  }

  /**
   * A hold on the swarm of a room for one widget: the swarm is shared by every widget of the page in
   * that room, its cache cap is the largest any of them asked for (`cacheBytes`), and it is destroyed
   * (transfers cancelled, timers stopped, listeners removed) when the last hold is released.
   * `release` is idempotent.
   */
  static async acquire(network: BulkNetwork, options: SwarmOptions = {}): Promise<{ swarm: Swarm; release(): void }> {
    const swarm = await Swarm.forRoom(network, options);
    if (options.cacheBytes !== undefined && options.cacheBytes > swarm.o.cacheBytes) swarm.o.cacheBytes = options.cacheBytes;
    swarm.holds++;
    let released = false;
    return {
      swarm,
      release() {
        if (released) return;
        released = true;
        if (--swarm.holds === 0) swarm.destroy();
      },
    };
  }

  /**
   * A new swarm on `network` (not shared: unit tests and tools; widgets use {@link acquire}). Opens
   * the database unless `options.database` is given or null; a database that cannot be opened sets
   * {@link storageError} and the swarm keeps chunks in memory.
   */
  static async open(network: BulkNetwork, options: SwarmOptions = {}): Promise<Swarm> {
    const { db, storageError } = await openStorage(options.database);
    let swarm: Swarm | null = null;
    // A worker refused by the page (CSP) or one that died: the chunks are written here instead,
    // and the widgets say so once (`worker-unavailable`), in the visitor's language.
    const onMainThreadWrites = () =>
      swarm?.emitter.emit('error', new StorageError('worker-unavailable', 'The background worker that stores transfers could not start or stopped; the page stores them itself, which may be slower.'));
    const writer = db ? ChunkWriteWorker.get() : null;
    swarm = new Swarm(network, db ? new DexieChunkStore(db, writer, { workerRefused: ChunkWriteWorker.refused, onMainThreadWrites }) : new MemoryChunkStore(), options);
    swarm.storageError = storageError;
    await swarm.loadLocal();
    swarm.start();
    return swarm;
  }

  /** Subscribes to an event (see {@link SwarmEvents}); returns the unsubscribe function. */
  on<E extends keyof SwarmEvents>(event: E, handler: SwarmEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /**
   * Adds a file of this device: builds its manifest, stores every chunk and announces it.
   * @param options.pinned kept regardless of the cache cap (default true: it is the user's own)
   * @throws StorageError when the store refuses a write; Error when the file changed while it was read
   */
  async add(file: Blob, options: { mime?: string; pinned?: boolean; chunkSize?: number } = {}): Promise<Manifest> {
    // Two passes over the file, one chunk in memory at a time: hash (the cid is known only at
    // the end), then store.
    const manifest = await buildManifest(file, { mime: options.mime, chunkSize: options.chunkSize });
    const existing = this.index.localFile(manifest.cid);
    if (existing?.have.complete) {
      if (options.pinned !== false && !existing.pinned) await this.pin(manifest.cid, true);
      return existing.manifest;
    }
    const pinned = options.pinned ?? true;
    const stored = await this.store.file(manifest.cid).catch(() => undefined);
    await this.guard(this.store.putFile(stored ? { ...stored, pinned: stored.pinned || pinned } : fileEntry(manifest, pinned)));
    for (let i = 0; i < manifest.hashes.length; i++) {
      if (existing?.have.has(i)) continue;
      const bytes = new Uint8Array(await file.slice(i * manifest.chunkSize, (i + 1) * manifest.chunkSize).arrayBuffer());
      if ((await chunkHash(bytes)) !== manifest.hashes[i]) throw new Error('the file changed while it was being shared');
      await this.guard(this.store.putChunk(manifest.cid, i, bytes, true));
    }
    this.index.setLocal({ manifest, have: HaveMap.full(manifest.hashes.length), pinned });
    this.broadcast({ t: 'have', v: PROTOCOL_VERSION, cid: manifest.cid, size: manifest.size, chunkSize: manifest.chunkSize, add: manifest.hashes.map((_, i) => i) });
    this.network.announceHolding?.([manifest.cid]);
    return manifest;
  }

  /** Whether every chunk of `cid` is on this device. */
  isComplete(cid: string): boolean {
    return this.index.localFile(cid)?.have.complete ?? false;
  }

  /** What this device holds of `cid` (null when nothing is known). */
  localFile(cid: string): LocalFile | null {
    return this.index.localFile(cid) ?? null;
  }

  /** Files held on this device. */
  localFiles(): LocalFile[] {
    return this.index.localFiles();
  }

  /**
   * Partial mesh: asks the room who holds the files of `cids` that this page neither holds nor knows
   * a holder of (answers come as `index` events). Does nothing in a full mesh.
   */
  seekHolders(cids: string[]): void {
    const ask = this.network.askHolders;
    if (!ask) return;
    const unknown = cids.filter(cid => !this.index.localFile(cid) && !this.holders(cid).length);
    if (unknown.length) ask(unknown);
  }

  /** Peers that announced (some chunks of) `cid`; in a partial mesh also pages further away that said they hold it (linked ones first). */
  holders(cid: string): string[] {
    const linked = this.index.holders(cid);
    // Partial mesh: pages further away that said they hold it (reached with a temporary link when a download starts).
    const further = (this.network.holderHints?.(cid) ?? []).filter(id => !linked.includes(id));
    return [...linked, ...further];
  }

  /** What a peer announced (its files and have-maps). */
  remoteFiles(peerId: string): RemoteFile[] {
    return this.index.remoteFiles(peerId);
  }

  /**
   * Starts (or joins) the download of `cid`. Chunks already stored are not fetched
   * again (a download resumes after a reload).
   */
  download(cid: string): Download {
    let d = this.downloads.get(cid);
    if (!d) {
      d = new Download(this, cid);
      this.downloads.set(cid, d);
      void d.start();
    }
    return d;
  }

  /**
   * Reads bytes [start, end) of a file, waiting for missing chunks while a download runs.
   * @throws Error when a needed chunk is not held and no download is running
   */
  async read(cid: string, start: number, end: number): Promise<Uint8Array> {
    const m = await this.manifestOf(cid);
    end = Math.min(end, m.size);
    const out = new Uint8Array(Math.max(0, end - start));
    for (let i = Math.floor(start / m.chunkSize); i * m.chunkSize < end; i++) {
      const chunk = await this.chunk(cid, i);
      const from = Math.max(start, i * m.chunkSize);
      const to = Math.min(end, i * m.chunkSize + chunk.byteLength);
      out.set(chunk.subarray(from - i * m.chunkSize, to - i * m.chunkSize), from - start);
    }
    void this.store.touch(cid).catch(() => undefined);
    return out;
  }

  /** Keeps (or stops keeping) a file regardless of the cache cap. */
  async pin(cid: string, pinned: boolean): Promise<void> {
    const file = this.index.localFile(cid);
    if (!file) return;
    file.pinned = pinned;
    const stored = await this.store.file(cid).catch(() => undefined);
    if (stored) await this.guard(this.store.putFile({ ...stored, pinned }));
    if (!pinned) await this.enforceCacheCap();
  }

  /** Drops a file's bytes from this device and stops announcing it. */
  async drop(cid: string): Promise<void> {
    this.downloads.get(cid)?.cancel();
    this.index.deleteLocal(cid);
    await this.guard(this.store.deleteFile(cid));
    this.broadcast({ t: 'gone', v: PROTOCOL_VERSION, cid });
  }

  /** Cancels every transfer, stops every timer, unsubscribes from the network and forgets the room's swarm. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.offs.splice(0).forEach(off => off());
    this.downloads.forEach(d => d.cancel());
    this.requester.destroy();
    this.server.destroy();
    this.timers.stop();
    if (this.haveTimer) clearTimeout(this.haveTimer);
    this.haveTimer = null;
    this.manifestWaiters.clear();
    if (swarms.get(this.network)) swarms.delete(this.network);
  }

  /** Timers and requests still live (0 after `destroy`; for tests). */
  liveTimers(): number {
    return this.timers.size + (this.haveTimer ? 1 : 0) + this.downloads.size;
  }

  // ---- DownloadHost: what each Download asks of the swarm ----

  get schedulerOptions(): SchedulerOptions {
    return this.o.scheduler;
  }

  async fetchManifest(cid: string): Promise<Manifest> {
    const held = this.index.localFile(cid);
    if (held) return held.manifest;
    // Partial mesh: no linked page holds it; the network looks for a holder further away and links to it.
    if (!this.index.holders(cid).length && this.network.findHolders) await this.awaitHolder(cid);
    return new Promise((resolve, reject) => {
      const holders = this.index.holders(cid);
      if (!holders.length) return reject(new Error('nobody in the room holds this file'));
      const waiters = this.manifestWaiters.get(cid) ?? [];
      waiters.push(resolve);
      this.manifestWaiters.set(cid, waiters);
      for (const peerId of holders) this.send(peerId, { t: 'manifest-q', v: PROTOCOL_VERSION, cid });
      this.timers.later(this.o.requestTimeoutMs, () => {
        const list = this.manifestWaiters.get(cid);
        if (!list?.includes(resolve)) return;
        list.splice(list.indexOf(resolve), 1);
        if (!list.length) this.manifestWaiters.delete(cid);
        reject(new Error('no holder sent a valid manifest'));
      });
    });
  }

  /**
   * Asks the network for a holder of `cid` (partial mesh, {@link BulkNetwork.findHolders}) and waits
   * until a linked peer's index lists it, at most the search plus {@link INDEX_RETRY_MS} (the new
   * link's `index` answer).
   */
  private async awaitHolder(cid: string): Promise<void> {
    let off: (() => void) | undefined;
    const listed = new Promise<void>(resolve => {
      off = this.emitter.on('index', () => {
        if (this.index.holders(cid).length) resolve();
      });
    });
    const search = this.network.findHolders!(cid).then(() => new Promise<void>(resolve => this.timers.later(INDEX_RETRY_MS, resolve)));
    await Promise.race([listed, search]);
    off?.();
  }

  requestChunk(cid: string, index: number, peerId: string, onTimeout: () => void, canMove?: () => boolean, only?: boolean): boolean {
    const file = this.index.localFile(cid);
    if (!this.network.link(peerId) || !file || this.destroyed) return false;
    this.requester.request(cid, index, chunkLength(file.manifest, index), peerId, onTimeout, canMove, only);
    return true;
  }

  cancelRequests(cid: string): void {
    this.requester.cancelFile(cid);
  }

  async registerDownload(manifest: Manifest): Promise<LocalFile> {
    let file = this.index.localFile(manifest.cid);
    if (file) return file;
    const indices = new Set(await this.store.chunkIndices(manifest.cid).catch(() => [] as number[]));
    const have = new HaveMap(manifest.hashes.length);
    indices.forEach(i => have.add(i));
    file = { manifest, have, pinned: false };
    this.index.setLocal(file);
    const stored = await this.store.file(manifest.cid).catch(() => undefined);
    if (!stored) await this.guard(this.store.putFile(fileEntry(manifest, false)));
    return file;
  }

  downloadFinished(cid: string): void {
    this.downloads.delete(cid);
  }

  emitProgress(progress: TransferProgress): void {
    this.emitter.emit('progress', progress);
  }

  peersWith(cid: string): Map<string, HaveMap> {
    return this.index.peersWith(cid, peerId => this.network.link(peerId) !== undefined);
  }

  // ---- wiring ----

  private start(): void {
    this.offs.push(
      this.network.on('open', link => this.linkOpened(link)),
      this.network.on('close', peerId => this.linkClosed(peerId)),
      this.network.on('control', (text, peerId) => this.onControl(text, peerId)),
      this.network.on('data', (frame, peerId) => this.onData(frame, peerId)),
      // Partial mesh: a page looking for a file this page holds is told so (it then links to us for the transfer).
      this.network.on('hint', () => this.emitter.emit('index', '')),
      this.network.on('want', cid => {
        if (this.index.localFile(cid)?.have.size) this.network.announceHolding?.([cid], true);
      }),
    );
    for (const link of this.network.links()) this.linkOpened(link);
  }

  /** A link is ready: ask the peer for its index, again every {@link INDEX_RETRY_MS} until it answers. */
  private linkOpened(link: BulkLink): void {
    const ask = (round: number) => {
      if (this.index.knows(link.peerId) || this.network.link(link.peerId) !== link) return;
      link.sendControl(encodeMessage(swarmControlMessage, { t: 'index-q', v: PROTOCOL_VERSION }));
      if (round < INDEX_RETRIES) this.timers.later(INDEX_RETRY_MS, () => ask(round + 1));
    };
    ask(0);
  }

  private linkClosed(peerId: string): void {
    this.index.forgetPeer(peerId);
    this.server.forgetPeer(peerId);
    this.requester.forgetPeer(peerId);
    this.validator.forgetPeer(peerId);
    this.downloads.forEach(d => d.peerLeft(peerId));
    this.emitter.emit('index', peerId);
  }

  private send(peerId: string, message: SwarmControl): void {
    this.network.link(peerId)?.sendControl(encodeMessage(swarmControlMessage, message));
  }

  private broadcast(message: SwarmControl): void {
    const text = encodeMessage(swarmControlMessage, message);
    this.network.links().forEach(link => link.sendControl(text));
  }

  private onControl(text: unknown, peerId: string): void {
    const result = this.validator.check(text, peerId);
    if (!result.ok) {
      this.network.penalise(peerId, 'swarm-ctl', result.reason);
      return;
    }
    this.network.countAccepted();
    const msg = result.value;
    switch (msg.t) {
      case 'index-q':
        this.send(peerId, { t: 'index', v: PROTOCOL_VERSION, files: this.index.indexEntries() });
        break;
      case 'index':
        this.index.setPeerIndex(peerId, msg.files);
        this.refreshDownloads(peerId);
        this.emitter.emit('index', peerId);
        break;
      case 'have':
        if (!this.index.applyHave(peerId, msg)) {
          this.network.penalise(peerId, 'swarm-ctl', 'rate');
          break;
        }
        this.refreshDownloads(peerId);
        this.emitter.emit('index', peerId);
        break;
      case 'gone':
        this.index.removeRemote(peerId, msg.cid);
        this.requester.forgetPeer(peerId, msg.cid);
        this.downloads.get(msg.cid)?.peerLeft(peerId);
        this.emitter.emit('index', peerId);
        break;
      case 'manifest-q': {
        const file = this.index.localFile(msg.cid);
        if (file) this.send(peerId, { t: 'manifest', v: PROTOCOL_VERSION, manifest: file.manifest });
        else this.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, cid: msg.cid, reason: 'missing' });
        break;
      }
      case 'manifest':
        void this.onManifest(msg.manifest);
        break;
      case 'req':
        this.server.enqueue(peerId, msg.id, msg.cid, msg.index, msg.only === true);
        break;
      case 'cancel':
        this.server.cancel(peerId, msg.id);
        break;
      case 'nak':
        if (msg.id !== undefined) {
          const request = this.requester.refused(msg.id, peerId);
          if (request) this.downloads.get(request.cid)?.requestFailed(request.index, peerId, msg.reason);
        }
        break;
      case 'hello':
        break;
    }
  }

  private async onManifest(manifest: Manifest): Promise<void> {
    const waiters = this.manifestWaiters.get(manifest.cid);
    if (!waiters) return; // unsolicited
    if (!(await verifyManifest(manifest))) return;
    this.manifestWaiters.delete(manifest.cid);
    waiters.forEach(w => w(manifest));
  }

  /** See {@link ChunkServerHost.heldElsewhere}: a linked downloader other than `askerId` announced chunk `index` of `cid`. */
  private heldByADownloader(cid: string, index: number, askerId: string): boolean {
    for (const peerId of this.index.holders(cid)) {
      if (peerId === askerId || !this.network.link(peerId)) continue;
      const have = this.index.remoteFile(peerId, cid)?.have;
      if (have && !have.complete && have.has(index)) return true;
    }
    return false;
  }

  private refreshDownloads(peerId: string): void {
    for (const [cid, d] of this.downloads) {
      const f = this.index.remoteFile(peerId, cid);
      if (f) d.peerUpdated(peerId, f.have);
    }
  }

  /**
   * A data frame: malformed or unasked-for frames are dropped and charged to the sender's flood
   * budget by size (one unit per 16 KiB); asked-for bytes fill their request.
   */
  private onData(data: unknown, peerId: string): void {
    const frame = parseDataFrame(data);
    const bytes = data instanceof ArrayBuffer ? data.byteLength : ArrayBuffer.isView(data) ? data.byteLength : FLOOD_UNIT;
    if (typeof frame === 'string') {
      this.network.penalise(peerId, 'swarm-data', frame, Math.max(1, bytes / FLOOD_UNIT));
      return;
    }
    const outcome = this.requester.onFrame(frame, peerId);
    if (outcome.kind === 'unsolicited') {
      this.network.penalise(peerId, 'swarm-data', 'unsolicited', Math.max(1, bytes / FLOOD_UNIT));
      return;
    }
    if (outcome.kind === 'late') {
      this.stats.lateBytes += outcome.bytes; // a request we cancelled (timeout, endgame): dropped, not held against the peer
      return;
    }
    this.stats.bytesDownloaded += outcome.bytes;
    this.downloads.get(outcome.request.cid)?.countBytes(outcome.bytes);
    if (outcome.kind === 'complete') void this.acceptChunk(outcome.request);
  }

  private async acceptChunk(request: PendingRequest): Promise<void> {
    const file = this.index.localFile(request.cid);
    const d = this.downloads.get(request.cid);
    if (!file || !d) return;
    const ok = (await chunkHash(request.buffer)) === file.manifest.hashes[request.index];
    if (ok && file.have.has(request.index)) return; // the endgame's other copy got here first
    if (!ok) {
      this.stats.badChunks++;
      this.network.penalise(request.peerId, 'swarm-data', 'bad-hash', Math.max(1, request.buffer.byteLength / FLOOD_UNIT));
      this.emitter.emit('badChunk', request.cid, request.index, request.peerId);
      d.requestFailed(request.index, request.peerId, 'bad');
      return;
    }
    try {
      await this.store.putChunk(request.cid, request.index, request.buffer, !file.have.has(request.index));
    } catch (err) {
      this.emitter.emit('error', toStorageError(err));
      d.requestFailed(request.index, request.peerId, 'busy');
      return;
    }
    this.stats.chunksReceived++;
    file.have.add(request.index);
    this.requester.cancelChunk(request.cid, request.index); // the endgame's other copy, if any
    this.announce(request.cid, request.index);
    d.chunkStored(request.index, request.peerId);
    if (file.have.complete) {
      this.network.announceHolding?.([request.cid]);
      this.emitter.emit('complete', request.cid);
      await this.enforceCacheCap();
    }
  }

  /** Batches have-diffs (every {@link HAVE_BATCH_MS}) so a fast download does not send one message per chunk. */
  private announce(cid: string, index: number): void {
    let batch = this.haveBatches.get(cid);
    if (!batch) this.haveBatches.set(cid, (batch = new Set()));
    batch.add(index);
    this.haveTimer ??= setTimeout(() => {
      this.haveTimer = null;
      for (const [c, indices] of this.haveBatches) {
        const m = this.index.localFile(c)?.manifest;
        if (m) this.broadcast({ t: 'have', v: PROTOCOL_VERSION, cid: c, size: m.size, chunkSize: m.chunkSize, add: [...indices] });
      }
      this.haveBatches.clear();
    }, HAVE_BATCH_MS);
  }

  private async chunk(cid: string, index: number): Promise<Uint8Array> {
    for (;;) {
      const file = this.index.localFile(cid);
      if (file?.have.has(index)) {
        const bytes = await this.store.getChunk(cid, index);
        if (bytes) return bytes;
        file.have.delete(index);
      }
      const d = this.downloads.get(cid);
      if (!d) throw new Error(`chunk ${index} of ${cid} is not on this device`);
      d.setUrgent(index);
      await d.waitForChunk(index);
    }
  }

  /** The manifest of a file held or being downloaded. */
  private async manifestOf(cid: string): Promise<Manifest> {
    const held = this.index.localFile(cid);
    if (held) return held.manifest;
    const d = this.downloads.get(cid);
    if (!d) throw new Error(`${cid} is not on this device`);
    return d.manifestReady;
  }

  private async loadLocal(): Promise<void> {
    let files;
    try {
      files = await this.store.files();
    } catch (err) {
      this.storageError ??= toStorageError(err);
      return;
    }
    for (const f of files) {
      const have = new HaveMap(f.manifest.hashes.length);
      for (const i of await this.store.chunkIndices(f.cid).catch(() => [] as number[])) have.add(i);
      this.index.setLocal({ manifest: f.manifest, have, pinned: f.pinned });
    }
  }

  /** Evicts least-recently-used unpinned complete files beyond the cache cap. */
  private async enforceCacheCap(): Promise<void> {
    let files;
    try {
      files = await this.store.files();
    } catch {
      return;
    }
    const cached = files.filter(f => !f.pinned && !this.downloads.has(f.cid)).sort((a, b) => a.lastAccess - b.lastAccess);
    let total = cached.reduce((n, f) => n + f.storedBytes, 0);
    for (const f of cached) {
      if (total <= this.o.cacheBytes) break;
      await this.drop(f.cid);
      total -= f.storedBytes;
    }
  }

  private async guard(op: Promise<void>): Promise<void> {
    try {
      await op;
    } catch (err) {
      const e = toStorageError(err);
      this.emitter.emit('error', e);
      throw e;
    }
  }
}
