#!/usr/bin/env node
/**
 * Chat history bench (run by bench/run.mjs after the mesh/chat part, or alone:
 * `node bench/chat-history.mjs`): how the signed per-device history of `<p2p-chat>`
 * behaves with HISTORY (10 000) messages in a room, in headless Chromium over a
 * local Nostr relay, every page in its own browser context (its own IndexedDB).
 *
 *  Seed: page A, alone in a fresh room, calls `sendMessage` HISTORY times (each signs
 *     and stores one record). Done once.
 *  1. Newcomer from ONE peer: a fresh newcomer N joins A; ms from N's navigation start
 *     until N's IndexedDB holds all HISTORY records (polled in-page with the plain
 *     IndexedDB API every POLL_MS), and from N's first peer until then. RUNS runs,
 *     a fresh N each (closed before the next).
 *  2. Newcomer from THREE peers: B joins A and syncs (time reported), then C joins A and B
 *     and syncs (time reported); then RUNS fresh newcomers join A, B and C.
 *  3. Opening the widget on a device that holds HISTORY records: A is reloaded (first with
 *     B and C online, then alone after they left); ms from navigation start until the
 *     newest message is in the widget's shadow DOM, and the main thread's long tasks
 *     (PerformanceObserver 'longtask') during that: the longest and the total blocking time.
 *
 * Prints a table, writes bench/results/chat-history.json and .md. Numbers never fail the
 * run; the exit code is non-zero only when the bench could not run.
 *
 * Knobs (environment): BENCH_HISTORY (10000) messages, BENCH_HISTORY_RUNS (3) runs of the
 * repeated parts, BENCH_HISTORY_SYNC_TIMEOUT_MS (max(60 000, 15 ms × HISTORY)) per sync,
 * BENCH_HISTORY_ONLINE_RELOAD (1; 0 skips part 3 with peers online).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openChatPage, startWorld, uniqueRoom, waitForPeers } from '../test/harness/browser.mjs';
import { ROOT } from '../test/harness/processes.mjs';

const int = (name, fallback) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return Math.floor(n);
};
const HISTORY = Math.max(1, int('BENCH_HISTORY', 10_000));
/** Reloads per row of part 3 (cheap). */
const RUNS = Math.max(1, int('BENCH_HISTORY_RUNS', 3));
/** Fresh newcomers in parts 1 and 2 (each receives the whole history: about a minute at 10 000). */
const SYNC_RUNS = Math.max(1, int('BENCH_HISTORY_SYNC_RUNS', 1));
const SYNC_TIMEOUT_MS = int('BENCH_HISTORY_SYNC_TIMEOUT_MS', Math.max(60_000, 15 * HISTORY));
const ONLINE_RELOAD = int('BENCH_HISTORY_ONLINE_RELOAD', 1) !== 0;
const POLL_MS = 50;
const SEED_CHUNK = 500;
/** sendMessage calls in flight while seeding (each still signs and stores one record; ingest is serialized by the log). */
const SEED_CONCURRENCY = Math.max(1, int('BENCH_HISTORY_SEED_CONCURRENCY', 8));
const RENDER_TIMEOUT_MS = 30_000;
/** How long a newcomer may take after complete to show the newest message. */
const RENDER_AFTER_SYNC_MS = 2_000;
/** Long tasks are collected until this long after the newest message was rendered. */
const SETTLE_MS = 1_000;
const WATCHDOG_MS = 9 * 60_000;
const RESULTS_DIR = path.join(ROOT, 'bench/results');
const BUNDLE = path.join(ROOT, 'www/build/p2p-widgets.esm.js');

/** Text of seeded message i (0-based): ~70 characters, like a chat line. */
const messageText = (i, n) => `history ${i + 1}/${n}: the quick brown fox jumps over the lazy dog`;
const LAST_TEXT = messageText(HISTORY - 1, HISTORY);

// ---------- statistics and formatting (same conventions as run.mjs) ----------

