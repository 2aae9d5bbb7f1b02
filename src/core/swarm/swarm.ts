import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { MeshRoom } from '../mesh';
import { openDatabase, P2pDatabase, StorageError, toStorageError } from '../store';
import {
  encodeDataFrame,
  encodeMessage,
  InboundValidator,
  MAX_FRAME_PAYLOAD,
  parseDataFrame,
  PROTOCOL_VERSION,
  swarmControlMessage,
  type SwarmControl,
} from '../wire';
import { DropCounters } from '../wire';
import { ChunkStore, DexieChunkStore, fileEntry, MemoryChunkStore } from './chunk-store';
import { ChunkScheduler, SchedulerOptions } from './chunk-scheduler';
import { HaveMap } from './have-map';
import { buildManifest, chunkCount, chunkHash, chunkLength, Manifest, verifyManifest } from './manifest';
import { PeerLink } from './peer-link';

/** Progress of one file's download. */
export interface TransferProgress {
  cid: string;
  /** Verified bytes held. */
  bytes: number;
  size: number;
  chunks: number;
  totalChunks: number;
  /** Download rate over the last ~2 s, bytes/s. */
  rate: number;
  /** Peers currently sending us chunks of this file. */
  peers: number;
}

/** What a peer announced for a file. */
export interface RemoteFile {
  cid: string;
  size: number;
  chunkSize: number;
  have: HaveMap;
}

/** Events of a {@link Swarm}. */
export interface SwarmEvents {
  /** A peer's resource index changed (or it left). */
  index: (peerId: string) => void;
  progress: (progress: TransferProgress) => void;
  /** A file is now complete on this device. */
  complete: (cid: string) => void;
  /** A chunk failed verification (the sender is penalised; the chunk is fetched again). */
  badChunk: (cid: string, index: number, peerId: string) => void;
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
  scheduler?: SchedulerOptions;
}

interface LocalFile {
  manifest: Manifest;
  have: HaveMap;
  pinned: boolean;
}

interface PendingRequest {
  id: number;
  cid: string;
  index: number;
  peerId: string;
  buffer: Uint8Array;
  received: number;
  timer: ReturnType<typeof setTimeout>;
}

interface ServeJob {
  id: number;
  cid: string;
  index: number;
  cancelled: boolean;
}

const HELLO = JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION });
/** Files remembered per peer from its index and diffs; announcements beyond are ignored. */
const MAX_REMOTE_FILES = 5000;
const swarms = new WeakMap<MeshRoom, Promise<Swarm>>();

/**
 * Content-addressed chunk transfer over a mesh room, shared by every widget on the
 * page that uses the room. Files become manifests (SHA-256 per chunk, root hash =
 * content id); peers announce what they hold (have-maps) and changes as diffs; a
 * download requests each chunk from one peer at a time, different chunks from
 * different peers in parallel, rarest first or in order near an urgent position;
 * every chunk is verified before it is stored or served; chunks go straight to
 * IndexedDB; whatever is held is served. Transfers use their own data channels.
 */
export class Swarm {
  /** Counters for the bench and diagnostics. */
  readonly stats = { bytesUploaded: 0, bytesDownloaded: 0, badChunks: 0, chunksServed: 0, chunksReceived: 0 };
  /** Set when the database could not be opened: the feature then works in memory only (nothing survives a reload). */
  storageError: StorageError | null = null;
  private readonly emitter = createNanoEvents<SwarmEvents>();
  private readonly links = new Map<string, PeerLink>();
  private readonly remote = new Map<string, Map<string, RemoteFile>>();
  private readonly local = new Map<string, LocalFile>();
  private readonly downloads = new Map<string, Download>();
  private readonly pending = new Map<number, PendingRequest>();
  private readonly serveQueues = new Map<string, ServeJob[]>();
  private readonly serving = new Set<string>();
  private readonly manifestWaiters = new Map<string, ((m: Manifest) => void)[]>();
  private readonly haveBatches = new Map<string, Set<number>>();
  private haveTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly validator: InboundValidator<typeof swarmControlMessage.schema>;
  private readonly offs: Unsubscribe[] = [];
  private nextRequestId = 1;
  private destroyed = false;
  /** Widgets holding this swarm (see {@link Swarm.acquire}). */
  private holds = 0;
  private readonly o: Required<Omit<SwarmOptions, 'database' | 'scheduler'>> & { scheduler: SchedulerOptions };

