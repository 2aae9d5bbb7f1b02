import { describe, expect, it } from 'vitest';
import { UploadLimiter } from './upload-limiter';

/** A limiter on a hand-driven clock that records the waits it asks for. */
function limiter(rate: number | null, burst = 100) {
  const clock = { t: 0 };
  const waits: number[] = [];
  const l = new UploadLimiter(rate, burst, () => clock.t, async ms => void waits.push(ms));
  return { l, clock, waits };
}

describe('UploadLimiter (token bucket in bytes)', () => {
  it('lets everything through at once without a cap', () => {
    const { l } = limiter(null);
    for (let i = 0; i < 100; i++) expect(l.take(1e6)).toBeUndefined();
    expect(l.rate).toBeNull();
  });

  it('sends one burst at once, then makes each send wait for its bytes, in the order asked', () => {
    const { l, waits } = limiter(1000, 100);
    expect(l.take(100)).toBeUndefined(); // the burst
    void l.take(100); // 100 B of debt at 1000 B/s: 100 ms
    void l.take(50); // behind the first: 150 ms
    expect(waits).toEqual([100, 150]);
  });

  it('refills at the rate while idle, never above the burst', () => {
    const { l, clock, waits } = limiter(1000, 100);
    void l.take(100);
    clock.t += 50; // 50 B back
    expect(l.take(50)).toBeUndefined();
    clock.t += 10_000; // an hour idle still gives one burst, not more
    expect(l.take(100)).toBeUndefined();
    void l.take(1);
    expect(waits).toEqual([1]);
  });

  it('holds the long-run rate over many sends (the cap, within one burst)', () => {
    const { l, clock, waits } = limiter(2_000_000, 65_545);
    let sent = 0;
    // A sender that sends the next frame as soon as its wait ends, for 10 s of simulated time.
    while (clock.t < 10_000) {
      const before = waits.length;
      void l.take(65_545);
      sent += 65_545;
      if (waits.length > before) clock.t += waits[waits.length - 1];
    }
    const rate = sent / (clock.t / 1000);
    expect(rate).toBeLessThanOrEqual(2_000_000 + 65_545 / 10);
    expect(rate).toBeGreaterThan(1_990_000);
  });

  it('changes the cap in place, and drops it with null', () => {
    const { l, waits } = limiter(1000, 100);
    void l.take(100);
    l.setRate(100);
    void l.take(10); // 10 B at 100 B/s
    expect(waits).toEqual([100]);
    l.setRate(null);
    expect(l.take(1e9)).toBeUndefined();
    expect(l.rate).toBeNull();
  });

  it('keeps the wait already promised when the cap changes, and gives back what a cancelled send took', () => {
    const { l, waits } = limiter(1000, 100);
    void l.take(100);
    void l.take(500); // 500 B of debt at 1000 B/s: 500 ms
    l.setRate(100); // the same 500 ms at the new rate is 50 B
    void l.take(10); // behind it: (50 + 10) B at 100 B/s
    expect(waits).toEqual([500, 600]);
    l.refund(60); // that send was cancelled while it waited
    void l.take(10);
    expect(waits).toEqual([500, 600, 100]);
    l.refund(1e9); // never above the burst
    expect(l.take(100)).toBeUndefined();
  });

  it('refuses a cap that is not a positive finite number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new UploadLimiter(bad)).toThrow(RangeError);
      expect(() => new UploadLimiter(null).setRate(bad)).toThrow(RangeError);
    }
  });
});
