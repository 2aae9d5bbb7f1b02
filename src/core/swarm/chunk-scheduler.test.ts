import { describe, expect, it } from 'vitest';
import { Assignment, ChunkScheduler, MAX_FRUITLESS_WAITS, SchedulerOptions } from './chunk-scheduler';
import { HaveMap } from './have-map';
import { seededRandom as seeded } from '../testing';


const haveOf = (count: number, indices: Iterable<number>) => {
  const m = new HaveMap(count);
  for (const i of indices) m.add(i);
  return m;
};
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const indicesOf = (out: Assignment[]) => out.map(a => a.index);
const byPeer = (out: Assignment[]) => {
  const counts: Record<string, number> = {};
  for (const a of out) counts[a.peerId] = (counts[a.peerId] ?? 0) + 1;
  return counts;
};
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** A scheduler over `count` chunks, none held, with the given peers. */
function setup(count: number, peers: Record<string, number[]>, options: SchedulerOptions = {}) {
  const own = new HaveMap(count);
  const s = new ChunkScheduler(own, { random: seeded(1), ...options });
  for (const [id, held] of Object.entries(peers)) s.setPeer(id, haveOf(count, held));
  /** Marks chunk `i` as arrived: in our map (as the swarm does) and in the scheduler. */
  const complete = (i: number) => {
    own.add(i);
    s.completed(i);
  };
  return { own, s, complete };
}

describe('rarest first', () => {
  it('schedules the chunk held by one peer before chunks held by two and by three', () => {
    for (let seed = 1; seed <= 20; seed++) {
      // 0 and 3: held by all three; 1: by A and B; 2: by C only
      const { s } = setup(4, { A: [0, 1, 3], B: [0, 1, 3], C: [0, 2, 3] }, { random: seeded(seed) });
      const out = s.next();
      expect(out).toHaveLength(4);
      expect(out[0]).toEqual({ index: 2, peerId: 'C' });
      expect(out[1].index).toBe(1);
      expect(sorted(indicesOf(out.slice(2)))).toEqual([0, 3]);
    }
  });

  it('with one request at a time, fetches in order of rarity', () => {
    const { s, complete } = setup(6, { A: [0, 1, 2, 3, 4, 5], B: [0, 1, 2, 3], C: [0, 1] }, { maxTotal: 1, random: seeded(3) });
    const seen: number[] = [];
    for (let step = 0; step < 6; step++) {
      const out = s.next();
      expect(out).toHaveLength(1);
      expect(s.next()).toEqual([]); // maxTotal reached
      seen.push(out[0].index);
      complete(out[0].index);
    }
    // 4, 5: one holder; 2, 3: two; 0, 1: three
    expect(sorted(seen.slice(0, 2))).toEqual([4, 5]);
    expect(sorted(seen.slice(2, 4))).toEqual([2, 3]);
    expect(sorted(seen.slice(4, 6))).toEqual([0, 1]);
  });

  it('breaks ties with the injected random source', () => {
    const firsts = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      const { s } = setup(8, { A: range(0, 8) }, { maxTotal: 1, random: seeded(seed) });
      firsts.add(s.next()[0].index);
    }
    expect(firsts.size).toBeGreaterThan(1);
    // and the same source gives the same order
    const run = () => setup(8, { A: range(0, 8) }, { random: seeded(42) }).s.next();
    expect(indicesOf(run())).toEqual(indicesOf(run()));
  });

  it('counts only eligible holders (a banned peer does not make a chunk common)', () => {
    const { s } = setup(3, { A: [0, 1, 2], B: [0], C: [0], X: [1, 2] }, { random: seeded(5), maxStrikes: 1 });
    // ban X by a bad chunk: take whatever went to X and fail it as bad
    const first = s.next();
    for (const a of first) {
      if (a.peerId === 'X') s.failed(a.index, 'X', 'bad');
      else s.failed(a.index, a.peerId, 'busy', 0); // release without a lasting penalty
    }
    expect(s.isBanned('X')).toBe(true);
    const out = s.next(10_000);
    // 1 and 2 now have one eligible holder (A), 0 has three
    expect(out.at(-1)!.index).toBe(0);
    expect(out.every(a => a.peerId !== 'X')).toBe(true);
  });

  it('skips chunks nobody holds and chunks we hold', () => {
    const { own, s } = setup(5, { A: [0, 1, 2] });
    own.add(1);
    expect(sorted(indicesOf(s.next()))).toEqual([0, 2]);
  });
});

