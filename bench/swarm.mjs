#!/usr/bin/env node
/**
 * Swarm bench (run by bench/run.mjs after the other parts, or alone: `node bench/swarm.mjs`):
 * the swarm engine (src/core/swarm) between headless Chromium pages of the swarm lab
 * (test/lab/swarm-lab.html: mesh + swarm, no widget) over a local Nostr relay, beside
 * the limits measured in the same run, between the same two pages, on the same
 * RTCPeerConnection:
 *
 *  1. Two pages A (seeder) and B (receiver). B downloads a SIZE file (64 MiB) through the
 *     swarm: ms from `startDownload` to `done` in B (manifest fetch, requests, 64 KiB frames
 *     with back-pressure, SHA-256 per 256 KiB chunk, IndexedDB writes).
 *  2. Beside it, A → B:
 *     (a) raw RTCDataChannel: a negotiated channel of our own (id RAW_CHANNEL_ID) on the
 *         same RTCPeerConnection, SIZE bytes in 64 KiB messages with back-pressure
 *         (bufferedAmountLowThreshold 64 KiB: send while bufferedAmount ≤ 64 KiB), and the
 *         same with the swarm's watermarks (high 4 MiB / low 1 MiB);
 *     (b) Trystero action: `makeAction` on the lab's underlying Trystero room (the same
 *         room and RTCPeerConnection the mesh uses, not through MeshRoom.channel, whose
 *         per-peer flood limit would cut a bulk transfer), `send(bytes, { target })`.
 *     Time = A starts sending → B has every byte (epoch ms from performance.timeOrigin +
 *     performance.now() in each page; both pages run in one browser on one machine).
 *  3. 1 seeder → DOWNLOADERS (4) pages, FANOUT_SIZE (32 MiB): all start at once; time until
 *     the last has the whole file, and the seeder's uploaded bytes in copies of the file.
 *  4. Receiver heap: performance.memory.usedJSHeapSize sampled every 100 ms in B during
 *     each transfer of part 1/2 (and once inside Trystero's onMessage); garbage collected
 *     (CDP HeapProfiler.collectGarbage) before each. In this Chromium usedJSHeapSize
 *     includes ArrayBuffer backing stores. The browser is launched with
 *     --enable-precise-memory-info (otherwise the values are coarse buckets).
 *
 * Prints a table, writes bench/results/swarm.json and .md. Numbers never fail the run;
 * the exit code is non-zero only when the bench could not run.
 *
 * Knobs (environment): BENCH_SWARM_MIB (64), BENCH_SWARM_ROUNDS (1) rounds of the three
 * 2-page transfers (order alternates), BENCH_SWARM_FANOUT_MIB (32), BENCH_SWARM_DOWNLOADERS (4),
 * BENCH_SWARM_VERIFY (1: check SHA-256 of every downloaded file; 0 skips).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, openLabPage, startWorld, uniqueRoom, waitForLabPeers } from '../test/harness/browser.mjs';
import { buildLab } from '../test/harness/build-lab.mjs';
import { ROOT } from '../test/harness/processes.mjs';
import { envInt } from './lib/env.mjs';
import { formatNumber } from './lib/format.mjs';
import { browserCpuSeconds, rendererPidOf } from './lib/process-cpu.mjs';
import { busyMachineNote, machineInfo, machineLine } from './lib/machine.mjs';
import { notesSection, table } from './lib/markdown.mjs';
import { roundAll, writeResults } from './lib/results.mjs';
import { guardRun } from './lib/run-guard.mjs';
import { exitOnError, isMainModule } from './lib/script-entry.mjs';
import { median } from './lib/stats.mjs';
import { elapsedLog } from './lib/timing.mjs';

const MiB = 1024 * 1024;
const SIZE = envInt('BENCH_SWARM_MIB', 64, 1) * MiB;
const ROUNDS = envInt('BENCH_SWARM_ROUNDS', 3, 1);
const FANOUT_SIZE = envInt('BENCH_SWARM_FANOUT_MIB', 32, 1) * MiB;
const DOWNLOADERS = envInt('BENCH_SWARM_DOWNLOADERS', 4, 1);
const VERIFY = envInt('BENCH_SWARM_VERIFY', 1) !== 0;
const WARMUP_SIZE = Math.min(8 * MiB, SIZE);
const MESSAGE_BYTES = 64 * 1024;
/** Negotiated SCTP stream id of the raw channel (the swarm uses 1000/1001; Trystero's own channel is in-band). */
const RAW_CHANNEL_ID = 1010;
const RAW_VARIANTS = [
  { key: 'raw', label: 'raw RTCDataChannel, 64 KiB msgs, low-water 64 KiB', low: 64 * 1024, high: 64 * 1024 },
  { key: 'raw4m', label: 'raw RTCDataChannel, 64 KiB msgs, swarm watermarks 4 MiB / 1 MiB', low: MiB, high: 4 * MiB },
];
const TRANSFER_TIMEOUT_MS = 150_000;
const WATCHDOG_MS = 9 * 60_000;
const TRYSTERO_ACTION = 'bench-bulk';

// ---------- in-page kit (installed in every lab page) ----------

