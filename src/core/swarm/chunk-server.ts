import type { BulkLink } from '../mesh';
import { encodeDataFrame, MAX_FRAME_PAYLOAD, PROTOCOL_VERSION, type SwarmControl } from '../wire';
import { UploadLimiter } from './upload-limiter';

interface ServeJob {
  id: number;
  cid: string;
  index: number;
  cancelled: boolean;
  /** The asker knows no other holder (`req.only`): never sent elsewhere. */
  only: boolean;
}

/**
 * How long a seeder sends other askers elsewhere for a chunk it gave (queued or sent) to one
 * downloader, ms (10 000): until that downloader announces it, others are told to wait for it. An
 * asker waits at most its scheduler's `elsewhereWaitMs` (3 s) before it asks with `only`, so a
 * downloader that never passes the chunk on costs the others that long, not this.
 */
export const GIVEN_WINDOW_MS = 10_000;
/** Chunks remembered as given at most (old entries are swept first, then the oldest goes). */
const MAX_GIVEN = 4096;

/** What a {@link ChunkServer} needs from the swarm. */
export interface ChunkServerHost {
  /** Whether chunk `index` of `cid` is held (and verified) here. */
  holds(cid: string, index: number): boolean;
  /** Whether this page seeds `cid` (holds all of it): only a seeder sends askers elsewhere. */
  seeds(cid: string): boolean;
  /** Whether a peer other than `askerId` that is still downloading `cid`, with a link open, announced chunk `index`. */
  heldElsewhere(cid: string, index: number, askerId: string): boolean;
  /** Counts a request sent elsewhere (the swarm's stats). */
  sentElsewhere(): void;
  /** Reads a held chunk (undefined when the store lost it). */
  readChunk(cid: string, index: number): Promise<Uint8Array | undefined>;
  /** The ready bulk link to a peer. */
  link(peerId: string): BulkLink | undefined;
  /** Sends a control message (a `nak`) to a peer. */
  send(peerId: string, message: SwarmControl): void;
  /** Counts served bytes and chunks (the swarm's stats). */
  served(bytes: number, chunkDone: boolean): void;
}

/**
 * The serving side of the swarm: each peer's `req`s queue in order, at most `maxPerPeer`
 * outstanding (more are refused `busy`), and are answered one chunk at a time in data frames of
 * {@link MAX_FRAME_PAYLOAD} bytes, waiting on the swarm's upload cap (one {@link UploadLimiter} for all
 * peers) and on the link's back-pressure; a `cancel` stops a queued or half-sent chunk. A request for a chunk not held is refused `missing` at once.
 *
 * A seeder refuses `elsewhere` (when asked, and again when the request's turn comes) a chunk that
 * another linked downloader announced, or that it gave that downloader less than
 * {@link GIVEN_WINDOW_MS} ago, unless the request says `only` (the asker knows no other holder, or
 * waited for one, or a playhead needs the chunk now): so a seeder's upload goes to chunks nobody
 * else has, and the downloaders pass the rest among themselves (the aim of BitTorrent's
 * super-seeding, BEP 16, which hides pieces instead; here every holder is known, so the seeder turns
 * requests away). The work a request can cause is bounded by one chunk (≤ the wire's
 * MAX_CHUNK_SIZE) and the queue by `maxPerPeer`.
 */
export class ChunkServer {
  private readonly queues = new Map<string, ServeJob[]>();
  private readonly serving = new Set<string>();
  /** `cid:index` → the downloader a seeder last gave the chunk to, and when (ms since epoch). */
  private readonly given = new Map<string, { peerId: string; at: number }>();

  /**
   * @param host - what the server needs from the swarm
   * @param maxPerPeer - requests a peer may have queued; more are refused `busy`
   * @param limiter - the swarm's upload cap, shared by every peer's queue (default: none)
   */
  constructor(
    private readonly host: ChunkServerHost,
    private readonly maxPerPeer: number,
    private readonly limiter: UploadLimiter = new UploadLimiter(),
  ) {}