describe('no duplicate requests', () => {
  it('never assigns a chunk to two peers at once', () => {
    const { s } = setup(10, { A: range(0, 10), B: range(0, 10), C: range(0, 10) }, { maxPerPeer: 10, maxTotal: 100 });
    const out = [...s.next(), ...s.next(), ...s.next()];
    expect(out).toHaveLength(10);
    expect(new Set(indicesOf(out)).size).toBe(10);
    for (const a of out) expect(s.holderOf(a.index)).toBe(a.peerId);
    expect(s.inFlightCount).toBe(10);
  });

  it('gives each chunk to the least-loaded holder', () => {
    const { s } = setup(8, { A: range(0, 8), B: range(0, 8) }, { maxPerPeer: 4, maxTotal: 4 });
    expect(byPeer(s.next())).toEqual({ A: 2, B: 2 });
  });

  it('prefers the holder with fewer strikes when loads are equal, whatever the random source', () => {
    for (const r of [() => 0, () => 0.99]) {
      for (const order of [
        ['A', 'B'],
        ['B', 'A'],
      ]) {
        const s = new ChunkScheduler(new HaveMap(2), { random: r });
        for (const id of order) s.setPeer(id, haveOf(2, [0, 1]));
        // give A one strike: chunk 0 is A's alone at first, and comes back bad
        s.setPeer('B', haveOf(2, [1]));
        const first = s.next();
        expect(first.find(a => a.index === 0)?.peerId).toBe('A');
        for (const a of first) s.failed(a.index, a.peerId, a.peerId === 'A' ? 'bad' : 'busy', 0);
        s.setPeer('B', haveOf(2, [0, 1]));
        const out = s.next(10_000);
        // loads are 0 and 0 before the first pick: B (no strikes) gets the first chunk
        expect(out[0].peerId).toBe('B');
      }
    }
  });

  it('ignores a failure reported by a peer that does not hold the request (bug: release() ignores peerId)', () => {
    const { s } = setup(1, { A: [0] });
    s.next(0);
    s.setPeer('B', haveOf(1, [0]));
    expect(s.removePeer('A')).toEqual([0]);
    expect(s.next(0)).toEqual([{ index: 0, peerId: 'B' }]);
    s.failed(0, 'A', 'timeout', 0); // A's late timeout
    expect(s.holderOf(0)).toBe('B');
    expect(s.next(0)).toEqual([]); // today: chunk 0 is requested from B a second time
  });
});

describe('limits', () => {
  it('respects maxPerPeer and maxTotal', () => {
    const { s } = setup(20, { A: range(0, 20), B: range(0, 20) }, { maxPerPeer: 3, maxTotal: 5 });
    const out = s.next();
    expect(out).toHaveLength(5);
    for (const n of Object.values(byPeer(out))) expect(n).toBeLessThanOrEqual(3);
    expect(s.next()).toEqual([]);
    expect(s.inFlightCount).toBe(5);
  });

  it('respects maxPerPeer with a single peer', () => {
    const { s } = setup(20, { A: range(0, 20) }, { maxPerPeer: 3 });
    expect(s.next()).toHaveLength(3);
    expect(s.next()).toEqual([]);
  });

  it('defaults to 6 per peer and 24 in total', () => {
    const peers = Object.fromEntries(range(0, 8).map(i => [`P${i}`, range(0, 100)]));
    const { s } = setup(100, peers);
    const out = s.next();
    expect(out).toHaveLength(24);
    for (const n of Object.values(byPeer(out))) expect(n).toBeLessThanOrEqual(6);
    const one = setup(100, { A: range(0, 100) }).s;
    expect(one.next()).toHaveLength(6);
  });

  it('completed() frees capacity for the next chunk', () => {
    const { s, complete } = setup(5, { A: range(0, 5) }, { maxPerPeer: 1 });
    const [first] = s.next();
    expect(s.next()).toEqual([]);
    complete(first.index);
    expect(s.holderOf(first.index)).toBeUndefined();
    const [second] = s.next();
    expect(second.peerId).toBe('A');
    expect(second.index).not.toBe(first.index);
  });

  it('completed() frees total capacity too', () => {
    const { s, complete } = setup(5, { A: range(0, 5), B: range(0, 5) }, { maxTotal: 2 });
    const out = s.next();
    expect(out).toHaveLength(2);
    complete(out[0].index);
    expect(s.inFlightCount).toBe(1);
    expect(s.next()).toHaveLength(1);
    expect(s.inFlightCount).toBe(2);
  });

  it('servingPeers lists the peers asked for something', () => {
    const { s, complete } = setup(2, { A: [0], B: [1], C: [] });
    s.next();
    expect(s.servingPeers().sort()).toEqual(['A', 'B']);
    complete(0);
    expect(s.servingPeers()).toEqual(['B']);
  });
});

