import { describe, expect, it } from 'vitest';
import { Broadcast, BroadcastValidator } from './broadcast';
import { broadcastMessage, BroadcastMessage, MAX_BROADCAST_HOPS } from '../wire/overlay-schemas';
import { DropCounters, InboundValidator } from '../wire';
import { manualTimers } from '../testing/manual-timers';

function node(id: string, validate?: BroadcastValidator, timers = manualTimers()) {
  const sent: { to: string; msg: BroadcastMessage }[] = [];
  const penalties: { peer: string; reason: string }[] = [];
  const delivered: string[] = [];
  const b = new Broadcast(id, { send: (to, msg) => sent.push({ to, msg }), penalise: (peer, reason) => penalties.push({ peer, reason }) }, { timers, ...(validate ? { validate } : {}) });
  b.on('deliver', m => delivered.push(`${m.id}:${m.body}@${m.from}`));
  return { b, sent, penalties, delivered, timers };
}

const gossip = (id: string, body: string, hops = 2, origin = 'author'): BroadcastMessage => ({ v: 1, t: 'gossip', topic: 'chat', id, origin, hops, body });

describe('Broadcast (Plumtree) against bad neighbours', () => {
  it('a forwarder whose copy fails the topic check is penalised; its copy is neither delivered nor forwarded; the genuine copy still is', () => {
    const c = node('c', (_topic, body) => body === 'genuine');
    for (const n of ['forger', 'honest', 'other']) c.b.neighborUp(n);
    c.b.receive('forger', gossip('m1', 'forged'));
    expect(c.penalties).toEqual([{ peer: 'forger', reason: 'invalid-forward' }]);
    expect(c.delivered).toEqual([]);
    expect(c.sent.filter(s => s.msg.t === 'gossip')).toEqual([]);
    c.b.receive('honest', gossip('m1', 'genuine'));
    expect(c.delivered).toEqual(['m1:genuine@honest']);
    expect(c.sent.filter(s => s.msg.t === 'gossip').map(s => s.to).sort()).toEqual(['forger', 'other']);
  });

  it('with an async check, copies that race the first are held; when the first is forged the next is checked and delivered once', async () => {
    let resolveFirst!: (ok: boolean) => void;
    const c = node('c', (_t, body) => (body === 'forged' ? new Promise<boolean>(r => (resolveFirst = r)) : Promise.resolve(true)));
    for (const n of ['forger', 'honest', 'late']) c.b.neighborUp(n);
    c.b.receive('forger', gossip('m1', 'forged'));
    c.b.receive('honest', gossip('m1', 'genuine'));
    c.b.receive('late', gossip('m1', 'genuine'));
    resolveFirst(false);
    await new Promise(r => setTimeout(r, 0));
    expect(c.penalties.map(p => p.peer)).toEqual(['forger']);
    expect(c.delivered).toEqual(['m1:genuine@honest']);
    // The third copy is a duplicate: its sender is pruned for this origin.
    expect(c.sent.filter(s => s.msg.t === 'prune').map(s => s.to)).toEqual(['late']);
  });

  it("an urgent publish (a page's last words) is pushed to every neighbour at once, lazy ones included", () => {
    const me = node('me');
    for (const n of ['a', 'b', 'c']) me.b.neighborUp(n);
    me.b.publish('chat', 'me:1', 'first');
    // b and c prune this page's tree (they got the first message through a shorter way).
    me.b.receive('b', { v: 1, t: 'prune', origin: 'me' });
    me.b.receive('c', { v: 1, t: 'prune', origin: 'me' });
    me.sent.length = 0;
    me.b.publish('chat', 'me:2', 'second');
    expect(me.sent.filter(s => s.msg.t === 'gossip').map(s => s.to)).toEqual(['a']);
    me.sent.length = 0;
    me.b.publish('chat', 'me:3', 'bye', true);
    expect(me.sent.filter(s => s.msg.t === 'gossip').map(s => s.to).sort()).toEqual(['a', 'b', 'c']);
    expect(me.sent.every(s => s.msg.t !== 'gossip' || s.msg.hops === 1)).toBe(true);
  });

  it('a duplicate prunes the link it came over; a graft puts it back and is answered from the cache', () => {
    const c = node('c');
    for (const n of ['a', 'b']) c.b.neighborUp(n);
    c.b.receive('a', gossip('m1', 'x'));
    c.b.receive('b', gossip('m1', 'x'));
    expect(c.delivered).toHaveLength(1);
    expect(c.sent.filter(s => s.msg.t === 'prune')).toEqual([{ to: 'b', msg: { v: 1, t: 'prune', origin: 'author' } }]);
    expect(c.b.eagerPeers('author')).toEqual(['a']);
    c.sent.length = 0;
    c.b.receive('b', { v: 1, t: 'graft', origin: 'author', ids: ['m1'] });
    expect(c.b.eagerPeers('author').sort()).toEqual(['a', 'b']);
    expect(c.sent).toEqual([{ to: 'b', msg: gossip('m1', 'x', 3) }]);
  });

  it('an announced message that does not arrive is pulled from the announcer after the graft timeout', () => {
    const c = node('c');
    for (const n of ['a', 'b']) c.b.neighborUp(n);
    c.b.receive('b', { v: 1, t: 'ihave', ids: [['m9', 'author', 2]] });
    c.timers.advance(149);
    expect(c.sent.filter(s => s.msg.t === 'graft')).toEqual([]);
    c.timers.advance(1);
    expect(c.sent.filter(s => s.msg.t === 'graft')).toEqual([{ to: 'b', msg: { v: 1, t: 'graft', origin: 'author', ids: ['m9'] } }]);
  });

  it('hop counts: 0 from a neighbour is penalised, the bound is delivered but not forwarded, above it the wire refuses', () => {
    const c = node('c');
    for (const n of ['a', 'b']) c.b.neighborUp(n);
    c.b.receive('a', gossip('m1', 'x', 0));
    expect(c.penalties).toEqual([{ peer: 'a', reason: 'bad-hops' }]);
    c.b.receive('a', gossip('m2', 'x', MAX_BROADCAST_HOPS));
    expect(c.delivered).toEqual(['m2:x@a']);
    c.timers.advance(1000);
    expect(c.sent.filter(s => s.msg.t === 'gossip' || s.msg.t === 'ihave')).toEqual([]);
    const validator = new InboundValidator(broadcastMessage, new DropCounters());
    expect(validator.check(JSON.stringify(gossip('m3', 'x', MAX_BROADCAST_HOPS + 1)), 'a')).toEqual({ ok: false, reason: 'schema' });
  });

  it('bounds what announcements can make it track (a flood of ihave for messages that never come)', () => {
    const timers = manualTimers();
    const sent: unknown[] = [];
    const c = new Broadcast('c', { send: (to, msg) => sent.push([to, msg]), penalise: () => undefined }, { timers, maxMissing: 10 });
    c.neighborUp('flooder');
    c.receive('flooder', { v: 1, t: 'ihave', ids: Array.from({ length: 50 }, (_, i) => [`x${i}`, 'author', 1] as [string, string, number]) });
    timers.advance(5000);
    expect(sent.filter(s => (s as [string, BroadcastMessage])[1].t === 'graft')).toHaveLength(10);
  });

  it('ignores messages from a page that is not a neighbour', () => {
    const c = node('c');
    c.b.receive('stranger', gossip('m1', 'x'));
    expect(c.delivered).toEqual([]);
  });
});

describe('Broadcast catch-up for a neighbour that connects', () => {
  it('announces cached messages to a new neighbour, except those of topics whose feature syncs new peers itself', () => {
    const timers = manualTimers();
    const sent: { to: string; msg: BroadcastMessage }[] = [];
    const b = new Broadcast('me', { send: (to, msg) => sent.push({ to, msg }), penalise: () => undefined }, { timers, replayOnConnect: topic => topic !== 'chat' });
    b.neighborUp('a');
    b.publish('chat', 'me:1', 'a line that may be burnt or retracted later');
    b.publish('room-presence', 'me:2', 'here');
    b.neighborUp('newcomer');
    timers.advance(300);
    const announced = sent.filter(s => s.to === 'newcomer' && s.msg.t === 'ihave').flatMap(s => (s.msg.t === 'ihave' ? s.msg.ids.map(([id]) => id) : []));
    expect(announced).toEqual(['me:2']);
  });
});
