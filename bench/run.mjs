#!/usr/bin/env node
/**
 * npm run bench — mesh/chat benchmark: the p2p-chat widget against bare Trystero,
 * in one run, on one machine, in headless Chromium over a local Nostr relay.
 *
 *  1. Time to first peer: ms from navigation start (performance.timeOrigin) until the
 *     page sees its first peer (`p2pPeerJoin` on the widget page, `room.onPeerJoin` on
 *     the bare page), measured in-page with performance.now(). Each run opens a fresh
 *     pair of browser contexts (cold HTTP cache) on a fresh room; both pages navigate
 *     at the same time; a run's value is the later of the two pages (the pair is connected).
 *  2. Message round-trip: page A sends `ping:i`, page B answers `pong:i`, A measures until
 *     the answer arrives. One ping in flight, pings paced PING_INTERVAL_MS apart (the chat
 *     wire allows 5 msgs/s, burst 20, per peer), the same pacing for both variants.
 *
 * Prints a table, writes bench/results/mesh-chat.json and .md. Numbers never fail the
 * run: it is a measurement, not a test. Exit code is non-zero only when the bench itself
 * could not run (no bundle, no browser, servers did not start).
 *
 * Then runs bench/chat-history.mjs (10 000-message chat history: newcomer sync, reopen) and
 * bench/mesh-join.mjs (newcomer into an idle room, fresh joins, relay events per idle peer, offer
 * pool size; widget vs bare Trystero patched and as published) as child processes with their own
 * servers and browsers, bench/widget-bytes.mjs (gzip bytes until each widget has rendered) and
 * bench/overlay.mjs (the partial mesh in the Node simulator, 100 / 300 / 1,000 pages),
 * bench/partial-mesh.mjs (20 Chromium pages, partial mesh beside full mesh; about 6 minutes),
 * bench/swarm-holders.mjs (many holders, a slow holder and fan-out on capped uplinks; about 2 minutes);
 * BENCH_HISTORY=0 / BENCH_JOIN=0 / BENCH_BYTES=0 / BENCH_OVERLAY=0 / BENCH_PARTIAL=0 / BENCH_HOLDERS=0 skip them.
 *
 * Knobs (environment): BENCH_JOIN_RUNS (7), BENCH_PINGS (200), BENCH_PING_INTERVAL_MS (250);
 * the BENCH_HISTORY* knobs of bench/chat-history.mjs.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startWorld, uniqueRoom } from '../test/harness/browser.mjs';
import { ROOT } from '../test/harness/processes.mjs';
import { ensureBundle } from './lib/bundle.mjs';
import { formatNumber } from './lib/format.mjs';
import { machineInfo, machineLine } from './lib/machine.mjs';
import { notesSection, table } from './lib/markdown.mjs';
import { roundAll, writeResults } from './lib/results.mjs';
import { guardRun } from './lib/run-guard.mjs';
import { exitOnError } from './lib/script-entry.mjs';
import { median, percentile } from './lib/stats.mjs';
import { elapsedLog } from './lib/timing.mjs';

const JOIN_RUNS = Number(process.env.BENCH_JOIN_RUNS ?? 7);
const PINGS = Number(process.env.BENCH_PINGS ?? 200);
const PING_INTERVAL_MS = Number(process.env.BENCH_PING_INTERVAL_MS ?? 250);
const WARMUP_PINGS = 3;
const PING_TIMEOUT_MS = 5_000;
const JOIN_TIMEOUT_MS = 20_000;
const WATCHDOG_MS = 8 * 60_000;
const APP_ID = 'p2p-widgets-bench';

/** The two things compared. `url` builds the page address for one side of a pair. */
const VARIANTS = [
  {
    key: 'widget',
    label: 'p2p-chat widget',
    url: (world, room, name) =>
      `${world.host.url}/bench/fixtures/chat-bench.html?${new URLSearchParams({ bundle: world.bundleUrl, room, relay: world.relay.url, appId: APP_ID, name })}`,
  },
  {
    key: 'trystero',
    label: 'bare Trystero (anchor)',
    url: (world, room) => `${world.host.url}/bench/fixtures/trystero-bare.html?${new URLSearchParams({ room, relay: world.relay.url, appId: APP_ID })}`,
  },
];

// ---------- statistics ----------

