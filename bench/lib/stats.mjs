/**
 * Order statistics of the bench scripts. Two medians on purpose, because the scripts report
 * different ones and their published figures must not move:
 * - `median`: the interpolated median (mean of the two middle values for an even count),
 *   used by run.mjs, chat-history.mjs, gallery.mjs, music.mjs and swarm.mjs;
 * - `lowerMedian`: the nearest-rank 50th percentile (the lower middle value for an even
 *   count, always a sample), used by mesh-join.mjs and join-timeline-probe.mjs.
 * Inputs are plain arrays of numbers, in whatever unit the caller measured (usually ms);
 * results are in the same unit. Inputs are never modified.
 */

/** A sorted (ascending, numeric) copy of `xs`. */
const sortedAscending = xs => [...xs].sort((a, b) => a - b);

/**
 * Interpolated median of `xs`: the middle value, or the mean of the two middle values when
 * the count is even. Same unit as the samples; null for an empty list.
 * @param {number[]} xs
 * @returns {number | null}
 */
export function median(xs) {
  if (!xs.length) return null;
  const s = sortedAscending(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Nearest-rank percentile: the sample at rank ⌈p/100 × n⌉ (1-based, clamped to 1..n) of the
 * sorted list, so always one of the samples (no interpolation). Same unit as the samples;
 * null for an empty list.
 * @param {number[]} xs
 * @param {number} p percentile, 0..100
 * @returns {number | null}
 */
export function percentile(xs, p) {
  return xs.length ? sortedAscending(xs)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] : null;
}

/**
 * Lower median: `percentile(xs, 50)`, the middle sample for an odd count and the lower of the
 * two middle samples for an even count (index ⌊(n − 1) / 2⌋ of the sorted list). Not the
 * interpolated `median`. Same unit as the samples; null for an empty list.
 * @param {number[]} xs
 * @returns {number | null}
 */
export function lowerMedian(xs) {
  return percentile(xs, 50);
}

/**
 * Count, interpolated median, min and max of `xs` (keys in that order, as written to the
 * results JSON). Same unit as the samples; `{ n: 0, median: null, min: null, max: null }`
 * for an empty list.
 * @param {number[]} xs
 * @returns {{ n: number, median: number | null, min: number | null, max: number | null }}
 */
export function medianStats(xs) {
  return xs.length ? { n: xs.length, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) } : { n: 0, median: null, min: null, max: null };
}
