/**
 * The clock and timers the overlay runs on: the page's own in the browser, a virtual clock in the
 * Node simulator (src/core/testing/overlay-simulator.ts), so the same membership and broadcast
 * code runs in both.
 */
export interface OverlayTimers {
  /** Current time, ms. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer set with {@link setTimeout}; a handle already fired or cleared is ignored. */
  clearTimeout(handle: unknown): void;
}

/** The page's timers (`Date.now`, `setTimeout`). */
export const realTimers: OverlayTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Picks a uniformly random element of `items` (undefined when empty), with `random` in [0, 1). */
export function pickRandom<T>(items: Iterable<T>, random: () => number): T | undefined {
  const list = Array.isArray(items) ? (items as T[]) : [...items];
  return list.length ? list[Math.floor(random() * list.length)] : undefined;
}

/** Up to `n` distinct random elements of `items` (a partial Fisher–Yates shuffle). */
export function sampleRandom<T>(items: Iterable<T>, n: number, random: () => number): T[] {
  const list = [...items];
  const k = Math.min(n, list.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (list.length - i));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list.slice(0, k);
}
