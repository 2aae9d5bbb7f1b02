/** Number → text for the bench tables and logs. */

/**
 * `x` with `digits` decimals (`Number.prototype.toFixed`), or '—' when it is null, undefined
 * or NaN. Unit-free: the caller converts first (e.g. ms → s).
 * Scripts whose own default was 1 decimal (run.mjs, swarm.mjs) wrap it with that default.
 * @param {number | null | undefined} x
 * @param {number} [digits] decimals, default 0
 * @returns {string}
 */
export function formatNumber(x, digits = 0) {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}
