import { describe, expect, it } from 'vitest';
import { OverlaySimulation, overlayReport, SimPeer } from '../testing/overlay-simulator';
import { seededRandom } from '../testing/memory-network';

/** Adds `n` pages one after another over `overMs` of virtual time. */
function grow(sim: OverlaySimulation, n: number, overMs: number): SimPeer[] {
  const added: SimPeer[] = [];
  for (let i = 0; i < n; i++) {
    added.push(sim.addPeer());
    sim.run(overMs / n);
  }
  return added;
}

describe('partial mesh in the simulator (HyParView membership + Plumtree broadcast)', () => {
  it('a room of up to 7 pages is a full mesh: every page a neighbour of every other', () => {
    for (const n of [2, 3, 5, 7]) {
      const sim = new OverlaySimulation({ seed: n, loss: 0 });
      const peers = grow(sim, n, 3000);
      sim.run(10_000);
      for (const p of peers) expect([...p.membership.active].sort(), `room of ${n}, ${p.id}`).toEqual(peers.filter(q => q !== p).map(q => q.id).sort());
    }
  });

  it('100 pages with 10 % churn per minute: views in bounds at every step, ≥ 99.9 % delivered, p95 ≤ 1 s, p99 ≤ 2 s, p95 path ≤ 4 hops', () => {
    const sim = new OverlaySimulation({ seed: 11 });
    const views = sim.watchViews();
    grow(sim, 100, 30_000);
    sim.run(20_000);
    const pick = seededRandom(5);
    // Twenty authors, as in a busy chat: each one's first message builds its tree (a flood), the rest use it.
    const authors = sim.alive().slice(0, 20);
    for (const a of authors) {
      sim.publish(a);
      sim.run(250);
    }
    sim.run(5000);
    const linksBefore = sim.linksCreated;
    const from = sim.messages.length;
    sim.churn(0.1, 60_000);
    for (let i = 0; i < 120; i++) {
      const live = authors.filter(a => a.alive);
      sim.publish(live[Math.floor(pick() * live.length)]);
      sim.run(500);
    }
    sim.run(10_000);
    const report = overlayReport(sim, sim.messages.slice(from));
    expect(views.overMax).toBe(0);
    expect(views.overLinks).toBe(0);
    expect(views.longBelowMin).toBe(0);
    expect(report.reached).toBeGreaterThanOrEqual(0.999);
    expect(report.p95Ms).toBeLessThanOrEqual(1000);
    expect(report.p99Ms).toBeLessThanOrEqual(2000);
    expect(report.p95Hops).toBeLessThanOrEqual(4);
    expect(report.meanDuplicates).toBeLessThanOrEqual(1);
    // Churn replaced about 10 pages; the overlay repaired itself with a few links per page, not a full mesh's worth.
    expect((sim.linksCreated - linksBefore) / sim.alive().length).toBeLessThan(5);
    for (const p of sim.alive()) expect(p.links.size).toBeLessThanOrEqual(12);
  });

  it('a page that connects later gets what was broadcast before (announced on connect, pulled)', () => {
    const sim = new OverlaySimulation({ seed: 3, loss: 0 });
    const peers = grow(sim, 20, 5000);
    sim.run(10_000);
    const msg = sim.publish(peers[4]);
    sim.run(5000);
    const late = sim.addPeer();
    sim.run(10_000);
    expect(late.broadcast.has(msg.id)).toBe(true);
    for (const p of peers) if (p !== peers[4]) expect(p.broadcast.has(msg.id)).toBe(true);
  });

  it('closing 4 of 12 pages at once heals: the others are back in one overlay within 10 s', () => {
    const sim = new OverlaySimulation({ seed: 9, loss: 0, membership: { activeTarget: 3, activeMin: 2, activeMax: 4, maxLinks: 5 } });
    const peers = grow(sim, 12, 6000);
    sim.run(20_000);
    for (const p of peers.slice(0, 4)) sim.removePeer(p, false);
    sim.run(10_000);
    const live = peers.slice(4);
    // Connected: a walk over active views from one page reaches all.
    const seen = new Set([live[0].id]);
    const queue = [live[0]];
    while (queue.length) for (const n of queue.shift()!.membership.active) if (!seen.has(n)) {
      seen.add(n);
      queue.push(sim.peers.get(n)!);
    }
    expect(seen.size).toBe(8);
    const msg = sim.publish(live[3]);
    sim.run(3000);
    for (const p of live) if (p !== live[3]) expect(p.broadcast.has(msg.id)).toBe(true);
    for (const p of live) expect(p.links.size).toBeLessThanOrEqual(5);
  });

  it('is deterministic: the same seed gives the same run', () => {
    const run = () => {
      const sim = new OverlaySimulation({ seed: 21 });
      grow(sim, 30, 10_000);
      sim.run(5000);
      sim.publish(sim.alive()[2]);
      sim.run(3000);
      return JSON.stringify([overlayReport(sim), sim.traffic, sim.alive().map(p => [...p.membership.active])]);
    };
    expect(run()).toBe(run());
  });
});
