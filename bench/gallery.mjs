#!/usr/bin/env node
/**
 * Gallery bench (run by bench/run.mjs after the other parts, or alone: `node bench/gallery.mjs`):
 * the `<p2p-gallery>` widget between headless Chromium pages (test/fixtures/widget-host.html,
 * bundle from the asset server) over the harness's local Nostr relay, no ICE servers.
 *
 *  1. Thumbnail latency: page A shares pictures one at a time (the committed fixtures of
 *     test/fixtures/images through the file input with setInputFiles, then pictures drawn in
 *     the page with OffscreenCanvas through `addPictures`); ms from "share" in A (the input's
 *     `change` event / the `addPictures` call) until the new tile's <img> on page B has loaded
 *     (naturalWidth > 0). Both pages read the same clock: performance.timeOrigin +
 *     performance.now() (epoch ms, one machine). Split: A's own `p2pImageAdd` (picture checked,
 *     re-encoded, hashed, thumbnail made, record signed), B's `p2pImageAdd` (record arrived and
 *     verified), tile in B's DOM, thumbnail loaded.
 *  2. Opening a full ~10 MB picture: A draws two noise PNGs (P1, P2) in the page (OffscreenCanvas,
 *     random opaque RGB, sized to ~BIG_MB) and shares both with `addPictures` (sharing
 *     re-encodes the pixels, so the shared size is the one in `p2pImageAdd`). C and D open P2
 *     first (C from A, D from A and C), so P2 has three holders and P1 one (A). Then, ROUNDS
 *     times, a fresh page B (new context: empty IndexedDB) joins, waits for A, C, D and both
 *     tiles, and opens P1 and P2 (order alternates per round): ms from the tile's click to
 *     `img.full` decoded (`img.decode()`), in B. Beside it: bytes each holder uploaded
 *     (`getStats().swarm.bytesUploaded` deltas), the most peers B's progress line reported
 *     at once, and time to the first progress > 0 %.
 *
 * Prints a table, writes bench/results/gallery.json and .md. Numbers never fail the run; the
 * exit code is non-zero only when the bench could not run.
 *
 * Knobs (environment): BENCH_GALLERY_GENERATED (2) pictures drawn in the page for part 1 beside
 * the 3 fixtures, BENCH_GALLERY_BIG_MB (10) size of the noise PNGs, BENCH_GALLERY_ROUNDS (3)
 * fresh B pages in part 2, BENCH_GALLERY_SETTLE_MS (1500) wait after B sees A, C, D and both
 * tiles (so every holder's have-map has arrived) before it opens anything.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers } from '../test/harness/browser.mjs';
import { ROOT } from '../test/harness/processes.mjs';
import { bundleFreshness, ensureBundle } from './lib/bundle.mjs';
import { envInt, envNumber } from './lib/env.mjs';
import { formatNumber as fmt } from './lib/format.mjs';
import { busyMachineNote, machineInfo, machineLine } from './lib/machine.mjs';
import { notesSection, table } from './lib/markdown.mjs';
import { roundAll, writeResults } from './lib/results.mjs';
import { guardRun } from './lib/run-guard.mjs';
import { exitOnError, isMainModule } from './lib/script-entry.mjs';
import { median, medianStats as stats } from './lib/stats.mjs';
import { elapsedLog, sleep } from './lib/timing.mjs';

const GENERATED = envInt('BENCH_GALLERY_GENERATED', 2);
const BIG_MB = envNumber('BENCH_GALLERY_BIG_MB', 10, 0.1);
const ROUNDS = envInt('BENCH_GALLERY_ROUNDS', 3, 1);
const SETTLE_MS = envInt('BENCH_GALLERY_SETTLE_MS', 1500);
const FIXTURES = ['sunset-gps.jpg', 'lake.png', 'forest.webp'];
const PEER_TIMEOUT_MS = 40_000;
/** A fresh B normally sees A, C and D within 1–6 s; one that does not within this is replaced. */
const B_JOIN_TIMEOUT_MS = 20_000;
const B_TILE_TIMEOUT_MS = 15_000;
const EXTRA_ATTEMPTS = 2;
const HOLDER_MAX_AGE_MS = 50_000;
const THUMB_TIMEOUT_MS = 30_000;
const OPEN_TIMEOUT_MS = 90_000;
const GAP_MS = 300;
const WATCHDOG_MS = 7 * 60_000;
const TAG = 'p2p-gallery';

// ---------- in-page kit ----------

