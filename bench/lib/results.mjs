/** The result files of the bench scripts: bench/results/<name>.json and <name>.md. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../test/harness/processes.mjs';
import { formatNumber } from './format.mjs';

/** Absolute path of bench/results/ (created on the first write). */
export const RESULTS_DIR = path.join(ROOT, 'bench/results');

/**
 * `x` rounded to 2 decimals (`Math.round(x * 100) / 100`) when it is a number (Infinity and
 * NaN stay as they are), anything else unchanged. Unit-free.
 * @template T
 * @param {T} x
 * @returns {T}
 */
export function roundTo2(x) {
  return typeof x === 'number' ? Math.round(x * 100) / 100 : x;
}

/**
 * A deep copy of `o` through JSON (`JSON.stringify` then `JSON.parse`) with every number
 * rounded by `roundTo2`: what the scripts write to their results JSON. As with JSON,
 * undefined values are dropped and NaN / ±Infinity become null.
 * @param {object} o
 * @returns {object}
 */
export function roundAll(o) {
  return JSON.parse(JSON.stringify(o, (_k, v) => roundTo2(v)));
}

/**
 * Writes bench/results/`name`.json and `name`.md with exactly the given text (nothing added:
 * a trailing newline is the caller's), creating bench/results/ if needed. Logs nothing.
 * @param {string} name file name without extension, e.g. 'mesh-chat'
 * @param {string} jsonText
 * @param {string} markdownText
 * @returns {{ json: string, md: string }} the absolute paths written
 */
export function writeResultFiles(name, jsonText, markdownText) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = path.join(RESULTS_DIR, `${name}.json`);
  const md = path.join(RESULTS_DIR, `${name}.md`);
  writeFileSync(json, jsonText);
  writeFileSync(md, markdownText);
  return { json, md };
}

/**
 * The usual end of a bench script: writes `result` as pretty JSON (2-space indent) plus a
 * newline to bench/results/`name`.json and `markdown` plus a newline to `name`.md, prints
 * the Markdown after an empty line, then
 * `wrote bench/results/<name>.json and bench/results/<name>.md (<result.durationS, 0 decimals> s)`.
 * @param {string} name file name without extension
 * @param {{ durationS: number }} result the (already rounded) result object; durationS in seconds
 * @param {string} markdown the report, without a trailing newline
 */
export function writeResults(name, result, markdown) {
  writeResultFiles(name, `${JSON.stringify(result, null, 2)}\n`, `${markdown}\n`);
  console.log(`\n${markdown}`);
  console.log(`wrote bench/results/${name}.json and bench/results/${name}.md (${formatNumber(result.durationS, 0)} s)`);
}
