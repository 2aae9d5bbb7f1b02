import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_MS, formatRetention, parseRetention, windowStart } from './retention';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('parseRetention', () => {
  it.each([
    ['30d', 30 * DAY],
    ['12h', 12 * HOUR],
    ['90m', 90 * MIN],
    ['2w', 14 * DAY],
    ['1m', MIN],
    ['0', 0],
    [' 7D ', 7 * DAY],
    ['1.5h', 90 * MIN],
    ['3 d', 3 * DAY],
    ['0.000001m', 1], // a tiny window is 1 ms, never 0 (forever)
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseRetention(text)).toBe(ms);
  });

  it.each(['', '30', 'd', '30s', '30y', '-1d', '0d', '0.0h', '1e3d', 'forever', '30dd', '1,5h', 'Infinity', '0x10d', '30d 12h'])(
    'refuses %j with a RangeError in plain words',
    text => {
      expect(() => parseRetention(text)).toThrow(RangeError);
      expect(() => parseRetention(text)).toThrow(/30d, 12h, 90m, 2w or 0/);
    },
  );

  it('has a default window of 30 days', () => {
    expect(DEFAULT_RETENTION_MS).toBe(30 * DAY);
  });
});

describe('formatRetention', () => {
  it.each([
    [0, '0'],
    [14 * DAY, '2w'],
    [30 * DAY, '30d'],
    [12 * HOUR, '12h'],
    [90 * MIN, '90m'],
    [7 * DAY, '1w'],
    [25 * HOUR, '25h'],
  ])('formats %d ms as %j (largest exact unit)', (ms, text) => {
    expect(formatRetention(ms)).toBe(text);
  });

  it('rounds a window that is not a whole number of minutes', () => {
    expect(formatRetention(90_500)).toBe('2m');
    expect(formatRetention(61_000)).toBe('1m');
  });

  it.each(['30d', '12h', '90m', '2w', '0', '1w', '36h'])('round-trips %j through parseRetention', text => {
    expect(parseRetention(formatRetention(parseRetention(text)))).toBe(parseRetention(text));
  });
});

describe('windowStart', () => {
  it('is now minus the window', () => {
    expect(windowStart(HOUR, 10 * HOUR)).toBe(9 * HOUR);
    expect(windowStart(30 * DAY, 1_700_000_000_000)).toBe(1_700_000_000_000 - 30 * DAY);
  });

  it('is 0 (keep everything) for a window of 0', () => {
    expect(windowStart(0, 1_700_000_000_000)).toBe(0);
  });
});
