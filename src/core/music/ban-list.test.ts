import { beforeAll, describe, expect, it } from 'vitest';
import { BanList, loadPatternEngine } from './ban-list';

// Patterns need the engine, loaded on demand (see ban-list-loading.test.ts for the list before it loaded).
beforeAll(() => loadPatternEngine());

describe('BanList words', () => {
  it('matches plain words case-insensitively anywhere in title, artist, album or file name', () => {
    const list = new BanList(['Nickel']);
    expect(list.size).toBe(1);
    expect(list.problems).toEqual([]);
    expect(list.matches({ title: 'The NICKELBACK Song' })).toBe(true);
    expect(list.matches({ artist: 'nickelback' })).toBe(true);
    expect(list.matches({ album: 'Best of Nickel' })).toBe(true);
    expect(list.matches({ fileName: 'x-nickel.mp3' })).toBe(true);
    expect(list.matches({ title: 'Nick El', artist: 'Someone', album: 'Else', fileName: 'a.mp3' })).toBe(false);
    expect(list.matches({})).toBe(false);
  });

  it('ignores blank entries and trims the others', () => {
    const list = new BanList(['', '   ', '  jazz  ']);
    expect(list.size).toBe(1);
    expect(list.matches({ title: 'Smooth Jazz' })).toBe(true);
    expect(list.matches({ title: 'Smooth' })).toBe(false);
  });

  it('matches nothing when empty', () => {
    const list = new BanList([]);
    expect(list.size).toBe(0);
    expect(list.matches({ title: 'anything', artist: 'at', album: 'all', fileName: 'x.mp3' })).toBe(false);
  });
});

describe('BanList patterns', () => {
  it('runs /regex/ case-sensitively and /regex/i case-insensitively', () => {
    const sensitive = new BanList(['/^Live at/']);
    expect(sensitive.problems).toEqual([]);
    expect(sensitive.size).toBe(1);
    expect(sensitive.matches({ title: 'Live at Wembley' })).toBe(true);
    expect(sensitive.matches({ title: 'live at Wembley' })).toBe(false);
    expect(sensitive.matches({ title: 'Alive at Wembley' })).toBe(false);

    const insensitive = new BanList(['/^live at/i']);
    expect(insensitive.problems).toEqual([]);
    expect(insensitive.matches({ album: 'LIVE AT Wembley' })).toBe(true);
    expect(insensitive.matches({ album: 'Alive at Wembley' })).toBe(false);
  });

  it('applies patterns to every field, including the file name', () => {
    const list = new BanList(['/\\.wav$/i']);
    expect(list.matches({ title: 'x', fileName: 'take-3.WAV' })).toBe(true);
    expect(list.matches({ title: 'take.wav backup', fileName: 'take-3.mp3' })).toBe(false);
  });

  it('reports unsupported flags in plain words and ignores the entry', () => {
    const entries = ['/x/g', '/x/m', '/x/gi', '/x/u'];
    let list!: BanList;
    expect(() => (list = new BanList([...entries, 'keep']))).not.toThrow();
    expect(list.size).toBe(1);
    expect(list.problems.map(p => p.entry)).toEqual(entries);
    for (const p of list.problems) {
      expect(p.message).toContain(p.entry);
      expect(p.message).toMatch(/flags/);
      expect(p.message).toMatch(/ignored/);
    }
    expect(list.matches({ title: 'x' })).toBe(false);
    expect(list.matches({ title: 'keep me' })).toBe(true);
  });

  it('reports invalid patterns (including syntax RE2 does not support) and ignores them, never throwing', () => {
    const bad = ['/[unclosed/', '/(open/', '/a**/', '/(a)\\1/', '/(?=look)ahead/'];
    let list!: BanList;
    expect(() => (list = new BanList([...bad, '/ok/']))).not.toThrow();
    expect(list.size).toBe(1);
    expect(list.problems.map(p => p.entry)).toEqual(bad);
    for (const p of list.problems) {
      expect(p.message).toContain(p.entry);
      expect(p.message).toMatch(/not a valid pattern/);
      expect(p.message).toMatch(/ignored/);
    }
    expect(list.matches({ title: 'ok' })).toBe(true);
    expect(list.matches({ title: '[unclosed' })).toBe(false);
  });

  it('answers a catastrophic-backtracking pattern quickly (linear-time engine)', () => {
    const list = new BanList(['/(a+)+$/']);
    expect(list.problems).toEqual([]);
    expect(list.matches({ title: 'aaaa' })).toBe(true); // also warms the engine up
    // A backtracking engine needs ~2^n steps on this; it would not finish for n = 40, let alone 2 000.
    const evil = 'a'.repeat(2_000) + 'b';
    const started = performance.now();
    const result = list.matches({ title: evil, fileName: evil });
    const elapsed = performance.now() - started;
    expect(result).toBe(false);
    expect(elapsed).toBeLessThan(1000); // generous: a behaviour check, not a benchmark
  });
});

describe('BanList.parse', () => {
  it('splits on new lines and commas', () => {
    const list = BanList.parse('rock, pop\r\njazz\n\n  ,  \nmetal,');
    expect(list.size).toBe(4);
    expect(list.problems).toEqual([]);
    for (const title of ['Rock On', 'K-Pop', 'JAZZ', 'metal']) expect(list.matches({ title }), title).toBe(true);
    expect(list.matches({ title: 'blues' })).toBe(false);
  });

  it('keeps a pattern containing a comma whole on its own line', () => {
    const list = BanList.parse('/a,b/\n/x{1,3}y/i');
    expect(list.problems).toEqual([]);
    expect(list.size).toBe(2);
    expect(list.matches({ title: 'a,b' })).toBe(true);
    expect(list.matches({ title: 'a' })).toBe(false);
    expect(list.matches({ title: 'b' })).toBe(false);
    expect(list.matches({ title: 'XXY' })).toBe(true);
  });

  // Bug: BanList.parse only keeps a line whole when the line *starts* with '/', and otherwise
  // splits it on every comma, so the documented "commas outside /…/" rule does not hold when
  // a pattern shares a line with other entries.
  it('keeps a comma pattern whole when it follows a word on the same line', () => {
    const list = BanList.parse('rock, /a,b/');
    expect(list.problems).toEqual([]);
    expect(list.size).toBe(2);
    expect(list.matches({ title: 'a,b' })).toBe(true);
    expect(list.matches({ title: 'b/ side' })).toBe(false);
  });

  it('splits a word off a line that starts with a pattern', () => {
    const list = BanList.parse('/a,b/, rock');
    expect(list.problems).toEqual([]);
    expect(list.size).toBe(2);
    expect(list.matches({ title: 'Rock' })).toBe(true);
    expect(list.matches({ title: 'a,b' })).toBe(true);
  });

  it('reports problems from parsed text without throwing', () => {
    let list!: BanList;
    expect(() => (list = BanList.parse('/[bad/\n/x/g\ngood'))).not.toThrow();
    expect(list.size).toBe(1);
    expect(list.problems.map(p => p.entry)).toEqual(['/[bad/', '/x/g']);
  });
});