/** Runs inside a lab page: timing, heap sampling, raw channel and Trystero action transfers. */
function installKit() {
  if (window.benchKit) return;
  const now = () => performance.timeOrigin + performance.now();
  const heapNow = () => performance.memory?.usedJSHeapSize ?? null;
  let heap = null;
  const sampleHeap = () => {
    if (!heap) return;
    const u = heapNow();
    heap.samples++;
    heap.last = u;
    if (u !== null && u > heap.peak) heap.peak = u;
  };
  let payload = null;
  const raws = new Map();
  const actions = new Map();
  const openChannel = (peerId, id) =>
    new Promise((resolve, reject) => {
      const pc = window.lab.peerConnection(peerId);
      if (!pc) return reject(new Error(`no RTCPeerConnection to ${peerId}`));
      const ch = pc.createDataChannel(`bench-raw-${id}`, { negotiated: true, id, ordered: true });
      ch.binaryType = 'arraybuffer';
      if (ch.readyState === 'open') return resolve(ch);
      const timer = setTimeout(() => reject(new Error(`raw channel ${id} did not open (state ${ch.readyState})`)), 10_000);
      ch.onopen = () => {
        clearTimeout(timer);
        resolve(ch);
      };
    });
  const action = name => {
    let a = actions.get(name);
    if (!a) {
      const room = window.lab.trysteroRoom();
      if (!room) throw new Error('no Trystero room');
      a = { action: room.makeAction(name), rx: null };
      a.action.onReceiveProgress = () => {
        if (a.rx && a.rx.firstAt === null) a.rx.firstAt = now();
      };
      a.action.onMessage = data => {
        sampleHeap(); // the assembled payload (and, until GC, its 16 KiB pieces) is alive here
        const rx = a.rx;
        if (!rx) return;
        rx.doneAt = now();
        rx.received = data?.byteLength ?? 0;
        rx.resolve();
      };
      actions.set(name, a);
    }
    return a;
  };
  window.benchKit = {
    now,
    precise: () => {
      // Without --enable-precise-memory-info the value is rounded to coarse buckets.
      const a = heapNow();
      const keep = new Uint8Array(12345);
      const b = heapNow();
      return { supported: a !== null, changed: a !== b, keep: keep.length };
    },
    heapStart() {
      if (heap) clearInterval(heap.timer);
      const u = heapNow();
      heap = { base: u, peak: u ?? 0, last: u, samples: 1, timer: setInterval(sampleHeap, 100) };
      return u;
    },
    heapStop() {
      if (!heap) return null;
      sampleHeap();
      clearInterval(heap.timer);
      const { base, peak, last, samples } = heap;
      heap = null;
      return { base, peak, end: last, samples };
    },
    /** Makes the sender's payload: `size` random bytes, kept for raw and Trystero sends. */
    makePayload(size) {
      payload = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(payload.subarray(i, Math.min(size, i + 65536)));
      return size;
    },
    dropPayload() {
      payload = null;
    },
    /** Receiver: opens the negotiated channel `id` and counts bytes until `total`. */
    async rawListen(peerId, id, total) {
      let entry = raws.get(id);
      if (!entry) {
        const ch = await openChannel(peerId, id);
        entry = { ch, rx: null };
        ch.onmessage = e => {
          const rx = entry.rx;
          if (!rx) return;
          if (rx.firstAt === null) rx.firstAt = now();
          rx.received += e.data.byteLength;
          rx.messages++;
          if (rx.received >= rx.total && rx.doneAt === null) {
            rx.doneAt = now();
            rx.resolve();
          }
        };
        raws.set(id, entry);
      }
      let resolve;
      const done = new Promise(r => (resolve = r));
      entry.rx = { total, received: 0, messages: 0, firstAt: null, doneAt: null, resolve, done };
      return true;
    },
    async rawWait(id, timeoutMs) {
      const rx = raws.get(id).rx;
      await Promise.race([rx.done, new Promise(r => setTimeout(r, timeoutMs))]);
      return { received: rx.received, messages: rx.messages, firstAt: rx.firstAt, doneAt: rx.doneAt };
    },
    /** Sender: `total` bytes of the payload in `msgBytes` messages; waits while bufferedAmount > high until it drops to low. */
    async rawSend(peerId, id, total, msgBytes, low, high) {
      let entry = raws.get(id);
      if (!entry) {
        entry = { ch: await openChannel(peerId, id), rx: null };
        raws.set(id, entry);
      }
      const ch = entry.ch;
      ch.bufferedAmountLowThreshold = low;
      const startAt = now();
      let waits = 0;
      for (let off = 0; off < total; off += msgBytes) {
        if (ch.bufferedAmount > high) {
          waits++;
          await new Promise(resolve => {
            const timer = setTimeout(done, 1000); // a missed event must not hang the run
            function done() {
              clearTimeout(timer);
              ch.removeEventListener('bufferedamountlow', done);
              resolve();
            }
            ch.addEventListener('bufferedamountlow', done);
          });
        }
        if (ch.readyState !== 'open') throw new Error(`raw channel ${ch.readyState}`);
        ch.send(payload.subarray(off, Math.min(total, off + msgBytes)));
      }
      return { startAt, queuedAt: now(), waits };
    },
    /** Receiver: registers the Trystero action and expects one payload. */
    tryListen(name) {
      const a = action(name);
      let resolve;
      const done = new Promise(r => (resolve = r));
      a.rx = { received: 0, firstAt: null, doneAt: null, resolve, done };
      return true;
    },
    async tryWait(name, timeoutMs) {
      const rx = actions.get(name).rx;
      await Promise.race([rx.done, new Promise(r => setTimeout(r, timeoutMs))]);
      return { received: rx.received, firstAt: rx.firstAt, doneAt: rx.doneAt };
    },
    async trySend(name, peerId, total) {
      const a = action(name);
      const startAt = now();
      await a.action.send(total === payload.byteLength ? payload : payload.subarray(0, total), { target: peerId });
      return { startAt, queuedAt: now() };
    },
    /** Receiver: a swarm download, startDownload → done; starts at epoch ms `atEpoch` if given (a common start for several pages). */
    async swarmDownload(cid, timeoutMs, atEpoch = 0) {
      const wait = atEpoch - now();
      if (wait > 0) await new Promise(r => setTimeout(r, wait));
      const startAt = now();
      window.lab.startDownload(cid);
      let error = null;
      await Promise.race([window.lab.waitDownload(cid), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs))]).catch(err => (error = String(err?.message ?? err)));
      return { startAt, doneAt: error ? null : now(), error, progress: window.lab.progress(cid) };
    },
  };
}