  /** A peer asked for chunk `index` of `cid` under request `id` (`only`: it knows no other holder). */
  enqueue(peerId: string, id: number, cid: string, index: number, only = false): void {
    if (!this.host.holds(cid, index)) {
      this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'missing' });
      return;
    }
    if (this.sendElsewhere(peerId, id, cid, index, only, true)) return;
    let queue = this.queues.get(peerId);
    if (!queue) this.queues.set(peerId, (queue = []));
    if (queue.filter(j => !j.cancelled).length >= this.maxPerPeer) {
      this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'busy' });
      return;
    }
    queue.push({ id, cid, index, cancelled: false, only });
    if (this.host.seeds(cid)) this.give(peerId, cid, index);
    void this.pump(peerId);
  }

  /**
   * A seeder's rule (see the class comment): refuses the request `elsewhere` and returns true when
   * another downloader holds the chunk, or (`onArrival`) was given it within {@link GIVEN_WINDOW_MS}.
   */
  private sendElsewhere(peerId: string, id: number, cid: string, index: number, only: boolean, onArrival: boolean): boolean {
    if (only || !this.host.seeds(cid)) return false;
    const given = onArrival ? this.given.get(`${cid}:${index}`) : undefined;
    const givenToOther = !!given && given.peerId !== peerId && Date.now() - given.at < GIVEN_WINDOW_MS && !!this.host.link(given.peerId);
    if (!givenToOther && !this.host.heldElsewhere(cid, index, peerId)) return false;
    this.host.sentElsewhere();
    this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'elsewhere' });
    return true;
  }

  /** Remembers that a seeder gave chunk `index` of `cid` to `peerId` (old entries swept past {@link MAX_GIVEN}). */
  private give(peerId: string, cid: string, index: number): void {
    const now = Date.now();
    if (this.given.size >= MAX_GIVEN) for (const [key, g] of this.given) if (now - g.at >= GIVEN_WINDOW_MS) this.given.delete(key);
    if (this.given.size >= MAX_GIVEN) this.given.delete(this.given.keys().next().value as string);
    this.given.delete(`${cid}:${index}`); // re-inserted last: the map stays in the order given
    this.given.set(`${cid}:${index}`, { peerId, at: now });
  }

  /** The peer cancelled request `id`. */
  cancel(peerId: string, id: number): void {
    for (const job of this.queues.get(peerId) ?? []) if (job.id === id) job.cancelled = true;
  }

  /** The peer left: its queue is dropped (a chunk being sent stops at its next frame). */
  forgetPeer(peerId: string): void {
    this.queues.get(peerId)?.forEach(job => (job.cancelled = true));
    this.queues.delete(peerId);
  }

  /** Stops serving everyone. */
  destroy(): void {
    for (const peerId of [...this.queues.keys()]) this.forgetPeer(peerId);
    this.given.clear();
  }

  /** Serves one peer's queue in order, one chunk at a time, with back-pressure. */
  private async pump(peerId: string): Promise<void> {
    if (this.serving.has(peerId)) return;
    this.serving.add(peerId);
    try {
      for (;;) {
        const job = this.queues.get(peerId)?.shift();
        const link = this.host.link(peerId);
        if (!job || !link) return;
        if (job.cancelled || this.sendElsewhere(peerId, job.id, job.cid, job.index, job.only, false)) continue;
        const bytes = await this.host.readChunk(job.cid, job.index).catch(() => undefined);
        if (!bytes) {
          this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id: job.id, reason: 'missing' });
          continue;
        }
        for (let offset = 0; offset < bytes.byteLength; offset += MAX_FRAME_PAYLOAD) {
          if (job.cancelled) break;
          const payload = bytes.subarray(offset, offset + MAX_FRAME_PAYLOAD);
          const frame = encodeDataFrame(job.id, offset, payload);
          const turn = this.limiter.take(frame.byteLength);
          if (turn) await turn;
          if (job.cancelled) {
            this.limiter.refund(frame.byteLength);
            break;
          }
          await link.sendData(frame);
          this.host.served(payload.byteLength, false);
        }
        if (!job.cancelled) this.host.served(0, true);
      }
    } catch {
      /* link closed */
    } finally {
      this.serving.delete(peerId);
    }
  }
}
