#!/usr/bin/env node
/**
 * Chat history bench (bench/run.mjs runs it after the mesh/chat part; alone:
 * `node bench/chat-history.mjs`): the signed per-device history of `<p2p-chat>` with
 * HISTORY (10 000) messages in a room, in headless Chromium over the local Nostr relay.
 * Every device is its own browser context (own IndexedDB) on test/fixtures/chat-host.html.
 *
 *  Seed: page A, alone in a fresh room, calls `sendMessage` HISTORY times (each signs and
 *     stores one record), reloading every SEED_RELOAD_EVERY messages (see README). Once.
 *  1. Newcomer from ONE peer: B (fresh context) joins A; ms from B's navigation start until
 *     B's IndexedDB holds all HISTORY records (counted in-page with the plain IndexedDB API
 *     every POLL_MS), and from B's first peer until then. B stays (it is a holder for 2).
 *  2. C joins A and B and syncs (reported as an extra figure); then a fresh newcomer N
 *     joins A, B and C: the same measurement.
 *  3. Opening the widget on A (HISTORY records): A reloaded with B and C online, and
 *     alone after everyone left; ms from navigation start until the newest message is in
 *     the shadow DOM, and the main thread's long tasks (PerformanceObserver 'longtask').
 *
 * Before a peer joins, the pages already in the room are reloaded (their history stays in
 * IndexedDB): a page idle in the room for more than ~1 minute is often not reachable by a
 * newcomer (Trystero's pooled offers go stale; see README "Caveats"); reloading makes every
 * join succeed. The reloads before N are the measured "reopen with B + C online" runs.
 *
 * Prints a table, writes bench/results/chat-history.json and .md. Numbers never fail the
 * run; the exit code is non-zero only when the bench could not run (no bundle, no browser,
 * servers, or the seed failed).
 *
 * Knobs (environment): BENCH_HISTORY (10000), BENCH_HISTORY_RUNS (3 reloads per part-3 row),
 * BENCH_HISTORY_SYNC_RUNS (1: fresh newcomers in part 2; more than 1 also adds fresh
 * newcomers to part 1 beside B), BENCH_HISTORY_SYNC_TIMEOUT_MS (max(60 000, 30 ms × HISTORY)),
 * BENCH_HISTORY_SEED_RELOAD_EVERY (1000; 0 = never), BENCH_HISTORY_SEED_CONCURRENCY (8);
 * BENCH_HISTORY_TRACE=1 traces part 1 (Chromium devtools.timeline), prints where each page's main
 * thread spent its time during B's sync, and stops there (no results written); BENCH_HISTORY_PROFILE=1
 * prints each newcomer's V8 profile (self time by function; build with `npx stencil build --dev`
 * for readable names).
 */
import os from 'node:os';
import { mainThreadSummaries, printMainThreadSummaries, profileInclusiveUnder, profileSelfTimes } from './lib/trace-summary.mjs';
import { openChatPage, startWorld, uniqueRoom } from '../test/harness/browser.mjs';
import { ensureBundle } from './lib/bundle.mjs';
import { formatNumber as fmt } from './lib/format.mjs';
import { machineInfo, machineLine } from './lib/machine.mjs';
import { notesSection, table } from './lib/markdown.mjs';
import { roundAll, writeResults } from './lib/results.mjs';
import { guardRun } from './lib/run-guard.mjs';
import { exitOnError, isMainModule } from './lib/script-entry.mjs';
import { median } from './lib/stats.mjs';
import { elapsedLog, sleep } from './lib/timing.mjs';

const int = (name, fallback) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return Math.floor(n);
};
const HISTORY = Math.max(2, int('BENCH_HISTORY', 10_000));
/** Reloads per row of part 3 (cheap). */
const RUNS = Math.max(1, int('BENCH_HISTORY_RUNS', 3));
/** Fresh newcomers in part 2 (a whole-history sync takes about 7 s at 10 000). */
const SYNC_RUNS = Math.max(1, int('BENCH_HISTORY_SYNC_RUNS', 1));
const SYNC_TIMEOUT_MS = int('BENCH_HISTORY_SYNC_TIMEOUT_MS', Math.max(60_000, 30 * HISTORY));
const SEED_RELOAD_EVERY = int('BENCH_HISTORY_SEED_RELOAD_EVERY', 1000);
/** sendMessage calls in flight while seeding (each still signs and stores one record; the log serializes ingest). */
const SEED_CONCURRENCY = Math.max(1, int('BENCH_HISTORY_SEED_CONCURRENCY', 8));
const SEED_CHUNK = SEED_RELOAD_EVERY > 0 ? SEED_RELOAD_EVERY : 1000;
const POLL_MS = 50;
/** A newcomer that met no peer for this long, or whose count did not grow for STALL_MS, is given up. */
const NO_PEER_MS = 30_000;
const STALL_MS = 30_000;
const CONNECT_TIMEOUT_MS = 30_000;
const RENDER_TIMEOUT_MS = 30_000;
/** How long a newcomer may take after complete to show the newest message. */
const RENDER_AFTER_SYNC_MS = 2_000;
/** Long tasks are also counted this long after the newest message was rendered. */
const SETTLE_MS = 1_000;
/** Pause after reconnecting reloaded pages (their syncs exchange state vectors). */
const QUIET_MS = 2_000;
/** Pause between reloading B + C and reopening A (so A's open is measured with idle peers). */
const ONLINE_QUIET_MS = 5_000;
/** Time budget of this part: a sync that would not fit is skipped (with a note), never cut off. */
const BUDGET_MS = int('BENCH_HISTORY_BUDGET_S', 600) * 1000;
const WATCHDOG_MS = int('BENCH_HISTORY_WATCHDOG_MS', BUDGET_MS + 5 * 60_000);

