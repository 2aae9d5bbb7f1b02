import type { OverlayTimers } from '../overlay/overlay-timers';

/**
 * Virtual time for unit tests of code that takes {@link OverlayTimers}: nothing fires until
 * `advance(ms)`, which runs every timer due by then in time order (ties in the order set) and
 * leaves the clock at now + `ms`.
 */
export function manualTimers(): OverlayTimers & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: id => {
      timers = timers.filter(x => x.id !== id);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.id - b.id);
        const due = timers[0];
        if (!due || due.at > end) break;
        timers.shift();
        now = due.at;
        due.fn();
      }
      now = end;
    },
  };
}
