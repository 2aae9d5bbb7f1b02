/**
 * Numbers, sizes, times and dates in the widget's language, all through `Intl`.
 * Formatters are cached per language and options: constructing one costs far more
 * than formatting with it, and the widgets format on every render.
 */
import type { Lang } from './strings';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>(key: string, make: () => T): T {
  let f = cache.get(key) as T | undefined;
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f;
}

const BYTE_UNITS = [
  ['gigabyte', 1e9],
  ['megabyte', 1e6],
  ['kilobyte', 1e3],
] as const;

/**
 * A size for people: `bytes` (a count of bytes) in the largest decimal unit
 * (kB = 1000 bytes, MB, GB) that keeps the number at least 1, with at most one
 * decimal, via `Intl.NumberFormat` with `style: 'unit'` (e.g. "1.2 MB", "512 bytes").
 * @param bytes size in bytes (negative or non-finite values format as 0)
 * @param lang the widget's language
 */
export function formatBytes(bytes: number, lang: Lang): string {
  const n = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  const [unit, factor] = BYTE_UNITS.find(([, f]) => n >= f) ?? (['byte', 1] as const);
  const digits = unit === 'byte' ? 0 : 1;
  return cached(`bytes|${lang}|${unit}`, () => new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short', maximumFractionDigits: digits })).format(n / factor);
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.345],
  ['month', 12],
  ['year', Infinity],
];

/**
 * How long ago (or how far ahead) `then` is from `now`, in the largest whole unit
 * (seconds up to a minute, then minutes, hours, days, weeks, months, years), via
 * `Intl.RelativeTimeFormat` with `numeric: 'auto'` ("now", "5 minutes ago", "yesterday").
 * @param thenMs the moment, in ms since the epoch
 * @param nowMs the reference moment, in ms since the epoch (usually `Date.now()`)
 * @param lang the widget's language
 */
export function formatRelativeTime(thenMs: number, nowMs: number, lang: Lang): string {
  let value = (thenMs - nowMs) / 1000;
  const format = cached(`rel|${lang}`, () => new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'long' }));
  for (const [unit, next] of RELATIVE_STEPS) {
    if (Math.abs(value) < next || unit === 'year') {
      // Under 10 seconds reads as "now" rather than a ticking count.
      if (unit === 'second' && Math.abs(value) < 10) return format.format(0, 'second');
      return format.format(Math.round(value) || 0, unit);
    }
    value /= next;
  }
  return format.format(0, 'second');
}

/**
 * A message time: hours and minutes for a moment today (local time), month, day,
 * hours and minutes otherwise or when `withDate` is set, via `Intl.DateTimeFormat`.
 * @param ms the moment, in ms since the epoch
 * @param lang the widget's language
 * @param withDate always show the date
 * @param nowMs "today" is the local day of this moment (ms since the epoch; default now)
 */
export function formatTime(ms: number, lang: Lang, withDate = false, nowMs = Date.now()): string {
  const dated = withDate || new Date(nowMs).toDateString() !== new Date(ms).toDateString();
  return cached(`time|${lang}|${dated}`, () =>
    new Intl.DateTimeFormat(lang, dated ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } : { hour: '2-digit', minute: '2-digit' }),
  ).format(ms);
}

/**
 * A full date and time (e.g. for a tooltip), via `Intl.DateTimeFormat` with
 * `dateStyle: 'full'` and `timeStyle: 'short'`.
 * @param ms the moment, in ms since the epoch
 * @param lang the widget's language
 */
export function formatDateTime(ms: number, lang: Lang): string {
  return cached(`datetime|${lang}`, () => new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' })).format(ms);
}

/**
 * A calendar day (e.g. a heading over the pictures of that day), via
 * `Intl.DateTimeFormat` with `dateStyle: 'medium'`.
 * @param ms a moment of that day, in ms since the epoch
 * @param lang the widget's language
 */
export function formatDay(ms: number, lang: Lang): string {
  return cached(`day|${lang}`, () => new Intl.DateTimeFormat(lang, { dateStyle: 'medium' })).format(ms);
}

/**
 * A count of minutes, hours or days for the retention choices ("12 hours", "30天"), via
 * `Intl.NumberFormat` with `style: 'unit'` and `unitDisplay: 'long'`.
 * @param value how many
 * @param unit `minute`, `hour` or `day`
 * @param lang the widget's language
 */
export function formatDuration(value: number, unit: 'minute' | 'hour' | 'day', lang: Lang): string {
  return cached(`dur|${lang}|${unit}`, () => new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'long' })).format(value);
}

/**
 * A play position or length as m:ss (h:mm:ss from an hour), the same in every language.
 * @param seconds time in seconds (negative or non-finite values format as 0:00)
 */
export function formatClock(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const s = String(total % 60).padStart(2, '0');
  const m = Math.floor(total / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
