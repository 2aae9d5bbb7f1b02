import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PartialMesh, TEMP_IDLE_MS, type PartialMeshHost } from './partial-mesh';

/** A PartialMesh over a fake host: records what it asks of Trystero and of the links. */
function setup() {
  const linked = new Set<string>();
  const calls: string[] = [];
  const pushes: string[] = [];
  const host: PartialMeshHost = {
    selfId: 'self',
    connectTo: async (peerId, hint) => {
      calls.push(`connect ${peerId} ${hint}`);
      return true;
    },
    isLinked: peerId => linked.has(peerId),
    closePeer: peerId => calls.push(`close ${peerId}`),
    sendView: (peerId, message) => calls.push(`view ${peerId} ${message.t}`),
    sendPush: (peerId, message) => pushes.push(`${peerId} ${message.t}`),
    penalise: () => undefined,
    check: () => true,
    deliver: () => undefined,
  };
  // Active view 2 (1–2), at most 3 links in all.
  const mesh = new PartialMesh(host, { activeTarget: 2, activeMin: 1, activeMax: 2, maxLinks: 3 });
  const up = (peerId: string) => {
    linked.add(peerId);
    mesh.linkUp(peerId);
  };
  const down = (peerId: string) => {
    linked.delete(peerId);
    mesh.linkDown(peerId);
  };
  return { mesh, calls, pushes, up, down };
}

describe('PartialMesh temporary links (a transfer with a page that is not a neighbour)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('admits a temp link from a page asking for one and keeps it out of the overlay: no join or neighbour request goes over it', () => {
    const { mesh, calls, up } = setup();
    expect(mesh.admit('holder', 'temp', 'offer')).toBe(true);
    up('holder');
    vi.advanceTimersByTime(1000);
    expect(mesh.temporaryLinks()).toEqual(['holder']);
    expect(calls.filter(c => c.startsWith('view holder'))).toEqual([]);
    expect(mesh.neighbors()).toEqual([]);
    mesh.stop();
  });

  it('counts temp links in the cap on both sides: past it, none is opened or admitted', () => {
    const { mesh, calls } = setup();
    for (const id of ['a', 'b', 'c']) expect(mesh.openTemporary(id)).toBe(true);
    expect(calls.filter(c => c.startsWith('connect'))).toEqual(['connect a temp', 'connect b temp', 'connect c temp']);
    expect(mesh.openTemporary('d')).toBe(false);
    expect(mesh.admit('e', 'temp', 'offer')).toBe(false);
    expect(mesh.admit('f', 'join', 'announce')).toBe(false);
    mesh.stop();
  });

  it(`closes a temp link once nothing has come over its bulk channels for ${TEMP_IDLE_MS / 1000} s; use keeps it open`, () => {
    const { mesh, calls, up, down } = setup();
    mesh.openTemporary('holder');
    up('holder');
    vi.advanceTimersByTime(TEMP_IDLE_MS - 5000);
    mesh.linkUsed('holder');
    vi.advanceTimersByTime(TEMP_IDLE_MS - 1000);
    expect(calls).not.toContain('close holder');
    vi.advanceTimersByTime(10_000);
    expect(calls).toContain('close holder');
    down('holder');
    expect(mesh.temporaryLinks()).toEqual([]);
    mesh.stop();
  });

  it('a temp link the overlay then wants as a neighbour becomes one, without a second connection', () => {
    const { mesh, calls, up } = setup();
    expect(mesh.admit('holder', 'temp', 'offer')).toBe(true);
    up('holder');
    // The page is alone: membership looks for neighbours among the pages it knows, and finds the temp link.
    mesh.membership.addKnown(['holder']);
    vi.advanceTimersByTime(2000);
    expect(mesh.temporaryLinks()).toEqual([]);
    expect(calls.filter(c => c.startsWith('connect holder'))).toEqual([]);
    expect(calls.some(c => /^view holder (join|neighbor)$/.test(c))).toBe(true);
    mesh.stop();
  });
});

describe('PartialMesh link cap (connections admitted or asked for count before they open)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('admissions whose links have not opened yet count against the cap', () => {
    const { mesh, up } = setup();
    // Three newcomers ask to join within the same moment: each admission holds a place at once.
    expect(['a', 'b', 'c'].map(id => mesh.admit(id, 'join', 'announce'))).toEqual([true, true, true]);
    expect(mesh.admit('d', 'join', 'announce')).toBe(false);
    expect(mesh.admit('e', 'high', 'offer')).toBe(false);
    // The offer that follows an admitted announcement is still let in.
    expect(mesh.admit('a', undefined, 'offer')).toBe(true);
    up('a');
    expect(mesh.admit('d', 'join', 'announce')).toBe(false);
    mesh.stop();
  });

  it('an admitted peer that never connects frees its place after 10 s', () => {
    const { mesh } = setup();
    for (const id of ['a', 'b', 'c']) mesh.admit(id, 'join', 'announce');
    expect(mesh.admit('d', 'join', 'announce')).toBe(false);
    vi.advanceTimersByTime(10_001);
    expect(mesh.admit('d', 'join', 'announce')).toBe(true);
    mesh.stop();
  });

  it('a link that went down frees its place', () => {
    const { mesh, up, down } = setup();
    for (const id of ['a', 'b', 'c']) {
      mesh.admit(id, 'join', 'announce');
      up(id);
    }
    expect(mesh.admit('d', 'join', 'announce')).toBe(false);
    down('c');
    expect(mesh.admit('d', 'join', 'announce')).toBe(true);
    mesh.stop();
  });
});


describe('PartialMesh in a small room (every page it knows is a neighbour: a full mesh)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A page whose active view (2) holds the two pages it heard announce, `a` and `b`. */
  function neighboursAB() {
    const ctx = setup();
    for (const id of ['a', 'b']) {
      ctx.mesh.admit(id, undefined, 'announce');
      ctx.up(id);
      ctx.mesh.membership.receive(id, { v: 1, t: 'neighbor', priority: 'high' });
    }
    return ctx;
  }

  it('sends each message of ours straight to every neighbour, even those the tree made lazy', () => {
    const { mesh, pushes } = neighboursAB();
    expect(mesh.isFullMesh()).toBe(true);
    // Both neighbours prune this page's tree (each got an earlier message through the other).
    mesh.broadcast.receive('a', { v: 1, t: 'prune', origin: 'self' });
    mesh.broadcast.receive('b', { v: 1, t: 'prune', origin: 'self' });
    pushes.length = 0;
    mesh.publish('chat', '{}');
    expect(pushes.sort()).toEqual(['a gossip', 'b gossip']);
    mesh.stop();
  });

  it('goes back to the tree once the room outgrows one active view', () => {
    const { mesh, pushes } = neighboursAB();
    // A third page announces: three others do not fit in an active view of 2.
    mesh.admit('c', undefined, 'announce');
    expect(mesh.isFullMesh()).toBe(false);
    mesh.broadcast.receive('a', { v: 1, t: 'prune', origin: 'self' });
    pushes.length = 0;
    mesh.publish('chat', '{}');
    expect(pushes).toEqual(['b gossip']);
    mesh.stop();
  });
});