/** Installed in every gallery page: clock, p2pImageAdd times, tile/thumbnail times, picture makers, full-picture opener. */
async function installKit() {
  if (window.gkit) return true;
  const now = () => performance.timeOrigin + performance.now();
  const el = document.querySelector('p2p-gallery');
  if (el.componentOnReady) await el.componentOnReady();
  const root = el.shadowRoot;
  const kit = { now, adds: [], tiles: {}, changeAt: [], files: {} };
  document.addEventListener('p2pImageAdd', e => kit.adds.push({ at: now(), detail: e.detail }));
  // The file input lives in the shadow root; its `change` passes the root (capture, before the widget's handler).
  root.addEventListener('change', () => kit.changeAt.push(now()), true);
  const scanTiles = () => {
    for (const tile of root.querySelectorAll('[part="tile"]')) {
      const cid = tile.getAttribute('data-cid');
      if (!cid || kit.tiles[cid]) continue;
      const img = tile.querySelector('img');
      const entry = { insertedAt: now(), loadedAt: null, width: 0 };
      kit.tiles[cid] = entry;
      if (!img) continue;
      const loaded = () => {
        if (entry.loadedAt === null && img.naturalWidth > 0) {
          entry.loadedAt = now();
          entry.width = img.naturalWidth;
        }
      };
      if (img.complete) loaded();
      img.addEventListener('load', loaded);
    }
  };
  new MutationObserver(scanTiles).observe(root, { subtree: true, childList: true });
  scanTiles();
  /** Whether the thumbnail of `cid` has loaded; re-reads the tile's current img (a re-render may replace it), marking such a time `late`. */
  kit.thumbLoaded = cid => {
    const entry = kit.tiles[cid];
    if (!entry) return false;
    if (entry.loadedAt !== null) return true;
    const img = root.querySelector(`[part="tile"][data-cid="${cid}"] img`);
    if (img?.complete && img.naturalWidth > 0) {
      entry.loadedAt = now();
      entry.width = img.naturalWidth;
      entry.late = true;
    }
    return entry.loadedAt !== null;
  };

  /** Draws a photo-like picture (gradients, discs, a little noise) and keeps it as a File. */
  kit.makePhoto = async ({ name, width, height, type, quality, seed }) => {
    const t0 = now();
    let x = seed >>> 0 || 1;
    const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 4294967296);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    const g = ctx.createLinearGradient(0, 0, width, height);
    g.addColorStop(0, `hsl(${Math.floor(rnd() * 360)} 70% 60%)`);
    g.addColorStop(1, `hsl(${Math.floor(rnd() * 360)} 60% 30%)`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, width, height);
    for (let i = 0; i < 60; i++) {
      ctx.fillStyle = `hsla(${Math.floor(rnd() * 360)} 70% ${Math.floor(30 + rnd() * 50)}% / 0.6)`;
      ctx.beginPath();
      ctx.arc(rnd() * width, rnd() * height, 10 + rnd() * width * 0.15, 0, 2 * Math.PI);
      ctx.fill();
    }
    const img = ctx.getImageData(0, 0, width, height);
    for (let i = 0; i < img.data.length; i += 4) {
      const n = (rnd() - 0.5) * 24;
      img.data[i] += n;
      img.data[i + 1] += n;
      img.data[i + 2] += n;
    }
    ctx.putImageData(img, 0, 0);
    const blob = await canvas.convertToBlob({ type, quality });
    kit.files[name] = new File([blob], name, { type });
    return { name, width, height, bytes: blob.size, mime: blob.type, makeMs: now() - t0 };
  };

  /** Draws opaque random RGB noise sized so the PNG is ~targetBytes (noise does not compress). */
  kit.makeNoise = async ({ name, targetBytes, seed }) => {
    const t0 = now();
    const pixels = Math.max(1, Math.round(targetBytes / 3.44)); // Chromium writes RGBA PNGs: ~3.44 bytes per noise pixel
    const width = Math.max(1, Math.round(Math.sqrt(pixels * 1.5)));
    const height = Math.max(1, Math.round(pixels / width));
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(width, height);
    const u32 = new Uint32Array(img.data.buffer);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < u32.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      u32[i] = (x & 0x00ffffff) | 0xff000000; // little-endian RGBA: alpha is the high byte
    }
    ctx.putImageData(img, 0, 0);
    const drawnAt = now();
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    kit.files[name] = new File([blob], name, { type: 'image/png' });
    return { name, width, height, bytes: blob.size, mime: blob.type, drawMs: drawnAt - t0, encodeMs: now() - drawnAt, makeMs: now() - t0 };
  };

  /** Shares a kept File through addPictures; times in epoch ms. */
  kit.share = async name => {
    // The longest the page's main thread was blocked while sharing: the largest gap between ticks of a 5 ms timer.
    let last = performance.now();
    let longestBlockMs = 0;
    const ticker = setInterval(() => {
      const t = performance.now();
      longestBlockMs = Math.max(longestBlockMs, t - last);
      last = t;
    }, 5);
    const t0 = now();
    let cids = [];
    let error = null;
    try {
      cids = await el.addPictures([kit.files[name]]);
    } catch (err) {
      error = String(err?.message ?? err);
    }
    clearInterval(ticker);
    longestBlockMs = Math.max(longestBlockMs, performance.now() - last);
    return { startAt: t0, resolvedAt: now(), cids, error, longestBlockMs };
  };

  kit.swarmStats = async () => (await el.getStats()).swarm;

  /**
   * Clicks the tile of `cid`, waits for `img.full` and its decode; records the progress line
   * (percent, peers) as it changes. Closes the lightbox afterwards.
   */
  kit.openFull = async ({ cid, timeoutMs }) => {
    const before = await kit.swarmStats();
    const button = root.querySelector(`[part="tile"][data-cid="${cid}"] button`);
    if (!button) return { ok: false, reason: 'no tile' };
    const progress = { firstAt: null, maxPeers: 0, lastPercent: 0, updates: 0, timeline: [] };
    let clickAt = null;
    let insertedAt = null;
    let failed = null;
    const errorsBefore = window.p2pEvents.length;
    let observer;
    const shown = new Promise(resolve => {
      const check = () => {
        const line = root.querySelector('.lightbox .loading span');
        if (line) {
          const m = /(\d+)%\D+(\d+)/.exec(line.textContent ?? '');
          if (m) {
            const percent = Number(m[1]);
            const peers = Number(m[2]);
            const last = progress.timeline.at(-1);
            if (!last || last[1] !== percent || last[2] !== peers) progress.timeline.push([Math.round(now() - clickAt), percent, peers]);
            progress.updates++;
            progress.lastPercent = percent;
            progress.maxPeers = Math.max(progress.maxPeers, peers);
            if (percent > 0 && progress.firstAt === null) progress.firstAt = now();
          }
        }
        const error = window.p2pEvents.slice(errorsBefore).find(e => e.type === 'p2pError' && e.detail.code === 'unavailable');
        if (error) failed = error.detail.message;
        const img = root.querySelector('.lightbox img.full');
        if (img || failed) {
          if (img) insertedAt = now();
          observer.disconnect();
          resolve(img);
        }
      };
      observer = new MutationObserver(check);
      observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    clickAt = now();
    button.click();
    const img = await Promise.race([shown, new Promise(resolve => setTimeout(() => resolve(null), timeoutMs))]);
    observer.disconnect();
    if (!img) {
      root.querySelector('.lightbox button.close')?.click();
      return { ok: false, reason: failed ? `error line: ${failed}` : `no img.full within ${timeoutMs} ms (progress ${progress.lastPercent}%)`, clickAt, progress, before, after: await kit.swarmStats() };
    }
    let decodeError = null;
    await img.decode().catch(err => (decodeError = String(err?.message ?? err)));
    const decodedAt = now();
    const naturalWidth = img.naturalWidth;
    const after = await kit.swarmStats();
    root.querySelector('.lightbox button.close')?.click();
    return { ok: !decodeError && naturalWidth > 0, reason: decodeError, clickAt, insertedAt, decodedAt, naturalWidth, progress, before, after };
  };

  window.gkit = kit;
  return true;
}

// ---------- helpers ----------

const kb = b => (b === null || b === undefined ? '—' : b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);

/** Opens a gallery page for `name` in a fresh context and installs the kit. */
async function openGallery(world, room, name, pageErrors) {
  const page = await openWidgetPage(world, TAG, room, [{ 'user-name': name }]);
  page.on('pageerror', err => pageErrors.push(`${name}: ${err.message}`));
  await page.evaluate(installKit);
  return page;
}

/** Waits (in page) until the thumbnail of `cid` has loaded; returns the tile times or null. */
async function waitThumb(page, cid, timeout = THUMB_TIMEOUT_MS) {
  try {
    await page.waitForFunction(c => window.gkit.thumbLoaded(c), cid, { timeout, polling: 20 });
  } catch {
    /* reported as missing */
  }
  return page.evaluate(c => window.gkit.tiles[c] ?? null, cid);
}

/** A's own p2pImageAdd after `since` (epoch ms), waiting up to `timeout`. */
async function ownAddAfter(page, since, timeout = THUMB_TIMEOUT_MS) {
  try {
    await page.waitForFunction(t => window.gkit.adds.some(a => a.detail.own && a.at >= t), since, { timeout, polling: 20 });
  } catch {
    return null;
  }
  return page.evaluate(t => window.gkit.adds.find(a => a.detail.own && a.at >= t), since);
}
const addOf = (page, cid) => page.evaluate(c => window.gkit.adds.find(a => a.detail.cid === c) ?? null, cid);
/** Longest time between progress changes ([ms, percent, peers] after the click), up to the picture's arrival. */
function longestStall(timeline, endMs) {
  const points = timeline.filter((p, i) => i === 0 || p[1] !== timeline[i - 1][1]).map(p => p[0]);
  if (endMs !== null) points.push(endMs);
  let longest = points.length ? points[0] : null;
  for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i] - points[i - 1]);
  return longest;
}
const swarmStats = page => page.evaluate(() => window.gkit.swarmStats()).catch(() => null);

