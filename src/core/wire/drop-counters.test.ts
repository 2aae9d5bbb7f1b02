import { describe, expect, it } from 'vitest';
import { DROP_REASONS, DropCounters } from './drop-counters';

describe('DropCounters', () => {
  it('starts with zero accepted and a zero for every drop reason', () => {
    const s = new DropCounters().snapshot();
    expect(s.accepted).toBe(0);
    expect(Object.keys(s.dropped).sort()).toEqual([...DROP_REASONS].sort());
    for (const reason of DROP_REASONS) expect(s.dropped[reason]).toBe(0);
    expect(s.droppedByChannel).toEqual({});
  });

  it('lists each documented reason exactly once', () => {
    expect(new Set(DROP_REASONS).size).toBe(DROP_REASONS.length);
    expect([...DROP_REASONS].sort()).toEqual(['bad-frame', 'flood', 'malformed-json', 'not-binary', 'not-text', 'oversize', 'rate', 'schema', 'too-complex', 'unsolicited', 'bad-hash', 'invalid-forward', 'bad-hops', 'not-joined'].sort());
  });

  it('counts accepts and drops by reason and by channel:reason', () => {
    const c = new DropCounters();
    c.accept();
    c.accept();
    c.drop('chat', 'schema');
    c.drop('chat', 'schema');
    c.drop('chat', 'rate');
    c.drop('presence', 'schema');
    const s = c.snapshot();
    expect(s.accepted).toBe(2);
    expect(s.dropped).toEqual({ 'not-text': 0, oversize: 0, 'malformed-json': 0, 'too-complex': 0, schema: 3, rate: 1, flood: 0, 'not-binary': 0, 'bad-frame': 0, unsolicited: 0, 'bad-hash': 0, 'invalid-forward': 0, 'bad-hops': 0, 'not-joined': 0 });
    expect(s.droppedByChannel).toEqual({ 'chat:schema': 2, 'chat:rate': 1, 'presence:schema': 1 });
  });

  it('hands out snapshots that are copies, not live views', () => {
    const c = new DropCounters();
    c.drop('chat', 'oversize');
    const before = c.snapshot();
    before.dropped.oversize = 99;
    before.droppedByChannel['chat:oversize'] = 99;
    before.accepted = 99;
    c.drop('chat', 'oversize');
    c.accept();
    const after = c.snapshot();
    expect(after.accepted).toBe(1);
    expect(after.dropped.oversize).toBe(2);
    expect(after.droppedByChannel['chat:oversize']).toBe(2);
    // and the earlier snapshot did not move with the counters
    const first = new DropCounters();
    const frozen = first.snapshot();
    first.drop('x', 'rate');
    expect(frozen.dropped.rate).toBe(0);
    expect(frozen.droppedByChannel).toEqual({});
  });
});
