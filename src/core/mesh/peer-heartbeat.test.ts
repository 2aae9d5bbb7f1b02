import { describe, expect, it } from 'vitest';
import { PEER_TIMEOUT_MS, PeerHeartbeat, STALL_GAP_MS, STALLED_TRANSFER_TIMEOUT_MS, TRANSFER_WINDOW_MS } from './peer-heartbeat';

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

  it('a peer silent in the middle of a transfer is left to the caller (stalled) until the longer timeout', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('seeder');
    hb.heard('idle');
    c.advance(400);
    hb.bulk('seeder'); // a chunk arrives, then nothing more from it
    const goneAt: Record<string, number> = {};
    const stalledAt: number[] = [];
    for (let t = 500; t <= STALLED_TRANSFER_TIMEOUT_MS + 1000; t += 500) {
      c.advance(500);
      for (const id of hb.expired()) goneAt[id] = t;
      if (hb.stalled().includes('seeder')) stalledAt.push(t);
    }
    expect(goneAt.idle).toBeLessThanOrEqual(PEER_TIMEOUT_MS + 1000);
    expect(stalledAt[0]).toBeGreaterThan(PEER_TIMEOUT_MS);
    expect(stalledAt[0]).toBeLessThanOrEqual(PEER_TIMEOUT_MS + 1000);
    expect(goneAt.seeder).toBeGreaterThan(STALLED_TRANSFER_TIMEOUT_MS);
    expect(hb.stalled()).toEqual([]);
  });

  it('a peer whose last bulk frame is older than the transfer window is dropped at the usual timeout', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('a');
    hb.bulk('a');
    c.advance(TRANSFER_WINDOW_MS + 500);
    hb.heard('a'); // heartbeats went on after the transfer ended
    let goneAt = 0;
    for (let t = 500; t <= 6000 && !goneAt; t += 500) {
      c.advance(500);
      if (hb.expired().includes('a')) goneAt = t;
      expect(hb.stalled()).toEqual([]);
    }
    expect(goneAt).toBeGreaterThan(PEER_TIMEOUT_MS);
    expect(goneAt).toBeLessThanOrEqual(PEER_TIMEOUT_MS + 1000);
  });

  it('forget() ends the tracking of a stalled peer the caller gave up', () => {
    const c = clock();
    const hb = new PeerHeartbeat(c.now);
    hb.heard('a');
    hb.bulk('a');
    for (let t = 0; t < PEER_TIMEOUT_MS + 500; t += 500) {
      c.advance(500);
      hb.expired();
    }
    expect(hb.stalled()).toEqual(['a']);
    hb.forget('a');
    expect(hb.stalled()).toEqual([]);
    expect(hb.lastHeardAt('a')).toBeNull();
  });
});
