import { describe, expect, it } from 'vitest';
import { HaveMap } from './have-map';

describe('HaveMap', () => {
  it('starts empty', () => {
    const m = new HaveMap(10);
    expect(m.size).toBe(0);
    expect(m.complete).toBe(false);
    expect(m.bits).toHaveLength(2);
    expect(m.missing()).toEqual([...Array(10).keys()]);
    for (let i = 0; i < 10; i++) expect(m.has(i)).toBe(false);
  });

  it('adds, reports and deletes chunks, counting each once', () => {
    const m = new HaveMap(10);
    expect(m.add(3)).toBe(true);
    expect(m.add(3)).toBe(false);
    expect(m.add(9)).toBe(true);
    expect(m.has(3)).toBe(true);
    expect(m.has(9)).toBe(true);
    expect(m.has(4)).toBe(false);
    expect(m.size).toBe(2);
    m.delete(3);
    m.delete(3);
    m.delete(4); // not held: no change
    expect(m.has(3)).toBe(false);
    expect(m.size).toBe(1);
    expect(m.missing()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('sets bit i most significant bit first', () => {
    const m = new HaveMap(16);
    m.add(0);
    m.add(7);
    m.add(9);
    expect([...m.bits]).toEqual([0b1000_0001, 0b0100_0000]);
  });

  it('is complete when every chunk is held, and not after one is deleted', () => {
    const m = new HaveMap(3);
    m.add(0);
    m.add(1);
    expect(m.complete).toBe(false);
    m.add(2);
    expect(m.complete).toBe(true);
    expect(m.missing()).toEqual([]);
    m.delete(1);
    expect(m.complete).toBe(false);
  });

  it('full() holds everything', () => {
    const m = HaveMap.full(13);
    expect(m.size).toBe(13);
    expect(m.complete).toBe(true);
    expect([...m.bits]).toEqual([0xff, 0b1111_1000]);
  });

  it('ignores out-of-range indices', () => {
    const m = new HaveMap(10);
    expect(m.add(-1)).toBe(false);
    expect(m.add(10)).toBe(false);
    expect(m.add(1000)).toBe(false);
    expect(m.has(-1)).toBe(false);
    expect(m.has(10)).toBe(false);
    m.delete(-1);
    m.delete(10);
    expect(m.size).toBe(0);
    expect([...m.bits]).toEqual([0, 0]);
    // bit 10 would fall in the padding of byte 1: it must stay clear
    const full = HaveMap.full(10);
    expect(full.add(10)).toBe(false);
    expect(full.has(10)).toBe(false);
    expect(full.size).toBe(10);
  });

  it.each([1, 7, 8, 9, 16, 1000])('round-trips encode/decode with %i chunks', count => {
    const m = new HaveMap(count);
    for (let i = 0; i < count; i += 3) m.add(i);
    m.add(count - 1);
    const text = m.encode();
    expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
    const back = HaveMap.decode(count, text);
    expect(back.count).toBe(count);
    expect(back.size).toBe(m.size);
    expect([...back.bits]).toEqual([...m.bits]);
    for (let i = 0; i < count; i++) expect(back.has(i)).toBe(m.has(i));
  });

  it('round-trips a full and an empty map', () => {
    expect(HaveMap.decode(20, HaveMap.full(20).encode()).complete).toBe(true);
    expect(HaveMap.decode(20, new HaveMap(20).encode()).size).toBe(0);
  });

  it.each([['!!!!'], ['abc+/='], ['A'], ['é'], ['a b']])('decodes garbage %j to an empty map', garbage => {
    const m = HaveMap.decode(12, garbage);
    expect(m.count).toBe(12);
    expect(m.size).toBe(0);
    expect([...m.bits]).toEqual([0, 0]);
  });

  it('clears padding bits a peer set', () => {
    // 10 chunks: byte 1 holds chunks 8, 9 in its top bits; the low 6 bits are padding
    const m = new HaveMap(10, new Uint8Array([0x00, 0xff]));
    expect(m.bits[1]).toBe(0b1100_0000);
    expect(m.size).toBe(2);
    expect(m.has(8)).toBe(true);
    expect(m.has(9)).toBe(true);
    const decoded = HaveMap.decode(10, new HaveMap(16, new Uint8Array([0xff, 0xff])).encode());
    expect(decoded.size).toBe(10);
    expect(decoded.complete).toBe(true);
    expect(decoded.bits[1]).toBe(0b1100_0000);
  });

  it('ignores bytes beyond the map and keeps a short bitfield as given', () => {
    const long = new HaveMap(8, new Uint8Array([0b1010_0000, 0xff, 0xff]));
    expect(long.bits).toHaveLength(1);
    expect(long.size).toBe(2);
    const short = new HaveMap(24, new Uint8Array([0xff]));
    expect(short.size).toBe(8);
    expect(short.has(8)).toBe(false);
  });

  it('does not share the bitfield it was given', () => {
    const given = new Uint8Array([0x80]);
    const m = new HaveMap(8, given);
    given[0] = 0xff;
    expect(m.size).toBe(1);
    expect(m.has(1)).toBe(false);
  });
});
