import { describe, expect, it } from 'vitest';
import type { PeerInfo, PeerLeave } from './mesh-room';
import { MAX_UNLINKED_MEMBERS, MEMBER_TTL_MS, RoomMembers } from './room-members';

function setup() {
  let now = 1_000_000;
  const log: string[] = [];
  let last: PeerInfo[] = [];
  const members = new RoomMembers(
    'self',
    {
      join: m => log.push(`join ${m.id}${m.indirect ? ' indirect' : ''}`),
      leave: (m, l: PeerLeave) => log.push(`leave ${m.id} ${l.reason}`),
      change: list => (last = list),
    },
    () => now,
  );
  const peer = (id: string, name: string | null = null): PeerInfo => ({ id, name, rttMs: null, joinedAt: now });
  return { members, log, peer, advance: (ms: number) => (now += ms), list: () => last };
}

describe('RoomMembers', () => {
  it('in a full mesh mirrors the roster: a link up is a join, any link down a leave', () => {
    const { members, log, peer } = setup();
    members.linked(peer('a'));
    members.linked(peer('b'));
    members.unlinked('a', { reason: 'goodbye' }, false);
    members.unlinked('b', { reason: 'connection-lost' }, false);
    expect(log).toEqual(['join a', 'join b', 'leave a goodbye', 'leave b connection-lost']);
    expect(members.size).toBe(0);
  });

  it('in a partial mesh keeps a page whose link the overlay closed, as indirect, until it is not heard of for the TTL', () => {
    const { members, log, peer, advance, list } = setup();
    members.linked(peer('a', 'Ann'));
    members.unlinked('a', { reason: 'goodbye' }, true);
    expect(log).toEqual(['join a']);
    expect(list()).toEqual([expect.objectContaining({ id: 'a', name: 'Ann', indirect: true, rttMs: null })]);
    advance(MEMBER_TTL_MS - 1000);
    members.heard('a', 'Ann', false, 1, false); // its beacon, forwarded
    advance(MEMBER_TTL_MS - 1000);
    members.sweep();
    expect(members.has('a')).toBe(true);
    advance(2000);
    members.sweep();
    expect(log).toEqual(['join a', 'leave a silent']);
  });

  it('a link lost without a goodbye is a leave even in a partial mesh; the page comes back with its next beacon', () => {
    const { members, log, peer } = setup();
    members.linked(peer('a', 'Ann'));
    members.unlinked('a', { reason: 'connection-lost' }, true);
    members.heard('a', 'Ann', false, 1, false);
    expect(log).toEqual(['join a', 'leave a connection-lost', 'join a indirect']);
  });

  it("a bye is a leave at once; the link's goodbye, a neighbour's snapshot or a late copy of an older beacon do not bring the page back, a newer beacon does", () => {
    const { members, log, peer } = setup();
    members.linked(peer('a', 'Ann'));
    members.heard('a', 'Ann', false, 4, true);
    members.heard('a', 'Ann', true, 5, true);
    members.unlinked('a', { reason: 'goodbye' }, true);
    members.addSnapshot([['a', 'Ann', 0]]);
    members.heard('a', 'Ann', false, 3, false);
    members.heard('a', 'Ann', false, 5, false);
    expect(log).toEqual(['join a', 'leave a goodbye']);
    expect(members.size).toBe(0);
    // The page stayed after all (its unload was cancelled): its next beacon lists it again.
    members.heard('a', 'Ann', false, 6, false);
    expect(log).toEqual(['join a', 'leave a goodbye', 'join a indirect']);
  });

  it('a forwarded bye for a page this page is linked to is ignored (the link says when it goes); a bye from the page itself is not', () => {
    const { members, log, peer } = setup();
    members.linked(peer('a', 'Ann'));
    members.heard('a', 'Ann', true, 9, false);
    expect(members.has('a')).toBe(true);
    members.heard('a', 'Ann', true, 9, true);
    expect(log).toEqual(['join a', 'leave a goodbye']);
  });

  it("takes a neighbour's snapshot as heard ageMs ago: an id never heard itself expires; this page and known ids are skipped", () => {
    const { members, log, peer, advance } = setup();
    members.linked(peer('n', 'Neighbour'));
    members.addSnapshot([
      ['self', 'Me', 0],
      ['n', 'Other name', 0],
      ['x', 'Xi', 40_000],
      ['y', null, 1000],
      ['old', 'Old', MEMBER_TTL_MS],
    ]);
    expect(log).toEqual(['join n', 'join x indirect', 'join y indirect']);
    advance(MEMBER_TTL_MS - 40_000 + 1);
    members.sweep();
    expect(log.slice(3)).toEqual(['leave x silent']);
    expect(members.has('y')).toBe(true);
  });

  it('a snapshot lists linked members as heard now, the freshest first, without the receiver, at most max', () => {
    const { members, peer, advance } = setup();
    members.heard('x', 'Xi', false, 1, false);
    advance(5000);
    members.linked(peer('n', 'N'));
    members.linked(peer('m', 'M'));
    expect(members.snapshot('m', 10)).toEqual([
      ['n', 'N', 0],
      ['x', 'Xi', 5000],
    ]);
    expect(members.snapshot('m', 1)).toEqual([['n', 'N', 0]]);
  });

  it('a beacon renames; something the member published keeps it listed but never adds a stranger', () => {
    const { members, log, list, advance } = setup();
    members.heard('x', 'Xi', false, 1, false);
    members.heard('x', 'Xena', false, 2, false);
    members.heard('x', 'Old name', false, 1, false);
    expect(list()[0].name).toBe('Xena');
    members.heardFrom('stranger');
    expect(members.has('stranger')).toBe(false);
    advance(MEMBER_TTL_MS - 1);
    members.heardFrom('x');
    advance(MEMBER_TTL_MS - 1);
    members.sweep();
    expect(log).toEqual(['join x indirect']);
  });

  it('lists linked members before indirect ones, and a page linked again is no longer indirect', () => {
    const { members, peer, list } = setup();
    members.heard('x', 'Xi', false, 1, false);
    members.linked(peer('a', 'Ann'));
    expect(list().map(m => m.id)).toEqual(['a', 'x']);
    members.linked(peer('x', null));
    expect(list().map(m => [m.id, m.name, m.indirect])).toEqual([
      ['x', 'Xi', undefined],
      ['a', 'Ann', undefined],
    ]);
  });

  it('bounds the members a forwarder can make up: unlinked ones stop at the cap, a bye for a page not listed is ignored, linked peers always get in', () => {
    const { members, peer } = setup();
    for (let i = 0; i < MAX_UNLINKED_MEMBERS + 50; i++) members.heard(`fake${i}`, 'X', false, 1, false);
    members.addSnapshot([['snap', 'S', 0]]);
    for (let i = 0; i < 500; i++) members.heard(`gone${i}`, 'X', true, 1, false);
    expect(members.size).toBe(MAX_UNLINKED_MEMBERS);
    expect(members.has('snap')).toBe(false);
    members.linked(peer('real', 'Real'));
    expect(members.has('real')).toBe(true);
  });
});
