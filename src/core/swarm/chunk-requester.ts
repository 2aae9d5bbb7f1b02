import { PROTOCOL_VERSION, type DataFrame, type SwarmControl } from '../wire';

/** A chunk asked of one peer and the bytes received for it so far. */
export interface PendingRequest {
  /** Request id on the wire (1 … 0xfffffff0, then it wraps). */
  id: number;
  /** Content id of the file. */
  cid: string;
  /** Chunk index. */
  index: number;
  /** The peer asked (frames from any other are refused). */
  peerId: string;
  /** The chunk's bytes, filled in order as data frames arrive (its length is the chunk's, from the manifest). */
  buffer: Uint8Array;
  /** Bytes received so far. */
  received: number;
  /** The timeout's timer (see {@link ChunkRequester}). */
  timer: ReturnType<typeof setTimeout>;
  /** Runs when the request times out (it has been cancelled then). */
  onTimeout: () => void;
  /** Asked at a timeout: whether another holder could serve the chunk (else the request waits longer, see {@link MAX_EXTRA_WAITS}). */
  canMove: () => boolean;
  /** Timeouts this request has waited through already (its peer was the only one to ask). */
  waits: number;
  /** When it was sent, ms since epoch. */
  sentAt: number;
}

/**
 * How many more timeouts a request waits through when its peer is the only one that could serve
 * it, before it is given up anyway (and asked again). Asking the same peer again over a reliable,
 * ordered channel only makes it send the chunk twice: Chromium's transport stalled for up to 21 s
 * mid-transfer on the test machine (`bench/transport-stall-probe.mjs`), and 3 × the 10 s timeout
 * covers that; a peer that dropped the request without a word still gets asked again after it.
 */
export const MAX_EXTRA_WAITS = 2;

/**
 * How long the frames of a request we cancelled are still taken as late rather than unasked-for, ms
 * (30 000): the peer sends until our `cancel` reaches it.
 */
export const LATE_FRAMES_MS = 30_000;
/** Cancelled requests remembered for their late frames at most (the oldest is forgotten first). */
const MAX_CANCELLED = 1024;

/** What a data frame was, for the requester. */
export type FrameOutcome =
  /** Not asked for (unknown id, another peer's id, wrong offset or too long): the caller penalises the sender. */
  | { kind: 'unsolicited' }
  /**
   * A frame of a request we cancelled (a timeout, or the endgame's losing copy), from the peer asked,
   * within the chunk's length and {@link LATE_FRAMES_MS}: dropped without a penalty.
   */
  | { kind: 'late'; bytes: number }
  /** More bytes of a chunk still arriving. */
  | { kind: 'partial'; request: PendingRequest; bytes: number }
  /** The chunk's last bytes: it is no longer pending; verify and store it. */
  | { kind: 'complete'; request: PendingRequest; bytes: number };

/**
 * The requesting side of the swarm: every chunk asked of a peer (`req`), its reassembly from data
 * frames (each must continue exactly where the last one ended, from the peer asked), and its
 * timeout: a request times out when the peer it was sent to has sent none of our asked-for data for
 * `timeoutMs` (since the request, or since that peer's last frame for any of our requests: a peer
 * serves its queue in order, so a request queued behind others to a busy but working peer is not
 * given up, which on a slow link sent chunks twice); it is then cancelled (`cancel` sent) and
 * reported. The work a frame causes is bounded by its own bytes (one map lookup and one copy).
 * `destroy` stops every timer.
 */
export class ChunkRequester {
  private readonly pending = new Map<number, PendingRequest>();
  /** When each peer last sent a frame we asked for, ms since epoch. */
  private readonly lastFrameAt = new Map<string, number>();
  /** Requests we cancelled: id → the peer asked, the bytes it may still send us, and when (ms since epoch). */
  private readonly cancelled = new Map<number, { peerId: string; remaining: number; at: number }>();
  private nextId = 1;

