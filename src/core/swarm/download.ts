import { createNanoEvents, Unsubscribe } from 'nanoevents';
import { ChunkScheduler, type SchedulerOptions } from './chunk-scheduler';
import type { HaveMap } from './have-map';
import { chunkLength, type Manifest } from './manifest';
import type { LocalFile } from './resource-index';

/** Progress of one file's download. */
export interface TransferProgress {
  /** Content id of the file. */
  cid: string;
  /** Verified bytes held. */
  bytes: number;
  /** File size, bytes. */
  size: number;
  /** Verified chunks held. */
  chunks: number;
  /** Chunks in the file. */
  totalChunks: number;
  /** Download rate over the last ~2 s, bytes/s. */
  rate: number;
  /** Peers currently sending us chunks of this file. */
  peers: number;
}

/** Why a chunk request failed: a chunk that did not verify, no data in time, or a `nak` (`busy`, `missing`, `elsewhere`). */
export type RequestFailure = 'bad' | 'timeout' | 'busy' | 'missing' | 'elsewhere';

/** What a {@link Download} needs from its swarm (the swarm implements it; unit tests may too). */
export interface DownloadHost {
  /** Tuning of each download's {@link ChunkScheduler}. */
  readonly schedulerOptions: SchedulerOptions;
  /** The verified manifest of `cid`, from this device or its holders. @throws Error when nobody holds it or no holder sent a valid one */
  fetchManifest(cid: string): Promise<Manifest>;
  /** Registers the file as being downloaded here; resolves with what is already held of it. */
  registerDownload(manifest: Manifest): Promise<LocalFile>;
  /** Have-maps of `cid` of the peers that can be asked now. */
  peersWith(cid: string): Map<string, HaveMap>;
  /**
   * Asks a peer for a chunk; false when it cannot be asked now. `onTimeout` runs when no data came in
   * time; `canMove` is asked first: whether another holder could serve it (else it waits longer).
   * `only`: the request says we know no other holder (a seeder then serves a chunk it would send elsewhere).
   */
  requestChunk(cid: string, index: number, peerId: string, onTimeout: () => void, canMove?: () => boolean, only?: boolean): boolean;
  /** Cancels every request for `cid`. */
  cancelRequests(cid: string): void;
  /** The download ended (complete, failed or cancelled). */
  downloadFinished(cid: string): void;
  /** A download's progress, re-emitted as the swarm's `progress`. */
  emitProgress(progress: TransferProgress): void;
}

/**
 * One file's download: scheduling, timeouts, replacement of peers that leave,
 * progress. Create with {@link Swarm.download}.
 */
export class Download {
  /** Which chunk to ask whom for; null until the manifest arrived. */
  scheduler: ChunkScheduler | null = null;
  /** The file's manifest (size, chunk size, chunk hashes); null until it arrived. */
  manifest: Manifest | null = null;
  /**
   * Resolves when the file is complete; rejects on cancel, or when the manifest cannot be fetched
   * (nobody holds the file when it starts). A download whose holders all leave later waits (its
   * progress says 0 peers) and goes on when one comes back.
   */
  readonly done: Promise<void>;
  /** Set by `cancel()`: nothing more is requested and `done` rejects. */
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
    private readonly swarm: DownloadHost,
    /** Content id of the file. */
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

  /** Subscribes to this download's progress (emitted on start, per stored chunk and at the end); returns the unsubscribe function. */
  on(event: 'progress', handler: (p: TransferProgress) => void): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Fetches the manifest, then requests chunks until the file is complete (re-planned every 500 ms and on every event). Called by the swarm. */
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

  /** Progress now. */
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

  /** Called by the swarm: `n` bytes of this file arrived (for the rate). */
  countBytes(n: number): void {
    this.samples.push([Date.now(), n]);
  }

  /** Called by the swarm: a peer announced (more of) this file. */
  peerUpdated(peerId: string, have: HaveMap): void {
    this.scheduler?.setPeer(peerId, have);
    this.pump();
  }

  /** Called by the swarm: a peer left or no longer holds this file; its chunks go to others. */
  peerLeft(peerId: string): void {
    this.scheduler?.removePeer(peerId);
    this.pump();
  }

  /** Called by the swarm: a request failed; the scheduler asks elsewhere (and stops asking a peer that sent a bad chunk). */
  requestFailed(index: number, peerId: string, reason: RequestFailure): void {
    this.scheduler?.failed(index, peerId, reason);
    this.pump();
  }

  /** Called by the swarm: chunk `index` was verified and stored. */
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
    for (const { index, peerId, only } of this.scheduler.next()) {
      const sent = this.swarm.requestChunk(
        this.cid,
        index,
        peerId,
        () => this.requestFailed(index, peerId, 'timeout'),
        () => this.scheduler?.hasOtherHolder(index, peerId) ?? true,
        only,
      );
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