// ---------- part 1: thumbnails ----------

async function thumbnails(world, log, notes, pageErrors) {
  const room = uniqueRoom('bench-gallery-thumbs');
  const [a, b] = await Promise.all([openGallery(world, room, 'Ann', pageErrors), openGallery(world, room, 'Bob', pageErrors)]);
  try {
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, PEER_TIMEOUT_MS, TAG)));
    log('thumbnails: A and B connected');
    const generated = [];
    for (let i = 0; i < GENERATED; i++) {
      const spec = i % 2 === 0 ? { name: `drawn-${i + 1}.jpg`, width: 1600, height: 1067, type: 'image/jpeg', quality: 0.9 } : { name: `drawn-${i + 1}.png`, width: 1024, height: 768, type: 'image/png' };
      generated.push(await a.evaluate(s => window.gkit.makePhoto(s), { ...spec, seed: 1000 + i }));
    }
    const items = [
      ...FIXTURES.map(f => ({ name: f, via: 'file input', original: statSync(path.join(ROOT, 'test/fixtures/images', f)).size })),
      ...generated.map(g => ({ name: g.name, via: 'addPictures', original: g.bytes, made: g })),
    ];
    const runs = [];
    for (const item of items) {
      const run = { name: item.name, via: item.via, originalBytes: item.original, ok: false };
      let startAt;
      if (item.via === 'file input') {
        const count = await a.evaluate(() => window.gkit.changeAt.length);
        await a.locator(TAG).locator('input[type="file"]').setInputFiles(path.join(ROOT, 'test/fixtures/images', item.name));
        startAt = await a.evaluate(n => window.gkit.changeAt[n] ?? null, count);
        if (startAt === null) {
          run.reason = 'no change event on the file input';
          runs.push(run);
          continue;
        }
      } else {
        const shared = await a.evaluate(n => window.gkit.share(n), item.name);
        startAt = shared.startAt;
        run.resolvedMs = shared.resolvedAt - startAt;
        if (shared.error) run.reason = shared.error;
      }
      const own = await ownAddAfter(a, startAt);
      if (!own) {
        run.reason ??= 'A never showed the picture as added';
        runs.push(run);
        log(`thumbnails: ${item.name}: ${run.reason}`);
        continue;
      }
      const cid = own.detail.cid;
      Object.assign(run, { cid, mime: own.detail.mime, width: own.detail.width, height: own.detail.height, sharedBytes: own.detail.size, aAddMs: own.at - startAt });
      const tile = await waitThumb(b, cid);
      const bAdd = await addOf(b, cid);
      run.bAddMs = bAdd ? bAdd.at - startAt : null;
      run.bTileMs = tile ? tile.insertedAt - startAt : null;
      run.bThumbMs = tile?.loadedAt != null ? tile.loadedAt - startAt : null;
      run.ok = run.bThumbMs !== null;
      if (run.ok) {
        run.thumbBytes = await b.evaluate(c => {
          const img = document.querySelector('p2p-gallery').shadowRoot.querySelector(`[part="tile"][data-cid="${c}"] img`);
          return img ? fetch(img.src).then(r => r.blob()).then(x => x.size, () => null) : null;
        }, cid);
        run.thumbWidth = tile.width;
      } else run.reason = `B: no loaded thumbnail within ${THUMB_TIMEOUT_MS / 1000} s${tile ? ' (tile shown, img not loaded)' : ''}`;
      runs.push(run);
      log(`thumbnails: ${item.name} (${kb(run.sharedBytes)} shared): A record ${fmt(run.aAddMs)} ms, B record ${fmt(run.bAddMs)} ms, B thumbnail ${fmt(run.bThumbMs)} ms`);
      await sleep(GAP_MS);
    }
    const failed = runs.filter(r => !r.ok);
    if (failed.length) notes.push(`thumbnails: ${failed.length} of ${runs.length} pictures not seen on B: ${failed.map(r => `${r.name} (${r.reason})`).join('; ')}`);
    const ok = runs.filter(r => r.ok);
    return {
      room,
      runs,
      summary: {
        shareToBThumb: stats(ok.map(r => r.bThumbMs)),
        shareToARecord: stats(ok.map(r => r.aAddMs)),
        shareToBRecord: stats(ok.filter(r => r.bAddMs !== null).map(r => r.bAddMs)),
        bRecordToThumb: stats(ok.filter(r => r.bAddMs !== null).map(r => r.bThumbMs - r.bAddMs)),
      },
    };
  } finally {
    await Promise.all([a, b].map(p => p.context().close().catch(() => undefined)));
  }
}

