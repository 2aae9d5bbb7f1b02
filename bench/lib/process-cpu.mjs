/**
 * CPU time used by the browser: the sum of user + system time (seconds) of every running process
 * whose command line starts with the Chromium binary (browser, renderers, GPU, utility and network
 * processes), read from `/proc/<pid>/stat` (fields 14 and 15, in clock ticks; proc(5)).
 *
 * Compared before and after a transfer, it gives what moving the bytes cost the whole machine,
 * not only the pages' main threads: SCTP, IndexedDB's backing store in the browser process,
 * hashing threads and the kernel's share on their behalf. A process that exits in between is
 * lost from the sum, so compare only spans where the browser's processes stay up.
 *
 * Linux only; returns null elsewhere or when /proc cannot be read.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux (getconf CLK_TCK)

/**
 * Seconds of CPU used so far by processes whose argv[0] ends in `chrom…` (chromium, chrome):
 * `{ total, byKind }`, where the kind is the process's `--type=` (`renderer`, `gpu-process`,
 * `zygote`, …), its `--utility-sub-type=` for utility processes (`storage.mojom.StorageService`
 * holds IndexedDB, `network.mojom.NetworkService` the sockets), or `browser` without a type;
 * `byPid` gives each process's own seconds; with `withThreads`, `byThread` gives seconds per
 * "<pid> <thread name>" (names from `/proc/<pid>/task/<tid>/stat`, trailing digits dropped so a
 * pool's threads add up).
 */
export function browserCpuSeconds(withThreads = false) {
  let pids;
  try {
    pids = readdirSync('/proc').filter(name => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let ticks = 0;
  const byKind = {};
  const byPid = {};
  const byThread = {};
  const renderers = new Set();
  for (const pid of pids) {
    try {
      // Chromium rewrites the title of the processes it forks (renderers, GPU, utilities) to one
      // string with spaces: argv[0] is what comes before the first NUL or space.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const argv0 = cmdline.split(/[\0 ]/)[0];
      if (!/\/chrom[^/]*$/.test(argv0)) continue;
      const type = /--type=([^\0 ]+)/.exec(cmdline)?.[1] ?? 'browser';
      const kind = type === 'utility' ? (/--utility-sub-type=([^\0 ]+)/.exec(cmdline)?.[1] ?? 'utility') : type;
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // The command name (field 2) may hold spaces or parentheses: split after its closing ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const t = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
      ticks += t;
      byKind[kind] = (byKind[kind] ?? 0) + t / TICKS_PER_SECOND;
      byPid[pid] = t / TICKS_PER_SECOND;
      if (kind === 'renderer') renderers.add(pid);
      if (withThreads) {
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          try {
            const ts = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
            const name = ts.slice(ts.indexOf('(') + 1, ts.lastIndexOf(')')).replace(/\d+$/, '');
            const tf = ts.slice(ts.lastIndexOf(')') + 2).split(' ');
            const key = `${pid} ${name}`;
            byThread[key] = (byThread[key] ?? 0) + (Number(tf[11]) + Number(tf[12])) / TICKS_PER_SECOND;
          } catch {
            /* the thread exited */
          }
        }
      }
    } catch {
      /* the process exited while we read it */
    }
  }
  return { total: ticks / TICKS_PER_SECOND, byKind, byPid, renderers: [...renderers], ...(withThreads ? { byThread } : {}) };
}

/**
 * The pid of the renderer process that runs `page` (a Playwright page): the page spins its main
 * thread for `ms` and the Chromium process whose CPU time grew the most is it. Null if none grew
 * by at least half of `ms`.
 */
export async function rendererPidOf(page, ms = 400) {
  const before = browserCpuSeconds();
  await page.evaluate(spin => {
    const end = performance.now() + spin;
    while (performance.now() < end);
  }, ms);
  const after = browserCpuSeconds();
  if (!before || !after) return null;
  let best = null;
  // Renderers only: in one run of bench/swarm.mjs the largest grower was another process (A's figures came out 0).
  for (const [pid, t] of Object.entries(after.byPid).filter(([pid]) => after.renderers.includes(pid))) {
    const grew = t - (before.byPid[pid] ?? 0);
    if (grew >= ms / 2000 && (!best || grew > best.grew)) best = { pid, grew };
  }
  return best?.pid ?? null;
}