describe('urgent window', () => {
  it('fetches the window first and in ascending order, then rarest first', () => {
    for (let seed = 1; seed <= 10; seed++) {
      // chunk 25 has one holder (rarest); the window 10..13 is held by all
      const { s } = setup(30, { A: range(0, 30), B: range(0, 25), C: range(0, 25) }, { urgentWindow: 4, maxPerPeer: 30, maxTotal: 30, random: seeded(seed) });
      s.setUrgent(10);
      const out = indicesOf(s.next());
      expect(out.slice(0, 4)).toEqual([10, 11, 12, 13]);
      expect(sorted(out.slice(4, 9))).toEqual([25, 26, 27, 28, 29]); // one holder each
      expect(out).toHaveLength(30);
    }
  });

  it('one at a time, follows the window in order', () => {
    const { s, complete } = setup(20, { A: range(0, 20) }, { urgentWindow: 3, maxTotal: 1 });
    s.setUrgent(5);
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) {
      const [a] = s.next();
      seen.push(a.index);
      complete(a.index);
    }
    expect(seen).toEqual([5, 6, 7]);
  });

  it('skips chunks of the window already held or in flight', () => {
    const { own, s } = setup(20, { A: range(0, 20) }, { urgentWindow: 4, maxPerPeer: 20, maxTotal: 20 });
    own.add(3);
    s.setUrgent(2);
    const out = indicesOf(s.next());
    expect(out.slice(0, 3)).toEqual([2, 4, 5]);
    expect(out).not.toContain(3);
    expect(new Set(out).size).toBe(out.length);
  });

  it('uses a window of 8 by default and stops at the last chunk', () => {
    const { s } = setup(40, { A: range(0, 40), B: range(0, 40), C: range(0, 40), D: range(0, 40) }, { maxPerPeer: 40, maxTotal: 40, random: seeded(9) });
    s.setUrgent(4);
    expect(indicesOf(s.next()).slice(0, 8)).toEqual(range(4, 12));
    const end = setup(10, { A: range(0, 10) }, { maxPerPeer: 10, maxTotal: 10 }).s;
    end.setUrgent(7);
    const out = indicesOf(end.next());
    expect(out.slice(0, 3)).toEqual([7, 8, 9]);
    expect(out).toHaveLength(10);
  });

  it('goes back to rarest first after setUrgent(null)', () => {
    const { s } = setup(10, { A: range(0, 10), B: range(0, 9) }, { urgentWindow: 4, maxTotal: 1 });
    s.setUrgent(0);
    s.setUrgent(null);
    expect(s.next()).toEqual([{ index: 9, peerId: 'A' }]);
  });

  it('does not send a window chunk to a peer that lacks it', () => {
    const { s } = setup(10, { A: [0, 1, 3], B: [2] }, { urgentWindow: 4 });
    s.setUrgent(0);
    // Window chunks carry `only`: a seeder serves them even when another downloader holds them.
    expect(s.next()).toEqual([
      { index: 0, peerId: 'A', only: true },
      { index: 1, peerId: 'A', only: true },
      { index: 2, peerId: 'B', only: true },
      { index: 3, peerId: 'A', only: true },
    ]);
  });
});