// ---------- part 2: full picture from one vs three holders ----------

async function fullPicture(world, log, notes, pageErrors, state) {
  const room = uniqueRoom('bench-gallery-full');
  state.room = room;
  const names = { A: 'Ann', C: 'Cy', D: 'Dee' };
  const open = [];
  const holders = {};
  try {
    const [a, c, d] = await Promise.all(Object.values(names).map(n => openGallery(world, room, n, pageErrors)));
    open.push(a, c, d);
    Object.assign(holders, { A: a, C: c, D: d });
    await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, PEER_TIMEOUT_MS, TAG)));
    state.holdersConnectedAt = Date.now();
    log('full picture: A, C, D connected');

    // A draws and shares P1 (stays with A only) and P2 (C and D will cache it).
    const targetBytes = Math.round(BIG_MB * 1e6);
    const pictures = state.pictures;
    for (const [key, seed] of [
      ['P1', 11],
      ['P2', 22],
    ]) {
      const made = await a.evaluate(s => window.gkit.makeNoise(s), { name: `noise-${key}.png`, targetBytes, seed });
      const shared = await a.evaluate(n => window.gkit.share(n), made.name);
      const p = { key, made, ok: false, startAt: shared.startAt, shareMs: shared.resolvedAt - shared.startAt, longestBlockMs: shared.longestBlockMs, error: shared.error };
      pictures[key] = p;
      if (shared.error || !shared.cids.length) {
        notes.push(`full picture: A could not share ${key} (${made.width}×${made.height}, ${kb(made.bytes)}): ${shared.error ?? 'refused (p2pError)'}`);
        const errors = await a.evaluate(() => window.p2pEvents.filter(e => e.type === 'p2pError').map(e => e.detail));
        if (errors.length) notes.push(`A's p2pError events: ${JSON.stringify(errors).slice(0, 300)}`);
        continue;
      }
      p.cid = shared.cids[0];
      const own = await addOf(a, p.cid);
      p.sharedBytes = own?.detail.size ?? null;
      p.aAddMs = own ? own.at - shared.startAt : null;
      const [tc, td] = await Promise.all([waitThumb(c, p.cid), waitThumb(d, p.cid)]);
      p.cThumbMs = tc?.loadedAt != null ? tc.loadedAt - shared.startAt : null;
      p.dThumbMs = td?.loadedAt != null ? td.loadedAt - shared.startAt : null;
      p.ok = p.cThumbMs !== null;
      log(
        `full picture: ${key} drawn ${made.width}×${made.height} in ${fmt(made.makeMs)} ms (PNG ${kb(made.bytes)}), shared as ${kb(p.sharedBytes)} in ${fmt(p.shareMs)} ms; thumbnail on C after ${fmt(p.cThumbMs)} ms`,
      );
      if (!p.ok) notes.push(`full picture: ${key}'s thumbnail did not load on C within ${THUMB_TIMEOUT_MS / 1000} s`);
    }
    if (!pictures.P1?.ok || !pictures.P2?.ok) {
      notes.push('full picture: skipped the opening runs (a picture was not shared)');
      return state;
    }

    /** One open of `cid` on `page`, with every holder's upload delta. */
    const openOn = async (page, label, pic, holderKeys) => {
      const before = Object.fromEntries(await Promise.all(holderKeys.map(async k => [k, await swarmStats(holders[k])])));
      const r = await page.evaluate(o => window.gkit.openFull(o), { cid: pic.cid, timeoutMs: OPEN_TIMEOUT_MS });
      const after = Object.fromEntries(await Promise.all(holderKeys.map(async k => [k, await swarmStats(holders[k])])));
      const uploaded = Object.fromEntries(holderKeys.map(k => [k, before[k] && after[k] ? after[k].bytesUploaded - before[k].bytesUploaded : null]));
      const run = {
        label,
        picture: pic.key,
        holders: holderKeys,
        ok: r.ok,
        reason: r.reason ?? null,
        openMs: r.decodedAt != null ? r.decodedAt - r.clickAt : null,
        blobMs: r.insertedAt != null ? r.insertedAt - r.clickAt : null,
        decodeMs: r.decodedAt != null && r.insertedAt != null ? r.decodedAt - r.insertedAt : null,
        firstProgressMs: r.progress?.firstAt != null ? r.progress.firstAt - r.clickAt : null,
        maxPeersReported: r.progress?.maxPeers ?? null,
        longestStallMs: longestStall(r.progress?.timeline ?? [], r.insertedAt != null ? r.insertedAt - r.clickAt : null),
        timeline: r.progress?.timeline ?? [],
        downloaded: r.before && r.after ? r.after.bytesDownloaded - r.before.bytesDownloaded : null,
        badChunks: r.before && r.after ? r.after.badChunks - r.before.badChunks : null,
        uploaded,
        servedBy: Object.values(uploaded).filter(x => x > 0).length,
      };
      run.mbps = run.openMs ? pic.sharedBytes / 1e3 / run.openMs : null;
      log(
        `full picture: ${label} opens ${pic.key} (holders ${holderKeys.join(', ')}): ${run.ok ? `${fmt(run.openMs)} ms (blob ${fmt(run.blobMs)}, decode ${fmt(run.decodeMs)})` : `FAILED: ${run.reason}`}; served ${Object.entries(uploaded)
          .map(([k, v]) => `${k} ${kb(v)}`)
          .join(', ')}; progress showed ≤ ${run.maxPeersReported} peer(s), longest stall ${fmt(run.longestStallMs)} ms`,
      );
      if (!run.ok) notes.push(`${label} opening ${pic.key}: ${run.reason}`);
      return run;
    };

    // C and D cache P2 (C from A; D from A and C).
    const caching = state.caching;
    caching.push(await openOn(c, 'C (caching)', pictures.P2, ['A']));
    await sleep(GAP_MS);
    caching.push(await openOn(d, 'D (caching)', pictures.P2, ['A', 'C']));
    await sleep(SETTLE_MS);

    // Fresh B pages: P1 (A only) against P2 (A, C, D), order alternating. A B that does not
    // connect to all three, or does not show both tiles, is noted and replaced (at most
    // EXTRA_ATTEMPTS times in all). With Trystero 0.25.4 a newcomer to a room whose sessions
    // are older than ~60 s often does not connect to everyone for tens of seconds (see
    // bench/README.md), so before an attempt that follows a failure, or when A, C and D's
    // sessions are older than HOLDER_MAX_AGE_MS, they reload (same contexts: their IndexedDB
    // keeps P1 and P2) and reconnect.
    const runs = state.runs;
    let round = 0;
    let sessionsAt = state.holdersConnectedAt;
    let failed = false;
    for (let attempt = 1; round < ROUNDS && attempt <= ROUNDS + EXTRA_ATTEMPTS; attempt++) {
      if (failed || Date.now() - sessionsAt > HOLDER_MAX_AGE_MS) {
        failed = false;
        const reloadStart = Date.now();
        try {
          await Promise.all(
            [a, c, d].map(async p => {
              await p.reload();
              await p.waitForFunction(t => customElements.get(t) !== undefined, TAG);
              await p.evaluate(installKit);
            }),
          );
          await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, PEER_TIMEOUT_MS, TAG)));
          state.reloadMs.push(Date.now() - reloadStart);
          state.reloads.push({ attempt, ms: Date.now() - reloadStart });
          sessionsAt = Date.now();
          log(`full picture: A, C, D reloaded and reconnected in ${Date.now() - reloadStart} ms`);
        } catch (err) {
          failed = true;
          notes.push(`attempt ${attempt}: A, C, D did not reconnect after reloading (${err.message.split('\n')[0]})`);
          log(notes.at(-1));
          continue;
        }
      }
      const joinStart = Date.now();
      const b = await openGallery(world, room, `Bob${attempt}`, pageErrors);
      try {
        try {
          await waitForPeers(b, 3, 0, B_JOIN_TIMEOUT_MS, TAG);
        } catch {
          const seen = await Promise.all([b, a, c, d].map(p => p.locator(TAG).locator('[part="status"]').textContent().catch(() => '?')));
          state.joinFailures.push({ attempt, status: { B: seen[0], A: seen[1], C: seen[2], D: seen[3] } });
          notes.push(`attempt ${attempt}: a fresh B was not connected to A, C and D within ${B_JOIN_TIMEOUT_MS / 1000} s (status B "${seen[0]}"; A "${seen[1]}", C "${seen[2]}", D "${seen[3]}"); replaced`);
          log(notes.at(-1));
          failed = true;
          continue;
        }
        state.joinMs.push(Date.now() - joinStart);
        const [t1, t2] = await Promise.all([waitThumb(b, pictures.P1.cid, B_TILE_TIMEOUT_MS), waitThumb(b, pictures.P2.cid, B_TILE_TIMEOUT_MS)]);
        if (!t1?.loadedAt || !t2?.loadedAt) {
          const seen = await b.evaluate(() => {
            const root = document.querySelector('p2p-gallery').shadowRoot;
            return {
              status: root.querySelector('[part="status"]')?.textContent,
              tiles: [...root.querySelectorAll('[part="tile"]')].map(t => t.getAttribute('data-cid')?.slice(0, 8)),
              p2pImageAdd: window.gkit.adds.map(x => x.detail.cid.slice(0, 8)),
              p2pError: window.p2pEvents.filter(e => e.type === 'p2pError').map(e => e.detail.code),
            };
          });
          seen.wireAccepted = await b.evaluate(async () => (await document.querySelector('p2p-gallery').getStats()).wire?.accepted).catch(() => null);
          state.tileFailures.push({ attempt, P1: t1 ? 'tile, img not loaded' : 'no tile', P2: t2 ? 'tile, img not loaded' : 'no tile', b: seen });
          notes.push(`attempt ${attempt}: B (connected to A, C, D) did not show both tiles within ${B_TILE_TIMEOUT_MS / 1000} s (P1 ${pictures.P1.cid.slice(0, 8)}: ${t1 ? 'tile, img not loaded' : 'no tile'}; P2 ${pictures.P2.cid.slice(0, 8)}: ${t2 ? 'tile, img not loaded' : 'no tile'}; B: ${JSON.stringify(seen)}); replaced`);
          log(notes.at(-1));
          failed = true;
          continue;
        }
        round++;
        const readyMs = Date.now() - joinStart;
        const addEvents = await b.evaluate(cs => cs.map(c => window.gkit.adds.filter(x => x.detail.cid === c).length), [pictures.P1.cid, pictures.P2.cid]);
        state.addEvents.push({ round, P1: addEvents[0], P2: addEvents[1] });
        // Whether C and D show P2 as held here ("cached here" on their tile): the holders B may use.
        const cachedAt = Object.fromEntries(
          await Promise.all(
            [['C', c], ['D', d]].map(async ([k, p]) => [k, await p.evaluate(cid => !!document.querySelector('p2p-gallery').shadowRoot.querySelector(`[part="tile"][data-cid="${cid}"] .cached`), pictures.P2.cid).catch(() => null)]),
          ),
        );
        state.p2CachedShown.push({ round, ...cachedAt });
        await sleep(SETTLE_MS);
        const order = round % 2 === 1 ? ['P1', 'P2'] : ['P2', 'P1'];
        for (const [i, key] of order.entries()) {
          const run = await openOn(b, `B${round}`, pictures[key], ['A', 'C', 'D']);
          run.round = round;
          run.attempt = attempt;
          run.position = i + 1;
          run.readyMs = readyMs;
          run.case = key === 'P1' ? 'one' : 'three';
          runs.push(run);
          await sleep(GAP_MS);
        }
      } finally {
        await b.context().close().catch(() => undefined);
      }
    }
    if (round < ROUNDS) notes.push(`only ${round} of ${ROUNDS} rounds with a fresh B ran (${ROUNDS + EXTRA_ATTEMPTS} attempts)`);
    return state;
  } finally {
    await Promise.all(open.map(p => p.context().close().catch(() => undefined)));
  }
}

