/** Waiting and the elapsed-time log lines of the bench scripts (Node side, not in pages). */

/**
 * Resolves after `ms` milliseconds (setTimeout).
 * @param {number} ms
 * @returns {Promise<void>}
 */
export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * A log function printing '[<seconds since startedAt, 1 decimal, padded to 5> s] <prefix><msg>'
 * to stdout, e.g. '[ 12.3 s] gallery: A and B connected'.
 * @param {number} startedAt epoch ms (Date.now()) the seconds count from
 * @param {string} [prefix] put before every message, e.g. 'music: '
 * @returns {(msg: string) => void}
 */
export function elapsedLog(startedAt, prefix = '') {
  return msg => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${prefix}${msg}`);
}