describe('failures', () => {
  it("'timeout' skips the peer for slowPenaltyMs, then it is eligible again", () => {
    const { s } = setup(4, { A: range(0, 4) }, { maxPerPeer: 1, slowPenaltyMs: 5_000 });
    const [a] = s.next(1_000);
    s.failed(a.index, 'A', 'timeout', 1_000);
    expect(s.holderOf(a.index)).toBeUndefined();
    expect(s.next(1_000)).toEqual([]);
    expect(s.next(5_999)).toEqual([]);
    expect(s.canProgress()).toBe(true); // skipped for a while, not excluded
    expect(s.next(6_000)).toHaveLength(1);
  });

  it("'timeout' penalty defaults to 10 s", () => {
    const { s } = setup(4, { A: range(0, 4) });
    const out = s.next(0);
    s.failed(out[0].index, 'A', 'timeout', 0);
    expect(s.next(9_999)).toEqual([]);
    expect(s.next(10_000)).toEqual([{ index: out[0].index, peerId: 'A' }]);
  });

  it("'timeout' moves the chunk to another holder at once", () => {
    const { s } = setup(1, { A: [0] });
    s.next(0);
    s.setPeer('B', haveOf(1, [0]));
    s.failed(0, 'A', 'timeout', 0);
    expect(s.next(0)).toEqual([{ index: 0, peerId: 'B' }]);
  });

  it("'busy' skips the peer for busyPenaltyMs (default 1 s), then it is eligible again", () => {
    const { s } = setup(4, { A: range(0, 4) }, { maxPerPeer: 1 });
    const [a] = s.next(0);
    s.failed(a.index, 'A', 'busy', 0);
    expect(s.next(999)).toEqual([]);
    expect(s.next(1_000)).toHaveLength(1);

    const custom = setup(4, { A: range(0, 4) }, { maxPerPeer: 1, busyPenaltyMs: 250, slowPenaltyMs: 60_000 }).s;
    const [b] = custom.next(0);
    custom.failed(b.index, 'A', 'busy', 0);
    expect(custom.next(249)).toEqual([]);
    expect(custom.next(250)).toHaveLength(1);
  });

  it("'elsewhere' sends the chunk to the other holder; the peer that refused it is not asked again for it", () => {
    const { s } = setup(2, { S: [0, 1], D: [0] }, { maxPerPeer: 1 });
    const first = s.next(0);
    const zero = first.find(a => a.index === 0)!;
    s.failed(0, zero.peerId, 'elsewhere', 0);
    if (zero.peerId === 'S') {
      // D holds it: it goes there, without `only`, whenever D has room.
      expect(s.next(10_000).filter(a => a.index === 0)).toEqual([{ index: 0, peerId: 'D' }]);
    }
  });

  it("'elsewhere' with no other holder waits elsewhereWaitMs for the holder's announcement, then asks again with `only`", () => {
    const { s, complete } = setup(3, { S: [0, 1, 2] });
    expect(sorted(indicesOf(s.next(0)))).toEqual([0, 1, 2]);
    s.failed(1, 'S', 'elsewhere', 0);
    complete(0);
    expect(s.next(2_999)).toEqual([]);
    expect(s.next(3_000)).toEqual([{ index: 1, peerId: 'S', only: true }]);
    // Once asked with `only`, the mark is gone: a later refusal starts a new wait.
    s.failed(1, 'S', 'elsewhere', 4_000);
    expect(s.next(4_000)).toEqual([]);
    // The holder it was sent to announces it: asked there at once.
    s.setPeer('D', haveOf(3, [1]));
    expect(s.next(4_001)).toEqual([{ index: 1, peerId: 'D' }]);
  });

  it('after MAX_FRUITLESS_WAITS waits while it was our only source, every request to that peer carries `only`', () => {
    const { s, complete } = setup(10, { S: range(0, 10) }, { maxPerPeer: 10 });
    expect(s.next(0).every(a => a.only === undefined)).toBe(true);
    let now = 0;
    for (let k = 0; k < MAX_FRUITLESS_WAITS; k++) {
      s.failed(k, 'S', 'elsewhere', now);
      expect(s.next(now)).toEqual([]);
      now += 3_000;
      expect(s.next(now)).toEqual([{ index: k, peerId: 'S', only: true }]);
      complete(k);
    }
    // Any later request to S says `only`, with no wait first.
    s.failed(5, 'S', 'busy', now);
    expect(s.next(now + 1_000)).toEqual([{ index: 5, peerId: 'S', only: true }]);
  });

  it('a wait that ends while other peers of the file are linked asks that chunk with `only`, and later ones still wait', () => {
    // D holds nothing we lack (it is downloading too): S sends us to it, it is slow to announce.
    const { s, complete } = setup(10, { S: range(0, 10), D: [] }, { maxPerPeer: 10 });
    s.next(0);
    let now = 0;
    for (let k = 0; k < MAX_FRUITLESS_WAITS + 1; k++) {
      s.failed(k, 'S', 'elsewhere', now);
      now += 3_000;
      expect(s.next(now)).toEqual([{ index: k, peerId: 'S', only: true }]);
      complete(k);
    }
    s.failed(5, 'S', 'busy', now);
    expect(s.next(now + 1_000)).toEqual([{ index: 5, peerId: 'S' }]);
  });

  it("chunks of the urgent window carry `only` (a playhead does not wait for a detour), even after 'elsewhere'", () => {
    const { s } = setup(20, { S: range(0, 20) }, { urgentWindow: 2, maxPerPeer: 4 });
    s.setUrgent(10);
    const out = s.next(0);
    expect(out.slice(0, 2)).toEqual([{ index: 10, peerId: 'S', only: true }, { index: 11, peerId: 'S', only: true }]);
    expect(out.slice(2).every(a => a.only === undefined)).toBe(true);
    s.failed(10, 'S', 'elsewhere', 0);
    expect(s.next(1)).toEqual([{ index: 10, peerId: 'S', only: true }]);
  });

  it("'busy' and 'timeout' do not ban", () => {
    const { s } = setup(1, { A: [0] });
    for (let t = 0; t < 10; t++) {
      const now = t * 100_000;
      expect(s.next(now)).toEqual([{ index: 0, peerId: 'A' }]);
      s.failed(0, 'A', t % 2 ? 'busy' : 'timeout', now);
    }
    expect(s.isBanned('A')).toBe(false);
  });

  it("'missing' forgets the chunk from that peer's have-map", () => {
    const { s, complete } = setup(2, { A: [0, 1] });
    expect(sorted(indicesOf(s.next()))).toEqual([0, 1]);
    s.failed(0, 'A', 'missing');
    expect(s.next()).toEqual([]); // A is not asked for 0 again
    expect(s.canProgress()).toBe(true); // 1 is in flight
    complete(1);
    expect(s.canProgress()).toBe(false);
    s.setPeer('B', haveOf(2, [0]));
    expect(s.canProgress()).toBe(true);
    expect(s.next()).toEqual([{ index: 0, peerId: 'B' }]);
  });

  it("'missing' does not skip the peer for its other chunks", () => {
    const { s } = setup(3, { A: [0, 1, 2] }, { maxPerPeer: 1 });
    const [a] = s.next(0);
    s.failed(a.index, 'A', 'missing', 0);
    const [b] = s.next(0);
    expect(b.peerId).toBe('A');
    expect(b.index).not.toBe(a.index);
  });

  it("'bad' three times bans the peer, even as the only holder", () => {
    const { s } = setup(2, { A: [0, 1] }, { maxPerPeer: 1 });
    for (let strike = 1; strike <= 3; strike++) {
      expect(s.isBanned('A')).toBe(false);
      const out = s.next();
      expect(out).toHaveLength(1);
      expect(out[0].peerId).toBe('A');
      s.failed(out[0].index, 'A', 'bad');
    }
    expect(s.isBanned('A')).toBe(true);
    expect(s.next()).toEqual([]);
    expect(s.next(Date.now() + 3_600_000)).toEqual([]);
    expect(s.canProgress()).toBe(false);
    // a new holder takes over
    s.setPeer('B', haveOf(2, [0, 1]));
    expect(s.canProgress()).toBe(true);
    const out = s.next();
    expect(out.length).toBeGreaterThan(0);
    expect(out.every(a => a.peerId === 'B')).toBe(true);
  });

  it('bans after maxStrikes bad chunks', () => {
    const { s } = setup(1, { A: [0] }, { maxStrikes: 1 });
    s.next();
    s.failed(0, 'A', 'bad');
    expect(s.isBanned('A')).toBe(true);
    expect(s.next()).toEqual([]);
  });

  it('stays banned when the peer updates its have-map', () => {
    const { s } = setup(2, { A: [0] }, { maxStrikes: 1 });
    s.next();
    s.failed(0, 'A', 'bad');
    s.setPeer('A', haveOf(2, [0, 1]));
    expect(s.isBanned('A')).toBe(true);
    expect(s.next()).toEqual([]);
  });

  it("stays banned after leaving and announcing the file again (bug: removePeer forgets strikes)", () => {
    // In the swarm, a `gone` message calls removePeer and a later `have` calls setPeer:
    // a peer can clear its strikes without even reconnecting.
    const { s } = setup(1, { A: [0] }, { maxStrikes: 1 });
    s.next();
    s.failed(0, 'A', 'bad');
    expect(s.isBanned('A')).toBe(true);
    s.removePeer('A');
    s.setPeer('A', haveOf(1, [0]));
    expect(s.isBanned('A')).toBe(true);
    expect(s.next()).toEqual([]);
  });

  it('ignores a failure for a peer it does not know', () => {
    const { s } = setup(1, { A: [0] });
    expect(() => s.failed(0, 'nobody', 'bad')).not.toThrow();
    expect(s.isBanned('nobody')).toBe(false);
    expect(s.next()).toEqual([{ index: 0, peerId: 'A' }]);
  });
});