/** n, interpolated median, nearest-rank p95, min, max and mean of `xs` (ms); nulls when empty. */
function stats(xs) {
  if (!xs.length) return { n: 0, median: null, p95: null, min: null, max: null, mean: null };
  return { n: xs.length, median: median(xs), p95: percentile(xs, 95), min: Math.min(...xs), max: Math.max(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}
/** Size of the first/last slices of the ping series that are reported separately. */
const quarterOf = n => Math.max(1, Math.floor(n / 4));
/** formatNumber with this script's default of 1 decimal. */
const fmt = (x, digits = 1) => formatNumber(x, digits);

// ---------- browser pieces ----------

const pageErrors = [];

/** Opens one page of `variant` in a fresh context (its own storage and HTTP cache). */
async function newPage(world) {
  const context = await world.browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', err => pageErrors.push(err.message));
  return { context, page };
}

/**
 * Opens a pair of pages of `variant` on a fresh room, navigating both at the same time,
 * and waits until both have seen a peer. Returns the in-page times and the open pages.
 */
async function openPair(world, variant, roomPrefix) {
  const room = uniqueRoom(roomPrefix);
  const sides = await Promise.all([newPage(world), newPage(world)]);
  const names = ['a', 'b'];
  await Promise.all(sides.map(({ page }, i) => page.goto(variant.url(world, room, names[i]))));
  const times = await Promise.all(
    sides.map(async ({ page }) => {
      try {
        await page.waitForFunction(() => window.bench && window.bench.peerJoinAt !== null, null, { timeout: JOIN_TIMEOUT_MS, polling: 50 });
      } catch {
        /* timed out: reported as a failed run */
      }
      return page.evaluate(() => ({ peerJoinAt: window.bench.peerJoinAt, definedAt: window.bench.definedAt, errors: window.bench.errors }));
    }),
  );
  return {
    times,
    pages: sides.map(s => s.page),
    close: () => Promise.all(sides.map(s => s.context.close().catch(() => undefined))),
  };
}

/** One time-to-first-peer run of `variant`. */
async function joinRun(world, variant) {
  const pair = await openPair(world, variant, `bench-join-${variant.key}`);
  await pair.close();
  const [a, b] = pair.times;
  const ok = a.peerJoinAt !== null && b.peerJoinAt !== null;
  return {
    ok,
    value: ok ? Math.max(a.peerJoinAt, b.peerJoinAt) : null,
    pages: pair.times.map(t => ({ peerJoinAt: t.peerJoinAt, readyAt: t.definedAt, errors: t.errors })),
  };
}

/** The ping loop, run inside page A; identical for both variants (only the transport differs). */
async function pingLoop({ n, warmup, intervalMs, timeoutMs }) {
  const transport = window.benchTransport;
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  let pending = null;
  transport.onText(text => {
    if (pending && text === pending.expect) {
      const t = performance.now();
      const { resolve } = pending;
      pending = null;
      resolve(t);
    }
  });
  const rtts = [];
  const errors = [];
  let lost = 0;
  const started = performance.now();
  for (let i = 0; i < warmup + n; i++) {
    const reply = new Promise(resolve => (pending = { expect: `pong:${i}`, resolve }));
    const t0 = performance.now();
    Promise.resolve()
      .then(() => transport.send(`ping:${i}`))
      .catch(err => errors.push(String(err?.message ?? err)));
    const t1 = await Promise.race([reply, sleep(timeoutMs).then(() => null)]);
    if (t1 === null) {
      pending = null;
      if (i >= warmup) lost++;
    } else if (i >= warmup) rtts.push(t1 - t0);
    const wait = t0 + intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return { rtts, lost, errors: errors.slice(0, 5), errorCount: errors.length, elapsedMs: performance.now() - started };
}

/** Message round-trip of `variant` over one fresh connected pair. */
async function rttRun(world, variant) {
  const pair = await openPair(world, variant, `bench-rtt-${variant.key}`);
  try {
    if (pair.times.some(t => t.peerJoinAt === null)) return { ok: false, reason: 'pair did not connect', rtts: [], lost: PINGS };
    const [a, b] = pair.pages;
    await b.evaluate(() => {
      const transport = window.benchTransport;
      transport.onText(text => {
        if (text.startsWith('ping:')) Promise.resolve(transport.send(`pong:${text.slice(5)}`)).catch(() => undefined);
      });
    });
    const result = await a.evaluate(pingLoop, { n: PINGS, warmup: WARMUP_PINGS, intervalMs: PING_INTERVAL_MS, timeoutMs: PING_TIMEOUT_MS });
    return { ok: true, ...result };
  } finally {
    await pair.close();
  }
}

// ---------- report ----------

function render(result) {
  const { join, rtt } = result;
  const joinRows = VARIANTS.map(v => {
    const j = join[v.key];
    return [v.label, fmt(j.stats.median, 0), fmt(j.stats.min, 0), fmt(j.stats.max, 0), fmt(j.readyStats.median, 0), fmt(j.afterReadyStats.median, 0), `${j.stats.n}/${j.runs.length}`];
  });
  const rttRows = VARIANTS.map(v => {
    const r = rtt[v.key];
    return [v.label, fmt(r.stats.median, 2), fmt(r.stats.p95, 2), fmt(r.stats.min, 2), fmt(r.stats.max, 2), fmt(r.firstQuarter.median, 2), fmt(r.lastQuarter.median, 2), `${r.stats.n}/${PINGS}`, r.lost ?? '—'];
  });
  const quarter = quarterOf(PINGS);
  const ratio = (a, b) => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
  const w = VARIANTS[0].key;
  const t = VARIANTS[1].key;
  return [
    `## Mesh / chat: p2p-chat widget vs bare Trystero`,
    ``,
    machineLine(result, [result.platform]),
    ``,
    `### Time to first peer (ms from navigation start)`,
    ``,
    `${JOIN_RUNS} runs per variant (after 1 discarded warm-up), interleaved; each run: a fresh pair of browser contexts (cold cache), a fresh room, both pages navigated at once, local Nostr relay, no ICE servers. A run's value is the later of the two pages' first-peer times. "ready" = widget: \`p2p-chat\` defined; bare: Trystero modules loaded, just before \`joinRoom\` (the bare page loads ~15 unbundled modules, the widget one bundle). "ready → peer" = first-peer time minus ready, per page: the signaling + WebRTC part.`,
    ``,
    table(['variant', 'median', 'min', 'max', 'ready (median)', 'ready → peer (median)', 'runs ok'], joinRows),
    ``,
    `widget / bare (median): ${ratio(join[w].stats.median, join[t].stats.median)}`,
    ``,
    `### Message round-trip (ms, A → B → A)`,
    ``,
    `${PINGS} sequential pings per variant (one in flight, ${WARMUP_PINGS} warm-up pings excluded), paced ${PING_INTERVAL_MS} ms apart (≤ ${(1000 / PING_INTERVAL_MS).toFixed(1)} msgs/s per peer, under the chat wire limit of 5/s, burst 20); same pacing for both. Widget: A calls \`sendMessage\`, B replies from its \`p2pMessage\` listener via \`sendMessage\`. Bare: one Trystero \`makeAction('ping')\`. Timeout ${PING_TIMEOUT_MS} ms per ping counts as lost. "first/last ${quarter}": median of the first and last quarter of the pings (shows whether the cost grows with the number of messages in the room).`,
    ``,
    table(['variant', 'median', 'p95', 'min', 'max', `median first ${quarter}`, `median last ${quarter}`, 'ok', 'lost'], rttRows),
    ``,
    `widget / bare: median ${ratio(rtt[w].stats.median, rtt[t].stats.median)}, p95 ${ratio(rtt[w].stats.p95, rtt[t].stats.p95)}`,
    ``,
    ...notesSection(result.notes),
  ].join('\n');
}

// ---------- main ----------

async function main() {
  ensureBundle();
  const startedAt = Date.now();
  const world = await startWorld();
  const { stop, clearWatchdog } = guardRun(() => world.stop(), { watchdogMs: WATCHDOG_MS, watchdogLabel: 'bench: watchdog' });

  const notes = [];
  try {
    const chromium = world.browser.version();
    const log = elapsedLog(startedAt);
    log(`relay ${world.relay.url} (pid ${world.relay.pid}), assets ${world.assets.url} (pid ${world.assets.pid}), host ${world.host.url} (pid ${world.host.pid}), Chromium ${chromium}`);

    // 1. Time to first peer.
    const join = Object.fromEntries(VARIANTS.map(v => [v.key, { runs: [] }]));
    for (const v of VARIANTS) {
      const warm = await joinRun(world, v);
      log(`join warm-up ${v.key}: ${warm.ok ? `${fmt(warm.value, 0)} ms` : 'FAILED'} (discarded)`);
    }
    for (let i = 0; i < JOIN_RUNS; i++) {
      // Alternate which variant goes first, so neither always runs right after the other.
      const order = i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        const run = await joinRun(world, v);
        join[v.key].runs.push(run);
        log(`join ${v.key} #${i + 1}: ${run.ok ? `${fmt(run.value, 0)} ms (pages ${run.pages.map(p => fmt(p.peerJoinAt, 0)).join(' / ')})` : 'FAILED (no peer within timeout)'}`);
      }
    }
    for (const v of VARIANTS) {
      const j = join[v.key];
      j.stats = stats(j.runs.filter(r => r.ok).map(r => r.value));
      j.readyStats = stats(j.runs.flatMap(r => r.pages.map(p => p.readyAt)).filter(x => x !== null));
      j.afterReadyStats = stats(j.runs.flatMap(r => r.pages.filter(p => p.readyAt !== null && p.peerJoinAt !== null).map(p => p.peerJoinAt - p.readyAt)));
      const failed = j.runs.length - j.stats.n;
      if (failed) notes.push(`${v.label}: ${failed} of ${j.runs.length} join runs did not connect within ${JOIN_TIMEOUT_MS / 1000} s`);
    }

    // 2. Message round-trip, one variant at a time (no CPU contention between them).
    const rtt = {};
    for (const v of VARIANTS) {
      log(`round-trip ${v.key}: ${PINGS + WARMUP_PINGS} pings, ${PING_INTERVAL_MS} ms apart (≈ ${Math.round(((PINGS + WARMUP_PINGS) * PING_INTERVAL_MS) / 1000)} s)…`);
      const run = await rttRun(world, v);
      const q = quarterOf(PINGS);
      rtt[v.key] = { ...run, stats: stats(run.rtts), firstQuarter: stats(run.rtts.slice(0, q)), lastQuarter: stats(run.rtts.slice(-q)) };
      log(`round-trip ${v.key}: median ${fmt(rtt[v.key].stats.median, 2)} ms, p95 ${fmt(rtt[v.key].stats.p95, 2)} ms, lost ${run.lost}${run.elapsedMs ? `, loop ${fmt(run.elapsedMs / 1000)} s` : ''}`);
      if (!run.ok) notes.push(`${v.label} round-trip: ${run.reason}`);
      if (run.lost) notes.push(`${v.label}: ${run.lost} of ${PINGS} pings got no answer within ${PING_TIMEOUT_MS} ms`);
      if (run.errorCount) notes.push(`${v.label}: ${run.errorCount} send errors, e.g. ${run.errors[0]}`);
    }
    if (pageErrors.length) notes.push(`${pageErrors.length} uncaught page errors, e.g. ${pageErrors[0]}`);

    const result = roundAll({
      bench: 'mesh-chat',
      date: new Date().toISOString(),
      chromium,
      ...machineInfo(),
      config: { joinRuns: JOIN_RUNS, joinWarmupRuns: 1, joinTimeoutMs: JOIN_TIMEOUT_MS, pings: PINGS, warmupPings: WARMUP_PINGS, pingIntervalMs: PING_INTERVAL_MS, pingTimeoutMs: PING_TIMEOUT_MS, appId: APP_ID, strategy: 'nostr (local relay)', iceServers: [] },
      definitions: {
        timeToFirstPeer: 'ms from navigation start (performance.timeOrigin) to the first p2pPeerJoin (widget) / room.onPeerJoin (bare), in-page performance.now(); per run the later of the two pages',
        ready: 'widget: customElements.whenDefined("p2p-chat"); bare: Trystero modules evaluated, just before joinRoom',
        readyToPeer: 'per page: first-peer time minus ready (signaling + WebRTC), median over all pages of all runs',
        roundTrip: 'ms from A sending ping:i to A receiving pong:i from B, in-page performance.now(); one in flight, paced pingIntervalMs apart',
      },
      join: Object.fromEntries(VARIANTS.map(v => [v.key, { label: v.label, ...join[v.key] }])),
      rtt: Object.fromEntries(VARIANTS.map(v => [v.key, { label: v.label, ok: rtt[v.key].ok, lost: rtt[v.key].lost, elapsedMs: rtt[v.key].elapsedMs, stats: rtt[v.key].stats, firstQuarter: rtt[v.key].firstQuarter, lastQuarter: rtt[v.key].lastQuarter, samples: rtt[v.key].rtts }])),
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    });
    writeResults('mesh-chat', result, render(result));
  } finally {
    clearWatchdog();
    await stop();
  }
}

/** Whole-bench time target (s): the chat-history part gets what the mesh part left of it. */
const TOTAL_BUDGET_S = 600;
const benchStartedAt = Date.now();

/** The chat-history part, after this one: a child process (own servers, browser and watchdog). */
function runChatHistory() {
  if (process.env.BENCH_HISTORY === '0') {
    console.log('bench: chat history skipped (BENCH_HISTORY=0)');
    return;
  }
  console.log('\nbench: chat history (bench/chat-history.mjs)…');
  const env = { ...process.env };
  // Unless set, the history part's budget is what is left of TOTAL_BUDGET_S (at least 5 minutes).
  env.BENCH_HISTORY_BUDGET_S ??= String(Math.max(300, Math.round(TOTAL_BUDGET_S - (Date.now() - benchStartedAt) / 1000)));
  const child = spawnSync(process.execPath, [path.join(ROOT, 'bench/chat-history.mjs')], { cwd: ROOT, stdio: 'inherit', env });
  if (child.status !== 0) {
    console.error(`bench: chat history could not run (exit ${child.status ?? child.signal})`);
    process.exitCode = 1;
  }
}

/**
 * Runs one part of the bench as a child process (its own servers and browser); the environment
 * variable `skip` set to 0 skips it. A part that cannot run makes the exit code non-zero.
 */
function runPart(label, script, skip) {
  if (process.env[skip] === '0') {
    console.log(`bench: ${label} skipped (${skip}=0)`);
    return;
  }
  console.log(`\nbench: ${label} (${script})…`);
  const child = spawnSync(process.execPath, [path.join(ROOT, script)], { cwd: ROOT, stdio: 'inherit' });
  if (child.status !== 0) {
    console.error(`bench: ${label} could not run (exit ${child.status ?? child.signal})`);
    process.exitCode = 1;
  }
}

/** Gzip bytes until each widget has rendered (bench/widget-bytes.mjs); BENCH_BYTES=0 skips it. */
const runWidgetBytes = () => runPart('bytes until each widget has rendered', 'bench/widget-bytes.mjs', 'BENCH_BYTES');
/** Mesh joins (bench/mesh-join.mjs); BENCH_JOIN=0 skips it. */
const runMeshJoin = () => runPart('mesh joins', 'bench/mesh-join.mjs', 'BENCH_JOIN');
/** Partial mesh in the simulator, 100 / 300 / 1,000 pages (bench/overlay.mjs); BENCH_OVERLAY=0 skips it. */
const runOverlay = () => runPart('partial mesh in the simulator', 'bench/overlay.mjs', 'BENCH_OVERLAY');
/** 20 Chromium pages, partial mesh beside full mesh in the same run (bench/partial-mesh.mjs); BENCH_PARTIAL=0 skips it. */
const runPartialMesh = () => runPart('partial mesh in Chromium, 20 pages', 'bench/partial-mesh.mjs', 'BENCH_PARTIAL');
/** Many holders, a slow holder and fan-out on capped uplinks (bench/swarm-holders.mjs); BENCH_HOLDERS=0 skips it. */
const runSwarmHolders = () => runPart('swarm on capped uplinks: holders, endgame, fan-out', 'bench/swarm-holders.mjs', 'BENCH_HOLDERS');

main()
  .then(runWidgetBytes)
  .then(runChatHistory)
  .then(runMeshJoin)
  .then(runOverlay)
  .then(runPartialMesh)
  .then(runSwarmHolders)
  .catch(exitOnError('bench: could not run:'));
// Swarm part (bench/swarm.mjs), once everything above has finished (the event loop is empty); exits non-zero only if it cannot run.
process.once('beforeExit', () => import('./swarm.mjs').then(m => m.main()).catch(exitOnError('bench: swarm could not run:')));
// Gallery part (bench/gallery.mjs), last: it starts at the first 'beforeExit' with no other listener registered above still pending (so after the parts above, whatever their number); exits non-zero only if it cannot run.
{ let others = 0; const snapshot = () => (others = process.listenerCount('beforeExit') - 2); const runGallery = () => { if (others > 0) return; process.off('beforeExit', snapshot); process.off('beforeExit', runGallery); import('./gallery.mjs').then(m => m.main()).catch(exitOnError('bench: gallery could not run:')); }; process.prependListener('beforeExit', snapshot); process.on('beforeExit', runGallery); }
// Music part (bench/music.mjs), after every part above: its 'beforeExit' listener is added only once all the listeners above are gone (each part removes its own when it starts), so it runs at the next idle event loop, after the last of them; exits non-zero only if it cannot run.
{ const runMusic = () => import('./music.mjs').then(m => m.main()).catch(exitOnError('bench: music could not run:')); const arm = () => process.once('beforeExit', runMusic); if (process.listenerCount('beforeExit') === 0) arm(); else { const watch = event => { if (event !== 'beforeExit' || process.listenerCount('beforeExit') > 0) return; process.off('removeListener', watch); arm(); }; process.on('removeListener', watch); } }