// ---------- statistics and formatting ----------

/** formatNumber with this script's default of 1 decimal. */
const fmt = (x, digits = 1) => formatNumber(x, digits);
const mbps = (bytes, ms) => (ms > 0 ? bytes / 1e6 / (ms / 1000) : null);
const mib = bytes => (bytes === null || bytes === undefined ? null : bytes / MiB);

// ---------- the parts ----------

const kit = (page, fn, arg) => page.evaluate(fn, arg);

/** One CDP session per page (forced GC, main-thread busy time). */
const sessions = new WeakMap();
async function cdpOf(page) {
  let cdp = sessions.get(page);
  if (!cdp) {
    cdp = page
      .context()
      .newCDPSession(page)
      .then(async session => {
        await session.send('Performance.enable');
        return session;
      });
    sessions.set(page, cdp);
  }
  return cdp;
}
async function gc(page) {
  await (await cdpOf(page)).send('HeapProfiler.collectGarbage');
}
/** Seconds the page's main thread spent in tasks so far (CDP Performance.getMetrics TaskDuration). */
async function busy(page) {
  const { metrics } = await (await cdpOf(page)).send('Performance.getMetrics');
  return metrics.find(m => m.name === 'TaskDuration')?.value ?? null;
}
const busyShare = (before, after, ms) => (before !== null && after !== null && ms > 0 ? (after - before) / (ms / 1000) : null);

async function waitHolders(page, cid, n, timeout = 30_000) {
  await page.waitForFunction(([c, k]) => window.lab.holders(c).length >= k, [cid, n], { timeout, polling: 100 });
}

/**
 * Measures one A → B transfer of `size` bytes with `method`, with B's heap sampled.
 * `method`: { kind: 'raw', variant } | { kind: 'trystero' } | { kind: 'swarm', cid }.
 */