describe('peers leaving', () => {
  it('removePeer returns its chunks in flight and they go to another holder on the next call', () => {
    const { s } = setup(4, { A: range(0, 4), B: range(0, 4) }, { maxPerPeer: 4 });
    const out = s.next();
    expect(byPeer(out)).toEqual({ A: 2, B: 2 });
    const ofA = sorted(out.filter(a => a.peerId === 'A').map(a => a.index));
    expect(sorted(s.removePeer('A'))).toEqual(ofA);
    for (const i of ofA) expect(s.holderOf(i)).toBeUndefined();
    expect(s.inFlightCount).toBe(2);
    const again = s.next();
    expect(sorted(indicesOf(again))).toEqual(ofA);
    expect(again.every(a => a.peerId === 'B')).toBe(true);
    expect(s.servingPeers()).toEqual(['B']);
    expect(s.inFlightCount).toBe(4);
  });

  it('removePeer of a peer with nothing in flight (or unknown) returns nothing', () => {
    const { s } = setup(2, { A: [0], B: [] });
    s.next();
    expect(s.removePeer('B')).toEqual([]);
    expect(s.removePeer('nobody')).toEqual([]);
    expect(s.holderOf(0)).toBe('A');
  });

  it('a removed peer is never assigned again', () => {
    const { s } = setup(3, { A: [0, 1, 2] }, { maxPerPeer: 1 });
    s.next();
    s.removePeer('A');
    expect(s.next()).toEqual([]);
    expect(s.canProgress()).toBe(false);
  });
});

