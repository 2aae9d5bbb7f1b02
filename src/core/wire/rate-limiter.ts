/**
 * Per-peer token bucket (the classic algorithm, as in RFC 2697's single-rate
 * meter): each peer starts with `burst` tokens; tokens refill at
 * `ratePerSecond`; a message costs one token and is refused when none is left.
 */
export interface RateLimit {
  /** Sustained messages per second allowed from one peer. */
  ratePerSecond: number;
  /** Messages a peer may send back-to-back before the sustained rate applies. */
  burst: number;
}

interface Bucket {
  tokens: number;
  /** Last refill time, ms (same clock as `now`). */
  at: number;
}

/** One token bucket per peer (see {@link RateLimit}); time from `now`, in ms. */
export class PeerRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * @param limit - rate and burst per peer
   * @param now - clock in ms; injectable for tests
   */
  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * Takes `cost` tokens (default 1; fractions allowed, capped at the burst) for `peerId`; returns
   * false, taking nothing, when the peer has fewer left (it is over its rate).
   */
  take(peerId: string, cost = 1): boolean {
    cost = Math.min(cost, this.limit.burst);
    const t = this.now();
    const bucket = this.buckets.get(peerId) ?? { tokens: this.limit.burst, at: t };
    // A clock that went backwards (NTP correction) refills nothing rather than draining the bucket.
    const refill = (Math.max(0, t - bucket.at) / 1000) * this.limit.ratePerSecond;
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + refill);
    bucket.at = t;
    this.buckets.set(peerId, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  /** Forgets a peer (call when it leaves). */
  forget(peerId: string): void {
    this.buckets.delete(peerId);
  }
}
