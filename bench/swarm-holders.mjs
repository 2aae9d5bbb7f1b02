#!/usr/bin/env node
/**
 * Bench: does the swarm get faster with more holders, does one slow holder hold up the end, and
 * does one seeder → four downloaders finish near one download's time, when the links, not the
 * CPU, are the limit? (issue "Transfers at the speed of the data channel", "How it is checked").
 *
 * The links are shaped by a token bucket in the sender: every holder page caps its swarm upload
 * with `Swarm.setUploadLimit` (src/core/swarm/upload-limiter.ts, a token bucket in bytes with a
 * one-frame burst, like `tc tbf`), BENCH_HOLDERS_RATE_KB (2000 = 2 MB/s) each. The issue allows
 * this or network namespaces with `tc tbf`; the token bucket needs no root and shapes exactly what
 * the swarm sends (data frames), not the control messages or the relay.
 *
 * Lab pages (test/lab/swarm-lab.html: the mesh and the swarm, no widget) on a local Nostr relay:
 *
 *  1. Holders: 3 holder pages and 1 downloader in one room. Each round, a fresh file of
 *     BENCH_HOLDERS_MIB (16) MiB is shared by 1 holder, then 2, then 3 (each capped at the rate),
 *     then 3 of which one is slowed to a tenth of the rate; the downloader fetches it each time.
 *     Reported: time, MB/s, the share each holder uploaded; 1 holder's rate ÷ its cap ("fill"),
 *     3 holders' speed-up over 1, and the slow case's time ÷ the 2-fast-holders time (the endgame).
 *  2. Fan-out: 5 pages, every page's upload capped at the rate; one seeds a fresh file and 4
 *     download it from the same epoch ms. Reported: time until all have it ÷ one download's time
 *     (part 1, one holder), and the seeder's upload in copies of the file.
 *
 * Every page's CPU use (all Chromium processes, /proc) is printed beside each case, so a case
 * where the CPU, not the caps, set the pace can be told apart.
 *
 *   node bench/swarm-holders.mjs       (writes bench/results/swarm-holders.json and .md; ~3 min)
 *
 * Knobs: BENCH_HOLDERS_RATE_KB (2000), BENCH_HOLDERS_MIB (16), BENCH_HOLDERS_ROUNDS (2).
 */
import os from 'node:os';
import { openLabPage, startWorld, uniqueRoom, waitForLabPeers } from '../test/harness/browser.mjs';
import { buildLab } from '../test/harness/build-lab.mjs';
import { envInt } from './lib/env.mjs';
import { formatNumber } from './lib/format.mjs';
import { busyMachineNote, machineInfo, machineLine } from './lib/machine.mjs';
import { notesSection, table } from './lib/markdown.mjs';
import { browserCpuSeconds } from './lib/process-cpu.mjs';
import { roundAll, writeResults } from './lib/results.mjs';
import { guardRun } from './lib/run-guard.mjs';
import { exitOnError, isMainModule } from './lib/script-entry.mjs';
import { median } from './lib/stats.mjs';
import { elapsedLog } from './lib/timing.mjs';

const MiB = 1024 * 1024;
const RATE = envInt('BENCH_HOLDERS_RATE_KB', 2000, 1) * 1000;
const SIZE = envInt('BENCH_HOLDERS_MIB', 16, 1) * MiB;
const ROUNDS = envInt('BENCH_HOLDERS_ROUNDS', 2, 1);
const DOWNLOADERS = 4;
const TIMEOUT_MS = 180_000;
const WATCHDOG_MS = 20 * 60_000;

const fmt = (x, digits = 1) => formatNumber(x, digits);
const mbps = (bytes, ms) => (ms > 0 ? bytes / 1e6 / (ms / 1000) : null);