  /**
   * @param send - sends a control message to a peer
   * @param timeoutMs - how long a request may go without data, ms
   */
  constructor(
    private readonly send: (peerId: string, message: SwarmControl) => void,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Asks `peerId` for chunk `index` of `cid` (`length` bytes); `onTimeout` runs if no data comes for
   * `timeoutMs`, at once when `canMove()` says another holder could serve it, else after up to
   * {@link MAX_EXTRA_WAITS} more timeouts. `only`: sent as `req.only` (we know no other holder).
   */
  request(cid: string, index: number, length: number, peerId: string, onTimeout: () => void, canMove: () => boolean = () => true, only = false): void {
    const id = this.nextId++;
    if (this.nextId > 0xfffffff0) this.nextId = 1;
    const request: PendingRequest = { id, cid, index, peerId, buffer: new Uint8Array(length), received: 0, timer: this.timer(id, this.timeoutMs), onTimeout, canMove, waits: 0, sentAt: Date.now() };
    this.pending.set(id, request);
    this.send(peerId, only ? { t: 'req', v: PROTOCOL_VERSION, id, cid, index, only: true } : { t: 'req', v: PROTOCOL_VERSION, id, cid, index });
  }

  /** Takes a parsed data frame from `peerId`. */
  onFrame(frame: DataFrame, peerId: string): FrameOutcome {
    const request = this.pending.get(frame.id);
    if (!request) {
      const late = this.cancelled.get(frame.id);
      const bytes = frame.payload.byteLength;
      if (late && late.peerId === peerId && bytes <= late.remaining && Date.now() - late.at < LATE_FRAMES_MS) {
        late.remaining -= bytes;
        return { kind: 'late', bytes };
      }
      return { kind: 'unsolicited' };
    }
    if (request.peerId !== peerId || frame.offset !== request.received || frame.offset + frame.payload.byteLength > request.buffer.byteLength) {
      return { kind: 'unsolicited' };
    }
    request.buffer.set(frame.payload, frame.offset);
    request.received += frame.payload.byteLength;
    this.lastFrameAt.set(peerId, Date.now());
    if (request.received < request.buffer.byteLength) return { kind: 'partial', request, bytes: frame.payload.byteLength };
    this.pending.delete(request.id);
    return { kind: 'complete', request, bytes: frame.payload.byteLength };
  }

  /** The peer refused request `id` (`nak`): it is no longer pending. Returns it, or null when unknown or not that peer's. */
  refused(id: number, peerId: string): PendingRequest | null {
    const request = this.pending.get(id);
    if (!request || request.peerId !== peerId) return null;
    this.forget(request);
    return request;
  }

  /** Cancels every request for `cid` (the download stopped): `cancel` goes to each peer asked. */
  cancelFile(cid: string): void {
    for (const request of [...this.pending.values()]) if (request.cid === cid) this.cancel(request);
  }

  /** Cancels the requests still pending for chunk `index` of `cid` (another copy of it arrived: the endgame's loser). */
  cancelChunk(cid: string, index: number): void {
    for (const request of [...this.pending.values()]) if (request.cid === cid && request.index === index) this.cancel(request);
  }

  /** Forgets the requests to `peerId` (for `cid` only when given): the peer left, or no longer holds the file. */
  forgetPeer(peerId: string, cid?: string): void {
    for (const request of [...this.pending.values()]) {
      if (request.peerId === peerId && (cid === undefined || request.cid === cid)) this.forget(request);
    }
    if (cid === undefined) this.lastFrameAt.delete(peerId);
  }

  /** Stops every timer and forgets every request. */
  destroy(): void {
    this.pending.forEach(r => clearTimeout(r.timer));
    this.pending.clear();
    this.lastFrameAt.clear();
    this.cancelled.clear();
  }

  private forget(request: PendingRequest): void {
    clearTimeout(request.timer);
    this.pending.delete(request.id);
  }

  /** Forgets a pending request, tells its peer (`cancel`), and takes its frames still on the way as late. */
  private cancel(request: PendingRequest): void {
    this.forget(request);
    this.send(request.peerId, { t: 'cancel', v: PROTOCOL_VERSION, id: request.id });
    if (this.cancelled.size >= MAX_CANCELLED) this.cancelled.delete(this.cancelled.keys().next().value as number);
    this.cancelled.set(request.id, { peerId: request.peerId, remaining: request.buffer.byteLength - request.received, at: Date.now() });
  }

  private timer(id: number, delayMs: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      const request = this.pending.get(id);
      if (!request) return;
      // The peer is still sending what we asked for: wait until it has been quiet for timeoutMs.
      const quietMs = Date.now() - Math.max(request.sentAt, this.lastFrameAt.get(request.peerId) ?? 0);
      if (quietMs < this.timeoutMs) {
        request.timer = this.timer(id, this.timeoutMs - quietMs);
        return;
      }
      // The only peer to ask is still there: the chunk is on its way or behind a stalled transport.
      if (request.waits < MAX_EXTRA_WAITS && !request.canMove()) {
        request.waits++;
        request.timer = this.timer(id, this.timeoutMs);
        return;
      }
      this.cancel(request);
      request.onTimeout();
    }, delayMs);
  }
}