async function transfer(pair, method, size) {
  const { a, b, aId, bId } = pair;
  await Promise.all([gc(a), gc(b)]);
  const heapBase = await kit(b, () => window.benchKit.heapStart());
  const busyBefore = await Promise.all([busy(a), busy(b)]);
  const cpuBefore = browserCpuSeconds(true);
  const wallStart = Date.now();
  let t;
  if (method.kind === 'raw') {
    const { low, high } = method.variant;
    await kit(b, ([peer, id, total]) => window.benchKit.rawListen(peer, id, total), [aId, RAW_CHANNEL_ID, size]);
    const [sent, got] = await Promise.all([
      kit(a, ([peer, id, total, msg, lo, hi]) => window.benchKit.rawSend(peer, id, total, msg, lo, hi), [bId, RAW_CHANNEL_ID, size, MESSAGE_BYTES, low, high]),
      kit(b, ([id, ms]) => window.benchKit.rawWait(id, ms), [RAW_CHANNEL_ID, TRANSFER_TIMEOUT_MS]),
    ]);
    t = { startAt: sent.startAt, doneAt: got.doneAt, received: got.received, firstAt: got.firstAt, queuedAt: sent.queuedAt, extra: { messages: got.messages, backPressureWaits: sent.waits } };
  } else if (method.kind === 'trystero') {
    await kit(b, name => window.benchKit.tryListen(name), TRYSTERO_ACTION);
    const [sent, got] = await Promise.all([
      kit(a, ([name, peer, total]) => window.benchKit.trySend(name, peer, total), [TRYSTERO_ACTION, bId, size]),
      kit(b, ([name, ms]) => window.benchKit.tryWait(name, ms), [TRYSTERO_ACTION, TRANSFER_TIMEOUT_MS]),
    ]);
    t = { startAt: sent.startAt, doneAt: got.doneAt, received: got.received, firstAt: got.firstAt, queuedAt: sent.queuedAt };
  } else {
    const before = await Promise.all([kit(a, () => window.lab.stats()), kit(b, () => window.lab.stats())]);
    const got = await kit(b, ([cid, ms]) => window.benchKit.swarmDownload(cid, ms), [method.cid, TRANSFER_TIMEOUT_MS]);
    const after = await Promise.all([kit(a, () => window.lab.stats()), kit(b, () => window.lab.stats())]);
    t = {
      startAt: got.startAt,
      doneAt: got.doneAt,
      received: got.progress?.bytes ?? null,
      error: got.error,
      extra: {
        seederUploaded: after[0].bytesUploaded - before[0].bytesUploaded,
        receiverDownloaded: after[1].bytesDownloaded - before[1].bytesDownloaded,
        badChunks: after[1].badChunks - before[1].badChunks,
        wireDropped: after[1].wire?.dropped ?? null,
      },
    };
  }
  const busyAfter = await Promise.all([busy(a), busy(b)]);
  const wallMs = Date.now() - wallStart;
  const cpuAfter = browserCpuSeconds(true);
  const heap = await kit(b, () => window.benchKit.heapStop());
  const ok = t.doneAt !== null && t.doneAt !== undefined && (t.received ?? 0) >= size;
  const ms = ok ? t.doneAt - t.startAt : null;
  return {
    ok,
    size,
    ms,
    mbps: ok ? mbps(size, ms) : null,
    firstByteMs: t.firstAt ? t.firstAt - t.startAt : null,
    senderQueuedMs: t.queuedAt ? t.queuedAt - t.startAt : null,
    received: t.received,
    error: t.error ?? (ok ? null : `incomplete: ${t.received} of ${size} bytes`),
    busyA: busyShare(busyBefore[0], busyAfter[0], wallMs),
    busyB: busyShare(busyBefore[1], busyAfter[1], wallMs),
    cpuSeconds: cpuBefore && cpuAfter ? cpuAfter.total - cpuBefore.total : null,
    cpuCores: cpuBefore && cpuAfter && wallMs > 0 ? (cpuAfter.total - cpuBefore.total) / (wallMs / 1000) : null,
    cpuA: cpuBefore && cpuAfter && pair.aPid ? cpuAfter.byPid[pair.aPid] - (cpuBefore.byPid[pair.aPid] ?? 0) : null,
    cpuB: cpuBefore && cpuAfter && pair.bPid ? cpuAfter.byPid[pair.bPid] - (cpuBefore.byPid[pair.bPid] ?? 0) : null,
    cpuByThread: cpuBefore?.byThread && cpuAfter?.byThread ? Object.fromEntries(Object.entries(cpuAfter.byThread).map(([k, v]) => [k.replace(pair.aPid ?? '-', 'A').replace(pair.bPid ?? '-', 'B'), v - (cpuBefore.byThread[k] ?? 0)]).filter(([, v]) => v >= 0.05)) : null,
    cpuByKind: cpuBefore && cpuAfter ? Object.fromEntries(Object.entries(cpuAfter.byKind).map(([k, v]) => [k, v - (cpuBefore.byKind[k] ?? 0)])) : null,
    heap: { base: heapBase, peak: heap?.peak ?? null, end: heap?.end ?? null, growth: heap && heapBase !== null ? heap.peak - heapBase : null, samples: heap?.samples ?? 0 },
    ...(t.extra ?? {}),
  };
}

