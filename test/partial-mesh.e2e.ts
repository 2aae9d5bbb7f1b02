import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Page } from 'playwright-core';
import { openLabPage, startWorld, uniqueRoom, type World } from './harness/browser.mjs';

/**
 * The partial mesh in real Chromium pages over the local relay (src/core/overlay through
 * src/core/mesh/partial-mesh.ts and the patched Trystero's admitPeer / connectTo): twelve core lab
 * pages with an active view of 3 (between 2 and 4, at most 5 connections), so most pairs are not
 * connected and messages must be forwarded.
 */
const PARTIAL = { activeTarget: 3, activeMin: 2, activeMax: 4, maxLinks: 5 };

interface PageState {
  id: string;
  connections: number;
  neighbors: string[];
}

const state = async (page: Page): Promise<PageState> =>
  page.evaluate(() => ({ id: (window as any).lab.selfId(), connections: (window as any).lab.connectionCount(), neighbors: (window as any).lab.overlay().neighbors }));

/** How many of `states` a walk over the neighbour lists reaches from the first. */
function reachable(states: PageState[]): number {
  const byId = new Map(states.map(s => [s.id, s]));
  const seen = new Set([states[0].id]);
  const queue = [states[0]];
  while (queue.length) {
    for (const n of queue.shift()!.neighbors) {
      const next = byId.get(n);
      if (next && !seen.has(n)) {
        seen.add(n);
        queue.push(next);
      }
    }
  }
  return seen.size;
}

describe('partial mesh: twelve pages, three neighbours each', () => {
  let world: World;
  let pages: Page[] = [];
  /** The highest connection count any page had at any sample. */
  let mostConnections = 0;
  let sampler: ReturnType<typeof setInterval> | undefined;

  beforeAll(async () => {
    world = await startWorld();
    const room = uniqueRoom('partial');
    for (let i = 0; i < 12; i++) pages.push(await openLabPage(world, room, { partialMesh: PARTIAL }));
    sampler = setInterval(() => {
      for (const p of pages) void p.evaluate(() => (window as any).lab.connectionCount()).then((n: number) => (mostConnections = Math.max(mostConnections, n)), () => undefined);
    }, 250);
    // Formed: one overlay (every page reachable from every other over neighbour links) and every
    // page past its join (at least activeMin neighbours: the last page in is reachable through its
    // contact before its other neighbours' links open, a second or so later).
    await vi.waitFor(
      async () => {
        const states = await Promise.all(pages.map(state));
        expect(reachable(states)).toBe(12);
        for (const s of states) expect(s.neighbors.length).toBeGreaterThanOrEqual(PARTIAL.activeMin);
      },
      { timeout: 60_000, interval: 500 },
    );
  });

  afterAll(async () => {
    clearInterval(sampler);
    await world?.stop();
  });

  it('holds a few connections per page, never more than the cap, and is not a full mesh', async () => {
    const states = await Promise.all(pages.map(state));
    for (const s of states) {
      expect(s.connections).toBeLessThanOrEqual(PARTIAL.maxLinks);
      expect(s.neighbors.length).toBeGreaterThanOrEqual(PARTIAL.activeMin);
      expect(s.neighbors.length).toBeLessThanOrEqual(PARTIAL.activeMax);
    }
    expect(mostConnections).toBeLessThanOrEqual(PARTIAL.maxLinks);
    // A full mesh of 12 would be 11 per page.
    expect(states.reduce((n, s) => n + s.connections, 0) / states.length).toBeLessThan(6);
  });

  it('delivers a message sent on any page to all twelve, exactly once, through pages that are not connected to it', async () => {
    const senders = [0, 5, 11];
    for (const i of senders) await pages[i].evaluate(id => (window as any).lab.flood(id, 'hello'), `m${i}`);
    for (const [j, page] of pages.entries()) {
      const expected = Object.fromEntries(senders.filter(i => i !== j).map(i => [`m${i}`, 1]));
      await expect.poll(() => page.evaluate(() => (window as any).lab.floodReceived()), { timeout: 10_000 }).toEqual(expected);
    }
    // Most pages got most messages from pages they are not connected to: forwarding did the work.
    const states = await Promise.all(pages.map(state));
    const direct = senders.reduce((n, i) => n + states[i].neighbors.length, 0);
    expect(direct).toBeLessThan(senders.length * 11);
  });

  it('heals when 4 pages close at once: the other 8 are one overlay again within 10 s and still all get messages', async () => {
    const closing = pages.slice(0, 4);
    const closedIds = await Promise.all(closing.map(p => p.evaluate(() => (window as any).lab.selfId() as string)));
    pages = pages.slice(4);
    await Promise.all(closing.map(p => p.context().close()));
    const closedAt = Date.now();
    // Healed: one overlay of 8, no page still counting a closed one as a neighbour, each back to ≥ activeMin neighbours.
    const healed = async () => {
      const states = await Promise.all(pages.map(state));
      const live = new Set(states.map(s => s.id));
      return reachable(states) === 8 && states.every(s => s.neighbors.every(n => live.has(n)) && s.neighbors.length >= PARTIAL.activeMin);
    };
    try {
      await vi.waitFor(async () => expect(await healed()).toBe(true), { timeout: 10_000, interval: 250 });
      expect(Date.now() - closedAt).toBeLessThan(10_000);
      for (const s of await Promise.all(pages.map(state))) for (const id of closedIds) expect(s.neighbors).not.toContain(id);
      await pages[2].evaluate(() => (window as any).lab.flood('after', 'still here'));
      for (const [j, page] of pages.entries()) {
        if (j === 2) continue;
        await expect.poll(() => page.evaluate(() => (window as any).lab.floodReceived().after), { timeout: 10_000 }).toBe(1);
      }
      for (const s of await Promise.all(pages.map(state))) expect(s.connections).toBeLessThanOrEqual(PARTIAL.maxLinks);
    } catch (error) {
      // Keep the evidence of any failure: every page's state and its recent mesh/overlay events.
      const states = await Promise.all(pages.map(state));
      const logs = await Promise.all(pages.map(p => p.evaluate(() => (window as any).lab.events().slice(-30))));
      console.error(`[partial-mesh] failed ${Date.now() - closedAt} ms after closing`, closedIds, '\n' + states.map((s, i) => `${JSON.stringify(s)}\n  ${logs[i].join('\n  ')}`).join('\n'));
      throw error;
    }
  });
});
