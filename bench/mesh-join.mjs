#!/usr/bin/env node
/**
 * Mesh joins (part of `npm run bench`; alone: `node bench/mesh-join.mjs`), in headless Chromium over
 * the local Nostr relay, with the relay logging every event it receives (RELAY_LOG), for:
 *   - widget: the p2p-chat widget (our patched Trystero, offer pool of 1),
 *   - patched: bare Trystero with our patches (node_modules/@trystero-p2p/*, pool 20 unless set),
 *   - upstream: bare Trystero 0.25.4 exactly as published (devDependency aliases, not patched).
 *
 *  1. Newcomer into an idle room: ROUNDS rooms per variant of MEMBERS pages each, opened in waves of
 *     WAVE rounds (the next wave opens when the last has closed); once a room has
 *     been connected and idle for ≥ IDLE_MS, one newcomer opens; its value is the time from its
 *     navigation start until it has met every member (in-page performance.now()), or "not met"
 *     after NEWCOMER_TIMEOUT_MS. p50 / p95 / max over the rounds (a round not met counts as ∞).
 *  2. Relay events per idle peer per minute: events each member published while its room sat idle
 *     (from 10 s after the room connected until its newcomer opened), from the relay's log.
 *  3. Fresh two-page join: FRESH_RUNS pairs per variant (interleaved), both pages navigated at once;
 *     a run's value is the later page's first-peer time (ms from navigation start). Median.
 *  4. Offer pool size (patched bare Trystero, `offerPoolSize` 0 / 1 / 4 / 20): fresh two-page join
 *     median, and the RTCPeerConnections each page created (the pool's cost: ports, and one TURN
 *     allocation each where TURN is configured).
 *
 * Writes bench/results/mesh-join.json and .md. Never fails on numbers.
 * Knobs: BENCH_IDLE_ROUNDS (10), BENCH_IDLE_MEMBERS (3), BENCH_IDLE_MS (75000), BENCH_FRESH_RUNS (7),
 * BENCH_IDLE_WAVE (2: rounds whose rooms are open at the same time).
 */
import { readFileSync } from 'node:fs';
import { cpuInfo, machineLine } from './lib/machine.mjs';
import { notesSection } from './lib/markdown.mjs';
import { logRelayEventsToTempFile } from './lib/relay-log.mjs';
import { roundTo2, writeResultFiles } from './lib/results.mjs';
import { exitOnError } from './lib/script-entry.mjs';
import { lowerMedian, percentile } from './lib/stats.mjs';
import { sleep } from './lib/timing.mjs';

const RELAY_LOG = logRelayEventsToTempFile('mesh-join-'); // inherited by the relay process startWorld() spawns
const { startWorld, uniqueRoom } = await import('../test/harness/browser.mjs');

const ROUNDS = Number(process.env.BENCH_IDLE_ROUNDS ?? 10);
const MEMBERS = Number(process.env.BENCH_IDLE_MEMBERS ?? 3);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 75_000);
const FRESH_RUNS = Number(process.env.BENCH_FRESH_RUNS ?? 7);
const WAVE = Number(process.env.BENCH_IDLE_WAVE ?? 2);
const NEWCOMER_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 30_000;
const APP_ID = 'p2p-widgets-bench-join';
const POOLS = [0, 1, 4, 20];

const VARIANTS = [
  { key: 'widget', label: 'p2p-chat widget', url: (w, room, q = {}) => `${w.host.url}/bench/fixtures/chat-bench.html?${new URLSearchParams({ bundle: w.bundleUrl, room, relay: w.relay.url, appId: APP_ID, name: 'bench', ...q })}` },
  { key: 'patched', label: 'bare Trystero, patched', url: (w, room, q = {}) => `${w.host.url}/bench/fixtures/trystero-bare.html?${new URLSearchParams({ room, relay: w.relay.url, appId: APP_ID, ...q })}` },
  { key: 'upstream', label: 'bare Trystero 0.25.4 (as published)', url: (w, room) => `${w.host.url}/bench/fixtures/trystero-bare.html?${new URLSearchParams({ room, relay: w.relay.url, appId: APP_ID, build: 'upstream' })}` },
];

