import { describe, expect, it } from 'vitest';
import { PEER_TIMEOUT_MS, PeerHeartbeat, STALL_GAP_MS } from './peer-heartbeat';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('PeerHeartbeat', () => {
  it('drops a peer silent for longer than the timeout, checked every second', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('a');
    hb.heard('b');
    const goneAt: Record<string, number> = {};
    for (let s = 1; s <= 10; s++) {
      c.advance(1000);
      if (s <= 10) hb.heard('b'); // b keeps talking, a went silent at 0
      for (const id of hb.expired()) goneAt[id] = s * 1000;
    }
    expect(goneAt).toEqual({ a: 4000 });
    expect(goneAt.a).toBeLessThanOrEqual(5000);
  });

  it('keeps a peer whose heartbeats arrive late but within the timeout', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('a');
    for (let s = 0; s < 20; s++) {
      c.advance(1000);
      if (s % 3 === 2) hb.heard('a'); // every 3 s: two heartbeats lost in a row
      expect(hb.expired()).toEqual([]);
    }
  });

  it('does not blame peers for a stall of the page itself', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('a');
    c.advance(1000);
    expect(hb.expired()).toEqual([]);
    c.advance(STALL_GAP_MS + 30_000); // tab frozen for 30 s
    expect(hb.expired()).toEqual([]);
    c.advance(1000);
    hb.heard('a');
    expect(hb.expired()).toEqual([]);
    // …but a peer that stays silent after the stall still goes
    for (let s = 0; s < 5; s++) {
      c.advance(1000);
      if (s === 3) expect(hb.expired()).toEqual(['a']); // 4 s after it was last heard
      else expect(hb.expired()).toEqual([]);
    }
  });

  it('forgets peers that left and reports each expiry once', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('a');
    hb.heard('b');
    hb.forget('b');
    const seen: string[] = [];
    for (let s = 0; s < 8; s++) {
      c.advance(1000);
      seen.push(...hb.expired());
    }
    expect(seen).toEqual(['a']);
    expect(PEER_TIMEOUT_MS).toBeLessThan(5000);
  });
});

describe('PeerHeartbeat tracking', () => {
  it('never drops a peer that sent no heartbeat (an older version); other messages only refresh tracked peers', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.touch('old');
    hb.heard('new');
    const gone: string[] = [];
    for (let s = 0; s < 10; s++) {
      c.advance(1000);
      hb.touch('old');
      if (s < 6) hb.touch('new'); // messages keep 'new' alive while they flow
      gone.push(...hb.expired());
    }
    expect(gone).toEqual(['new']);
  });

  it('says when a peer was last heard, null before its first heartbeat and after it is forgotten', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    expect(hb.lastHeardAt('p')).toBeNull();
    hb.touch('p');
    expect(hb.lastHeardAt('p')).toBeNull();
    hb.heard('p');
    const first = c.now();
    expect(hb.lastHeardAt('p')).toBe(first);
    c.advance(700);
    hb.touch('p');
    expect(hb.lastHeardAt('p')).toBe(first + 700);
    hb.forget('p');
    expect(hb.lastHeardAt('p')).toBeNull();
  });
});