/** The cases of part 1: which holders share the file, and their caps (bytes/s) by holder. */
const CASES = [
  { key: 'one', label: '1 holder', holders: [0], caps: [RATE, RATE, RATE] },
  { key: 'two', label: '2 holders', holders: [0, 1], caps: [RATE, RATE, RATE] },
  { key: 'three', label: '3 holders', holders: [0, 1, 2], caps: [RATE, RATE, RATE] },
  { key: 'slow', label: '3 holders, one at a tenth', holders: [0, 1, 2], caps: [RATE, RATE, RATE / 10] },
];

/** Downloads `cid` on `page` (starting at epoch ms `at`, or now); resolves with { startAt, doneAt } (epoch ms) or { error }. */
const download = (page, cid, at = 0) =>
  page.evaluate(
    async ([c, ms, at]) => {
      const wait = at - Date.now();
      if (wait > 0) await new Promise(r => setTimeout(r, wait));
      const startAt = Date.now();
      window.lab.startDownload(c);
      try {
        await Promise.race([window.lab.waitDownload(c), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
        return { startAt, doneAt: Date.now() };
      } catch (err) {
        return { startAt, doneAt: null, error: String(err?.message ?? err) };
      }
    },
    [cid, TIMEOUT_MS, at],
  );
const stats = page => page.evaluate(() => window.lab.stats());
const waitHolders = (page, cid, n) => page.waitForFunction(([c, k]) => window.lab.holders(c).length >= k, [cid, n], { timeout: 30_000, polling: 100 });

async function holders(world, log, notes) {
  const room = uniqueRoom('bench-holders');
  const pages = await Promise.all(Array.from({ length: 4 }, () => openLabPage(world, room)));
  const [h1, h2, h3, d] = pages;
  const hs = [h1, h2, h3];
  const runs = Object.fromEntries(CASES.map(c => [c.key, []]));
  try {
    await Promise.all(pages.map(p => waitForLabPeers(p, 3, 60_000)));
    log(`holders: 4 pages in one room; caps ${fmt(RATE / 1e6, 2)} MB/s per holder, ${SIZE / MiB} MiB per file`);
    let seed = 100;
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of CASES) {
        await Promise.all(hs.map((h, i) => h.evaluate(cap => window.lab.setUploadLimit(cap), c.caps[i])));
        seed++;
        const shared = await Promise.all(c.holders.map(i => hs[i].evaluate(([size, s]) => window.lab.share(size, s), [SIZE, seed])));
        const cid = shared[0].cid;
        await waitHolders(d, cid, c.holders.length);
        const before = await Promise.all(hs.map(stats));
        const cpuBefore = browserCpuSeconds();
        const t = await download(d, cid);
        const cpuAfter = browserCpuSeconds();
        const after = await Promise.all(hs.map(stats));
        const uploaded = after.map((a, i) => a.bytesUploaded - before[i].bytesUploaded);
        const ms = t.doneAt === null ? null : t.doneAt - t.startAt;
        const res = {
          ok: ms !== null,
          ms,
          mbps: ms === null ? null : mbps(SIZE, ms),
          uploaded,
          cpuCores: cpuBefore && cpuAfter && ms ? (cpuAfter.total - cpuBefore.total) / (ms / 1000) : null,
          error: t.error ?? null,
        };
        runs[c.key].push(res);
        if (!res.ok) notes.push(`${c.label}, round ${r + 1}: ${res.error}`);
        log(`round ${r + 1} ${c.label.padEnd(26)}: ${res.ok ? `${fmt(ms / 1000, 2)} s, ${fmt(res.mbps, 2)} MB/s` : `FAILED (${res.error})`}; uploaded by holder ${uploaded.map(u => fmt(u / MiB, 1)).join(' / ')} MiB; browser CPU ${fmt(res.cpuCores, 2)} cores`);
      }
    }
  } finally {
    await Promise.all(pages.map(p => p.context().close().catch(() => undefined)));
  }
  const summary = {};
  for (const c of CASES) {
    const good = runs[c.key].filter(x => x.ok);
    summary[c.key] = {
      label: c.label,
      n: runs[c.key].length,
      ok: good.length,
      ms: median(good.map(x => x.ms)),
      mbps: median(good.map(x => x.mbps)),
      cpuCores: median(good.map(x => x.cpuCores).filter(x => x !== null)),
      uploadedShare: [0, 1, 2].map(i => median(good.map(x => x.uploaded[i] / Math.max(1, x.uploaded.reduce((a, b) => a + b, 0))))),
    };
  }
  return { runs, summary };
}