async function twoPages(world, log, notes) {
  const room = uniqueRoom('bench-swarm-pair');
  const [a, b] = await Promise.all([openLabPage(world, room), openLabPage(world, room)]);
  const pair = { a, b, close: () => Promise.all([a, b].map(p => p.context().close().catch(() => undefined))) };
  try {
    await Promise.all([waitForLabPeers(a, 1), waitForLabPeers(b, 1)]);
    await Promise.all([a, b].map(p => p.evaluate(installKit)));
    if (!(await a.evaluate(() => typeof window.lab.trysteroRoom === 'function' && Boolean(window.lab.trysteroRoom())))) throw new Error('the lab has no trysteroRoom() hook (rebuild test/lab)');
    pair.aId = (await b.evaluate(() => window.lab.peerIds()))[0]; // A as B sees it
    pair.bId = (await a.evaluate(() => window.lab.peerIds()))[0]; // B as A sees it
    pair.aPid = await rendererPidOf(a);
    pair.bPid = await rendererPidOf(b);
    if (!pair.aPid || !pair.bPid || pair.aPid === pair.bPid) notes.push(`renderer processes of A and B not told apart (${pair.aPid} / ${pair.bPid}): no per-page CPU`);
    const precise = await b.evaluate(() => window.benchKit.precise());
    if (!precise.supported) notes.push('performance.memory is not available: no heap figures');
    else if (!precise.changed) notes.push('performance.memory did not move for a 12 KB allocation: values may be coarse (precise memory info off?)');

    // Warm-up (discarded): links, JIT, SCTP; the swarm's first download also waits for its link hello.
    log(`2 pages connected; warm-up: ${WARMUP_SIZE / MiB} MiB raw, Trystero and swarm (discarded)`);
    await a.evaluate(size => window.benchKit.makePayload(size), SIZE);
    await transfer(pair, { kind: 'raw', variant: RAW_VARIANTS[0] }, WARMUP_SIZE);
    await transfer(pair, { kind: 'trystero' }, WARMUP_SIZE);
    const warm = await a.evaluate(([size, seed]) => window.lab.share(size, seed), [WARMUP_SIZE, 99]);
    await waitHolders(b, warm.cid, 1);
    const warmSwarm = await transfer(pair, { kind: 'swarm', cid: warm.cid }, WARMUP_SIZE);
    log(`warm-up swarm ${WARMUP_SIZE / MiB} MiB: ${warmSwarm.ok ? `${fmt(warmSwarm.mbps)} MB/s` : `FAILED (${warmSwarm.error})`}`);

    const runs = { swarm: [], raw: [], raw4m: [], trystero: [] };
    const files = [];
    for (let r = 0; r < ROUNDS; r++) {
      const shareStarted = Date.now();
      const file = await a.evaluate(([size, seed]) => window.lab.share(size, seed), [SIZE, 1000 + r]);
      files.push(file);
      log(`round ${r + 1}: seeder shared ${SIZE / MiB} MiB (${file.chunks} chunks) in ${fmt((Date.now() - shareStarted) / 1000)} s (not timed)`);
      await waitHolders(b, file.cid, 1);
      const steps = [
        ['raw', () => transfer(pair, { kind: 'raw', variant: RAW_VARIANTS[0] }, SIZE)],
        ['swarm', () => transfer(pair, { kind: 'swarm', cid: file.cid }, SIZE)],
        ['trystero', () => transfer(pair, { kind: 'trystero' }, SIZE)],
        ['raw4m', () => transfer(pair, { kind: 'raw', variant: RAW_VARIANTS[1] }, SIZE)],
      ];
      // Rotate the order each round so no method always runs first or right after another.
      for (const [key, run] of [...steps.slice(r % steps.length), ...steps.slice(0, r % steps.length)]) {
        const res = await run();
        runs[key].push(res);
        log(`round ${r + 1} ${key.padEnd(8)}: ${res.ok ? `${fmt(res.ms / 1000, 2)} s, ${fmt(res.mbps)} MB/s` : `FAILED (${res.error})`}; main thread busy A ${fmt(res.busyA * 100, 0)} % B ${fmt(res.busyB * 100, 0)} %; browser CPU ${fmt(res.cpuSeconds, 1)} s (${fmt(res.cpuCores, 2)} cores; A's renderer ${fmt(res.cpuA, 1)}, B's ${fmt(res.cpuB, 1)}; by kind ${Object.entries(res.cpuByKind ?? {}).filter(([, v]) => v >= 0.05).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k.replace(/^.*\.mojom\./, '')} ${fmt(v, 1)}`).join(', ')}); B heap peak ${fmt(mib(res.heap.peak))} MiB (+${fmt(mib(res.heap.growth))} MiB over ${fmt(mib(res.heap.base))})`);
        if (process.env.BENCH_SWARM_THREADS) log(`  threads (CPU s): ${Object.entries(res.cpuByThread ?? {}).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${fmt(v, 2)}`).join('; ')}`);
        if (!res.ok) notes.push(`${key} round ${r + 1}: ${res.error}`);
      }
    }
    let verified = null;
    if (VERIFY) {
      verified = true;
      for (const file of files) {
        const digest = await b.evaluate(([cid, size]) => window.lab.digest(cid, size), [file.cid, SIZE]).catch(err => `error: ${err.message}`);
        if (digest !== file.sha256) {
          verified = false;
          notes.push(`swarm file ${file.cid.slice(0, 12)}… on B does not match the seeder's SHA-256 (${String(digest).slice(0, 16)}…)`);
        }
      }
      log(`swarm file(s) on B ${verified ? 'match' : 'DO NOT match'} the seeder's SHA-256`);
    }
    await a.evaluate(() => window.benchKit.dropPayload());
    return { runs, verified, warmSwarm };
  } finally {
    await pair.close();
  }
}