  private constructor(
    readonly mesh: MeshRoom,
    private readonly store: ChunkStore,
    options: SwarmOptions,
  ) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.o = { cacheBytes: 500e6, maxServePerPeer: 8, requestTimeoutMs: 10_000, scheduler: {}, ...given };
    this.validator = new InboundValidator(swarmControlMessage, new DropCounters());
  }

  /**
   * The swarm of a mesh room (created once per room per page, with the first caller's options).
   * Prefer {@link Swarm.acquire}, which merges the callers' options and destroys the swarm with its
   * last user.
   */
  static forRoom(mesh: MeshRoom, options: SwarmOptions = {}): Promise<Swarm> {
    let swarm = swarms.get(mesh);
    if (!swarm) {
      swarm = Swarm.create(mesh, options);
      swarms.set(mesh, swarm);
    }
    return swarm;
  }

  /**
   * A hold on the swarm of a mesh room for one widget: the swarm is shared by every widget of the
   * page in that room, its cache cap is the largest any of them asked for (`cacheBytes`), and it is
   * destroyed (transfers cancelled, timers stopped, links closed) when the last hold is released.
   * `release` is idempotent.
   */
  static async acquire(mesh: MeshRoom, options: SwarmOptions = {}): Promise<{ swarm: Swarm; release(): void }> {
    const swarm = await Swarm.forRoom(mesh, options);
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

  private static async create(mesh: MeshRoom, options: SwarmOptions): Promise<Swarm> {
    let db: P2pDatabase | null = null;
    let storageError: StorageError | null = null;
    if (options.database !== null) {
      try {
        db = options.database ?? (await openDatabase());
      } catch (err) {
        storageError = toStorageError(err);
      }
    }
    const swarm = new Swarm(mesh, db ? new DexieChunkStore(db) : new MemoryChunkStore(), options);
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
   */
  async add(file: Blob, options: { mime?: string; pinned?: boolean; chunkSize?: number } = {}): Promise<Manifest> {
    // Two passes over the file, one chunk in memory at a time: hash (the cid is known only at
    // the end), then store.
    const manifest = await buildManifest(file, { mime: options.mime, chunkSize: options.chunkSize });
    const existing = this.local.get(manifest.cid);
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
    this.local.set(manifest.cid, { manifest, have: HaveMap.full(manifest.hashes.length), pinned });
    this.broadcast({ t: 'have', v: PROTOCOL_VERSION, cid: manifest.cid, size: manifest.size, chunkSize: manifest.chunkSize, add: manifest.hashes.map((_, i) => i) });
    return manifest;
  }

  /** Whether every chunk of `cid` is on this device. */
  isComplete(cid: string): boolean {
    return this.local.get(cid)?.have.complete ?? false;
  }

  /** What this device holds of `cid` (null when nothing is known). */
  localFile(cid: string): { manifest: Manifest; have: HaveMap; pinned: boolean } | null {
    return this.local.get(cid) ?? null;
  }

  /** Files held on this device. */
  localFiles(): { manifest: Manifest; have: HaveMap; pinned: boolean }[] {
    return [...this.local.values()];
  }

  /** Peers that announced (some chunks of) `cid`. */
  holders(cid: string): string[] {
    return [...this.remote.entries()].filter(([, files]) => files.get(cid)?.have.size).map(([peerId]) => peerId);
  }

  /** A peer's announced files. */
  remoteFiles(peerId: string): RemoteFile[] {
    return [...(this.remote.get(peerId)?.values() ?? [])];
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

  /** The file's chunks in order as a stream, each as soon as it is held. */
  stream(cid: string): ReadableStream<Uint8Array> {
    let index = 0;
    return new ReadableStream<Uint8Array>({
      pull: async controller => {
        const m = await this.manifestOf(cid);
        if (index >= m.hashes.length) return controller.close();
        controller.enqueue(await this.chunk(cid, index++));
      },
    });
  }

  /** Keeps (or stops keeping) a file regardless of the cache cap. */
  async pin(cid: string, pinned: boolean): Promise<void> {
    const file = this.local.get(cid);
    if (!file) return;
    file.pinned = pinned;
    const stored = await this.store.file(cid).catch(() => undefined);
    if (stored) await this.guard(this.store.putFile({ ...stored, pinned }));
    if (!pinned) await this.enforceCacheCap();
  }

  /** Drops a file's bytes from this device and stops announcing it. */
  async drop(cid: string): Promise<void> {
    this.downloads.get(cid)?.cancel();
    this.local.delete(cid);
    await this.guard(this.store.deleteFile(cid));
    this.broadcast({ t: 'gone', v: PROTOCOL_VERSION, cid });
  }

  /** Leaves: closes the swarm's data channels. */
  /** Cancels every transfer, stops every timer, closes the swarm's links and forgets the room's swarm. Idempotent. */
  destroy(): void {
    this.destroyed = true;
    this.offs.splice(0).forEach(off => off());
    this.downloads.forEach(d => d.cancel());
    this.links.forEach(l => l.close());
    this.links.clear();
    swarms.delete(this.mesh);
  }

  // ---- internals used by Download ----

  /** @internal */
  get schedulerOptions(): SchedulerOptions {
    return this.o.scheduler;
  }

  /** @internal Fetches the manifest of `cid` from its holders; resolves with the first that verifies. */
  fetchManifest(cid: string): Promise<Manifest> {
    const held = this.local.get(cid);
    if (held) return Promise.resolve(held.manifest);
    return new Promise((resolve, reject) => {
      const holders = this.holders(cid);
      if (!holders.length) return reject(new Error('nobody in the room holds this file'));
      const waiters = this.manifestWaiters.get(cid) ?? [];
      waiters.push(resolve);
      this.manifestWaiters.set(cid, waiters);
      for (const peerId of holders) this.send(peerId, { t: 'manifest-q', v: PROTOCOL_VERSION, cid });
      setTimeout(() => {
        const list = this.manifestWaiters.get(cid);
        if (!list?.includes(resolve)) return;
        list.splice(list.indexOf(resolve), 1);
        if (!list.length) this.manifestWaiters.delete(cid);
        reject(new Error('no holder sent a valid manifest'));
      }, this.o.requestTimeoutMs);
    });
  }

  /** @internal */
  requestChunk(cid: string, index: number, peerId: string, onTimeout: () => void): boolean {
    const link = this.links.get(peerId);
    const file = this.local.get(cid);
    if (!link?.ready || !file) return false;
    const id = this.nextRequestId++;
    if (this.nextRequestId > 0xfffffff0) this.nextRequestId = 1;
    const length = chunkLength(file.manifest, index);
    const request: PendingRequest = { id, cid, index, peerId, buffer: new Uint8Array(length), received: 0, timer: setTimeout(() => this.expire(id, onTimeout), this.o.requestTimeoutMs) };
    this.pending.set(id, request);
    link.sendControl(encodeMessage(swarmControlMessage, { t: 'req', v: PROTOCOL_VERSION, id, cid, index }));
    return true;
  }

  /** @internal */
  cancelRequests(cid: string): void {
    for (const request of this.pending.values()) {
      if (request.cid !== cid) continue;
      clearTimeout(request.timer);
      this.pending.delete(request.id);
      this.links.get(request.peerId)?.sendControl(encodeMessage(swarmControlMessage, { t: 'cancel', v: PROTOCOL_VERSION, id: request.id }));
    }
  }

  /** @internal */
  async registerDownload(manifest: Manifest): Promise<LocalFile> {
    let file = this.local.get(manifest.cid);
    if (file) return file;
    const indices = new Set(await this.store.chunkIndices(manifest.cid).catch(() => [] as number[]));
    const have = new HaveMap(manifest.hashes.length);
    indices.forEach(i => have.add(i));
    file = { manifest, have, pinned: false };
    this.local.set(manifest.cid, file);
    const stored = await this.store.file(manifest.cid).catch(() => undefined);
    if (!stored) await this.guard(this.store.putFile(fileEntry(manifest, false)));
    return file;
  }

  /** @internal */
  downloadFinished(cid: string): void {
    this.downloads.delete(cid);
  }

  /** @internal */
  emitProgress(progress: TransferProgress): void {
    this.emitter.emit('progress', progress);
  }

  /** @internal */
  peersWith(cid: string): Map<string, HaveMap> {
    const out = new Map<string, HaveMap>();
    for (const [peerId, files] of this.remote) {
      const f = files.get(cid);
      if (f && this.links.get(peerId)?.ready) out.set(peerId, f.have);
    }
    return out;
  }

  private async chunk(cid: string, index: number): Promise<Uint8Array> {
    for (;;) {
      const file = this.local.get(cid);
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
    const held = this.local.get(cid);
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
      this.local.set(f.cid, { manifest: f.manifest, have, pinned: f.pinned });
    }
  }

  private start(): void {
    this.offs.push(
      this.mesh.on('peerJoin', peer => this.connect(peer.id)),
      this.mesh.on('peerLeave', peer => this.disconnect(peer.id)),
    );
    for (const peerId of this.mesh.peers.keys()) this.connect(peerId);
  }

  private connect(peerId: string, attempt = 0): void {
    if (this.links.has(peerId) || this.destroyed || !this.mesh.peers.has(peerId)) return;
    const pc = this.mesh.peerConnection(peerId);
    if (!pc || pc.connectionState === 'closed') {
      // The connection may not be listed yet right after the join event: try again shortly.
      if (attempt < 100) setTimeout(() => this.connect(peerId, attempt + 1), 200);
      return;
    }
    let link: PeerLink;
    try {
      link = new PeerLink(peerId, pc, HELLO);
    } catch {
      return;
    }
    this.links.set(peerId, link);
    link.on('control', text => this.onControl(text, peerId));
    link.on('data', data => this.onData(data, peerId));
    link.on('ready', () => {
      link.sendControl(encodeMessage(swarmControlMessage, { t: 'index-q', v: PROTOCOL_VERSION }));
    });
    // A link whose channels never open, or a peer whose index never comes, is retried: the
    // connection may have been replaced under us, or the query lost.
    const check = (round: number) =>
      setTimeout(() => {
        if (this.destroyed || this.links.get(peerId) !== link || this.remote.has(peerId) || !this.mesh.peers.has(peerId)) return;
        if (link.ready) {
          link.sendControl(encodeMessage(swarmControlMessage, { t: 'index-q', v: PROTOCOL_VERSION }));
          if (round < 5) check(round + 1);
        } else link.close(); // 'closed' reconnects on the current connection
      }, 6000);
    check(0);
    link.on('closed', () => {
      this.disconnect(peerId);
      // Trystero may have replaced the connection to a peer that is still in the room: reconnect.
      setTimeout(() => this.connect(peerId), 500);
    });
  }

  private disconnect(peerId: string): void {
    const link = this.links.get(peerId);
    this.links.delete(peerId);
    link?.close();
    this.remote.delete(peerId);
    this.serveQueues.delete(peerId);
    this.validator.forgetPeer(peerId);
    for (const request of [...this.pending.values()]) {
      if (request.peerId !== peerId) continue;
      clearTimeout(request.timer);
      this.pending.delete(request.id);
    }
    this.downloads.forEach(d => d.peerLeft(peerId));
    this.emitter.emit('index', peerId);
  }

  private send(peerId: string, message: SwarmControl): void {
    this.links.get(peerId)?.sendControl(encodeMessage(swarmControlMessage, message));
  }

  private broadcast(message: SwarmControl): void {
    const text = encodeMessage(swarmControlMessage, message);
    this.links.forEach(link => link.sendControl(text));
  }

  private onControl(text: unknown, peerId: string): void {
    const result = this.validator.check(text, peerId);
    if (!result.ok) {
      this.mesh.countDrop('swarm-ctl', result.reason);
      return;
    }
    this.mesh.countAccepted();
    const msg = result.value;
    switch (msg.t) {
      case 'index-q':
        this.send(peerId, {
          t: 'index',
          v: PROTOCOL_VERSION,
          files: [...this.local.values()].filter(f => f.have.size).map(f => ({ cid: f.manifest.cid, size: f.manifest.size, chunkSize: f.manifest.chunkSize, have: f.have.encode() })),
        });
        break;
      case 'index': {
        const files = new Map<string, RemoteFile>();
        for (const f of msg.files) files.set(f.cid, { cid: f.cid, size: f.size, chunkSize: f.chunkSize, have: HaveMap.decode(chunkCount(f.size, f.chunkSize), f.have) });
        this.remote.set(peerId, files);
        this.refreshDownloads(peerId);
        this.emitter.emit('index', peerId);
        break;
      }
      case 'have': {
        let files = this.remote.get(peerId);
        if (!files) this.remote.set(peerId, (files = new Map()));
        let entry = files.get(msg.cid);
        if (!entry && files.size >= MAX_REMOTE_FILES) {
          this.mesh.countDrop('swarm-ctl', 'rate');
          break;
        }
        if (!entry || entry.size !== msg.size || entry.chunkSize !== msg.chunkSize) {
          entry = { cid: msg.cid, size: msg.size, chunkSize: msg.chunkSize, have: new HaveMap(chunkCount(msg.size, msg.chunkSize)) };
          files.set(msg.cid, entry);
        }
        msg.add.forEach(i => entry!.have.add(i));
        this.refreshDownloads(peerId);
        this.emitter.emit('index', peerId);
        break;
      }
      case 'gone':
        this.remote.get(peerId)?.delete(msg.cid);
        for (const request of [...this.pending.values()]) {
          if (request.peerId !== peerId || request.cid !== msg.cid) continue;
          clearTimeout(request.timer);
          this.pending.delete(request.id);
        }
        this.downloads.get(msg.cid)?.peerLeft(peerId);
        this.emitter.emit('index', peerId);
        break;
      case 'manifest-q': {
        const file = this.local.get(msg.cid);
        if (file) this.send(peerId, { t: 'manifest', v: PROTOCOL_VERSION, manifest: file.manifest });
        else this.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, cid: msg.cid, reason: 'missing' });
        break;
      }
      case 'manifest':
        void this.onManifest(msg.manifest);
        break;
      case 'req':
        this.enqueueServe(peerId, msg.id, msg.cid, msg.index);
        break;
      case 'cancel':
        for (const job of this.serveQueues.get(peerId) ?? []) if (job.id === msg.id) job.cancelled = true;
        break;
      case 'nak':
        if (msg.id !== undefined) {
          const request = this.pending.get(msg.id);
          if (request && request.peerId === peerId) {
            clearTimeout(request.timer);
            this.pending.delete(msg.id);
            this.downloads.get(request.cid)?.requestFailed(request.index, peerId, msg.reason);
          }
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

  private refreshDownloads(peerId: string): void {
    for (const [cid, d] of this.downloads) {
      const f = this.remote.get(peerId)?.get(cid);
      if (f) d.peerUpdated(peerId, f.have);
    }
  }

  private onData(data: unknown, peerId: string): void {
    const frame = parseDataFrame(data);
    if (typeof frame === 'string') {
      this.mesh.countDrop('swarm-data', frame === 'oversize' ? 'oversize' : frame);
      return;
    }
    const request = this.pending.get(frame.id);
    if (!request || request.peerId !== peerId || frame.offset + frame.payload.byteLength > request.buffer.byteLength || frame.offset !== request.received) {
      this.mesh.countDrop('swarm-data', 'unsolicited');
      return;
    }
    request.buffer.set(frame.payload, frame.offset);
    request.received += frame.payload.byteLength;
    this.stats.bytesDownloaded += frame.payload.byteLength;
    this.downloads.get(request.cid)?.countBytes(frame.payload.byteLength);
    clearTimeout(request.timer);
    if (request.received < request.buffer.byteLength) {
      request.timer = setTimeout(() => this.expire(request.id, () => this.downloads.get(request.cid)?.requestFailed(request.index, peerId, 'timeout')), this.o.requestTimeoutMs);
      return;
    }
    this.pending.delete(request.id);
    void this.acceptChunk(request);
  }

  private async acceptChunk(request: PendingRequest): Promise<void> {
    const file = this.local.get(request.cid);
    const d = this.downloads.get(request.cid);
    if (!file || !d) return;
    const ok = (await chunkHash(request.buffer)) === file.manifest.hashes[request.index];
    if (!ok) {
      this.stats.badChunks++;
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
    this.announce(request.cid, request.index);
    d.chunkStored(request.index, request.peerId);
    if (file.have.complete) {
      this.emitter.emit('complete', request.cid);
      await this.enforceCacheCap();
    }
  }

  /** Batches have-diffs (every 250 ms) so a fast download does not send one message per chunk. */
  private announce(cid: string, index: number): void {
    let batch = this.haveBatches.get(cid);
    if (!batch) this.haveBatches.set(cid, (batch = new Set()));
    batch.add(index);
    this.haveTimer ??= setTimeout(() => {
      this.haveTimer = null;
      for (const [c, indices] of this.haveBatches) {
        const m = this.local.get(c)?.manifest;
        if (m) this.broadcast({ t: 'have', v: PROTOCOL_VERSION, cid: c, size: m.size, chunkSize: m.chunkSize, add: [...indices] });
      }
      this.haveBatches.clear();
    }, 250);
  }

  private expire(id: number, onTimeout: () => void): void {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    this.links.get(request.peerId)?.sendControl(encodeMessage(swarmControlMessage, { t: 'cancel', v: PROTOCOL_VERSION, id }));
    onTimeout();
  }

  private enqueueServe(peerId: string, id: number, cid: string, index: number): void {
    const file = this.local.get(cid);
    if (!file?.have.has(index)) {
      this.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'missing' });
      return;
    }
    let queue = this.serveQueues.get(peerId);
    if (!queue) this.serveQueues.set(peerId, (queue = []));
    if (queue.filter(j => !j.cancelled).length >= this.o.maxServePerPeer) {
      this.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'busy' });
      return;
    }
    queue.push({ id, cid, index, cancelled: false });
    void this.pumpServe(peerId);
  }

  /** Serves one peer's queue in order, one chunk at a time, with back-pressure. */
  private async pumpServe(peerId: string): Promise<void> {
    if (this.serving.has(peerId)) return;
    this.serving.add(peerId);
    try {
      for (;;) {
        const queue = this.serveQueues.get(peerId);
        const job = queue?.shift();
        const link = this.links.get(peerId);
        if (!job || !link) return;
        if (job.cancelled) continue;
        const bytes = await this.store.getChunk(job.cid, job.index).catch(() => undefined);
        if (!bytes) {
          this.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id: job.id, reason: 'missing' });
          continue;
        }
        for (let offset = 0; offset < bytes.byteLength; offset += MAX_FRAME_PAYLOAD) {
          if (job.cancelled) break;
          await link.sendData(encodeDataFrame(job.id, offset, bytes.subarray(offset, offset + MAX_FRAME_PAYLOAD)));
          this.stats.bytesUploaded += Math.min(MAX_FRAME_PAYLOAD, bytes.byteLength - offset);
        }
        this.stats.chunksServed++;
      }
    } catch {
      /* link closed */
    } finally {
      this.serving.delete(peerId);
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

/**
 * One file's download: scheduling, timeouts, replacement of peers that leave,
 * progress. Create with {@link Swarm.download}.
 */
export class Download {
  scheduler: ChunkScheduler | null = null;
  manifest: Manifest | null = null;
  /** Resolves when the file is complete; rejects on cancel or when no holder is left. */
  readonly done: Promise<void>;
  cancelled = false;
  /** Resolves with the manifest once it is fetched and verified. */
  readonly manifestReady: Promise<Manifest>;
  private manifestResolve!: (m: Manifest) => void;
  private resolve!: () => void;
  private reject!: (err: Error) => void;
  private readonly chunkWaiters = new Map<number, (() => void)[]>();
  private readonly emitter = createNanoEvents<{ progress: (p: TransferProgress) => void }>();
  private samples: [number, number][] = [];
  private file: LocalFile | null = null;
  private pumpTimer: ReturnType<typeof setInterval> | null = null;
  private urgent: number | null = null;

  constructor(
    private readonly swarm: Swarm,
    readonly cid: string,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.done.catch(() => undefined);
    this.manifestReady = new Promise<Manifest>((resolve, reject) => {
      this.manifestResolve = resolve;
      this.done.catch(reject);
    });
    this.manifestReady.catch(() => undefined);
  }

  on(event: 'progress', handler: (p: TransferProgress) => void): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  async start(): Promise<void> {
    try {
      this.manifest = await this.swarm.fetchManifest(this.cid);
      this.file = await this.swarm.registerDownload(this.manifest);
      this.manifestResolve(this.manifest);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.cancelled) return;
    if (this.file.have.complete) return this.finish();
    this.scheduler = new ChunkScheduler(this.file.have, this.swarm.schedulerOptions);
    this.scheduler.setUrgent(this.urgent);
    for (const [peerId, have] of this.swarm.peersWith(this.cid)) this.scheduler.setPeer(peerId, have);
    this.pumpTimer = setInterval(() => this.pump(), 500);
    this.pump();
    this.report();
  }

  /** Marks a chunk index as urgent (e.g. the playhead); chunks from there on come in order. */
  setUrgent(index: number | null): void {
    this.urgent = index;
    this.scheduler?.setUrgent(index);
    this.pump();
  }

  /** Resolves when chunk `index` is stored. */
  waitForChunk(index: number): Promise<void> {
    if (this.file?.have.has(index)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const list = this.chunkWaiters.get(index) ?? [];
      list.push(resolve);
      this.chunkWaiters.set(index, list);
      this.done.catch(reject);
    });
  }

  /** Stops the download; stored chunks stay (it can be resumed). */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.swarm.cancelRequests(this.cid);
    this.fail(new Error('download cancelled'));
  }

  progress(): TransferProgress {
    const m = this.manifest;
    const have = this.file?.have;
    const now = Date.now();
    this.samples = this.samples.filter(([t]) => now - t < 2000);
    const recent = this.samples.reduce((n, [, b]) => n + b, 0);
    const bytes = m && have ? Math.min(m.size, have.size * m.chunkSize - (have.has(m.hashes.length - 1) ? m.chunkSize - chunkLength(m, m.hashes.length - 1) : 0)) : 0;
    return {
      cid: this.cid,
      bytes,
      size: m?.size ?? 0,
      chunks: have?.size ?? 0,
      totalChunks: m?.hashes.length ?? 0,
      rate: Math.round(recent / 2),
      peers: this.scheduler?.servingPeers().length ?? 0,
    };
  }

  /** @internal */
  countBytes(n: number): void {
    this.samples.push([Date.now(), n]);
  }

  /** @internal */
  peerUpdated(peerId: string, have: HaveMap): void {
    this.scheduler?.setPeer(peerId, have);
    this.pump();
  }

  /** @internal */
  peerLeft(peerId: string): void {
    this.scheduler?.removePeer(peerId);
    this.pump();
  }

  /** @internal */
  requestFailed(index: number, peerId: string, reason: 'bad' | 'timeout' | 'busy' | 'missing'): void {
    this.scheduler?.failed(index, peerId, reason);
    this.pump();
  }

  /** @internal */
  chunkStored(index: number, _peerId: string): void {
    this.scheduler?.completed(index);
    this.chunkWaiters.get(index)?.forEach(w => w());
    this.chunkWaiters.delete(index);
    this.report();
    if (this.file?.have.complete) this.finish();
    else this.pump();
  }

  private pump(): void {
    if (!this.scheduler || this.cancelled || !this.file || this.file.have.complete) return;
    for (const { index, peerId } of this.scheduler.next()) {
      const sent = this.swarm.requestChunk(this.cid, index, peerId, () => this.requestFailed(index, peerId, 'timeout'));
      if (!sent) this.scheduler.failed(index, peerId, 'busy');
    }
  }

  private report(): void {
    const p = this.progress();
    this.emitter.emit('progress', p);
    this.swarm.emitProgress(p);
  }

  private finish(): void {
    if (this.pumpTimer) clearInterval(this.pumpTimer);
    this.chunkWaiters.forEach(list => list.forEach(w => w()));
    this.chunkWaiters.clear();
    this.swarm.downloadFinished(this.cid);
    this.report();
    this.resolve();
  }

  private fail(err: Error): void {
    if (this.pumpTimer) clearInterval(this.pumpTimer);
    this.swarm.downloadFinished(this.cid);
    this.reject(err);
  }
}
