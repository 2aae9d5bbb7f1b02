/**
 * Liveness of the peers a page is connected to, from heartbeats over the data channel (seed 001:
 * "what happens when the other side refreshes" or vanishes). A peer counts as gone when nothing
 * arrived from it for {@link PEER_TIMEOUT_MS}; the local page's own stalls (a frozen or sleeping
 * tab, a main thread busy for seconds) are not blamed on the peers: when the checks themselves
 * ran late, every peer's clock restarts. A peer that goes silent while it is sending us a file is
 * kept longer while its connection still carries packets (see {@link STALLED_TRANSFER_TIMEOUT_MS}).
 */

/**
 * How often a page sends `heartbeat` to each peer and checks the others' silence, ms. (A hidden
 * tab's timers run at most once a second in Chromium: its heartbeats then come every second.)
 */
export const HEARTBEAT_INTERVAL_MS = 500;
/**
 * Silence after which a peer is dropped, ms: six heartbeats (three in a hidden tab), so late
 * heartbeats never drop a live peer, and a dead tab leaves within 4 s: the last heartbeat came up to
 * one interval before it died, then the timeout, then up to one interval until the next check.
 */
export const PEER_TIMEOUT_MS = 3000;
/** A gap between two checks longer than this means the page itself stalled, ms. */
export const STALL_GAP_MS = 2500;
/**
 * A peer that was sending us bulk data (a file) until it fell silent is "in a transfer" when its
 * last bulk frame came at most this long before the last thing heard from it, ms.
 */
export const TRANSFER_WINDOW_MS = 2000;
/**
 * Most silence kept for a peer silent in the middle of a transfer, ms, while its connection still
 * carries packets (the caller checks that, see {@link PeerHeartbeat.stalled}). Between two pages of
 * one machine, Chromium's data-channel transport stalled for up to 21 s after the first megabytes of
 * a transfer (`node bench/transport-stall-probe.mjs`: packets kept arriving, nothing was
 * delivered); dropping the peer then lost the chunks in flight and restarted the transfer. 30 s is
 * also about when ICE consent freshness gives a dead path up (RFC 7675).
 */
export const STALLED_TRANSFER_TIMEOUT_MS = 30_000;

/** Tracks when each peer was last heard from; time comes from `now` (ms) so tests can drive it. */
export class PeerHeartbeat {
  private readonly lastHeard = new Map<string, number>();
  /** When a bulk frame (a chunk, a request on the bulk channels) last arrived from each tracked peer, ms. */
  private readonly lastBulk = new Map<string, number>();
  private lastCheck: number;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly timeoutMs = PEER_TIMEOUT_MS,
  ) {
    this.lastCheck = now();
  }

  /**
   * A heartbeat arrived from `peerId`: tracking starts with a peer's first heartbeat, so a peer
   * running an older version without heartbeats is never dropped for its silence.
   */
  heard(peerId: string): void {
    this.lastHeard.set(peerId, this.now());
  }

  /** Something else (a message, a chunk of one) arrived from `peerId`: a sign of life if it is tracked. */
  touch(peerId: string): void {
    if (this.lastHeard.has(peerId)) this.lastHeard.set(peerId, this.now());
  }

  /** A bulk frame arrived from `peerId`: a sign of life (see {@link touch}) and of a transfer in progress. */
  bulk(peerId: string): void {
    if (!this.lastHeard.has(peerId)) return;
    const now = this.now();
    this.lastHeard.set(peerId, now);
    this.lastBulk.set(peerId, now);
  }

  /**
   * Peers silent past the timeout in the middle of a transfer (see {@link TRANSFER_WINDOW_MS}), for
   * less than {@link STALLED_TRANSFER_TIMEOUT_MS}: {@link expired} leaves them out. The caller checks
   * whether their connection still carries packets, and {@link forget}s those whose does not.
   */
  stalled(): string[] {
    const now = this.now();
    return [...this.lastHeard].filter(([id, at]) => now - at > this.timeoutMs && this.inTransfer(id)).map(([id]) => id);
  }

  /** When `peerId` was last heard from (ms of `now`), or null when it has sent no heartbeat yet. */
  lastHeardAt(peerId: string): number | null {
    return this.lastHeard.get(peerId) ?? null;
  }

  /** Stops tracking a peer (it left). */
  forget(peerId: string): void {
    this.lastHeard.delete(peerId);
    this.lastBulk.delete(peerId);
  }

  /**
   * Returns the peers silent for longer than the timeout (and stops tracking them). Call it every
   * {@link HEARTBEAT_INTERVAL_MS}; when this call comes more than {@link STALL_GAP_MS} after the previous one, the
   * page itself stalled and every peer's silence is restarted instead.
   */
  expired(): string[] {
    const now = this.now();
    const stalled = now - this.lastCheck > STALL_GAP_MS;
    this.lastCheck = now;
    if (stalled) {
      for (const id of this.lastHeard.keys()) this.lastHeard.set(id, now);
      return [];
    }
    const gone: string[] = [];
    for (const [id, at] of this.lastHeard) {
      const limit = this.inTransfer(id) ? STALLED_TRANSFER_TIMEOUT_MS : this.timeoutMs;
      if (now - at > limit) gone.push(id);
    }
    gone.forEach(id => this.forget(id));
    return gone;
  }

  /** Whether `peerId`'s last bulk frame came within {@link TRANSFER_WINDOW_MS} of the last thing heard from it. */
  private inTransfer(peerId: string): boolean {
    const bulk = this.lastBulk.get(peerId);
    const heard = this.lastHeard.get(peerId);
    return bulk !== undefined && heard !== undefined && heard - bulk <= TRANSFER_WINDOW_MS;
  }
}
