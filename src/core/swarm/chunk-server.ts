import type { BulkLink } from '../mesh';
import { encodeDataFrame, MAX_FRAME_PAYLOAD, PROTOCOL_VERSION, type SwarmControl } from '../wire';

interface ServeJob {
  id: number;
  cid: string;
  index: number;
  cancelled: boolean;
}

/** What a {@link ChunkServer} needs from the swarm. */
export interface ChunkServerHost {
  /** Whether chunk `index` of `cid` is held (and verified) here. */
  holds(cid: string, index: number): boolean;
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
 * {@link MAX_FRAME_PAYLOAD} bytes, waiting on the link's back-pressure; a `cancel` stops a queued or
 * half-sent chunk. A request for a chunk not held is refused `missing` at once. The work a request
 * can cause is bounded by one chunk (≤ the wire's MAX_CHUNK_SIZE) and the queue by `maxPerPeer`.
 */
export class ChunkServer {
  private readonly queues = new Map<string, ServeJob[]>();
  private readonly serving = new Set<string>();

  constructor(
    private readonly host: ChunkServerHost,
    private readonly maxPerPeer: number,
  ) {}

  /** A peer asked for chunk `index` of `cid` under request `id`. */
  enqueue(peerId: string, id: number, cid: string, index: number): void {
    if (!this.host.holds(cid, index)) {
      this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'missing' });
      return;
    }
    let queue = this.queues.get(peerId);
    if (!queue) this.queues.set(peerId, (queue = []));
    if (queue.filter(j => !j.cancelled).length >= this.maxPerPeer) {
      this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id, reason: 'busy' });
      return;
    }
    queue.push({ id, cid, index, cancelled: false });
    void this.pump(peerId);
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
        if (job.cancelled) continue;
        const bytes = await this.host.readChunk(job.cid, job.index).catch(() => undefined);
        if (!bytes) {
          this.host.send(peerId, { t: 'nak', v: PROTOCOL_VERSION, id: job.id, reason: 'missing' });
          continue;
        }
        for (let offset = 0; offset < bytes.byteLength; offset += MAX_FRAME_PAYLOAD) {
          if (job.cancelled) break;
          const payload = bytes.subarray(offset, offset + MAX_FRAME_PAYLOAD);
          await link.sendData(encodeDataFrame(job.id, offset, payload));
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