describe('canProgress', () => {
  it('is false with no peers', () => {
    expect(setup(3, {}).s.canProgress()).toBe(false);
  });

  it('is false when the peers hold only chunks we already have', () => {
    const { own, s } = setup(4, { A: [0, 1], B: [1] });
    own.add(0);
    own.add(1);
    expect(s.canProgress()).toBe(false);
    expect(s.next()).toEqual([]);
  });

  it('is true when an eligible peer holds a missing chunk', () => {
    const { own, s } = setup(4, { A: [0, 3] });
    own.add(0);
    expect(s.canProgress()).toBe(true);
  });

  it('is false when the only holder of the missing chunks is banned', () => {
    const { own, s } = setup(2, { A: [0, 1], B: [0] }, { maxStrikes: 1 });
    own.add(0);
    expect(s.next()).toEqual([{ index: 1, peerId: 'A' }]);
    s.failed(1, 'A', 'bad');
    expect(s.canProgress()).toBe(false);
  });

  it('is false once every chunk is held', () => {
    const { s, complete } = setup(2, { A: [0, 1] });
    for (const a of s.next()) complete(a.index);
    expect(s.canProgress()).toBe(false);
  });
});

describe('endgame', () => {
  it('when every chunk we lack is in flight and they are few, each is also asked of an idle holder; the first copy ends both', () => {
    const { s, complete } = setup(4, { A: range(0, 4), B: range(0, 4) }, { maxPerPeer: 4, random: seeded(2) });
    const first = s.next(0);
    expect(first).toHaveLength(4); // least-loaded: two each
    // No one is idle: no second requests yet.
    expect(s.next(0)).toEqual([]);
    // A delivers its two; it is idle now, and B's two are asked of it too.
    const fromA = first.filter(a => a.peerId === 'A').map(a => a.index);
    const fromB = first.filter(a => a.peerId === 'B').map(a => a.index);
    fromA.forEach(complete);
    const second = s.next(0);
    expect(second).toEqual([{ index: fromB[0], peerId: 'A' }]); // one at a time: A is idle only until then
    expect(s.backupOf(fromB[0])).toBe('A');
    expect(s.servingPeers().sort()).toEqual(['A', 'B']);
    complete(fromB[0]);
    expect(s.backupOf(fromB[0])).toBeUndefined();
    expect(s.next(0)).toEqual([{ index: fromB[1], peerId: 'A' }]);
  });

  it('is off with endgameChunks 0, and waits until the chunks we lack are at most endgameChunks', () => {
    const off = setup(4, { A: range(0, 4), B: range(0, 4) }, { maxPerPeer: 4, endgameChunks: 0 });
    const first = off.s.next(0);
    first.filter(a => a.peerId === 'A').forEach(a => off.complete(a.index));
    expect(off.s.next(0)).toEqual([]);

    const many = setup(12, { A: range(0, 12), B: range(0, 12) }, { maxPerPeer: 6, endgameChunks: 4 });
    const all = many.s.next(0);
    all.filter(a => a.peerId === 'A').slice(0, 5).forEach(a => many.complete(a.index));
    expect(many.s.next(0)).toEqual([]); // 7 lacking > 4
  });

  it('a first request that fails leaves the chunk with its second holder; a second that fails leaves it with the first', () => {
    const { s, complete } = setup(2, { A: [0, 1], B: [0, 1] }, { maxPerPeer: 2, random: seeded(4) });
    const first = s.next(0);
    const a = first.find(x => x.peerId === 'A')!;
    const b = first.find(x => x.peerId === 'B')!;
    complete(a.index);
    expect(s.next(0)).toEqual([{ index: b.index, peerId: 'A' }]);
    s.failed(b.index, 'B', 'timeout', 0);
    expect(s.holderOf(b.index)).toBe('A');
    expect(s.backupOf(b.index)).toBeUndefined();
    expect(s.next(0)).toEqual([]); // still in flight from A: not asked a third time
    s.removePeer('A');
    expect(s.holderOf(b.index)).toBeUndefined();
  });

  it('a holder that leaves hands its chunks to their second holders', () => {
    const { s, complete } = setup(2, { A: [0, 1], B: [0, 1] }, { maxPerPeer: 2, random: seeded(5) });
    const first = s.next(0);
    const a = first.find(x => x.peerId === 'A')!;
    const b = first.find(x => x.peerId === 'B')!;
    complete(a.index);
    s.next(0); // b's chunk asked of A too
    expect(s.removePeer('B')).toEqual([]);
    expect(s.holderOf(b.index)).toBe('A');
  });
});

