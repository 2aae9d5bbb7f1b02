import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentLine, LyricLine, MAX_LRC_LENGTH, parseLrc } from './lyrics';

const fixture = readFileSync(new URL('../../../test/fixtures/audio/morning-tone.lrc', import.meta.url), 'utf8');

describe('parseLrc', () => {
  it('parses the committed .lrc: five timed lines in order, tags skipped', () => {
    const lines = parseLrc(fixture);
    expect(lines.map(l => l.time)).toEqual([0.5, 2, 4, 8, 30]);
    expect(lines[0].text).toBe('First line, at half a second');
    expect(lines[4].text).toBe('Halfway there');
    expect(lines.some(l => /Morning Tone|The Fixtures/.test(l.text))).toBe(false);
  });

  it('sorts lines given out of order', () => {
    const lines = parseLrc('[00:05.00]late\n[00:01.00]early\n[01:00.00]minute');
    expect(lines).toEqual([
      { time: 1, text: 'early' },
      { time: 5, text: 'late' },
      { time: 60, text: 'minute' },
    ]);
  });

  it('gives one line per timestamp when a line has several', () => {
    const lines = parseLrc('[00:01.00][00:03.50]chorus\n[00:02.00]verse');
    expect(lines).toEqual([
      { time: 1, text: 'chorus' },
      { time: 2, text: 'verse' },
      { time: 3.5, text: 'chorus' },
    ]);
  });

  it('returns [] for garbage without throwing', () => {
    for (const junk of ['', 'just some words', '\u0000\uffff[[[]]]:::', '[xx:yy]nope', '[99999999999999999999:00]x'.repeat(3)]) {
      let out!: LyricLine[];
      expect(() => (out = parseLrc(junk))).not.toThrow();
      expect(out.every(l => Number.isFinite(l.time)), junk).toBe(true);
      if (junk !== '[99999999999999999999:00]x'.repeat(3)) expect(out, junk).toEqual([]);
    }
    expect(parseLrc(null as unknown as string)).toEqual([]);
    expect(parseLrc(42 as unknown as string)).toEqual([]);
  });

  it('reads only the first MAX_LRC_LENGTH characters of oversize input', () => {
    const head = '[00:01.00]kept\n';
    const filler = 'x'.repeat(MAX_LRC_LENGTH);
    const lines = parseLrc(`${head}${filler}\n[00:09.00]dropped\n`);
    expect(lines).toEqual([{ time: 1, text: 'kept' }]);
    // A megabyte of lines is cut, not parsed whole.
    const many = Array.from({ length: 60_000 }, (_, i) => `[${String(Math.floor(i / 60) % 100).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.00]l${i}`).join('\n');
    expect(many.length).toBeGreaterThan(MAX_LRC_LENGTH * 10);
    const parsed = parseLrc(many);
    expect(parsed.length).toBeGreaterThan(100);
    expect(parsed.length).toBeLessThan(MAX_LRC_LENGTH / 10);
  });
});

describe('currentLine', () => {
  const lines = parseLrc(fixture); // 0.5, 2, 4, 8, 30

  it('is -1 before the first line', () => {
    expect(currentLine(lines, 0)).toBe(-1);
    expect(currentLine(lines, 0.49)).toBe(-1);
    expect(currentLine(lines, -5)).toBe(-1);
  });

  it('switches exactly at each line time', () => {
    expect(currentLine(lines, 0.5)).toBe(0);
    expect(currentLine(lines, 1.999)).toBe(0);
    expect(currentLine(lines, 2)).toBe(1);
    expect(currentLine(lines, 3.99)).toBe(1);
    expect(currentLine(lines, 4)).toBe(2);
    expect(currentLine(lines, 8)).toBe(3);
    expect(currentLine(lines, 29.99)).toBe(3);
    expect(currentLine(lines, 30)).toBe(4);
  });

  it('stays on the last line after it', () => {
    expect(currentLine(lines, 30.01)).toBe(4);
    expect(currentLine(lines, 1e9)).toBe(4);
  });

  it('is -1 with no lines', () => {
    expect(currentLine([], 10)).toBe(-1);
  });
});
