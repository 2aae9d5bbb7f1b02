/**
 * An upload cap for a swarm (one room on one page): a token bucket in bytes (the classic algorithm, as in
 * RFC 2697's single-rate meter, and Linux's `tc tbf`), shared by every peer the page serves.
 *
 * Tokens refill at `bytesPerSecond` up to `burstBytes`. A send takes its size at once, even into
 * debt, and waits until the debt is paid back: callers are served in the order they asked, so
 * peers served at the same time share the rate evenly (each chunk's frames take turns), and the
 * long-run rate never exceeds the cap by more than one burst.
 *
 * Without a cap (`null`, the default) {@link UploadLimiter.take} returns at once.
 */
export class UploadLimiter {
  private tokens: number;
  private at: number;

  /**
   * @param bytesPerSecond - the cap (bytes/s, > 0), or null for none
   * @param burstBytes - bytes that may go back-to-back (default 64 KiB + 9, one data frame)
   * @param now - clock in ms; injectable for tests
   * @param sleep - waits `ms`; injectable for tests
   * @throws RangeError when `bytesPerSecond` is not null and not a positive finite number
   */
  constructor(
    private bytesPerSecond: number | null = null,
    private readonly burstBytes = 64 * 1024 + 9,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = ms => new Promise(resolve => setTimeout(resolve, ms)),
  ) {
    UploadLimiter.check(bytesPerSecond);
    this.tokens = burstBytes;
    this.at = now();
  }

  private static check(rate: number | null): void {
    if (rate !== null && !(Number.isFinite(rate) && rate > 0)) throw new RangeError(`upload cap must be a positive number of bytes per second, got ${rate}`);
  }

  /** The cap in bytes per second, or null. */
  get rate(): number | null {
    return this.bytesPerSecond;
  }

  /**
   * Changes the cap (null: none). Sends already waiting keep the wait they were given.
   * @throws RangeError as the constructor
   */
  setRate(bytesPerSecond: number | null): void {
    UploadLimiter.check(bytesPerSecond);
    this.refill();
    // Debt is time already promised to waiting sends: kept as time, not as bytes, at the new rate.
    if (this.tokens < 0 && this.bytesPerSecond !== null && bytesPerSecond !== null) this.tokens *= bytesPerSecond / this.bytesPerSecond;
    this.bytesPerSecond = bytesPerSecond;
    if (bytesPerSecond === null) this.tokens = this.burstBytes;
  }

  /** Gives back `bytes` taken for a send that did not happen (its request was cancelled while it waited), up to the burst. */
  refund(bytes: number): void {
    if (this.bytesPerSecond === null) return;
    this.refill();
    this.tokens = Math.min(this.burstBytes, this.tokens + bytes);
  }

  /** Takes `bytes` (≥ 0) of the budget; resolves when they may be sent. */
  take(bytes: number): Promise<void> | void {
    if (this.bytesPerSecond === null) return;
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    return this.sleep((-this.tokens / this.bytesPerSecond) * 1000);
  }

  private refill(): void {
    const t = this.now();
    // A clock that went backwards refills nothing.
    if (this.bytesPerSecond !== null) this.tokens = Math.min(this.burstBytes, this.tokens + (Math.max(0, t - this.at) / 1000) * this.bytesPerSecond);
    this.at = t;
  }
}
