/** What machine a bench ran on: the fields of the results JSON and the report's header line. */
import os from 'node:os';
import { formatNumber } from './format.mjs';

/**
 * The CPU: `{ count, model }`, count = logical cores (`os.cpus().length`), model = the first
 * core's model string, trimmed ('unknown' when there is none).
 * @returns {{ count: number, model: string }}
 */
export function cpuInfo() {
  return { count: os.cpus().length, model: os.cpus()[0]?.model?.trim() ?? 'unknown' };
}

/**
 * `{ node, platform, cpu }` in that key order, to spread into a result after `chromium`:
 * node = `process.version` (e.g. 'v22.11.0'), platform = '<os.platform()> <os.release()> <os.arch()>',
 * cpu = `cpuInfo()`.
 * @returns {{ node: string, platform: string, cpu: { count: number, model: string } }}
 */
export function machineInfo() {
  return { node: process.version, platform: `${os.platform()} ${os.release()} ${os.arch()}`, cpu: cpuInfo() };
}

/**
 * The header line under a report's title:
 * '<date> · Chromium <chromium> · Node <node> · <count>× <model>' followed by each of `extra`,
 * all joined by ' · '. The Node part is left out when `result.node` is undefined
 * (mesh-join.mjs records no Node version).
 * @param {{ date: string, chromium: string, node?: string, cpu: { count: number, model: string } }} result
 * @param {string[]} [extra] further parts, e.g. the platform or the load average
 * @returns {string}
 */
export function machineLine(result, extra = []) {
  return [result.date, `Chromium ${result.chromium}`, ...(result.node === undefined ? [] : [`Node ${result.node}`]), `${result.cpu.count}× ${result.cpu.model}`, ...extra].join(' · ');
}

/**
 * The note for a busy machine: when the higher of the two 1-minute load averages exceeds the
 * logical core count, 'load average <max, 1 decimal> on <cores> cores: other work shared the
 * CPU; compare only within this run'; otherwise null.
 * @param {number} loadStart 1-minute load average when the bench started (`os.loadavg()[0]`)
 * @param {number} loadEnd the same at the end
 * @returns {string | null}
 */
export function busyMachineNote(loadStart, loadEnd) {
  const load = Math.max(loadStart, loadEnd);
  return load > os.cpus().length ? `load average ${formatNumber(load, 1)} on ${os.cpus().length} cores: other work shared the CPU; compare only within this run` : null;
}