// ---------- report ----------

function render(result) {
  const t = result.thumbnails;
  const f = result.full;
  const out = [`## Gallery: thumbnails and full pictures`, ``, machineLine(result, [`load ${fmt(result.loadAverage.start, 1)} → ${fmt(result.loadAverage.end, 1)}`]), ``];
  if (t) {
    out.push(
      `### Share → thumbnail visible on another page (ms)`,
      ``,
      `Page A shares one picture at a time (fixtures through the file input, "drawn" ones made in the page with OffscreenCanvas through \`addPictures\`); B is connected. Times from "share" in A (input \`change\` / \`addPictures\` call) on one clock (performance.timeOrigin + performance.now() in each page). "A record": A's own \`p2pImageAdd\` (checked, re-encoded without metadata, hashed, thumbnail made, signed, stored); "B record": B's \`p2pImageAdd\`; "B tile": tile in B's shadow DOM; "B thumbnail": the tile's img loaded (naturalWidth > 0).`,
      ``,
      table(
        ['picture', 'via', 'file', 'shared', 'pixels', 'thumb', 'A record', 'B record', 'B tile', 'B thumbnail'],
        [
          ...t.runs.map(r => [r.name, r.via, kb(r.originalBytes), kb(r.sharedBytes), r.width ? `${r.width}×${r.height}` : '—', kb(r.thumbBytes), fmt(r.aAddMs), fmt(r.bAddMs), fmt(r.bTileMs), r.ok ? fmt(r.bThumbMs) : 'FAILED']),
          ['**median**', '', '', '', '', '', fmt(t.summary.shareToARecord.median), fmt(t.summary.shareToBRecord.median), '', `**${fmt(t.summary.shareToBThumb.median)}**`],
        ],
      ),
      ``,
      `B record → B thumbnail (median): ${fmt(t.summary.bRecordToThumb.median)} ms.`,
      ``,
    );
  }
  if (f && Object.keys(f.pictures).length) {
    const p = f.pictures;
    out.push(
      `### Preparing a ~${BIG_MB} MB picture on A`,
      ``,
      `Opaque random-RGB noise drawn in page A (OffscreenCanvas + \`convertToBlob\` PNG), then \`addPictures\` (sharing looks for metadata with exifr, and finding none keeps the file as it is; decodes it and makes the thumbnail in the picture worker; hashes 256 KiB chunks, stores, signs). "shared" is \`p2pImageAdd\` detail.size; "longest block": the longest the sharing page's main thread was blocked during \`addPictures\` (largest gap between ticks of a 5 ms timer).`,
      ``,
      table(
        ['picture', 'pixels', 'drawn PNG', 'draw + encode', 'shared', 'addPictures', 'longest block', 'thumbnail on C'],
        Object.values(p).map(x => [x.key, `${x.made.width}×${x.made.height}`, kb(x.made.bytes), fmt(x.made.makeMs), kb(x.sharedBytes), fmt(x.shareMs), fmt(x.longestBlockMs), fmt(x.cThumbMs)]),
      ),
      ``,
    );
    if (f.runs.length || f.caching.length) {
      const size = p.P1?.sharedBytes ?? p.P2?.sharedBytes;
      const row = (label, runs) => {
        const ok = runs.filter(r => r.ok);
        const s = stats(ok.map(r => r.openMs));
        const served = ['A', 'C', 'D'].map(k => {
          const v = ok.map(r => r.uploaded[k]).filter(x => x !== null && x !== undefined);
          return v.length ? kb(median(v)) : '—';
        });
        return [
          label,
          `${ok.length}/${runs.length}`,
          fmt(s.median),
          fmt(s.min),
          fmt(s.max),
          fmt(median(ok.map(r => r.firstProgressMs).filter(x => x !== null))),
          fmt(median(ok.map(r => r.blobMs))),
          fmt(median(ok.map(r => r.decodeMs))),
          fmt(median(ok.map(r => r.mbps)), 1),
          ...served,
          fmt(median(ok.map(r => r.servedBy))),
          fmt(median(ok.map(r => r.maxPeersReported))),
        ];
      };
      const one = f.runs.filter(r => r.case === 'one');
      const three = f.runs.filter(r => r.case === 'three');
      const m1 = median(one.filter(r => r.ok).map(r => r.openMs));
      const m3 = median(three.filter(r => r.ok).map(r => r.openMs));
      out.push(
        `### Opening the full picture (${kb(size)}): click → \`img.full\` decoded (ms)`,
        ``,
        `A shared P1 and P2; C opened P2 (from A), then D (from A and C): P2 has 3 holders, P1 only A. Then ${ROUNDS} fresh pages B (new context, empty storage) joined, waited for A, C, D, both thumbnails and ${SETTLE_MS} ms, and opened P1 and P2 (order alternating). "first %": click → progress line above 0 %; "blob": click → img.full in the DOM (all chunks verified, read back from IndexedDB); "decode": \`img.decode()\`; MB/s = shared size ÷ open time; "A/C/D sent": bytes each holder uploaded during the open (median, \`getStats().swarm.bytesUploaded\`); "holders used": holders that sent > 0 bytes; "peers shown": most peers in B's progress line at once.`,
        ``,
        table(
          ['case', 'ok', 'median', 'min', 'max', 'first %', 'blob', 'decode', 'MB/s', 'A sent', 'C sent', 'D sent', 'holders used', 'peers shown'],
          [row('B, 1 holder (A)', one), row('B, 3 holders (A, C, D)', three), ...f.caching.map(r => row(`${r.label.replace(' (caching)', '')} caching, ${r.holders.length} holder${r.holders.length > 1 ? 's' : ''} (${r.holders.join(', ')})`, [r]))],
        ),
        ``,
        `3 holders / 1 holder (median): ${m1 && m3 ? `${(m3 / m1).toFixed(2)}×` : '—'}. Fresh B pages opened: ${f.joinMs.length + f.joinFailures.length}; connected to A, C and D within ${B_JOIN_TIMEOUT_MS / 1000} s: ${f.joinMs.length} (median ${fmt(median(f.joinMs))} ms from opening the page); of those, showed both thumbnails within ${B_TILE_TIMEOUT_MS / 1000} s: ${f.joinMs.length - f.tileFailures.length}. A, C and D reloaded (IndexedDB kept; after a failed attempt or when their sessions were older than ${HOLDER_MAX_AGE_MS / 1000} s) ${f.reloads.length} time(s)${f.reloads.length ? `, reconnected in ${fmt(median(f.reloadMs))} ms (median)` : ''}. \`p2pImageAdd\` on B, rounds that got it for P1 / P2: ${f.addEvents.filter(x => x.P1).length} / ${f.addEvents.filter(x => x.P2).length} of ${f.addEvents.length} (both tiles were shown in all of them). C / D showed P2 as "cached here" when B opened it in ${f.p2CachedShown.filter(x => x.C).length} / ${f.p2CachedShown.filter(x => x.D).length} of ${f.p2CachedShown.length} rounds.`,
        ``,
      );
    }
  }
  out.push(...notesSection(result.notes));
  return out.join('\n');
}