async function fanOut(world, log, notes) {
  const room = uniqueRoom('bench-swarm-fanout');
  const pages = await Promise.all(Array.from({ length: DOWNLOADERS + 1 }, () => openLabPage(world, room)));
  try {
    const joinStarted = Date.now();
    await Promise.all(pages.map(p => waitForLabPeers(p, DOWNLOADERS, 60_000)));
    await Promise.all(pages.map(p => p.evaluate(installKit)));
    const [seeder, ...downloaders] = pages;
    log(`fan-out: ${DOWNLOADERS + 1} pages in full mesh after ${fmt((Date.now() - joinStarted) / 1000)} s; seeder shares ${FANOUT_SIZE / MiB} MiB`);
    const file = await seeder.evaluate(([size, seed]) => window.lab.share(size, seed), [FANOUT_SIZE, 7]);
    await Promise.all(downloaders.map(p => waitHolders(p, file.cid, 1)));
    const before = await seeder.evaluate(() => window.lab.stats());
    const busyBefore = await Promise.all(pages.map(busy));
    const wallStart = Date.now();
    // A common start time for all downloaders (epoch ms; all pages run on this machine's clock).
    const atEpoch = Date.now() + 500;
    const results = await Promise.all(downloaders.map(p => p.evaluate(([cid, ms, at]) => window.benchKit.swarmDownload(cid, ms, at), [file.cid, TRANSFER_TIMEOUT_MS, atEpoch])));
    const busyAfter = await Promise.all(pages.map(busy));
    const wallMs = Date.now() - wallStart;
    const after = await seeder.evaluate(() => window.lab.stats());
    const dlStats = await Promise.all(downloaders.map(p => p.evaluate(() => window.lab.stats())));
    const start = Math.min(...results.map(r => r.startAt));
    const ok = results.every(r => r.doneAt !== null);
    const perPage = results.map((r, i) => ({
      ok: r.doneAt !== null,
      error: r.error,
      startOffsetMs: r.startAt - start,
      ms: r.doneAt !== null ? r.doneAt - r.startAt : null,
      doneAfterMs: r.doneAt !== null ? r.doneAt - start : null,
      downloaded: dlStats[i].bytesDownloaded,
      uploaded: dlStats[i].bytesUploaded,
      chunksServed: dlStats[i].chunksServed,
      badChunks: dlStats[i].badChunks,
      busy: busyShare(busyBefore[i + 1], busyAfter[i + 1], wallMs),
    }));
    const seederBusy = busyShare(busyBefore[0], busyAfter[0], wallMs);
    const allMs = ok ? Math.max(...results.map(r => r.doneAt)) - start : null;
    const seederUploaded = after.bytesUploaded - before.bytesUploaded;
    const peerUploaded = perPage.reduce((n, p) => n + p.uploaded, 0);
    /** Payload bytes received beyond one copy per downloader (re-requests after timeouts, cancelled chunks). */
    const excessDownloaded = perPage.reduce((n, p) => n + p.downloaded, 0) - FANOUT_SIZE * DOWNLOADERS;
    let verified = null;
    if (VERIFY) {
      const digests = await Promise.all(downloaders.map(p => p.evaluate(([cid, size]) => window.lab.digest(cid, size), [file.cid, FANOUT_SIZE]).catch(err => `error: ${err.message}`)));
      verified = digests.every(d => d === file.sha256);
      if (!verified) notes.push(`fan-out: ${digests.filter(d => d !== file.sha256).length} of ${DOWNLOADERS} downloaded files do not match the seeder's SHA-256`);
    }
    if (!ok) notes.push(`fan-out: ${results.filter(r => r.doneAt === null).length} of ${DOWNLOADERS} downloads did not finish (${results.find(r => r.error)?.error})`);
    log(`fan-out: ${ok ? `all ${DOWNLOADERS} done after ${fmt(allMs / 1000, 2)} s` : 'FAILED'}; seeder uploaded ${fmt(mib(seederUploaded))} MiB = ${fmt(seederUploaded / FANOUT_SIZE, 2)} copies; downloaders uploaded ${fmt(mib(peerUploaded))} MiB to each other${verified === null ? '' : verified ? '; all match SHA-256' : '; SHA-256 MISMATCH'}`);
    return {
      ok,
      size: FANOUT_SIZE,
      downloaders: DOWNLOADERS,
      allMs,
      aggregateMbps: ok ? mbps(FANOUT_SIZE * DOWNLOADERS, allMs) : null,
      seederUploaded,
      seederCopies: seederUploaded / FANOUT_SIZE,
      peerUploaded,
      excessDownloaded,
      badChunks: perPage.reduce((n, p) => n + p.badChunks, 0),
      seederBusy,
      verified,
      perPage,
    };
  } finally {
    await Promise.all(pages.map(p => p.context().close().catch(() => undefined)));
  }
}

// ---------- report ----------

