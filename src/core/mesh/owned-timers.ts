/**
 * The timeouts one object owns: each runs only if it was not stopped first, and `stop()` (call it
 * from `destroy`) clears every pending one and refuses new ones, so nothing runs after its owner is gone.
 */
export class OwnedTimers {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;

  /** Runs `run` after `ms` ms, unless stopped before. */
  later(ms: number, run: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) run();
    }, ms);
    this.timers.add(timer);
  }

  /** Timeouts still pending. */
  get size(): number {
    return this.timers.size;
  }

  /** Clears every pending timeout; later ones are not scheduled. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
  }
}