/** Text of seeded message i (0-based): ~70 characters, like a chat line. Keep in sync with seedChunk(). */
const messageText = (i, n) => `history ${i + 1}/${n}: the quick brown fox jumps over the lazy dog`;
const LAST_TEXT = messageText(HISTORY - 1, HISTORY);

// ---------- in-page probe (an init script, runs before the page's own scripts) ----------

/**
 * Installed in every bench context. Records in window.__history (times are
 * performance.now(), ms since navigation start):
 *  - peerJoins: every p2pPeerJoin;
 *  - longTasks: [startTime, duration] of every 'longtask' entry;
 *  - renderedAt: when the last `.message .text` in the widget's shadow DOM first equals
 *    `lastText` (checked by a MutationObserver on the shadow root, rAF until it exists);
 *  - with `target`: count/firstRecordAt/doneAt/progress: the count of `chat` rows in the `signedRecords` store of the
 *    page's IndexedDB, polled every `pollMs` with the plain IndexedDB API (one connection,
 *    never creates the database: an upgrade on a missing database is aborted).
 */
function historyProbe({ target, lastText, pollMs, channels }) {
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
  // BENCH_HISTORY_CHANNELS=1: every data-channel message sent and received (time, direction, bytes, its first bytes as text), for the sync's timeline.
  if (channels) {
    h.channels = [];
    const head = d => (typeof d === 'string' ? d.slice(0, 64) : String.fromCharCode(...new Uint8Array(d instanceof ArrayBuffer ? d : d.buffer ?? new ArrayBuffer(0)).slice(0, 64))).replace(/[^ -~]/g, '.');
    const log = (dir, d) => h.channels.length < 20_000 && h.channels.push([performance.now(), dir, typeof d === 'string' ? d.length : (d.byteLength ?? d.size ?? 0), head(d)]);
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (d) {
      log('out', d);
      return send.call(this, d);
    };
    h.rows = [];
    const countRows = () => {
      const n = document.querySelector('p2p-chat')?.shadowRoot?.querySelectorAll('li.row').length ?? 0;
      if (n !== h.rows.at(-1)?.[1]) h.rows.push([performance.now(), n]);
      requestAnimationFrame(countRows);
    };
    requestAnimationFrame(countRows);
    const watch = ch => ch.addEventListener('message', e => log('in', e.data));
    const PC = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends PC {
      constructor(...a) {
        super(...a);
        this.addEventListener('datachannel', e => watch(e.channel));
      }
      createDataChannel(...a) {
        const c = super.createDataChannel(...a);
        watch(c);
        return c;
      }
    };
  }
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
        const r = d.transaction('signedRecords', 'readonly').objectStore('signedRecords').index('[feature+room]').count(IDBKeyRange.bound(['chat'], ['chat', []]));
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const tick = async () => {
      h.polls++;
      try {
        db ??= await openDb();
        if (db && !db.objectStoreNames.contains('signedRecords')) {
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

/** Long-task figures over [0, until] ms: count, longest task, total blocking time (Σ max(0, duration − 50)). */
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

/** Opens a device: a fresh browser context (own storage, cold cache) with the probe, one `<p2p-chat>` on `room`. */
async function openDevice(world, room, name, probe) {
  const context = await world.browser.newContext();
  await context.addInitScript(historyProbe, { target: null, lastText: LAST_TEXT, pollMs: POLL_MS, channels: process.env.BENCH_HISTORY_CHANNELS === '1', ...probe });
  const page = await openChatPage(world, room, [{ 'user-name': name }], { context });
  page.on('pageerror', err => pageErrors.push(`${name}: ${err.message}`));
  return { name, context, page, close: () => context.close().catch(() => undefined) };
}

/** Peers the widget's status line reports (0 while connecting or alone). */
function peerCount(page) {
  return page.evaluate(() => {
    const text = document.querySelector('p2p-chat')?.shadowRoot?.querySelector('[role="status"]')?.textContent ?? '';
    const m = text.match(/^Connected to (\d+) peers?$/);
    return m ? Number(m[1]) : 0;
  });
}

/** Waits until `page` reports at least `n` peers; false on timeout. */
async function waitForAtLeast(page, n, timeout = CONNECT_TIMEOUT_MS) {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    if ((await peerCount(page).catch(() => 0)) >= n) return true;
    await sleep(200);
  }
  return false;
}

/** Waits until the widget on `page` accepts sendMessage (its session is open). */
function waitForSession(page, timeout = RENDER_TIMEOUT_MS) {
  return page.waitForFunction(() => document.querySelector('p2p-chat')?.shadowRoot?.querySelector('textarea') && document.querySelector('p2p-chat').shadowRoot.querySelector('button[type="submit"]') !== null, null, { timeout });
}

/** Number of chat records in the page's IndexedDB (plain IndexedDB API; never creates the database). */
function countRecords(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('p2p-widgets');
        req.onupgradeneeded = () => req.transaction.abort();
        req.onerror = () => (req.error?.name === 'AbortError' ? resolve(0) : reject(req.error));
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('signedRecords')) {
            db.close();
            return resolve(0);
          }
          const c = db.transaction('signedRecords').objectStore('signedRecords').index('[feature+room]').count(IDBKeyRange.bound(['chat'], ['chat', []]));
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

/** What the widget's list shows: the first and last message text in the DOM (the list is virtualized). */
function visibleMessages(page) {
  return page.evaluate(() => {
    const texts = [...(document.querySelector('p2p-chat')?.shadowRoot?.querySelectorAll('.message .text') ?? [])].map(e => e.textContent);
    const list = document.querySelector('p2p-chat')?.shadowRoot?.querySelector('.messages');
    return { first: texts[0] ?? null, last: texts.at(-1) ?? null, inDom: texts.length, scrollTop: list?.scrollTop ?? null, scrollHeight: list?.scrollHeight ?? null };
  });
}

/** The chat counters of the widget on `page` (refused duplicates = records received twice). */
async function wireStats(page) {
  try {
    const s = await page.locator('p2p-chat').first().evaluate(el => el.getWireStats());
    return { accepted: s.accepted, dropped: Object.fromEntries(Object.entries(s.dropped).filter(([, n]) => n)), refused: Object.fromEntries(Object.entries(s.refused).filter(([, n]) => n)) };
  } catch (err) {
    return { error: String(err?.message ?? err) };
  }
}

/**
 * Seeds `count` messages on A: sendMessage in a loop (SEED_CONCURRENCY in flight), reloading
 * every SEED_RELOAD_EVERY messages. The newest message is sent alone, a few ms after the
 * rest, so that it is strictly the newest (records sort by timestamp, then by key).
 */
async function seed(a, log) {
  const chunks = [];
  for (let from = 0; from < HISTORY; from += SEED_CHUNK) {
    const to = Math.min(HISTORY, from + SEED_CHUNK);
    if (from > 0 && SEED_RELOAD_EVERY > 0) await a.page.reload();
    await waitForSession(a.page);
    const ms = await a.page.locator('p2p-chat').evaluate(
      async (el, { from, to, n, concurrency }) => {
        const text = i => `history ${i + 1}/${n}: the quick brown fox jumps over the lazy dog`;
        const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
        // Right after a reload the session may still be opening.
        const send = async t => {
          for (let tries = 0; ; tries++) {
            try {
              return await el.sendMessage(t);
            } catch (err) {
              if (!/not connected/.test(String(err?.message)) || tries > 200) throw err;
              await sleep(50);
            }
          }
        };
        const t0 = performance.now();
        const bulkEnd = Math.min(to, n - 1);
        let i = from;
        if (i < bulkEnd) await send(text(i++));
        for (; i < bulkEnd; i += concurrency) {
          const calls = [];
          for (let j = i; j < Math.min(bulkEnd, i + concurrency); j++) calls.push(send(text(j)));
          await Promise.all(calls);
        }
        if (to === n) {
          await sleep(5);
          await send(text(n - 1));
        }
        return performance.now() - t0;
      },
      { from, to, n: HISTORY, concurrency: SEED_CONCURRENCY },
    );
    chunks.push({ from, to, ms, perS: ((to - from) / ms) * 1000 });
    if (to === HISTORY || (to / SEED_CHUNK) % 2 === 0) log(`seed: ${to}/${HISTORY} (last ${to - from} at ${fmt(((to - from) / ms) * 1000)}/s)`);
  }
  return chunks;
}

/**
 * Reloads the pages already in the room at once (history stays in IndexedDB), waits until
 * each sees the others again and lets their syncs settle. Returns false if some did not reconnect.
 */
async function refresh(devices) {
  await Promise.all(devices.map(d => d.page.reload()));
  await Promise.all(devices.map(d => waitForSession(d.page)));
  const ok = await Promise.all(devices.map(d => waitForAtLeast(d.page, devices.length - 1)));
  await sleep(QUIET_MS);
  return ok.every(Boolean);
}

/**
 * Opens a newcomer on `room` and waits until its IndexedDB holds HISTORY records. Gives up
 * when it meets no peer within NO_PEER_MS, when its count stops growing for STALL_MS, or
 * after SYNC_TIMEOUT_MS. Leaves the page open (the caller closes or keeps it).
 */
async function newcomer(world, room, name, peers) {
  const device = await openDevice(world, room, name, { target: HISTORY });
  // BENCH_HISTORY_PROFILE=1: V8 sampling profile of the newcomer's main thread from just after its page loaded until complete.
  const cdp = process.env.BENCH_HISTORY_PROFILE === '1' ? await device.context.newCDPSession(device.page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const t0 = Date.now();
  let outcome = 'timeout';
  let lastCount = -1;
  let lastChange = Date.now();
  while (Date.now() - t0 < SYNC_TIMEOUT_MS) {
    const h = await device.page.evaluate(() => ({ done: window.__history.doneAt, count: window.__history.count, joins: window.__history.peerJoins.length })).catch(() => null);
    if (h) {
      if (h.done !== null) {
        outcome = 'complete';
        break;
      }
      if (h.count !== lastCount) {
        lastCount = h.count;
        lastChange = Date.now();
      }
      if (h.joins === 0 && Date.now() - t0 > NO_PEER_MS) {
        outcome = 'met no peer';
        break;
      }
      if (h.joins > 0 && Date.now() - lastChange > STALL_MS) {
        outcome = `stalled at ${h.count}`;
        break;
      }
    }
    await sleep(500);
  }
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = profileSelfTimes(profile);
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`${name}: main thread busy ${total.toFixed(0)} ms (V8 samples); top self time (ms):`);
    for (const [k, t] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`  ${t.toFixed(0).padStart(6)}  ${k}`);
    // What the widget's redraws (Stencil's `flush`, readable in a `--dev` build) spend their time in.
    const flush = profileInclusiveUnder(profile, 'flush');
    if (flush.length) console.log(`${name}: inside Stencil's flush (ms inclusive):\n` + flush.slice(0, 25).map(([k, t]) => `  ${t.toFixed(0).padStart(6)}  ${k}`).join('\n'));
  }
  // The newest message should appear in the list once the last record is stored.
  await device.page.waitForFunction(() => window.__history.renderedAt !== null, null, { timeout: RENDER_AFTER_SYNC_MS, polling: 100 }).catch(() => undefined);
  await waitForAtLeast(device.page, peers, 5_000);
  const h = await readProbe(device.page);
  const joins = h.peerJoins;
  const done = h.doneAt;
  const syncMs = done !== null && h.firstRecordAt !== null ? done - h.firstRecordAt : null;
  const wire = await wireStats(device.page);
  return {
    device,
    run: {
      ok: outcome === 'complete',
      outcome,
      count: h.count,
      navToCompleteMs: done,
      firstPeerAt: joins[0] ?? null,
      lastPeerAt: joins.length >= peers ? joins[peers - 1] : null,
      peersMet: joins.length,
      firstPeerToCompleteMs: done !== null && joins.length ? done - joins[0] : null,
      firstRecordAt: h.firstRecordAt,
      firstToLastRecordMs: syncMs,
      recordsPerS: syncMs ? (HISTORY / syncMs) * 1000 : null,
      receivedTwice: wire.refused?.duplicate ?? 0,
      newestRenderedAt: h.renderedAt,
      view: await visibleMessages(device.page),
      longTasks: longTaskFigures(h.longTasks, done ?? Infinity),
      progress: h.progress,
      polls: h.polls,
      errors: h.errors.slice(0, 5),
      wire,
    },
  };
}

/** Reloads A (its history stays) and measures the open until the newest message is rendered. */
async function reopenRun(page) {
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
  return {
    ok,
    renderedAt: h.renderedAt,
    longTasks: longTaskFigures(h.longTasks, until),
    longTasksWithSettle: longTaskFigures(h.longTasks, until + SETTLE_MS),
    longTaskSupported: h.longTaskSupported,
    allLongTasks: h.longTasks.map(([s, d]) => [Math.round(s), Math.round(d)]),
    peerJoinsBeforeRendered: h.peerJoins.filter(t => t <= until).length,
    errors: h.errors.slice(0, 5),
  };
}

// ---------- report ----------

function summarizeNewcomers(runs) {
  const ok = runs.filter(r => r.ok);
  const med = f => median(ok.map(f).filter(x => x !== null && x !== undefined));
  return {
    runs: runs.length,
    ok: ok.length,
    navToComplete: med(r => r.navToCompleteMs),
    firstPeerAt: med(r => r.firstPeerAt),
    firstPeerToComplete: med(r => r.firstPeerToCompleteMs),
    recordsPerS: med(r => r.recordsPerS),
    receivedTwice: median(runs.map(r => r.receivedTwice)),
    maxLongTask: median(runs.map(r => r.longTasks.maxMs)),
    tbt: median(runs.map(r => r.longTasks.tbtMs)),
    min: ok.length ? Math.min(...ok.map(r => r.navToCompleteMs)) : null,
    max: ok.length ? Math.max(...ok.map(r => r.navToCompleteMs)) : null,
  };
}

function summarizeReopens(runs) {
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
  };
}

function render(result) {
  const { seed, newcomers, reopen, config } = result;
  const n = config.history;
  const sec = x => (x === null || x === undefined ? '—' : fmt(x / 1000, 1));
  const newcomerRow = (label, sum) => [label, sec(sum.navToComplete), sec(sum.firstPeerAt), sec(sum.firstPeerToComplete), fmt(sum.recordsPerS), fmt(sum.receivedTwice), fmt(sum.maxLongTask), fmt(sum.tbt), `${sum.ok}/${sum.runs}`];
  const newcomerRows = newcomers.filter(g => g.runs.length).map(g => newcomerRow(g.label, g.summary));
  const reopenRows = reopen.filter(r => r.runs.length).map(r => [r.label, fmt(r.summary.renderedAt), fmt(r.summary.min), fmt(r.summary.max), fmt(r.summary.maxLongTask), fmt(r.summary.worstLongTask), fmt(r.summary.tbt), fmt(r.summary.tbtWithSettle), `${r.summary.ok}/${r.summary.runs}`]);
  const views = newcomers.flatMap(g => g.runs.map(r => ({ ...r, who: g.key }))).filter(r => r.ok && r.view?.first);
  const num = text => text?.match(/^history (\d+)\//)?.[1] ?? '?';
  const viewLine = views.length
    ? `What each newcomer's list showed ${RENDER_AFTER_SYNC_MS / 1000} s after complete (messages in the DOM of the virtualized list; the newest is ${n}): ${views.map(r => `${r.who === 'one' ? 'B' : r.who === 'c' ? 'C' : 'N'}: ${num(r.view.first)}–${num(r.view.last)}${r.newestRenderedAt !== null ? ` (newest shown at ${fmt(r.newestRenderedAt / 1000, 1)} s)` : ''}`).join(', ')}.${views.every(r => r.newestRenderedAt === null) ? ' The newest message was never shown: the view does not follow history that arrives by sync.' : ''}`
    : '';
  return [
    `## Chat history: ${n.toLocaleString('en')} messages`,
    ``,
    machineLine(result, [result.platform, `load average at start ${result.loadAverage.start.map(x => x.toFixed(1)).join(' ')}`]),
    ``,
    `Every device is a fresh browser context (own IndexedDB, cold cache) with one \`<p2p-chat>\` on \`test/fixtures/chat-host.html\`, local Nostr relay, no ICE servers; all pages run in one headless Chromium on this machine and share its ${result.cpu.count} cores. **Seed**: A, alone in the room, called \`sendMessage\` ${n} times (${config.seedConcurrency} calls in flight, each signs, stores and shows one record${config.seedReloadEvery ? `; A reloaded every ${config.seedReloadEvery} messages` : ''}): ${sec(seed.ms)} s, ${fmt(seed.recordsPerS)} records/s (chunks: first ${fmt(seed.chunks[0]?.perS)}/s, last ${fmt(seed.chunks.at(-1)?.perS)}/s). Limits on the way: a sync batch carries ≤ 250 records (≤ 384 KiB), ≤ 40 batches/s per peer; the receiver verifies the ECDSA P-256 signatures of a batch concurrently and writes the batch in one IndexedDB transaction (live messages: one record at a time).`,
    ``,
    `### Newcomer receiving ${n} messages (s, unless noted)`,
    ``,
    `"complete" = the newcomer's IndexedDB holds all ${n} records (its count of \`chat\` rows in \`signedRecords\`, read in-page every ${POLL_MS} ms with the plain IndexedDB API). **nav → complete**: from the newcomer's navigation start; **first peer**: navigation start → first \`p2pPeerJoin\`; **peer → complete**: first peer → complete; **records/s**: ${n} / (first record stored → complete); **twice**: records received a second time (refused as duplicates); long tasks (ms) on the newcomer's main thread until complete: **longest** and **TBT** (Σ (duration − 50 ms)). Before each join the pages already in the room were reloaded (see the README's caveats). ${config.syncRuns > 1 ? `Rows 1 and 2: medians of ${config.syncRuns} newcomers.` : 'One newcomer per row (a whole-history sync is not cheap; `BENCH_HISTORY_SYNC_RUNS` repeats).'}`,
    ``,
    table(['case', 'nav → complete', 'first peer', 'peer → complete', 'records/s', 'twice', 'longest task ms', 'TBT ms', 'ok'], newcomerRows),
    ``,
    viewLine,
    ``,
    `### Opening the widget on a device holding ${n} records (ms)`,
    ``,
    `A reloaded (same context; its IndexedDB keeps the ${n} records; the widget loads the newest 100). **newest shown**: navigation start → the last \`.message .text\` in the shadow DOM is the newest message (MutationObserver, before paint). ${reopen.some(r => r.key === 'online' && r.runs.length) ? `Online: B and C were reloaded ${ONLINE_QUIET_MS / 1000} s before A (so that they reach A's fresh page; see the README's caveats). ` : ''}Long tasks (PerformanceObserver 'longtask') from navigation start to newest shown: **longest** (median and worst run) and **TBT**; **TBT +${SETTLE_MS / 1000} s** also counts the ${SETTLE_MS / 1000} s after (with peers online, the sync's state-vector exchange falls there). ${config.runs} reloads per row, medians.`,
    ``,
    table(['case', 'newest shown', 'min', 'max', 'longest task', 'worst task', 'TBT', `TBT +${SETTLE_MS / 1000} s`, 'ok'], reopenRows),
    ``,
    ...notesSection(result.notes),
  ].join('\n');
}

// ---------- main ----------

export async function main() {
  ensureBundle();
  const startedAt = Date.now();
  const loadStart = os.loadavg();
  const world = await startWorld();
  const { stop, clearWatchdog } = guardRun(() => world.stop(), { watchdogMs: WATCHDOG_MS, watchdogLabel: 'bench: chat history watchdog' });

  const notes = [];
  const devices = [];
  try {
    const chromium = world.browser.version();
    const log = elapsedLog(startedAt);
    log(`chat history: ${HISTORY} messages; relay ${world.relay.url} (pid ${world.relay.pid}), assets pid ${world.assets.pid}, host pid ${world.host.pid}, Chromium ${chromium}, load average ${loadStart.map(x => x.toFixed(1)).join(' ')}`);
    const room = uniqueRoom('bench-history');
    const track = d => (devices.push(d), d);
    const logNewcomer = (label, run) =>
      log(
        `${label}: ${run.ok ? `complete at ${fmt(run.navToCompleteMs)} ms` : `NOT complete (${run.outcome}, ${run.count}/${HISTORY})`}; first peer at ${fmt(run.firstPeerAt)} ms, ${run.peersMet} peer(s); ${fmt(run.recordsPerS)} records/s; twice ${run.receivedTwice}; longest task ${fmt(run.longTasks.maxMs)} ms`,
      );

    // Seed: A alone writes HISTORY messages.
    const a = track(await openDevice(world, room, 'a', { target: null }));
    const seedStart = Date.now();
    const chunks = await seed(a, log);
    const seedMs = Date.now() - seedStart;
    const held = await countRecords(a.page);
    if (held !== HISTORY) throw new Error(`seeding: A holds ${held} records, expected ${HISTORY}`);
    const seedResult = { ms: seedMs, recordsPerS: (HISTORY / seedMs) * 1000, chunks };
    log(`seed: ${HISTORY} records in ${fmt(seedMs / 1000, 1)} s`);

    // 1. B joins A (A reloaded just before: see "refresh").
    if (!(await refresh([a]))) notes.push('A did not reopen cleanly before B joined');
    const bStart = Date.now();
    // BENCH_HISTORY_TRACE=1: a Chromium trace (devtools.timeline) over B's whole-history sync; prints where each page's main thread spent its time, then stops after part 1.
    const tracing = process.env.BENCH_HISTORY_TRACE === '1';
    if (tracing) await world.browser.startTracing(undefined, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    const b = await newcomer(world, room, 'b', 1);
    if (process.env.BENCH_HISTORY_CHANNELS === '1') {
      const h = await b.device.page.evaluate(() => window.__history);
      const t0 = h.peerJoins[0] ?? 0;
      log(`B's data channels, ms after its first peer (${fmt(t0)} ms after navigation); first record stored at +${fmt(h.firstRecordAt - t0)}, complete at +${fmt(h.doneAt - t0)}:`);
      const kinds = new Map();
      for (const [t, dir, bytes, head] of h.channels) {
        const k = `${dir} ${head.slice(22, 64)}`;
        const e = kinds.get(k) ?? { first: t, last: t, n: 0, bytes: 0 };
        e.last = t;
        e.n++;
        e.bytes += bytes;
        kinds.set(k, e);
      }
      log('  records stored (ms: count): ' + h.progress.map(([t, n]) => `${fmt(t - t0)}: ${n}`).join(', '));
      log('  rows in the list (ms: rows): ' + h.rows.filter(([t]) => t >= t0 - 200).slice(0, 30).map(([t, n]) => `${fmt(t - t0)}: ${n}`).join(', '));
      log('  long tasks (start ms +duration): ' + h.longTasks.filter(([t]) => t >= t0 - 200).map(([t, d]) => `${fmt(t - t0)}+${fmt(d)}`).join(' '));
      log('  every message in the first 1.5 s (ms, direction, bytes):');
      log('  ' + h.channels.filter(([t]) => t - t0 < 1500).map(([t, dir, bytes]) => `${fmt(t - t0)}${dir === 'in' ? '<' : '>'}${bytes}`).join(' '));
      for (const [k, e] of [...kinds].sort((x, y) => x[1].first - y[1].first).slice(0, 40)) log(`  +${fmt(e.first - t0).padStart(6)} … +${fmt(e.last - t0).padStart(6)}  ${String(e.n).padStart(5)} msgs ${String(Math.round(e.bytes / 1024)).padStart(6)} KiB  ${k}`);
      return;
    }
    if (tracing) {
      const { traceEvents } = JSON.parse((await world.browser.stopTracing()).toString());
      logNewcomer('1. B ← A (traced)', b.run);
      printMainThreadSummaries(mainThreadSummaries(traceEvents).slice(0, 2), 25, log);
      return;
    }
    /** Wall time of one whole-history sync: the estimate for the next ones. */
    const syncWallMs = Date.now() - bStart;
    track(b.device);
    logNewcomer('1. B ← A', b.run);
    const elapsed = () => Date.now() - startedAt;
    const fits = ms => elapsed() + ms <= BUDGET_MS;
    const skipped = what => {
      notes.push(`skipped ${what}: it would not fit in the time budget (BENCH_HISTORY_BUDGET_S=${BUDGET_MS / 1000}; one sync took ${fmt(syncWallMs / 1000)} s here)`);
      log(`skipped ${what} (time budget)`);
    };
    const oneRuns = [b.run];
    for (let i = 1; i < SYNC_RUNS; i++) {
      if (!fits(syncWallMs + 2 * syncWallMs + 60_000)) {
        skipped(`extra part-1 newcomers from #${i}`);
        break;
      }
      await refresh([a]);
      const extra = await newcomer(world, room, `n1-${i}`, 1);
      logNewcomer(`1. extra newcomer ← A #${i}`, extra.run);
      oneRuns.push(extra.run);
      await extra.device.close();
    }

    // 2. C joins A + B, then fresh newcomers join A + B + C (C and one newcomer must fit).
    let c = null;
    if (fits(2 * syncWallMs + 60_000)) {
      if (!(await refresh([a, b.device]))) notes.push('A and B did not reconnect before C joined');
      c = await newcomer(world, room, 'c', 2);
      track(c.device);
      logNewcomer('2. C ← A + B', c.run);
    } else skipped('part 2 (C and the newcomer from three peers)');

    // 3 (with peers online), which also refreshes the three before the newcomer joins.
    const reopenOnline = [];
    for (let i = 0; c && i < RUNS; i++) {
      await Promise.all([b.device.page.reload(), c.device.page.reload()]);
      await Promise.all([waitForAtLeast(b.device.page, 1), waitForAtLeast(c.device.page, 1)]);
      await sleep(ONLINE_QUIET_MS); // B and C exchange state vectors after their reload: let them finish
      const run = await reopenRun(a.page);
      const met = await waitForAtLeast(a.page, 2);
      if (!met) notes.push(`reopen with peers online #${i + 1}: A did not reconnect to B and C within ${CONNECT_TIMEOUT_MS / 1000} s`);
      reopenOnline.push(run);
      log(`3. reopen A, B + C online #${i + 1}: ${run.ok ? `newest shown at ${fmt(run.renderedAt)} ms` : 'newest NOT shown'}; longest task ${fmt(run.longTasks.maxMs)} ms, TBT ${fmt(run.longTasks.tbtMs)} ms (+${SETTLE_MS / 1000} s: ${fmt(run.longTasksWithSettle.tbtMs)} ms)`);
      await sleep(QUIET_MS);
    }
    const threeRuns = [];
    for (let i = 0; c && i < SYNC_RUNS; i++) {
      if (!fits(syncWallMs + 10_000)) {
        skipped(`the newcomer from three peers${SYNC_RUNS > 1 ? ` #${i + 1} and after` : ''}`);
        break;
      }
      if (i > 0 && !(await refresh([a, b.device, c.device]))) notes.push('A, B and C did not reconnect before a newcomer joined');
      const nn = await newcomer(world, room, `n3-${i}`, 3);
      logNewcomer(`2. newcomer ← A + B + C #${i + 1}`, nn.run);
      threeRuns.push(nn.run);
      await nn.device.close();
    }

    // 3 (alone): everyone else leaves; A reopens alone.
    await b.device.close();
    await c?.device.close();
    const reopenAlone = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await reopenRun(a.page);
      reopenAlone.push(run);
      log(`3. reopen A alone #${i + 1}: ${run.ok ? `newest shown at ${fmt(run.renderedAt)} ms` : 'newest NOT shown'}; longest task ${fmt(run.longTasks.maxMs)} ms, TBT ${fmt(run.longTasks.tbtMs)} ms (+${SETTLE_MS / 1000} s: ${fmt(run.longTasksWithSettle.tbtMs)} ms)`);
    }
    const stillHeld = await countRecords(a.page);
    if (stillHeld !== HISTORY) notes.push(`A holds ${stillHeld} records after the reopens, expected ${HISTORY}`);

    // Notes on what looked off.
    const all = [...oneRuns, ...(c ? [c.run] : []), ...threeRuns];
    const failed = all.filter(r => !r.ok);
    if (failed.length) notes.push(`${failed.length} newcomer sync(s) did not complete: ${failed.map(r => `${r.outcome} (${r.count}/${HISTORY})`).join(', ')}`);
    if (all.some(r => r.receivedTwice > 0)) notes.push(`records received twice per newcomer (B, C, N…): ${all.map(r => r.receivedTwice).join(', ')}; each was verified again before being refused`);
    const dropped = all.filter(r => r.wire.dropped && Object.keys(r.wire.dropped).length);
    if (dropped.length) notes.push(`wire drops on newcomers: ${dropped.map(r => JSON.stringify(r.wire.dropped)).join('; ')}`);
    if (!reopenAlone[0]?.longTaskSupported) notes.push(`'longtask' entries are not supported by this Chromium: long-task figures are 0`);
    const probeErrors = [...new Set(all.flatMap(r => r.errors))];
    if (probeErrors.length) notes.push(`events on newcomers: ${probeErrors.slice(0, 3).join(' | ')}`);
    if (pageErrors.length) notes.push(`${pageErrors.length} uncaught page errors, e.g. ${pageErrors[0]}`);
    const loadEnd = os.loadavg();
    if (loadStart[0] > os.cpus().length) notes.push(`the machine was busy when the bench started (load average ${loadStart[0].toFixed(1)} on ${os.cpus().length} cores): compare with care`);

    const group = (key, label, runs) => ({ key, label, runs, summary: summarizeNewcomers(runs) });
    const result = roundAll({
      bench: 'chat-history',
      date: new Date().toISOString(),
      chromium,
      ...machineInfo(),
      loadAverage: { start: loadStart, end: loadEnd },
      config: {
        history: HISTORY,
        runs: RUNS,
        syncRuns: SYNC_RUNS,
        seedConcurrency: SEED_CONCURRENCY,
        seedReloadEvery: SEED_RELOAD_EVERY,
        pollMs: POLL_MS,
        syncTimeoutMs: SYNC_TIMEOUT_MS,
        stallMs: STALL_MS,
        settleMs: SETTLE_MS,
        budgetS: BUDGET_MS / 1000,
        onlineQuietMs: ONLINE_QUIET_MS,
        strategy: 'nostr (local relay)',
        iceServers: [],
        messageText: messageText(0, HISTORY),
      },
      definitions: {
        complete: 'the newcomer page\'s IndexedDB "signedRecords" store holds `history` records (count read in-page every pollMs ms with the plain IndexedDB API)',
        navToCompleteMs: "performance.now() at complete (ms since the newcomer's navigation start)",
        firstPeerToCompleteMs: 'complete minus the first p2pPeerJoin on the newcomer',
        recordsPerS: 'history / (complete − first record stored) × 1000',
        receivedTwice: 'getWireStats().refused.duplicate on the newcomer',
        newestRenderedAt: "performance.now() when the last `.message .text` in the widget's shadow DOM first equals the newest message's text (MutationObserver; before paint)",
        longTasks: 'PerformanceObserver "longtask" entries that start before the end of the window: longest duration; TBT = Σ max(0, duration − 50 ms)',
      },
      seed: seedResult,
      newcomers: [group('one', '1. newcomer ← 1 peer (B ← A)', oneRuns), group('c', '2. (setup) C ← A + B', c ? [c.run] : []), group('three', '2. newcomer ← 3 peers (A, B, C)', threeRuns)],
      reopen: [
        { key: 'alone', label: '3. reopen A, alone', runs: reopenAlone, summary: summarizeReopens(reopenAlone) },
        { key: 'online', label: '3. reopen A, B + C online', runs: reopenOnline, summary: summarizeReopens(reopenOnline) },
      ],
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    });
    writeResults('chat-history', result, render(result));
  } finally {
    clearWatchdog();
    for (const d of devices) await d.close();
    await stop();
  }
}

if (isMainModule(import.meta.url)) {
  if (process.env.BENCH_HISTORY === '0') {
    console.log('bench: chat history skipped (BENCH_HISTORY=0)');
    process.exit(0);
  }
  main().catch(exitOnError('bench: chat history could not run:'));
}
