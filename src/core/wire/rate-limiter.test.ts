import { describe, expect, it } from 'vitest';
import { PeerRateLimiter } from './rate-limiter';

/** A hand-driven clock in ms. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

/** How many `take`s succeed back-to-back (stops at the first refusal, or at `max`). */
function drain(limiter: PeerRateLimiter, peerId: string, max = 1000): number {
  let n = 0;
  while (n < max && limiter.take(peerId)) n++;
  return n;
}

describe('PeerRateLimiter', () => {
  it('lets a new peer send exactly `burst` messages back-to-back, then refuses', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 2, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    expect(limiter.take('a')).toBe(false);
  });

  it('refills at `ratePerSecond` (one token per 1000/rate ms, not earlier)', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 4, burst: 2 }, c.now);
    expect(drain(limiter, 'a')).toBe(2);
    c.advance(249);
    expect(limiter.take('a')).toBe(false);
    c.advance(1); // 250 ms in total = one token at 4/s
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    c.advance(500); // two more tokens
    expect(drain(limiter, 'a')).toBe(2);
  });

  it('accumulates partial refills across refused attempts (refusals cost nothing)', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 1, burst: 1 }, c.now);
    expect(limiter.take('a')).toBe(true);
    for (let i = 0; i < 4; i++) {
      c.advance(200);
      expect(limiter.take('a')).toBe(false);
    }
    c.advance(200); // 1000 ms since the last success
    expect(limiter.take('a')).toBe(true);
  });

  it('never holds more than `burst` tokens, however long a peer stays silent', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 10, burst: 3 }, c.now);
    expect(drain(limiter, 'a')).toBe(3);
    c.advance(60 * 60_000);
    expect(drain(limiter, 'a')).toBe(3);
  });

  it('sustains the configured rate over a long run', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 5, burst: 20 }, c.now);
    let accepted = 0;
    // One attempt every 10 ms for 10 s (100/s offered).
    for (let i = 0; i < 1000; i++) {
      if (limiter.take('a')) accepted++;
      c.advance(10);
    }
    // burst + 10 s × 5/s, give or take the last partial token.
    expect(accepted).toBeGreaterThanOrEqual(69);
    expect(accepted).toBeLessThanOrEqual(70);
  });

  it('keeps an independent bucket per peer', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 1, burst: 2 }, c.now);
    expect(drain(limiter, 'a')).toBe(2);
    expect(limiter.take('a')).toBe(false);
    // b is untouched by a's flood
    expect(drain(limiter, 'b')).toBe(2);
    c.advance(1000);
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    expect(limiter.take('b')).toBe(true);
    expect(limiter.take('b')).toBe(false);
  });

  it('treats unusual peer ids as plain keys', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 1, burst: 1 }, c.now);
    expect(limiter.take('__proto__')).toBe(true);
    expect(limiter.take('__proto__')).toBe(false);
    expect(limiter.take('constructor')).toBe(true);
    expect(limiter.take('')).toBe(true);
  });

  it('forget() gives a returning peer a fresh full bucket and leaves others alone', () => {
    const c = clock();
    const limiter = new PeerRateLimiter({ ratePerSecond: 1, burst: 3 }, c.now);
    expect(drain(limiter, 'a')).toBe(3);
    expect(drain(limiter, 'b')).toBe(3);
    limiter.forget('a');
    expect(drain(limiter, 'a')).toBe(3);
    expect(limiter.take('b')).toBe(false);
    limiter.forget('nobody'); // unknown peer: no effect, no throw
  });

  it('uses Date.now() when no clock is given', () => {
    const limiter = new PeerRateLimiter({ ratePerSecond: 0.001, burst: 2 });
    expect(drain(limiter, 'a')).toBe(2);
  });

  // Regression guard (was a bug): a wall clock that steps backwards (NTP correction; the default clock is Date.now())
  // makes `refill` negative, so the bucket goes below zero and the peer is refused for as
  // long as the clock stepped back. Refill should be `Math.max(0, t - bucket.at)` (or use a
  // monotonic clock such as performance.now()).
  it('does not take tokens away when the clock steps backwards', () => {
    const c = clock(1_000_000);
    const limiter = new PeerRateLimiter({ ratePerSecond: 1, burst: 5 }, c.now);
    expect(limiter.take('a')).toBe(true); // 4 tokens left
    c.advance(-60_000); // clock corrected one minute back
    expect(drain(limiter, 'a')).toBe(4);
  });
});