const fmt = (x, d = 0) => (x === null || x === undefined ? '—' : x === Infinity ? 'not met' : x.toFixed(d));

/** Counts RTCPeerConnections a page creates (window.pcCount). */
const COUNT_PCS = `(() => { const B = window.RTCPeerConnection; window.pcCount = 0; window.RTCPeerConnection = class extends B { constructor(...a) { super(...a); window.pcCount++; } }; })();`;

async function openPage(world, url) {
  const context = await world.browser.newContext();
  await context.addInitScript(COUNT_PCS);
  const page = await context.newPage();
  await page.goto(url);
  return { context, page };
}
const peerCount = page => page.evaluate(() => Object.keys(window.bench?.peers ?? {}).length).catch(() => 0);
async function waitPeers(page, n, timeout) {
  try {
    await page.waitForFunction(k => window.bench && Object.keys(window.bench.peers).length >= k, n, { timeout, polling: 50 });
    return true;
  } catch {
    return false;
  }
}

export async function main() {
  const startedAt = Date.now();
  const world = await startWorld();
  const log = msg => console.log(`[mesh-join ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
  const notes = [];
  try {
    // 1 + 2. Idle rooms, in waves of WAVE rounds (one room per variant and round): a wave's rooms are
    // opened one after another, each waits until it has been idle IDLE_MS, then gets its newcomer and
    // is closed before the next wave opens. Waves keep the browser to WAVE × variants × MEMBERS idle
    // pages: with every round's rooms open at once (90 pages) the first newcomers shared the two cores
    // with 89 other pages, which no visitor does, and were up to 3× slower than the last.
    const newcomer = Object.fromEntries(VARIANTS.map(v => [v.key, []]));
    const idleWindows = [];
    for (let wave = 0; wave < ROUNDS; wave += WAVE) {
      const rooms = [];
      for (let r = wave; r < Math.min(ROUNDS, wave + WAVE); r++) {
        for (const v of VARIANTS) {
          const room = uniqueRoom(`idle-${v.key}`);
          const members = await Promise.all(Array.from({ length: MEMBERS }, () => openPage(world, v.url(world, room))));
          const ok = (await Promise.all(members.map(m => waitPeers(m.page, MEMBERS - 1, CONNECT_TIMEOUT_MS)))).every(Boolean);
          const ids = new Set((await Promise.all(members.map(m => m.page.evaluate(() => Object.keys(window.bench.peers))))).flat());
          rooms.push({ v, room, members, ok, ids, connectedAt: Date.now() });
          if (!ok) notes.push(`${v.label}: round ${r + 1}'s ${MEMBERS} members did not all connect within ${CONNECT_TIMEOUT_MS / 1000} s (round skipped)`);
        }
        log(`opened idle rooms of round ${r + 1}/${ROUNDS}`);
      }
      for (const room of rooms) {
        if (!room.ok) {
          await Promise.all(room.members.map(m => m.context.close()));
          continue;
        }
        await sleep(Math.max(0, room.connectedAt + IDLE_MS - Date.now()));
        const openedAt = Date.now();
        idleWindows.push({ key: room.v.key, ids: room.ids, from: room.connectedAt + 10_000, to: openedAt });
        const nc = await openPage(world, room.v.url(world, room.room));
        const met = await waitPeers(nc.page, MEMBERS, NEWCOMER_TIMEOUT_MS);
        const value = met ? await nc.page.evaluate(() => Math.max(...Object.values(window.bench.peers))) : Infinity;
        const metCount = await peerCount(nc.page);
        newcomer[room.v.key].push({ value, metCount, idleMs: openedAt - room.connectedAt });
        log(`newcomer ${room.v.key}: ${met ? `met all ${MEMBERS} at ${fmt(value)} ms` : `met ${metCount}/${MEMBERS} in ${NEWCOMER_TIMEOUT_MS / 1000} s`} (room idle ${((openedAt - room.connectedAt) / 1000).toFixed(0)} s)`);
        await nc.context.close();
        await Promise.all(room.members.map(m => m.context.close()));
      }
    }
    const events = readFileSync(RELAY_LOG, 'utf8').trim().split('\n').filter(Boolean).map(l => JSON.parse(l));
    const idleEvents = Object.fromEntries(
      VARIANTS.map(v => {
        const windows = idleWindows.filter(w => w.key === v.key);
        let count = 0;
        let peerMinutes = 0;
        const byType = {};
        for (const w of windows) {
          peerMinutes += (w.ids.size * (w.to - w.from)) / 60_000;
          for (const e of events) {
            if (e.t < w.from || e.t >= w.to || !w.ids.has(e.peerId)) continue;
            count++;
            byType[e.type] = (byType[e.type] ?? 0) + 1;
          }
        }
        return [v.key, { events: count, peerMinutes, perPeerPerMinute: peerMinutes ? count / peerMinutes : null, byType }];
      }),
    );

    // 3. Fresh two-page joins.
    const freshPair = async (url, prefix) => {
      const room = uniqueRoom(prefix);
      const pages = await Promise.all([0, 1].map(() => world.browser.newContext().then(async context => {
        await context.addInitScript(COUNT_PCS);
        return { context, page: await context.newPage() };
      })));
      await Promise.all(pages.map(p => p.page.goto(url(room))));
      const ok = (await Promise.all(pages.map(p => waitPeers(p.page, 1, NEWCOMER_TIMEOUT_MS)))).every(Boolean);
      const times = await Promise.all(pages.map(p => p.page.evaluate(() => ({ first: window.bench.peerJoinAt, ready: window.bench.definedAt, pcs: window.pcCount }))));
      await sleep(1500); // let a pool warm up fully before counting its connections
      const pcs = await Promise.all(pages.map(p => p.page.evaluate(() => window.pcCount)));
      await Promise.all(pages.map(p => p.context.close()));
      return { ok, value: ok ? Math.max(...times.map(t => t.first)) : Infinity, afterReady: times.map(t => (t.first !== null && t.ready !== null ? t.first - t.ready : null)), pcs: Math.max(...pcs) };
    };
    const fresh = Object.fromEntries(VARIANTS.map(v => [v.key, []]));
    await freshPair(room => VARIANTS[0].url(world, room), 'fresh-warmup');
    for (let i = 0; i < FRESH_RUNS; i++) {
      for (const v of i % 2 ? [...VARIANTS].reverse() : VARIANTS) {
        const run = await freshPair(room => v.url(world, room), `fresh-${v.key}`);
        fresh[v.key].push(run);
      }
      log(`fresh pairs #${i + 1}: ${VARIANTS.map(v => `${v.key} ${fmt(fresh[v.key].at(-1).value)} ms`).join(', ')}`);
    }

    // 4. Offer pool size (patched bare Trystero).
    const pools = Object.fromEntries(POOLS.map(n => [n, []]));
    for (let i = 0; i < FRESH_RUNS; i++) {
      for (const n of i % 2 ? [...POOLS].reverse() : POOLS) pools[n].push(await freshPair(room => VARIANTS[1].url(world, room, { pool: String(n) }), `pool-${n}`));
      log(`offer pools #${i + 1}: ${POOLS.map(n => `${n}: ${fmt(pools[n].at(-1).value)} ms`).join(', ')}`);
    }

    const summary = xs => ({ n: xs.length, met: xs.filter(x => x.value !== Infinity).length, p50: lowerMedian(xs.map(x => x.value)), p95: percentile(xs.map(x => x.value), 95), max: xs.length ? Math.max(...xs.map(x => x.value)) : null });
    const result = {
      bench: 'mesh-join',
      date: new Date().toISOString(),
      chromium: world.browser.version(),
      cpu: cpuInfo(),
      config: { rounds: ROUNDS, members: MEMBERS, idleMs: IDLE_MS, newcomerTimeoutMs: NEWCOMER_TIMEOUT_MS, freshRuns: FRESH_RUNS, wave: WAVE, pools: POOLS },
      newcomer: Object.fromEntries(VARIANTS.map(v => [v.key, { label: v.label, ...summary(newcomer[v.key]), runs: newcomer[v.key] }])),
      idleEvents,
      fresh: Object.fromEntries(VARIANTS.map(v => [v.key, { label: v.label, ...summary(fresh[v.key]), afterReadyMedian: lowerMedian(fresh[v.key].flatMap(r => r.afterReady).filter(x => x !== null)), pcsMedian: lowerMedian(fresh[v.key].map(r => r.pcs)), runs: fresh[v.key] }])),
      pools: Object.fromEntries(POOLS.map(n => [n, { ...summary(pools[n]), pcsMedian: lowerMedian(pools[n].map(r => r.pcs)) }])),
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    };
    const json = JSON.stringify(result, (_k, v) => (v === Infinity ? 'not met' : typeof v === 'number' ? roundTo2(v) : v instanceof Set ? [...v] : v), 2);
    const md = [
      `## Mesh joins: newcomer into an idle room, fresh pairs, relay traffic, offer pool`,
      ``,
      machineLine(result, ['local Nostr relay, no ICE servers']),
      ``,
      `### Newcomer into a room idle ≥ ${IDLE_MS / 1000} s (${ROUNDS} rounds in waves of ${WAVE}, ${MEMBERS} members; ms from the newcomer's navigation start until it has met every member; ∞ = not within ${NEWCOMER_TIMEOUT_MS / 1000} s)`,
      ``,
      `| variant | met all | p50 | p95 | max |`,
      `|---|--:|--:|--:|--:|`,
      ...VARIANTS.map(v => { const s = result.newcomer[v.key]; return `| ${v.label} | ${s.met}/${s.n} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.max)} |`; }),
      ``,
      `### Relay events per idle peer per minute (members of the idle rooms above, from 10 s after connecting until the newcomer)`,
      ``,
      `| variant | events / peer / min | events | by type |`,
      `|---|--:|--:|---|`,
      ...VARIANTS.map(v => { const s = idleEvents[v.key]; return `| ${v.label} | ${fmt(s.perPeerPerMinute, 2)} | ${s.events} | ${Object.entries(s.byType).map(([k, n]) => `${k} ${n}`).join(', ') || '—'} |`; }),
      ``,
      `### Fresh two-page join (${FRESH_RUNS} runs; ms from navigation start until both pages have a peer)`,
      ``,
      `| variant | median | max | ready → peer (median) | RTCPeerConnections per page |`,
      `|---|--:|--:|--:|--:|`,
      ...VARIANTS.map(v => { const s = result.fresh[v.key]; return `| ${v.label} | ${fmt(s.p50)} | ${fmt(s.max)} | ${fmt(s.afterReadyMedian)} | ${fmt(s.pcsMedian)} |`; }),
      ``,
      `### Offer pool size (bare Trystero, patched; fresh two-page join, ${FRESH_RUNS} runs)`,
      ``,
      `| offerPoolSize | median ms | max ms | RTCPeerConnections per page |`,
      `|--:|--:|--:|--:|`,
      ...POOLS.map(n => { const s = result.pools[n]; return `| ${n} | ${fmt(s.p50)} | ${fmt(s.max)} | ${fmt(s.pcsMedian)} |`; }),
      ``,
      ...notesSection(notes),
    ].join('\n');
    writeResultFiles('mesh-join', `${json}\n`, `${md}\n`);
    console.log(`\n${md}\nwrote bench/results/mesh-join.json and .md (${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);
  } finally {
    await world.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch(exitOnError('bench mesh-join: could not run:'));
}