// ---------- main ----------

export async function main() {
  ensureBundle();
  const startedAt = Date.now();
  const loadStart = os.loadavg()[0];
  const log = elapsedLog(startedAt, 'gallery: ');
  const notes = [];
  // The bundle is whatever `npm run build` last made; say so when the sources are newer.
  const { bundleTime, newer, note: staleBundle } = bundleFreshness();
  if (staleBundle) notes.push(staleBundle);

  const world = await startWorld();
  const { stop, clearWatchdog, removeSignalHandlers } = guardRun(() => world.stop(), { watchdogMs: WATCHDOG_MS, watchdogLabel: 'bench: gallery watchdog' });
  const pageErrors = [];
  try {
    const chromium = world.browser.version();
    log(`relay ${world.relay.url} (pid ${world.relay.pid}), assets pid ${world.assets.pid}, host pid ${world.host.pid}, Chromium ${chromium}; load ${loadStart.toFixed(1)}`);
    let thumbs = null;
    try {
      thumbs = await thumbnails(world, log, notes, pageErrors);
    } catch (err) {
      notes.push(`thumbnails could not run: ${err.message}`);
      log(`thumbnails could not run: ${err.message}`);
    }
    const full = { room: null, pictures: {}, caching: [], runs: [], joinMs: [], joinFailures: [], tileFailures: [], reloadMs: [], reloads: [], addEvents: [], p2CachedShown: [], holdersConnectedAt: null };
    try {
      await fullPicture(world, log, notes, pageErrors, full);
    } catch (err) {
      notes.push(`full picture could not run: ${err.message}`);
      log(`full picture could not run: ${err.message}`);
    }
    if (!thumbs && !Object.keys(full.pictures).length) throw new Error('neither part could run');
    if (pageErrors.length) notes.push(`${pageErrors.length} uncaught page errors, e.g. ${pageErrors[0]}`);
    const loadEnd = os.loadavg()[0];
    const busy = busyMachineNote(loadStart, loadEnd);
    if (busy) notes.push(busy);
    const result = roundAll({
      bench: 'gallery',
      date: new Date().toISOString(),
      chromium,
      ...machineInfo(),
      loadAverage: { start: loadStart, end: loadEnd },
      bundle: { path: 'www/build/p2p-widgets.esm.js', mtime: new Date(bundleTime).toISOString(), olderThanSources: newer.length },
      config: { fixtures: FIXTURES, generated: GENERATED, bigMB: BIG_MB, rounds: ROUNDS, settleMs: SETTLE_MS, gapMs: GAP_MS, openTimeoutMs: OPEN_TIMEOUT_MS, strategy: 'nostr (local relay)', iceServers: [] },
      definitions: {
        clock: 'epoch ms from performance.timeOrigin + performance.now() in each page (one machine, one clock)',
        share: 'file input: the change event (capture listener on the shadow root, before the widget handler); drawn pictures: the addPictures call',
        aRecord: "A's own p2pImageAdd (picture checked, re-encoded, hashed, thumbnail made, record signed and stored; the record is sent right after)",
        bRecord: "B's p2pImageAdd (record received, signature and thumbnail checked)",
        bThumb: "B's tile <img> loaded (naturalWidth > 0), MutationObserver on the shadow root + load event",
        openMs: "B: tile button click → img.full in the lightbox decoded (img.decode())",
        blobMs: 'B: click → img.full inserted (download done, every chunk verified, bytes read back)',
        uploaded: 'per holder: getStats().swarm.bytesUploaded after − before the open',
        maxPeersReported: "most peers in B's progress line (TransferProgress.peers) while fetching",
      },
      thumbnails: thumbs,
      full,
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    });
    writeResults('gallery', result, render(result));
  } finally {
    clearWatchdog();
    removeSignalHandlers();
    await stop();
  }
}

if (isMainModule(import.meta.url)) main().catch(exitOnError('bench: gallery could not run:'));