const sorted = xs => [...xs].sort((a, b) => a - b);
function median(xs) {
  if (!xs.length) return null;
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const fmt = (x, digits = 0) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));
const round = x => (typeof x === 'number' ? Math.round(x * 100) / 100 : x);
const roundAll = o => JSON.parse(JSON.stringify(o, (_k, v) => round(v)));

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => String(r[i]).length)));
  const line = cells => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---------- in-page probe (an init script, runs before the page's own scripts) ----------

/**
 * Installed in every bench context. Records in window.__history (times are
 * performance.now(), ms since navigation start):
 *  - peerJoins: every p2pPeerJoin;
 *  - longTasks: [startTime, duration] of every 'longtask' entry;
 *  - renderedAt: when the last `.message .text` in the widget's shadow DOM first equals
 *    `lastText` (checked by a MutationObserver on the shadow root, rAF until it exists);
 *  - with `target`: count/firstRecordAt/doneAt/progress: the `chatRecords` count of the
 *    page's IndexedDB, polled every `pollMs` with the plain IndexedDB API (one connection,
 *    never creates the database: an upgrade on a missing database is aborted).
 */
function historyProbe({ target, lastText, pollMs }) {
  const h = (window.__history = { peerJoins: [], errors: [], longTasks: [], longTaskSupported: false, renderedAt: null, count: 0, firstRecordAt: null, doneAt: null, progress: [], polls: 0 });
  try {
    h.longTaskSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) h.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (err) {
    h.errors.push(`longtask observer: ${err}`);
  }
  document.addEventListener('p2pPeerJoin', () => h.peerJoins.push(performance.now()));
  document.addEventListener('p2pError', e => h.errors.push(`${e.detail?.code}: ${e.detail?.message}`));

  if (lastText) {
    let observer = null;
    const rootOf = () => document.querySelector('p2p-chat')?.shadowRoot ?? null;
    const check = () => {
      if (h.renderedAt !== null) return true;
      const texts = rootOf()?.querySelectorAll('.message .text');
      if (texts?.length && texts[texts.length - 1].textContent === lastText) {
        h.renderedAt = performance.now();
        observer?.disconnect();
        return true;
      }
      return false;
    };
    const frame = () => {
      if (check()) return;
      const root = rootOf();
      if (root && !observer) {
        observer = new MutationObserver(check);
        observer.observe(root, { childList: true, subtree: true, characterData: true });
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  if (target) {
    let db = null;
    let lastSample = -Infinity;
    const openDb = () =>
      new Promise(resolve => {
        const req = indexedDB.open('p2p-widgets');
        req.onupgradeneeded = () => req.transaction.abort(); // not created yet: do not create it
        req.onerror = () => resolve(null);
        req.onblocked = () => resolve(null);
        req.onsuccess = () => {
          const d = req.result;
          d.onversionchange = () => {
            d.close();
            if (db === d) db = null;
          };
          resolve(d);
        };
      });
    const count = d =>
      new Promise((resolve, reject) => {
        const r = d.transaction('chatRecords', 'readonly').objectStore('chatRecords').count();
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const tick = async () => {
      h.polls++;
      try {
        db ??= await openDb();
        if (db && !db.objectStoreNames.contains('chatRecords')) {
          db.close();
          db = null;
        }
        if (db) {
          const n = await count(db);
          const t = performance.now();
          h.count = n;
          if (n > 0 && h.firstRecordAt === null) h.firstRecordAt = t;
          if (t - lastSample >= 250 || n >= target) {
            h.progress.push([Math.round(t), n]);
            lastSample = t;
          }
          if (n >= target) {
            h.doneAt = t;
            db.close();
            return;
          }
        }
      } catch (err) {
        h.errors.push(`poll: ${err}`);
        try {
          db?.close();
        } catch {
          /* already closed */
        }
        db = null;
      }
      setTimeout(tick, pollMs);
    };
    setTimeout(tick, pollMs);
  }
}

/** Long-task figures over [0, until] ms: longest task and total blocking time (Σ max(0, duration − 50)). */
function longTaskFigures(longTasks, until) {
  const within = longTasks.filter(([start]) => start <= until);
  return {
    count: within.length,
    maxMs: within.length ? Math.max(...within.map(([, d]) => d)) : 0,
    tbtMs: within.reduce((sum, [, d]) => sum + Math.max(0, d - 50), 0),
    sumMs: within.reduce((sum, [, d]) => sum + d, 0),
  };
}

// ---------- browser pieces ----------

const pageErrors = [];

/** A fresh visitor (browser context: own storage, cold cache) with the probe installed. */
async function newVisitor(world, probe) {
  const context = await world.browser.newContext();
  await context.addInitScript(historyProbe, { target: null, lastText: LAST_TEXT, pollMs: POLL_MS, ...probe });
  return context;
}

async function openVisitor(world, room, name, probe) {
  const context = await newVisitor(world, probe);
  const page = await openChatPage(world, room, [{ 'user-name': name }], { context });
  page.on('pageerror', err => pageErrors.push(`${name}: ${err.message}`));
  return { name, context, page, close: () => context.close().catch(() => undefined) };
}

const statusOf = page => page.locator('p2p-chat').first().getByRole('status');
async function waitForAlone(page, timeout = 30_000) {
  await statusOf(page).filter({ hasText: /^Waiting for peers…$/ }).waitFor({ timeout });
}

/** Number of chat records in the page's IndexedDB (plain IndexedDB API). */
function countRecords(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('p2p-widgets');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('chatRecords')) return resolve(0);
          const c = db.transaction('chatRecords').objectStore('chatRecords').count();
          c.onsuccess = () => {
            db.close();
            resolve(c.result);
          };
          c.onerror = () => reject(c.error);
        };
      }),
  );
}

const readProbe = page => page.evaluate(() => window.__history);

/** The chat counters of the widget on `page` (refusals show duplicates sent twice). */
async function wireStats(page) {
  try {
    const s = await page.locator('p2p-chat').first().evaluate(el => el.getWireStats());
    return { accepted: s.accepted, dropped: Object.fromEntries(Object.entries(s.dropped).filter(([, n]) => n)), refused: Object.fromEntries(Object.entries(s.refused).filter(([, n]) => n)) };
  } catch (err) {
    return { error: String(err?.message ?? err) };
  }
}

/**
 * Opens a newcomer on `room` and waits until its IndexedDB holds HISTORY records
 * (or SYNC_TIMEOUT_MS). `peers`: how many peers it should meet. Leaves it open.
 */
async function newcomer(world, room, name, peers) {
  const v = await openVisitor(world, room, name, { target: HISTORY });
  let timedOut = false;
  try {
    await v.page.waitForFunction(() => window.__history.doneAt !== null, null, { timeout: SYNC_TIMEOUT_MS, polling: 250 });
  } catch {
    timedOut = true;
  }
  // The newest message appears in the list shortly after the last record is stored.
  await v.page.waitForFunction(() => window.__history.renderedAt !== null, null, { timeout: RENDER_AFTER_SYNC_MS, polling: 100 }).catch(() => undefined);
  try {
    await waitForPeers(v.page, peers, 0, 10_000);
  } catch {
    /* reported through peerJoins */
  }
  const h = await readProbe(v.page);
  const joins = h.peerJoins;
  const done = h.doneAt;
  const syncMs = done !== null && h.firstRecordAt !== null ? done - h.firstRecordAt : null;
  return {
    visitor: v,
    run: {
      ok: !timedOut && done !== null,
      count: h.count,
      navToCompleteMs: done,
      firstPeerAt: joins[0] ?? null,
      allPeersAt: joins.length >= peers ? joins[peers - 1] : null,
      peerJoins: joins.length,
      firstPeerToCompleteMs: done !== null && joins.length ? done - joins[0] : null,
      firstRecordAt: h.firstRecordAt,
      firstToLastRecordMs: syncMs,
      recordsPerS: syncMs ? (HISTORY / syncMs) * 1000 : null,
      newestRenderedAt: h.renderedAt,
      longTasks: longTaskFigures(h.longTasks, done ?? Infinity),
      progress: h.progress,
      polls: h.polls,
      errors: h.errors.slice(0, 5),
      wire: await wireStats(v.page),
    },
  };
}

/** Reloads `page` (the seeding device) and measures the open until the newest message is rendered. */
async function reloadRun(page) {
  await page.reload();
  let ok = true;
  try {
    await page.waitForFunction(() => window.__history?.renderedAt != null, null, { timeout: RENDER_TIMEOUT_MS, polling: 100 });
  } catch {
    ok = false;
  }
  await page.waitForTimeout(SETTLE_MS);
  const h = await readProbe(page);
  const until = h.renderedAt ?? Infinity;
  const nav = await page.evaluate(() => {
    const e = performance.getEntriesByType('navigation')[0];
    return e ? { domContentLoaded: e.domContentLoadedEventEnd, load: e.loadEventEnd } : null;
  });
  return {
    ok,
    renderedAt: h.renderedAt,
    longTasks: longTaskFigures(h.longTasks, until),
    longTasksWithSettle: longTaskFigures(h.longTasks, until + SETTLE_MS),
    longTaskSupported: h.longTaskSupported,
    allLongTasks: h.longTasks.map(([s, d]) => [Math.round(s), Math.round(d)]),
    navigation: nav,
    peerJoins: h.peerJoins.length,
    errors: h.errors.slice(0, 5),
  };
}

// ---------- report ----------

function summarizeNewcomers(runs) {
  const ok = runs.filter(r => r.ok);
  return {
    runs: runs.length,
    ok: ok.length,
    navToComplete: median(ok.map(r => r.navToCompleteMs)),
    firstPeerAt: median(ok.map(r => r.firstPeerAt).filter(x => x !== null)),
    firstPeerToComplete: median(ok.map(r => r.firstPeerToCompleteMs).filter(x => x !== null)),
    firstToLastRecord: median(ok.map(r => r.firstToLastRecordMs).filter(x => x !== null)),
    recordsPerS: median(ok.map(r => r.recordsPerS).filter(x => x !== null)),
    newestRenderedAt: median(ok.map(r => r.newestRenderedAt).filter(x => x !== null)),
    maxLongTask: median(runs.map(r => r.longTasks.maxMs)),
    tbt: median(runs.map(r => r.longTasks.tbtMs)),
    min: ok.length ? Math.min(...ok.map(r => r.navToCompleteMs)) : null,
    max: ok.length ? Math.max(...ok.map(r => r.navToCompleteMs)) : null,
  };
}

function summarizeReloads(runs) {
  const ok = runs.filter(r => r.ok);
  return {
    runs: runs.length,
    ok: ok.length,
    renderedAt: median(ok.map(r => r.renderedAt)),
    min: ok.length ? Math.min(...ok.map(r => r.renderedAt)) : null,
    max: ok.length ? Math.max(...ok.map(r => r.renderedAt)) : null,
    maxLongTask: median(runs.map(r => r.longTasks.maxMs)),
    worstLongTask: runs.length ? Math.max(...runs.map(r => r.longTasks.maxMs)) : null,
    tbt: median(runs.map(r => r.longTasks.tbtMs)),
    tbtWithSettle: median(runs.map(r => r.longTasksWithSettle.tbtMs)),
    maxLongTaskWithSettle: median(runs.map(r => r.longTasksWithSettle.maxMs)),
  };
}

function render(result) {
  const { seed, oneSource, threeSources, reload } = result;
  const n = result.config.history;
  const s = (x, d = 1) => (x === null || x === undefined ? '—' : fmt(x / 1000, d));
  const rate = x => (x === null || x === undefined ? '—' : fmt(x, 0));
  const newcomerRow = (label, sum) => [label, s(sum.navToComplete), s(sum.firstPeerAt, 2), s(sum.firstPeerToComplete), rate(sum.recordsPerS), s(sum.newestRenderedAt), fmt(sum.maxLongTask), fmt(sum.tbt), `${sum.ok}/${sum.runs}`];
  const single = (label, r) => newcomerRow(label, summarizeNewcomers([r]));
  const newcomerRows = [
    newcomerRow(`1. newcomer ← 1 peer (A)`, oneSource.summary),
    newcomerRow(`2. newcomer ← 3 peers (A, B, C)`, threeSources.summary),
    single(`   B ← A (B's first sync)`, threeSources.b),
    single(`   C ← A + B online`, threeSources.c),
  ];
  const reloadRows = reload.map(r => [r.label, fmt(r.summary.renderedAt), fmt(r.summary.min), fmt(r.summary.max), fmt(r.summary.maxLongTask), fmt(r.summary.worstLongTask), fmt(r.summary.tbt), fmt(r.summary.tbtWithSettle), `${r.summary.ok}/${r.summary.runs}`]);
  return [
    `## Chat history: ${n.toLocaleString('en')} messages`,
    ``,
    `${result.date} · Chromium ${result.chromium} · Node ${result.node} · ${result.cpu.count}× ${result.cpu.model} · ${result.platform}`,
    ``,
    `Every page is a fresh browser context (own IndexedDB, cold cache) with one \`<p2p-chat>\` on \`test/fixtures/chat-host.html\`, local Nostr relay, no ICE servers, all pages in one headless Chromium on this machine (they share its ${result.cpu.count} cores). Seed: page A, alone in the room, called \`sendMessage\` ${n} times (each signs, stores and renders one record): ${s(seed.ms)} s, ${rate(seed.recordsPerS)} records/s. Wire limits that bound sync: ≤ 250 records and ≤ 384 KiB per batch, ≤ 40 batches/s (burst 100) per peer; each received record is verified (ECDSA signature) and stored in its own IndexedDB transaction.`,
    ``,
    `### Newcomer receiving the history (s unless noted)`,
    ``,
    `"complete" = the newcomer's IndexedDB holds all ${n} records (counted in-page every ${POLL_MS} ms with the plain IndexedDB API). "nav → complete": from the newcomer's navigation start; "first peer": navigation start → first \`p2pPeerJoin\`; "peer → complete": first peer → complete; "records/s": ${n} / (first record stored → complete); "newest shown": navigation start → the newest message in the list; long tasks (ms) on the newcomer's main thread until complete: longest, and total blocking time (Σ (duration − 50 ms)). Rows 1 and 2: ${result.config.syncRuns === 1 ? 'one fresh newcomer each' : `medians of ${result.config.syncRuns} fresh newcomers each`} (a whole-history sync is not cheap; \`BENCH_HISTORY_SYNC_RUNS\` repeats it); B and C: one run each.`,
    ``,
    table(['case', 'nav → complete', 'first peer', 'peer → complete', 'records/s', 'newest shown', 'longest task ms', 'TBT ms', 'ok'], newcomerRows),
    ``,
    `### Opening the widget on a device holding ${n} records (ms)`,
    ``,
    `Page A reloaded (same context, its IndexedDB keeps the ${n} records). "newest shown": navigation start → the last \`.message .text\` in the shadow DOM is the newest message (MutationObserver, before paint). Long tasks (PerformanceObserver 'longtask') from navigation start to newest shown: longest (median and worst run) and total blocking time; "TBT +${SETTLE_MS / 1000} s" also counts the ${SETTLE_MS / 1000} s after. ${result.config.runs} reloads per row, medians.`,
    ``,
    table(['case', 'newest shown', 'min', 'max', 'longest task', 'worst task', 'TBT', `TBT +${SETTLE_MS / 1000} s`, 'ok'], reloadRows),
    ``,
    ...(result.notes.length ? ['Notes:', ...result.notes.map(x => `- ${x}`), ''] : []),
  ].join('\n');
}

// ---------- main ----------

export async function main() {
  if (!existsSync(BUNDLE)) {
    console.log('bench: www/build/p2p-widgets.esm.js is missing, building (npx stencil build --ci)…');
    const build = spawnSync('npx', ['stencil', 'build', '--ci'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0 || !existsSync(BUNDLE)) throw new Error('stencil build failed');
  }
  const startedAt = Date.now();
  const world = await startWorld();
  let stopping = null;
  const stop = () => (stopping ??= world.stop());
  const onSignal = () => stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog after ${WATCHDOG_MS / 1000} s, stopping`);
    stop().then(() => process.exit(2));
  }, WATCHDOG_MS);
  watchdog.unref();

  const notes = [];
  const open = [];
  try {
    const chromium = world.browser.version();
    const log = msg => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
    log(`chat history: ${HISTORY} messages, ${SYNC_RUNS} newcomer run(s), ${RUNS} reloads; relay ${world.relay.url} (pid ${world.relay.pid}), assets pid ${world.assets.pid}, host pid ${world.host.pid}, Chromium ${chromium}`);
    const room = uniqueRoom('bench-history');

    // Seed: A alone writes HISTORY messages.
    const a = await openVisitor(world, room, 'a', { target: null });
    open.push(a);
    await waitForAlone(a.page);
    const seedStart = Date.now();
    const chunks = [];
    for (let from = 0; from < HISTORY; from += SEED_CHUNK) {
      const to = Math.min(HISTORY, from + SEED_CHUNK);
      const ms = await a.page.locator('p2p-chat').evaluate(
        async (el, { from, to, n, concurrency }) => {
          const text = i => `history ${i + 1}/${n}: the quick brown fox jumps over the lazy dog`;
          const t0 = performance.now();
          // The newest message is sent alone, a few ms after the rest, so it is strictly the newest.
          const bulkEnd = Math.min(to, n - 1);
          for (let i = from; i < bulkEnd; i += concurrency) {
            const calls = [];
            for (let j = i; j < Math.min(bulkEnd, i + concurrency); j++) calls.push(el.sendMessage(text(j)));
            await Promise.all(calls);
          }
          if (to === n) {
            await new Promise(resolve => setTimeout(resolve, 5));
            await el.sendMessage(text(n - 1));
          }
          return performance.now() - t0;
        },
        { from, to, n: HISTORY, concurrency: SEED_CONCURRENCY },
      );
      chunks.push({ from, to, ms });
      if (to === HISTORY || (to / SEED_CHUNK) % 4 === 0) log(`seed: ${to}/${HISTORY} (last ${to - from} in ${fmt(ms)} ms)`);
    }
    if (messageText(HISTORY - 1, HISTORY) !== LAST_TEXT) throw new Error('message text mismatch');
    const seedMs = Date.now() - seedStart;
    const held = await countRecords(a.page);
    if (held !== HISTORY) throw new Error(`seeding: A holds ${held} records, expected ${HISTORY}`);
    const seed = {
      ms: seedMs,
      recordsPerS: (HISTORY / seedMs) * 1000,
      firstChunkPerS: (chunks[0].to - chunks[0].from) / (chunks[0].ms / 1000),
      lastChunkPerS: (chunks.at(-1).to - chunks.at(-1).from) / (chunks.at(-1).ms / 1000),
      chunks,
    };
    log(`seed: ${HISTORY} records in ${fmt(seedMs / 1000, 1)} s (${fmt(seed.firstChunkPerS)}/s at first, ${fmt(seed.lastChunkPerS)}/s at the end)`);

    // 1. Newcomer from one peer.
    const oneRuns = [];
    for (let i = 0; i < SYNC_RUNS; i++) {
      const { visitor, run } = await newcomer(world, room, `n1-${i}`, 1);
      oneRuns.push(run);
      log(`1 peer, newcomer #${i + 1}: ${run.ok ? `complete at ${fmt(run.navToCompleteMs)} ms (peer at ${fmt(run.firstPeerAt)} ms, ${fmt(run.recordsPerS)} records/s, longest task ${fmt(run.longTasks.maxMs)} ms)` : `INCOMPLETE: ${run.count}/${HISTORY} after ${SYNC_TIMEOUT_MS / 1000} s`}`);
      // No wait for A to notice the departure (that takes ~10 s): the next newcomer is a new peer id.
      await visitor.close();
    }

    // 2. B and C take the history from A, then newcomers meet all three.
    const bJoin = await newcomer(world, room, 'b', 1);
    open.push(bJoin.visitor);
    log(`B ← A: ${bJoin.run.ok ? `complete at ${fmt(bJoin.run.navToCompleteMs)} ms` : `INCOMPLETE ${bJoin.run.count}/${HISTORY}`}`);
    const cJoin = await newcomer(world, room, 'c', 2);
    open.push(cJoin.visitor);
    log(`C ← A + B: ${cJoin.run.ok ? `complete at ${fmt(cJoin.run.navToCompleteMs)} ms` : `INCOMPLETE ${cJoin.run.count}/${HISTORY}`}`);
    const threeRuns = [];
    for (let i = 0; i < SYNC_RUNS; i++) {
      const { visitor, run } = await newcomer(world, room, `n3-${i}`, 3);
      threeRuns.push(run);
      log(`3 peers, newcomer #${i + 1}: ${run.ok ? `complete at ${fmt(run.navToCompleteMs)} ms (1st peer at ${fmt(run.firstPeerAt)}, 3rd at ${fmt(run.allPeersAt)} ms, ${fmt(run.recordsPerS)} records/s, longest task ${fmt(run.longTasks.maxMs)} ms, refused ${JSON.stringify(run.wire.refused ?? {})})` : `INCOMPLETE: ${run.count}/${HISTORY} after ${SYNC_TIMEOUT_MS / 1000} s`}`);
      await visitor.close();
    }

    // 3. Reopen A: with B and C online (sync runs at the same time), then alone.
    const reload = [];
    if (ONLINE_RELOAD) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const run = await reloadRun(a.page);
        runs.push(run);
        log(`reopen A, B + C online #${i + 1}: ${run.ok ? `newest shown at ${fmt(run.renderedAt)} ms` : 'newest NOT shown'}; longest task ${fmt(run.longTasks.maxMs)} ms, TBT ${fmt(run.longTasks.tbtMs)} ms (+${SETTLE_MS / 1000} s: ${fmt(run.longTasksWithSettle.tbtMs)} ms)`);
        await waitForPeers(a.page, 2, 0, 30_000).catch(() => notes.push('reopened A did not reconnect to B and C within 30 s'));
      }
      reload.push({ key: 'online', label: '3. reopen A, B + C online', runs, summary: summarizeReloads(runs) });
    }
    // B and C leave; A is reloaded right away, so the reopened page finds nobody.
    await bJoin.visitor.close();
    await cJoin.visitor.close();
    {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const run = await reloadRun(a.page);
        runs.push(run);
        log(`reopen A alone #${i + 1}: ${run.ok ? `newest shown at ${fmt(run.renderedAt)} ms` : 'newest NOT shown'}; longest task ${fmt(run.longTasks.maxMs)} ms, TBT ${fmt(run.longTasks.tbtMs)} ms (+${SETTLE_MS / 1000} s: ${fmt(run.longTasksWithSettle.tbtMs)} ms)`);
      }
      reload.unshift({ key: 'alone', label: '3. reopen A, alone', runs, summary: summarizeReloads(runs) });
    }
    const stillHeld = await countRecords(a.page);
    if (stillHeld !== HISTORY) notes.push(`A holds ${stillHeld} records after the reloads, expected ${HISTORY}`);

    // Notes on what looked off.
    const allNewcomers = [...oneRuns, bJoin.run, cJoin.run, ...threeRuns];
    const incomplete = allNewcomers.filter(r => !r.ok);
    if (incomplete.length) notes.push(`${incomplete.length} newcomer sync(s) did not complete within ${SYNC_TIMEOUT_MS / 1000} s (counts: ${incomplete.map(r => r.count).join(', ')})`);
    const dup = allNewcomers.map(r => r.wire.refused?.duplicate ?? 0);
    if (dup.some(x => x > 0)) notes.push(`records received twice (refused as duplicate) per newcomer: ${dup.join(', ')} (1-peer runs, B, C, 3-peer runs)`);
    const dropped = allNewcomers.filter(r => r.wire.dropped && Object.keys(r.wire.dropped).length);
    if (dropped.length) notes.push(`wire drops on newcomers: ${dropped.map(r => JSON.stringify(r.wire.dropped)).join('; ')}`);
    if (!reload[0]?.runs[0]?.longTaskSupported) notes.push(`'longtask' entries are not supported by this Chromium: long-task figures are 0`);
    const probeErrors = allNewcomers.flatMap(r => r.errors);
    if (probeErrors.length) notes.push(`page errors/events during sync: ${[...new Set(probeErrors)].slice(0, 3).join(' | ')}`);
    if (pageErrors.length) notes.push(`${pageErrors.length} uncaught page errors, e.g. ${pageErrors[0]}`);

    const result = roundAll({
      bench: 'chat-history',
      date: new Date().toISOString(),
      chromium,
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpu: { count: os.cpus().length, model: os.cpus()[0]?.model?.trim() ?? 'unknown' },
      config: { history: HISTORY, runs: RUNS, syncRuns: SYNC_RUNS, seedConcurrency: SEED_CONCURRENCY, pollMs: POLL_MS, syncTimeoutMs: SYNC_TIMEOUT_MS, settleMs: SETTLE_MS, seedChunk: SEED_CHUNK, onlineReload: ONLINE_RELOAD, strategy: 'nostr (local relay)', iceServers: [], messageText: messageText(0, HISTORY) },
      definitions: {
        complete: 'the newcomer page\'s IndexedDB "chatRecords" store holds `history` records (count polled in-page every pollMs ms with the plain IndexedDB API)',
        navToCompleteMs: 'performance.now() at complete (ms since the newcomer\'s navigation start)',
        firstPeerToCompleteMs: 'complete minus the first p2pPeerJoin on the newcomer',
        recordsPerS: 'history / (complete − first record stored) × 1000',
        newestRenderedAt: 'performance.now() when the last `.message .text` in the widget\'s shadow DOM first equals the newest message\'s text (MutationObserver; before paint)',
        longTasks: 'PerformanceObserver "longtask" entries that start before the end of the window: longest duration; TBT = Σ max(0, duration − 50 ms)',
      },
      seed,
      oneSource: { runs: oneRuns, summary: summarizeNewcomers(oneRuns) },
      threeSources: { b: bJoin.run, c: cJoin.run, runs: threeRuns, summary: summarizeNewcomers(threeRuns) },
      reload,
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    });
    const markdown = render(result);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, 'chat-history.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(RESULTS_DIR, 'chat-history.md'), `${markdown}\n`);
    console.log(`\n${markdown}`);
    console.log(`wrote bench/results/chat-history.json and bench/results/chat-history.md (${fmt(result.durationS, 0)} s)`);
  } finally {
    clearTimeout(watchdog);
    for (const v of open) await v.close();
    await stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(err => {
    console.error('bench: chat history could not run:', err);
    process.exit(1);
  });
}
