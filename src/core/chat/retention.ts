/** Default retention window: 30 days, in ms. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * Parses a retention window: `0` (keep forever), or a number with a unit
 * `m` (minutes), `h` (hours), `d` (days), `w` (weeks), e.g. `30d`, `12h`.
 * @returns the window in ms (0 = forever)
 * @throws RangeError for anything else, in plain words
 */
export function parseRetention(value: string): number {
  const text = value.trim().toLowerCase();
  if (text === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(text);
  if (!match || Number(match[1]) <= 0) throw new RangeError(`retention must look like 30d, 12h, 90m, 2w or 0 (forever), not "${value}"`);
  // At least 1 ms: a tiny positive window (0.000001m) must not round to 0, which means forever.
  return Math.max(1, Math.round(Number(match[1]) * UNITS[match[2]]));
}

/** Formats a window back into the attribute syntax (largest exact unit). */
export function formatRetention(ms: number): string {
  if (ms === 0) return '0';
  for (const unit of ['w', 'd', 'h', 'm']) if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  return `${Math.round(ms / 60_000)}m`;
}

/** Oldest timestamp kept under `windowMs` at `now` (0 when forever). */
export function windowStart(windowMs: number, now: number): number {
  return windowMs === 0 ? 0 : now - windowMs;
}
