import { describe, expect, it } from 'vitest';
import { formatBytes, formatClock, formatDateTime, formatDay, formatDuration, formatRelativeTime, formatTime } from './format';

describe('formatBytes (Intl.NumberFormat, decimal units)', () => {
  it('picks the largest unit that keeps the number at least 1, with one decimal at most', () => {
    expect(formatBytes(0, 'en')).toBe('0 bytes');
    expect(formatBytes(512, 'en')).toBe('512 bytes');
    expect(formatBytes(1_500, 'en')).toBe('1.5 kB');
    expect(formatBytes(1_234_567, 'en')).toBe('1.2 MB');
    expect(formatBytes(20e6, 'en')).toBe('20 MB');
    expect(formatBytes(3.25e9, 'en')).toBe('3.3 GB');
  });

  it('speaks Chinese in zh-CN and survives nonsense', () => {
    expect(formatBytes(1_234_567, 'zh-CN')).toMatch(/^1\.2\s?(MB|兆字节)$/);
    expect(formatBytes(-5, 'en')).toBe('0 bytes');
    expect(formatBytes(Number.NaN, 'en')).toBe('0 bytes');
  });
});

describe('formatRelativeTime (Intl.RelativeTimeFormat)', () => {
  const now = Date.UTC(2025, 4, 10, 12, 0, 0);
  it.each([
    [now - 3_000, 'now'],
    [now - 30_000, '30 seconds ago'],
    [now - 5 * 60_000, '5 minutes ago'],
    [now - 3 * 3_600_000, '3 hours ago'],
    [now - 86_400_000, 'yesterday'],
    [now - 3 * 86_400_000, '3 days ago'],
    [now - 14 * 86_400_000, '2 weeks ago'],
    [now - 400 * 86_400_000, 'last year'],
    [now + 2 * 60_000, 'in 2 minutes'],
  ])('%s → %j', (then, text) => {
    expect(formatRelativeTime(then, now, 'en')).toBe(text);
  });

  it('speaks Chinese in zh-CN', () => {
    expect(formatRelativeTime(now - 5 * 60_000, now, 'zh-CN')).toBe('5分钟前');
    expect(formatRelativeTime(now - 86_400_000, now, 'zh-CN')).toBe('昨天');
  });
});

describe('dates and times (Intl.DateTimeFormat)', () => {
  const noon = new Date(2025, 4, 10, 12, 34).getTime();
  it('shows only the time today, the date otherwise', () => {
    expect(formatTime(noon, 'en', false, noon + 60_000)).toMatch(/^12:34\s?PM$/);
    expect(formatTime(noon, 'en', false, noon + 2 * 86_400_000)).toMatch(/^May 10, 12:34\s?PM$/);
    expect(formatTime(noon, 'en', true, noon)).toMatch(/May 10/);
    expect(formatTime(noon, 'zh-CN', true, noon)).toMatch(/5月10日/);
  });

  it('formats full dates and days in the language', () => {
    expect(formatDateTime(noon, 'en')).toMatch(/^Saturday, May 10, 2025/);
    expect(formatDateTime(noon, 'zh-CN')).toMatch(/^2025年5月10日星期六/);
    expect(formatDay(noon, 'en')).toBe('May 10, 2025');
    expect(formatDay(noon, 'zh-CN')).toBe('2025年5月10日');
  });
});

describe('durations', () => {
  it('names minutes, hours and days with Intl units', () => {
    expect(formatDuration(1, 'hour', 'en')).toBe('1 hour');
    expect(formatDuration(12, 'hour', 'en')).toBe('12 hours');
    expect(formatDuration(30, 'day', 'en')).toBe('30 days');
    expect(formatDuration(30, 'day', 'zh-CN')).toBe('30天');
    expect(formatDuration(90, 'minute', 'en')).toBe('90 minutes');
  });

  it('writes play positions as m:ss or h:mm:ss', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(61.9)).toBe('1:01');
    expect(formatClock(3 * 3600 + 62)).toBe('3:01:02');
    expect(formatClock(Number.NaN)).toBe('0:00');
    expect(formatClock(-3)).toBe('0:00');
  });
});