async function fanOut(world, log, notes) {
  const room = uniqueRoom('bench-holders-fanout');
  const pages = await Promise.all(Array.from({ length: DOWNLOADERS + 1 }, () => openLabPage(world, room)));
  const [seeder, ...downloaders] = pages;
  try {
    await Promise.all(pages.map(p => waitForLabPeers(p, DOWNLOADERS, 60_000)));
    await Promise.all(pages.map(p => p.evaluate(cap => window.lab.setUploadLimit(cap), RATE)));
    const file = await seeder.evaluate(([size, s]) => window.lab.share(size, s), [SIZE, 999]);
    await Promise.all(downloaders.map(p => waitHolders(p, file.cid, 1)));
    log(`fan-out: 5 pages, every upload capped at ${fmt(RATE / 1e6, 2)} MB/s; the seeder shares ${SIZE / MiB} MiB`);
    const before = await Promise.all(pages.map(stats));
    const cpuBefore = browserCpuSeconds();
    const at = Date.now() + 500;
    const results = await Promise.all(downloaders.map(p => download(p, file.cid, at)));
    const cpuAfter = browserCpuSeconds();
    const after = await Promise.all(pages.map(stats));
    const ok = results.every(r => r.doneAt !== null);
    const start = Math.min(...results.map(r => r.startAt));
    const allMs = ok ? Math.max(...results.map(r => r.doneAt)) - start : null;
    const uploaded = after.map((a, i) => a.bytesUploaded - before[i].bytesUploaded);
    const res = {
      ok,
      allMs,
      perPageMs: results.map(r => (r.doneAt === null ? null : r.doneAt - r.startAt)),
      seederUploaded: uploaded[0],
      seederCopies: uploaded[0] / SIZE,
      downloadersUploaded: uploaded.slice(1),
      cpuCores: cpuBefore && cpuAfter && allMs ? (cpuAfter.total - cpuBefore.total) / (allMs / 1000) : null,
    };
    if (!ok) notes.push(`fan-out: ${results.filter(r => r.doneAt === null).length} download(s) failed (${results.find(r => r.error)?.error})`);
    log(`fan-out: all 4 done after ${fmt(allMs === null ? null : allMs / 1000, 2)} s; seeder uploaded ${fmt(res.seederCopies, 2)} copies; downloaders uploaded ${res.downloadersUploaded.map(u => fmt(u / MiB, 1)).join(' / ')} MiB; browser CPU ${fmt(res.cpuCores, 2)} cores`);
    return res;
  } finally {
    await Promise.all(pages.map(p => p.context().close().catch(() => undefined)));
  }
}

