/** Numeric knobs from environment variables (gallery.mjs, music.mjs, swarm.mjs). */

/**
 * `process.env[name]` as a number, `fallback` when unset or empty. Throws
 * '<name> must be a number ≥ <min>, got <raw>' when it is not a finite number ≥ `min`.
 * Not rounded. Unit: whatever the knob is in (its name says: _MS, _MB, …).
 * @param {string} name
 * @param {number} fallback
 * @param {number} [min] default 0
 * @returns {number}
 */
export function envNumber(name, fallback, min = 0) {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got ${raw}`);
  return n;
}

/**
 * `envNumber(name, fallback, min)` rounded down (Math.floor) after the check.
 * @param {string} name
 * @param {number} fallback
 * @param {number} [min] default 0
 * @returns {number}
 */
export function envInt(name, fallback, min = 0) {
  return Math.floor(envNumber(name, fallback, min));
}