function render(result) {
  const { pair, fanout } = result;
  const m = key => pair.summary[key];
  const rowOf = (label, key, note) => {
    const s = m(key);
    const pct = x => (x === null || x === undefined ? '—' : `${Math.round(x * 100)} %`);
    return [label, fmt(s.ms === null ? null : s.ms / 1000, 2), fmt(s.mbps), fmt(s.ratioToRaw, 2), fmt(mib(s.heapPeak)), fmt(mib(s.heapGrowth)), pct(s.busyA), pct(s.busyB), fmt(s.cpuSeconds, 1), fmt(s.cpuCores, 2), `${s.ok}/${s.n}`, note];
  };
  const rows = [
    rowOf('swarm engine (hash + IndexedDB)', 'swarm', 'startDownload → done in B'),
    rowOf(RAW_VARIANTS[0].label, 'raw', 'limit (headline)'),
    rowOf(RAW_VARIANTS[1].label, 'raw4m', 'same buffering as the swarm'),
    rowOf('Trystero action (makeAction, 16 KiB pieces)', 'trystero', 'receiver holds the whole payload'),
  ];
  const f = fanout;
  const fanRows = f
    ? f.perPage.map((p, i) => [`downloader ${i + 1}`, fmt(p.startOffsetMs, 0), fmt(p.ms === null ? null : p.ms / 1000, 2), fmt(p.doneAfterMs === null ? null : p.doneAfterMs / 1000, 2), fmt(mib(p.downloaded)), fmt(mib(p.uploaded)), String(p.chunksServed), p.busy === null ? '—' : `${Math.round(p.busy * 100)} %`])
    : [];
  const s = m('swarm');
  const r = m('raw');
  const sequential = s.mbps ? (f?.size ?? FANOUT_SIZE) * (f?.downloaders ?? DOWNLOADERS) / 1e6 / s.mbps : null;
  return [
    `## Swarm: transfer engine vs raw RTCDataChannel and Trystero action`,
    ``,
    machineLine(result, [result.platform, `load average (1 min) ${fmt(result.loadAverage.start, 1)} at start, ${fmt(result.loadAverage.end, 1)} at end`]),
    ``,
    `### ${SIZE / MiB} MiB between two pages (same pages, same RTCPeerConnection, one run)`,
    ``,
    `A → B, ${ROUNDS} round(s) after a discarded ${WARMUP_SIZE / MiB} MiB warm-up of each; medians. Time: swarm = \`startDownload\` → \`done\` in B (manifest, requests, 256 KiB chunks as 64 KiB frames, SHA-256 per chunk, IndexedDB); raw / Trystero = A starts sending → B holds every byte. Raw: own negotiated channel (id ${RAW_CHANNEL_ID}) on the same connection, receiver only counts bytes. Trystero: \`makeAction\` on the lab's underlying Trystero room (its one ordered channel). B's heap: \`performance.memory.usedJSHeapSize\` every 100 ms (precise memory info; includes ArrayBuffers), after a forced GC; growth = peak − value at start. "busy": share of the wall time the page's main thread ran tasks (CDP \`Performance.getMetrics\` TaskDuration; the network stack, SCTP and IndexedDB run on other threads). "browser CPU": user + system seconds of every Chromium process during the transfer (\`/proc/<pid>/stat\`), and that divided by the wall time (cores in use; the machine has ${os.cpus().length}).`,
    ``,
    table(['transfer', 's', 'MB/s', '÷ raw', 'B heap peak MiB', 'B heap growth MiB', 'A busy', 'B busy', 'browser CPU s', 'CPU cores', 'ok', ''], rows),
    ``,
    `**Headline: swarm / raw throughput = ${fmt(s.mbps && r.mbps ? s.mbps / r.mbps : null, 2)}×** (swarm / raw with swarm watermarks ${fmt(m('raw4m').mbps && s.mbps ? s.mbps / m('raw4m').mbps : null, 2)}×, swarm / Trystero ${fmt(m('trystero').mbps && s.mbps ? s.mbps / m('trystero').mbps : null, 2)}×). Receiver heap growth: swarm ${fmt(mib(s.heapGrowth))} MiB vs Trystero ${fmt(mib(m('trystero').heapGrowth))} MiB.${pair.verified === null ? '' : pair.verified ? ' Swarm file on B matches the seeder\'s SHA-256.' : ' **Swarm file on B does NOT match the seeder\'s SHA-256.**'}`,
    ``,
    `#### Where the CPU went (median CPU seconds per ${SIZE / MiB} MiB transfer, all Chromium processes)`,
    ``,
    `Every method keeps the machine's ${os.cpus().length} cores nearly full (column "CPU cores" above), so its speed is set by what it costs per byte: the swarm's throughput ratio to raw is close to raw's CPU seconds divided by the swarm's. "browser" is the browser process, where IndexedDB's backing store runs; "network service" carries the UDP sockets of every connection. For what each step of the swarm costs on its own (IndexedDB writes and reads, SHA-256, frame copies), run \`node bench/swarm-cpu-probe.mjs\`.`,
    ``,
    table(
      ['transfer', 'total', "A's renderer (sender)", "B's renderer (receiver)", 'browser', 'network service', 'total ÷ raw', 'raw ÷ total'],
      [['swarm engine', 'swarm'], ['raw RTCDataChannel', 'raw'], ['raw, swarm watermarks', 'raw4m'], ['Trystero action', 'trystero']].map(([label, key]) => {
        const x = m(key);
        return [label, fmt(x.cpuSeconds, 1), fmt(x.cpuA, 1), fmt(x.cpuB, 1), fmt(x.cpuBrowser, 1), fmt(x.cpuNetwork, 1), fmt(x.cpuSeconds && r.cpuSeconds ? x.cpuSeconds / r.cpuSeconds : null, 2), fmt(x.cpuSeconds && r.cpuSeconds ? r.cpuSeconds / x.cpuSeconds : null, 2)];
      }),
    ),
    ``,
    `### 1 seeder → ${f?.downloaders ?? DOWNLOADERS} downloaders, ${(f?.size ?? FANOUT_SIZE) / MiB} MiB`,
    ``,
    f
      ? `${f.downloaders + 1} pages in a full mesh (fresh room and contexts); every downloader starts at the same epoch time. **All have the file after ${fmt(f.allMs === null ? null : f.allMs / 1000, 2)} s** (${fmt(f.aggregateMbps)} MB/s delivered in total). **Seeder uploaded ${fmt(mib(f.seederUploaded))} MiB = ${fmt(f.seederCopies, 2)} copies** of the file (redistribution works when well under ${f.downloaders}); downloaders uploaded ${fmt(mib(f.peerUploaded))} MiB to each other; bytes received beyond one copy each: ${fmt(mib(f.excessDownloaded), 2)} MiB; bad chunks ${f.badChunks}. Seeder main thread busy ${f.seederBusy === null ? '—' : `${Math.round(f.seederBusy * 100)} %`}.${f.verified === null ? '' : f.verified ? ' All files match SHA-256.' : ' **SHA-256 mismatch.**'} For scale: ${f.downloaders} sequential copies at the 2-page swarm rate would take ${fmt(sequential, 1)} s.`
      : 'not run',
    ``,
    ...(f ? [table(['page', 'start +ms', 'own s', 'done after s', 'downloaded MiB', 'uploaded MiB', 'chunks served', 'main thread busy'], fanRows), ''] : []),
    ...notesSection(result.notes),
  ].join('\n');
}

