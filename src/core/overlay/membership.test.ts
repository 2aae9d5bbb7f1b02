import { describe, expect, it } from 'vitest';
import { Membership, MembershipOptions } from './membership';
import type { MembershipMessage } from '../wire/overlay-schemas';
import { manualTimers } from '../testing/manual-timers';

/** One Membership whose links are recorded, not simulated: the test plays the other side. */
function page(options: Partial<MembershipOptions> = {}) {
  const timers = manualTimers();
  const sent: { to: string; msg: MembershipMessage }[] = [];
  const connects: string[] = [];
  const closed: string[] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const m = new Membership('self', { connect: id => connects.push(id), close: id => closed.push(id), send: (to, msg) => sent.push({ to, msg }) }, { timers, random, ...options });
  const ups: string[] = [];
  const downs: string[] = [];
  m.on('neighborUp', id => ups.push(id));
  m.on('neighborDown', id => downs.push(id));
  return { m, timers, sent, connects, closed, ups, downs, of: (t: string) => sent.filter(s => s.msg.t === t) };
}

describe('Membership (HyParView)', () => {
  it('joins through the first contact that opens; the join reply fills the passive view', () => {
    const p = page();
    p.m.start(['c1', 'c2', 'c3']);
    expect(p.connects).toEqual(['c1']);
    p.m.linkUp('c1');
    expect(p.of('join')).toEqual([{ to: 'c1', msg: { v: 1, t: 'join' } }]);
    p.m.receive('c1', { v: 1, t: 'join-reply', peers: ['x1', 'x2', 'self'] });
    expect([...p.m.active]).toEqual(['c1']);
    expect(p.ups).toEqual(['c1']);
    expect(p.m.passive.has('x1') && p.m.passive.has('x2') && !p.m.passive.has('self')).toBe(true);
  });

  it('gives up an unanswered join after the reply timeout and tries the next contact', () => {
    const p = page();
    p.m.start(['c1', 'c2']);
    p.m.linkUp('c1');
    p.timers.advance(4100);
    expect(p.closed).toContain('c1');
    expect(p.connects).toContain('c2');
  });

  it('counts a link that never opens as failed after the connect timeout', () => {
    const p = page({ activeTarget: 1, activeMin: 1, activeMax: 2 });
    p.m.start([]);
    p.m.addKnown(['a']);
    p.timers.advance(1);
    expect(p.connects).toEqual(['a']);
    p.timers.advance(11_000);
    expect(p.m.stats.failedConnects).toBe(1);
    expect(p.m.isPending('a')).toBe(false);
  });

  it('adopts links it did not ask for (the browser): join on the first, neighbour requests after', () => {
    const p = page({ adoptLinks: true });
    p.m.start([]);
    p.m.linkUp('a');
    expect(p.of('join').map(s => s.to)).toEqual(['a']);
    p.m.receive('a', { v: 1, t: 'join-reply', peers: [] });
    p.m.linkUp('b');
    expect(p.of('neighbor')).toEqual([{ to: 'b', msg: { v: 1, t: 'neighbor', priority: 'high' } }]);
  });

  it('accepts a high-priority neighbour when full by evicting one (told with disconnect), refuses a low one', () => {
    const p = page({ activeTarget: 2, activeMin: 1, activeMax: 2, maxLinks: 4 });
    p.m.start([]);
    for (const id of ['a', 'b']) {
      p.m.linkUp(id);
      p.m.receive(id, { v: 1, t: 'neighbor', priority: 'low' });
    }
    expect(p.m.active.size).toBe(2);
    p.m.linkUp('c');
    p.m.receive('c', { v: 1, t: 'neighbor', priority: 'low' });
    expect(p.sent.at(-1)).toEqual({ to: 'c', msg: { v: 1, t: 'neighbor-reply', accept: false } });
    expect(p.m.active.has('c')).toBe(false);
    p.m.linkUp('d');
    p.m.receive('d', { v: 1, t: 'neighbor', priority: 'high' });
    expect(p.m.active.has('d')).toBe(true);
    expect(p.m.active.size).toBe(2);
    expect(p.of('disconnect')).toHaveLength(1);
    expect(p.downs).toHaveLength(1);
  });

  it('counts neighbour requests still opening against maxLinks: it never asks for more links than the cap', () => {
    // Two links held outside the overlay (temporary transfer links in the browser), a cap of 4.
    const p = page({ activeTarget: 3, activeMin: 3, activeMax: 4, maxLinks: 4, adoptLinks: true, otherLinks: () => 2 });
    p.m.start([]);
    p.m.linkUp('a');
    p.m.receive('a', { v: 1, t: 'join-reply', peers: ['b', 'c', 'd', 'e', 'f'] });
    // Short of neighbours, it asks passive ids at once; none of their links is up yet: one place is left.
    p.timers.advance(1000);
    expect(p.connects).toHaveLength(1);
    expect(p.m.committedLinks + 2).toBe(4);
  });

  it('a forward-join that ends at a full page keeps the newcomer as passive instead of linking', () => {
    const p = page({ activeTarget: 1, activeMin: 1, activeMax: 1, maxLinks: 2 });
    p.m.start([]);
    p.m.linkUp('a');
    p.m.receive('a', { v: 1, t: 'neighbor', priority: 'low' });
    p.m.receive('a', { v: 1, t: 'forward-join', peer: 'newcomer', ttl: 0 });
    expect(p.connects).toEqual([]);
    expect(p.m.passive.has('newcomer')).toBe(true);
  });

  it('replaces a lost neighbour from the passive view at once', () => {
    const p = page({ activeTarget: 2, activeMin: 1, activeMax: 3 });
    p.m.start([]);
    for (const id of ['a', 'b']) {
      p.m.linkUp(id);
      p.m.receive(id, { v: 1, t: 'neighbor', priority: 'low' });
    }
    p.m.addKnown(['spare']);
    p.m.linkDown('a');
    p.timers.advance(1);
    expect(p.connects).toEqual(['spare']);
  });

  it('ignores messages over a link it does not know and never lists itself', () => {
    const p = page();
    p.m.start([]);
    p.m.receive('stranger', { v: 1, t: 'join' });
    expect(p.m.active.size).toBe(0);
    p.m.addKnown(['self']);
    expect(p.m.passive.has('self')).toBe(false);
  });
});