function render(result) {
  const s = result.holders.summary;
  const f = result.fanout;
  const fill = s.one.mbps ? (s.one.mbps * 1e6) / RATE : null;
  const speedup = s.one.ms && s.three.ms ? s.one.ms / s.three.ms : null;
  const endgame = s.two.ms && s.slow.ms ? s.slow.ms / s.two.ms : null;
  const fanRatio = f?.allMs && s.one.ms ? f.allMs / s.one.ms : null;
  const pct = x => (x === null || x === undefined ? '—' : `${Math.round(x * 100)} %`);
  return [
    `## Swarm: many holders, a slow holder, and fan-out, on capped uplinks`,
    ``,
    machineLine(result, [result.platform, `load average (1 min) ${fmt(result.loadAverage.start, 1)} at start, ${fmt(result.loadAverage.end, 1)} at end`]),
    ``,
    `Every holder's swarm upload is capped at **${fmt(RATE / 1e6, 2)} MB/s** by a token bucket in the sender (\`Swarm.setUploadLimit\`; one 64 KiB frame of burst), standing in for a shaped uplink. ${SIZE / MiB} MiB per file, a fresh file per case; ${ROUNDS} round(s), medians. "CPU cores": all Chromium processes' CPU time during the download ÷ its wall time (the machine has ${os.cpus().length}); near ${os.cpus().length} the CPU, not the caps, set the pace.`,
    ``,
    table(
      ['case', 's', 'MB/s', 'share uploaded by holder 1 / 2 / 3', 'CPU cores', 'ok'],
      CASES.map(c => {
        const x = s[c.key];
        return [x.label, fmt(x.ms === null ? null : x.ms / 1000, 2), fmt(x.mbps, 2), c.holders.length === 1 ? '100 % / — / —' : x.uploadedShare.map(pct).join(' / '), fmt(x.cpuCores, 2), `${x.ok}/${x.n}`];
      }),
    ),
    ``,
    `- **One holder fills ${pct(fill)} of its cap** (target ≥ 85 %).`,
    `- **3 holders: ${fmt(speedup, 2)}× one holder** (target ≥ 2.5×).`,
    `- **One of the 3 at a tenth of the cap: ${fmt(endgame, 2)}× the 2-fast-holders time** (target ≤ 1.2×: the endgame asks the slow holder's last chunks of a fast one).`,
    ``,
    `### 1 seeder → ${DOWNLOADERS} downloaders, every upload capped`,
    ``,
    f
      ? `5 pages in one room, each page's upload capped at ${fmt(RATE / 1e6, 2)} MB/s; the 4 downloaders start at the same epoch ms. **All have the file after ${fmt(f.allMs === null ? null : f.allMs / 1000, 2)} s = ${fmt(fanRatio, 2)}× one download from one holder** (${fmt(s.one.ms === null ? null : s.one.ms / 1000, 2)} s above; target ≤ 1.5×). Each downloader: ${f.perPageMs.map(ms => fmt(ms === null ? null : ms / 1000, 2)).join(' / ')} s. **The seeder uploaded ${fmt(f.seederCopies, 2)} copies** (target ≤ 1.15); the downloaders uploaded ${f.downloadersUploaded.map(u => fmt(u / MiB, 1)).join(' / ')} MiB to each other. Browser CPU ${fmt(f.cpuCores, 2)} cores.`
      : 'The fan-out did not run (see notes).',
    ``,
    ...notesSection(result.notes),
  ].join('\n');
}

export async function main() {
  const startedAt = Date.now();
  const loadStart = os.loadavg()[0];
  const log = elapsedLog(startedAt, 'swarm-holders: ');
  log('building the lab bundle…');
  await buildLab();
  const world = await startWorld();
  const { stop, clearWatchdog, removeSignalHandlers } = guardRun(() => world.stop(), { watchdogMs: WATCHDOG_MS, watchdogLabel: 'bench: swarm-holders watchdog' });
  const notes = [];
  try {
    const h = await holders(world, log, notes);
    let fanout = null;
    try {
      fanout = await fanOut(world, log, notes);
    } catch (err) {
      notes.push(`fan-out could not run: ${err.message}`);
    }
    const loadEnd = os.loadavg()[0];
    const busyNote = busyMachineNote(loadStart, loadEnd);
    if (busyNote) notes.push(busyNote);
    const result = roundAll({
      bench: 'swarm-holders',
      date: new Date().toISOString(),
      chromium: world.browser.version(),
      ...machineInfo(),
      loadAverage: { start: loadStart, end: loadEnd },
      config: { rateBytesPerSecond: RATE, size: SIZE, rounds: ROUNDS, shaping: 'token bucket in the sender (Swarm.setUploadLimit), burst one 64 KiB frame' },
      holders: h,
      fanout,
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    });
    writeResults('swarm-holders', result, render(result));
  } finally {
    clearWatchdog();
    removeSignalHandlers();
    await stop();
  }
}

if (isMainModule(import.meta.url)) main().catch(exitOnError('bench: swarm-holders could not run:'));