function summarize(runs) {
  const out = {};
  for (const [key, list] of Object.entries(runs)) {
    const good = list.filter(x => x.ok);
    out[key] = {
      n: list.length,
      ok: good.length,
      ms: median(good.map(x => x.ms)),
      mbps: median(good.map(x => x.mbps)),
      busyA: median(good.map(x => x.busyA).filter(x => x !== null)),
      busyB: median(good.map(x => x.busyB).filter(x => x !== null)),
      cpuSeconds: median(good.map(x => x.cpuSeconds).filter(x => x !== null && x !== undefined)),
      cpuCores: median(good.map(x => x.cpuCores).filter(x => x !== null && x !== undefined)),
      cpuA: median(good.map(x => x.cpuA).filter(x => x !== null && x !== undefined)),
      cpuB: median(good.map(x => x.cpuB).filter(x => x !== null && x !== undefined)),
      cpuBrowser: median(good.map(x => x.cpuByKind?.browser ?? null).filter(x => x !== null)),
      cpuNetwork: median(good.map(x => x.cpuByKind?.['network.mojom.NetworkService'] ?? null).filter(x => x !== null)),
      heapPeak: median(list.map(x => x.heap.peak).filter(x => x !== null)),
      heapGrowth: median(list.map(x => x.heap.growth).filter(x => x !== null)),
    };
  }
  for (const key of Object.keys(out)) out[key].ratioToRaw = out[key].mbps && out.raw.mbps ? out[key].mbps / out.raw.mbps : null;
  return out;
}

// ---------- main ----------

export async function main() {
  const startedAt = Date.now();
  const loadStart = os.loadavg()[0];
  const log = elapsedLog(startedAt, 'swarm: ');
  log('building the lab bundle (test/lab/build/swarm-lab.js)…');
  await buildLab();
  if (!existsSync(path.join(ROOT, 'test/lab/build/swarm-lab.js'))) throw new Error('lab build failed');
  const world = await startWorld();
  // A second Chromium from the same flags plus precise memory info (performance.memory otherwise gives coarse buckets).
  let precise = null;
  const { stop, clearWatchdog, removeSignalHandlers } = guardRun(() => Promise.all([precise?.close().catch(() => undefined), world.stop()]), { watchdogMs: WATCHDOG_MS, watchdogLabel: 'bench: swarm watchdog' });
  const notes = [];
  try {
    precise = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'] });
    const labWorld = { ...world, browser: precise };
    const chromiumVersion = precise.version();
    log(`relay ${world.relay.url} (pid ${world.relay.pid}), host ${world.host.url} (pid ${world.host.pid}), Chromium ${chromiumVersion} with --enable-precise-memory-info`);

    const pairResult = await twoPages(labWorld, log, notes);
    let fanout = null;
    try {
      fanout = await fanOut(labWorld, log, notes);
    } catch (err) {
      notes.push(`fan-out could not run: ${err.message}`);
      log(`fan-out could not run: ${err.message}`);
    }
    const loadEnd = os.loadavg()[0];
    const busyNote = busyMachineNote(loadStart, loadEnd);
    if (busyNote) notes.push(busyNote);
    const result = roundAll({
      bench: 'swarm',
      date: new Date().toISOString(),
      chromium: chromiumVersion,
      ...machineInfo(),
      loadAverage: { start: loadStart, end: loadEnd },
      config: {
        size: SIZE,
        rounds: ROUNDS,
        warmupSize: WARMUP_SIZE,
        messageBytes: MESSAGE_BYTES,
        rawChannelId: RAW_CHANNEL_ID,
        rawVariants: RAW_VARIANTS,
        trysteroAction: TRYSTERO_ACTION,
        fanoutSize: FANOUT_SIZE,
        downloaders: DOWNLOADERS,
        verify: VERIFY,
        strategy: 'nostr (local relay)',
        iceServers: [],
        chromiumExtraArgs: ['--enable-precise-memory-info'],
      },
      definitions: {
        swarmMs: 'receiver B: startDownload(cid) → download done (every chunk verified and stored in IndexedDB)',
        rawMs: 'sender A starts sending → receiver B counted every byte (epoch ms: performance.timeOrigin + performance.now() in each page)',
        trysteroMs: 'sender A calls action.send → receiver B onMessage with the whole payload',
        mbps: '10^6 bytes per second',
        heap: 'receiver B performance.memory.usedJSHeapSize sampled every 100 ms (plus once in Trystero onMessage), after CDP HeapProfiler.collectGarbage; growth = peak − start',
        fanoutAllMs: 'earliest startDownload → latest done over the downloaders (epoch ms)',
        seederCopies: 'bytes the seeder uploaded during the fan-out ÷ file size',
      },
      pair: { summary: summarize(pairResult.runs), runs: pairResult.runs, verified: pairResult.verified, warmupSwarm: pairResult.warmSwarm },
      fanout,
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    });
    writeResults('swarm', result, render(result));
  } finally {
    clearWatchdog();
    removeSignalHandlers();
    await stop();
  }
}

if (isMainModule(import.meta.url)) main().catch(exitOnError('bench: swarm could not run:'));