describe('invariants under a random sequence of events', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i: one holder per chunk, limits, eligibility, window order, rarest first', seed => {
    const rand = seeded(seed * 7919);
    const count = 40;
    // The endgame's second requests break "one holder per chunk" on purpose: tested on their own.
    const o = { maxPerPeer: 3, maxTotal: 7, urgentWindow: 4, maxStrikes: 3, slowPenaltyMs: 5_000, busyPenaltyMs: 1_000, endgameChunks: 0 };
    const own = new HaveMap(count);
    const s = new ChunkScheduler(own, { ...o, random: seeded(seed) });
    const peers = new Map<string, { have: HaveMap; strikes: number; skipUntil: number }>();
    const outstanding = new Map<number, string>();
    let nextId = 0;
    let now = 0;
    let urgent: number | null = null;

    const addPeer = () => {
      const id = `P${nextId++}`;
      const have = haveOf(
        count,
        range(0, count).filter(() => rand() < 0.4),
      );
      peers.set(id, { have, strikes: 0, skipUntil: 0 });
      s.setPeer(id, have);
    };
    for (let i = 0; i < 4; i++) addPeer();

    for (let step = 0; step < 1500 && !own.complete; step++) {
      const roll = rand();
      if (roll < 0.35) {
        const eligible = [...peers.values()].filter(p => p.strikes < o.maxStrikes && p.skipUntil <= now);
        const holders = (i: number) => eligible.filter(p => p.have.has(i)).length;
        const out = s.next(now);
        const load = new Map<string, number>();
        for (const peerId of outstanding.values()) load.set(peerId, (load.get(peerId) ?? 0) + 1);
        const inWindow = (i: number) => urgent !== null && i >= urgent && i < urgent + o.urgentWindow;
        let pastWindow = false;
        let lastWindow = -1;
        let lastHolders = 0;
        for (const { index, peerId } of out) {
          const p = peers.get(peerId);
          expect(p, 'assigned to a known peer').toBeDefined();
          expect(own.has(index), 'not a chunk we hold').toBe(false);
          expect(outstanding.has(index), `chunk ${index} already in flight from ${outstanding.get(index)}`).toBe(false);
          expect(p!.have.has(index), 'the peer holds it').toBe(true);
          expect(p!.strikes).toBeLessThan(o.maxStrikes);
          expect(p!.skipUntil).toBeLessThanOrEqual(now);
          outstanding.set(index, peerId);
          load.set(peerId, (load.get(peerId) ?? 0) + 1);
          expect(load.get(peerId)).toBeLessThanOrEqual(o.maxPerPeer);
          if (inWindow(index)) {
            expect(pastWindow, 'window chunks come first').toBe(false);
            expect(index).toBeGreaterThan(lastWindow);
            lastWindow = index;
          } else {
            pastWindow = true;
            expect(holders(index), 'rarest first').toBeGreaterThanOrEqual(lastHolders);
            lastHolders = holders(index);
          }
        }
        expect(outstanding.size).toBeLessThanOrEqual(o.maxTotal);
      } else if (roll < 0.6 && outstanding.size) {
        const [index] = [...outstanding.entries()][Math.floor(rand() * outstanding.size)];
        own.add(index);
        s.completed(index);
        outstanding.delete(index);
      } else if (roll < 0.75 && outstanding.size) {
        const [index, peerId] = [...outstanding.entries()][Math.floor(rand() * outstanding.size)];
        const reasons = ['bad', 'timeout', 'busy', 'missing'] as const;
        const reason = reasons[Math.floor(rand() * 4)];
        s.failed(index, peerId, reason, now);
        outstanding.delete(index);
        const p = peers.get(peerId)!;
        if (reason === 'bad') p.strikes++;
        if (reason === 'timeout') p.skipUntil = now + o.slowPenaltyMs;
        if (reason === 'busy') p.skipUntil = now + o.busyPenaltyMs;
        if (reason === 'missing') expect(p.have.has(index)).toBe(false);
        expect(s.isBanned(peerId)).toBe(p.strikes >= o.maxStrikes);
      } else if (roll < 0.8 && peers.size) {
        const ids = [...peers.keys()];
        const id = ids[Math.floor(rand() * ids.length)];
        const mine = [...outstanding.entries()].filter(([, p]) => p === id).map(([i]) => i);
        expect(sorted(s.removePeer(id))).toEqual(sorted(mine));
        mine.forEach(i => outstanding.delete(i));
        peers.delete(id);
        addPeer();
      } else if (roll < 0.85) {
        urgent = rand() < 0.3 ? null : Math.floor(rand() * count);
        s.setUrgent(urgent);
      } else {
        now += Math.floor(rand() * 3_000);
      }
      expect(s.inFlightCount).toBe(outstanding.size);
      for (const [i, p] of outstanding) expect(s.holderOf(i)).toBe(p);
      // canProgress: something in flight, or a non-banned peer holds a missing chunk
      const expected = outstanding.size > 0 || own.missing().some(i => [...peers.values()].some(p => p.strikes < o.maxStrikes && p.have.has(i)));
      expect(s.canProgress()).toBe(expected);
    }
  });
});
