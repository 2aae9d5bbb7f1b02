#!/usr/bin/env node
/**
 * Music bench (run by bench/run.mjs after the other parts, or alone: `node bench/music.mjs`):
 * the `<p2p-music>` widget between headless Chromium pages (test/fixtures/widget-host.html,
 * bundle from the asset server) over the harness's local Nostr relay, no ICE servers.
 *
 * Time to first audio: page A shares the committed fixtures of test/fixtures/audio (mp3, wav,
 * flac, through the file input with setInputFiles) and a long WAV made in the page
 * (LONG_S seconds of 44.1 kHz 16-bit stereo PCM, ~32 MB for 180 s, through `addTracks`). C and
 * D are in the room from the start. Then, per case, fresh pages B (new browser context: empty
 * IndexedDB, cold HTTP cache) join, wait for A, C, D and every track row (with the expected
 * holders), and play each track in turn (order rotated per round):
 *
 *   - "1 holder": only A holds the tracks (C and D are connected but hold nothing);
 *   - "3 holders": after C, then D, pressed "Keep a copy" on every track (C fetched from A,
 *     D from A and C), so A, C and D hold them.
 *
 * For each play, in page B: t0 = just before `el.playTrack(cid)`; an in-page loop calls
 * `el.getPlayerState()` every POLL_MS and records the first poll where `currentTime > 0`
 * (first audible output: the first decoded buffer has started on the AudioContext clock), the
 * resolution of `playTrack` (player loaded: manifest, first bytes, decoder ready), and the first
 * poll where `progress.bytes === progress.size` (whole track downloaded, every chunk verified and
 * stored). Beside it: chunks held at first audio, the most peers B's download drew from at once
 * (`progress.peers`), playback stalls (`waiting`) between first audio and the end of the
 * download, and the bytes each holder uploaded (`getStats().swarm.bytesUploaded` deltas). The
 * player is paused once both are seen, before the next track.
 *
 * Prints a table, writes bench/results/music.json and .md. Numbers never fail the run; the exit
 * code is non-zero only when the bench could not run.
 *
 * Knobs (environment): BENCH_MUSIC_ROUNDS (3) fresh B pages per case, BENCH_MUSIC_WARMUP (1)
 * discarded B rounds before the 1-holder case, BENCH_MUSIC_LONG_S (180; 0 skips the long WAV),
 * BENCH_MUSIC_POLL_MS (10), BENCH_MUSIC_SETTLE_MS (1000) wait after B sees every track with its
 * holders, before it plays.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers } from '../test/harness/browser.mjs';
import { ROOT } from '../test/harness/processes.mjs';
import { bundleFreshness, ensureBundle } from './lib/bundle.mjs';
import { envInt } from './lib/env.mjs';
import { formatNumber as fmt } from './lib/format.mjs';
import { busyMachineNote, machineInfo, machineLine } from './lib/machine.mjs';
import { notesSection, table } from './lib/markdown.mjs';
import { roundAll, writeResults } from './lib/results.mjs';
import { guardRun } from './lib/run-guard.mjs';
import { exitOnError, isMainModule } from './lib/script-entry.mjs';
import { median, medianStats as stats } from './lib/stats.mjs';
import { elapsedLog, sleep } from './lib/timing.mjs';

const ROUNDS = envInt('BENCH_MUSIC_ROUNDS', 3, 1);
const WARMUP = envInt('BENCH_MUSIC_WARMUP', 1);
const LONG_S = envInt('BENCH_MUSIC_LONG_S', 180);
const POLL_MS = envInt('BENCH_MUSIC_POLL_MS', 10, 1);
const SETTLE_MS = envInt('BENCH_MUSIC_SETTLE_MS', 1000);
const ATTEMPTS = envInt('BENCH_MUSIC_ATTEMPTS', 3, 1);
const REJOIN_GAP_MS = envInt('BENCH_MUSIC_REJOIN_GAP_MS', 500);
/**
 * A, C and D are reloaded (leave, reload, rejoin; their tracks and copies stay in IndexedDB) before a
 * fresh B joins when they joined more than this long ago: in this harness a page that has been in
 * the room for about a minute often fails to connect to a newcomer (see bench/README.md, "late joins").
 */
const REFRESH_S = envInt('BENCH_MUSIC_REFRESH_S', 30, 1);
const FIXTURES = ['morning-tone.mp3', 'evening-tone.wav', 'night-tone.flac'];
const LONG_NAME = 'long-tone.wav';
const PEER_TIMEOUT_MS = 40_000;
/** A fresh B: to 3 peers, then to every row with its holders (when it works, both take 1–4 s). */
const B_PEER_TIMEOUT_MS = 20_000;
const B_LIST_TIMEOUT_MS = 15_000;
const LEAVE_TIMEOUT_MS = 15_000;
const LIST_TIMEOUT_MS = 30_000;
const PLAY_TIMEOUT_MS = 90_000;
const KEEP_TIMEOUT_MS = 120_000;
const GAP_MS = 200;
const WATCHDOG_MS = 8 * 60_000;
const TAG = 'p2p-music';
const NAMES = { A: 'Ann', C: 'Cy', D: 'Dee' };

// ---------- in-page kit ----------

/**
 * BENCH_MUSIC_TRACE=1: installed before the page's scripts, records every RTCPeerConnection and
 * its data channels (state, messages in/out), so a B that never hears from a holder can be diagnosed.
 */
function traceRtc() {
  const pcs = (window.__pcs = []);
  const Orig = window.RTCPeerConnection;
  const Traced = function (...args) {
    const pc = new Orig(...args);
    const rec = { n: pcs.length, at: Math.round(performance.now()), channels: [], pc };
    pcs.push(rec);
    const wrap = (ch, how) => {
      const c = { how, label: ch.label, id: ch.id, in: 0, out: 0, ch };
      rec.channels.push(c);
      ch.addEventListener('message', () => c.in++);
      const send = ch.send.bind(ch);
      ch.send = data => {
        c.out++;
        return send(data);
      };
    };
    const create = pc.createDataChannel.bind(pc);
    pc.createDataChannel = (label, options) => {
      const ch = create(label, options);
      wrap(ch, 'local');
      return ch;
    };
    pc.addEventListener('datachannel', e => wrap(e.channel, 'remote'));
    return pc;
  };
  Traced.prototype = Orig.prototype;
  window.RTCPeerConnection = Traced;
  window.__rtcDump = () =>
    pcs
      .filter(r => r.channels.length)
      .map(r => `pc${r.n}@${r.at}ms ${r.pc.connectionState}: ${r.channels.map(c => `${c.how} ${c.label}#${c.id} ${c.ch.readyState} in ${c.in}/out ${c.out}`).join(', ')}`);
}
const TRACE = process.env.BENCH_MUSIC_TRACE === '1';

/** Installed in every music page: clock, WAV maker, track-row checks, the timed play loop. */
async function installKit() {
  if (window.mkit) return true;
  const now = () => performance.timeOrigin + performance.now();
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  const el = document.querySelector('p2p-music');
  if (el.componentOnReady) await el.componentOnReady();
  const root = el.shadowRoot;
  const kit = { now, files: {} };

  /** 16-bit PCM WAV: a slow melody of sine tones with a little noise, kept as a File. */
  kit.makeWav = ({ name, seconds, sampleRate, channels, seed }) => {
    const t0 = now();
    const frames = Math.round(seconds * sampleRate);
    const dataLength = frames * channels * 2;
    const buffer = new ArrayBuffer(44 + dataLength);
    const v = new DataView(buffer);
    const ascii = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
    ascii(0, 'RIFF');
    v.setUint32(4, 36 + dataLength, true);
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    v.setUint32(16, 16, true);
    v.setUint16(20, 1, true);
    v.setUint16(22, channels, true);
    v.setUint32(24, sampleRate, true);
    v.setUint32(28, sampleRate * channels * 2, true);
    v.setUint16(32, channels * 2, true);
    v.setUint16(34, 16, true);
    ascii(36, 'data');
    v.setUint32(40, dataLength, true);
    const pcm = new Int16Array(buffer, 44, frames * channels);
    let x = seed >>> 0 || 1;
    const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 4294967296);
    const notes = [220, 247, 262, 294, 330, 349, 392, 440];
    let phase = 0;
    let freq = notes[0];
    const step = Math.round(sampleRate / 2);
    for (let f = 0; f < frames; f++) {
      if (f % step === 0) freq = notes[Math.floor(rnd() * notes.length)];
      phase += (2 * Math.PI * freq) / sampleRate;
      if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
      const s = Math.sin(phase) * 0.3 + (rnd() - 0.5) * 0.02;
      for (let c = 0; c < channels; c++) pcm[f * channels + c] = Math.round(s * 32767 * (c ? 0.8 : 1));
    }
    kit.files[name] = new File([buffer], name, { type: 'audio/wav' });
    return { name, bytes: buffer.byteLength, seconds, sampleRate, channels, makeMs: now() - t0 };
  };

  /** Shares a kept File through addTracks. */
  kit.add = async name => {
    const t0 = now();
    let cids = [];
    let error = null;
    try {
      cids = await el.addTracks([kit.files[name]]);
    } catch (err) {
      error = String(err?.message ?? err);
    }
    return { ms: now() - t0, cids, error };
  };

  kit.swarmStats = async () => (await el.getStats()).swarm;
  kit.adds = () => window.p2pEvents.filter(e => e.type === 'p2pTrackAdd').map(e => e.detail);
  kit.errors = () => window.p2pEvents.filter(e => e.type === 'p2pError').map(e => e.detail);
  const row = cid => root.querySelector(`[part="track"][data-cid="${cid}"]`);
  /** The "· held by …" part of a track row, or null when the row is missing. */
  kit.rowText = cid => row(cid)?.querySelector('.sub')?.textContent ?? null;
  /** Every cid has a row whose text names every one of `names`. */
  kit.rowsHeldBy = (cids, names) => cids.every(cid => {
    const text = kit.rowText(cid);
    return text !== null && names.every(n => text.includes(n));
  });
  /** Clicks "Keep a copy" on a row; resolves when the row offers "Remove local copy". */
  kit.keep = async ({ cid, timeoutMs }) => {
    const button = [...(row(cid)?.querySelectorAll('button') ?? [])].find(b => b.textContent.trim() === 'Keep a copy');
    if (!button) return { ok: false, reason: 'no "Keep a copy" button' };
    const before = await kit.swarmStats();
    const t0 = now();
    button.click();
    for (;;) {
      const kept = [...(row(cid)?.querySelectorAll('button') ?? [])].some(b => b.textContent.trim() === 'Remove local copy');
      if (kept) return { ok: true, ms: now() - t0, downloaded: (await kit.swarmStats()).bytesDownloaded - before.bytesDownloaded };
      if (now() - t0 > timeoutMs) return { ok: false, reason: `no "Remove local copy" within ${timeoutMs} ms`, ms: null };
      await sleep(20);
    }
  };

  /**
   * Plays `cid` and polls the player every `pollMs` in the page (no Playwright round trips):
   * first poll with currentTime > 0 (first audio), playTrack resolved, download complete.
   */
  kit.play = async ({ cid, timeoutMs, pollMs }) => {
    const r = {
      t0: null,
      resolvedAt: null,
      firstAudioAt: null,
      firstAudioCurrentTime: null,
      firstAudioChunks: null,
      firstAudioBytes: null,
      completeAt: null,
      totalChunks: null,
      size: null,
      maxPeers: 0,
      stalls: 0,
      stalledMs: 0,
      polls: 0,
      maxPollGapMs: 0,
      error: null,
      errorEvents: [],
      otherTrack: null,
      timedOut: false,
      last: null,
    };
    const eventsBefore = window.p2pEvents.length;
    const before = await kit.swarmStats();
    let seen = false;
    let waitingSince = null;
    let lastPoll = null;
    r.t0 = now();
    el.playTrack(cid).then(
      () => (r.resolvedAt = now()),
      err => (r.error = String(err?.message ?? err)),
    );
    for (;;) {
      const s = await el.getPlayerState();
      const t = now();
      r.polls++;
      if (lastPoll !== null) r.maxPollGapMs = Math.max(r.maxPollGapMs, t - lastPoll);
      lastPoll = t;
      r.last = s;
      if (s.cid === cid) seen = true;
      else if (seen && s.cid) {
        r.otherTrack = s.title;
        break;
      }
      const p = s.progress && s.progress.cid === cid ? s.progress : null;
      if (p) {
        r.maxPeers = Math.max(r.maxPeers, p.peers);
        r.totalChunks = p.totalChunks;
        r.size = p.size;
        if (r.completeAt === null && p.size > 0 && p.bytes >= p.size) r.completeAt = t;
      }
      if (seen && r.firstAudioAt === null && s.currentTime > 0) {
        r.firstAudioAt = t;
        r.firstAudioCurrentTime = s.currentTime;
        r.firstAudioChunks = p ? p.chunks : null;
        r.firstAudioBytes = p ? p.bytes : null;
      }
      if (r.firstAudioAt !== null && r.completeAt === null) {
        if (s.waiting && waitingSince === null) {
          r.stalls++;
          waitingSince = t;
        } else if (!s.waiting && waitingSince !== null) {
          r.stalledMs += t - waitingSince;
          waitingSince = null;
        }
      }
      const errors = window.p2pEvents.slice(eventsBefore).filter(e => e.type === 'p2pError');
      if (errors.length) r.errorEvents = errors.map(e => e.detail);
      if (r.firstAudioAt !== null && r.completeAt !== null) break;
      if (t - r.t0 > timeoutMs) {
        r.timedOut = true;
        break;
      }
      await sleep(pollMs);
    }
    if (waitingSince !== null) r.stalledMs += now() - waitingSince;
    await el.pause();
    const after = await kit.swarmStats();
    r.downloaded = after.bytesDownloaded - before.bytesDownloaded;
    r.badChunks = after.badChunks - before.badChunks;
    return r;
  };

  window.mkit = kit;
  return true;
}

// ---------- helpers ----------

const mb = b => (b === null || b === undefined ? '—' : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(0)} kB`);
const short = cid => cid.slice(0, 8);

/** Relay WebSocket activity per page name (Playwright's websocket events): opens, closes, frames each way. */
const sockets = {};
const socketSummary = name => {
  const s = sockets[name];
  return s ? `${name}: ${s.opened} opened, ${s.closed} closed${s.lastCloseAt ? ` (last ${((Date.now() - s.lastCloseAt) / 1000).toFixed(0)} s ago)` : ''}, frames sent ${s.sent} / received ${s.received}, last received ${s.lastReceivedAt ? `${((Date.now() - s.lastReceivedAt) / 1000).toFixed(1)} s ago` : 'never'}` : `${name}: no socket seen`;
};

/** Opens a music page for `name` in a fresh context and installs the kit. */
async function openMusic(world, room, name, pageErrors) {
  const context = await world.browser.newContext();
  if (TRACE) await context.addInitScript(traceRtc);
  const s = (sockets[name] = { opened: 0, closed: 0, sent: 0, received: 0, lastCloseAt: null, lastReceivedAt: null });
  context.on('page', p =>
    p.on('websocket', ws => {
      if (!ws.url().startsWith(world.relay.url)) return;
      s.opened++;
      ws.on('framesent', () => s.sent++);
      ws.on('framereceived', () => {
        s.received++;
        s.lastReceivedAt = Date.now();
      });
      ws.on('close', () => {
        s.closed++;
        s.lastCloseAt = Date.now();
      });
    }),
  );
  const page = await openWidgetPage(world, TAG, room, [{ 'user-name': name }], { context });
  page.on('pageerror', err => pageErrors.push(`${name}: ${err.message}`));
  await page.evaluate(installKit);
  return page;
}
const swarmStats = page => page.evaluate(() => window.mkit.swarmStats()).catch(() => null);
const statusOf = page => page.locator(TAG).locator('[part="status"]').textContent({ timeout: 2000 }).catch(() => '?');

/** Waits until `page` lists every cid with `names` among its holders; returns whether it did. */
async function waitRows(page, cids, names, timeout = LIST_TIMEOUT_MS) {
  try {
    await page.waitForFunction(([c, n]) => window.mkit.rowsHeldBy(c, n), [cids, names], { timeout, polling: 50 });
    return true;
  } catch {
    return false;
  }
}

// ---------- the bench ----------

async function run(world, log, notes, pageErrors, state) {
  const room = uniqueRoom('bench-music');
  state.room = room;
  const open = [];
  try {
    const [a, c, d] = await Promise.all(Object.values(NAMES).map(n => openMusic(world, room, n, pageErrors)));
    open.push(a, c, d);
    const holders = { A: a, C: c, D: d };
    await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, PEER_TIMEOUT_MS, TAG)));
    let joinedAt = Date.now();
    log('A, C, D connected');

    /** Reloads A, C and D when they have been in the room longer than REFRESH_S (all leave first, so nobody is left counting a stale peer). */
    const refresh = async (force = false) => {
      if (!force && Date.now() - joinedAt < REFRESH_S * 1000) return;
      const t = Date.now();
      await Promise.all([a, c, d].map(p => p.evaluate(() => document.querySelector('p2p-music')?.remove()).catch(() => undefined)));
      await sleep(200);
      await Promise.all(
        [a, c, d].map(async p => {
          await p.reload();
          await p.waitForFunction(() => customElements.get('p2p-music') !== undefined);
          await p.evaluate(installKit);
        }),
      );
      try {
        await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, PEER_TIMEOUT_MS, TAG)));
      } catch {
        const seen = await Promise.all([a, c, d].map(statusOf));
        notes.push(`after a reload A, C and D were not connected to each other within ${PEER_TIMEOUT_MS / 1000} s (A "${seen[0]}", C "${seen[1]}", D "${seen[2]}")`);
      }
      joinedAt = Date.now();
      state.refreshMs.push(joinedAt - t);
    };

    // A shares the fixtures through the file input, then the long WAV through addTracks.
    const t0 = Date.now();
    await a.locator(TAG).locator('header input[type="file"]').setInputFiles(FIXTURES.map(f => path.join(ROOT, 'test/fixtures/audio', f)));
    try {
      await a.waitForFunction(n => window.mkit.adds().filter(x => x.own).length >= n, FIXTURES.length, { timeout: LIST_TIMEOUT_MS, polling: 50 });
    } catch {
      notes.push(`A listed only ${await a.evaluate(() => window.mkit.adds().filter(x => x.own).length)} of ${FIXTURES.length} fixtures; p2pError: ${JSON.stringify(await a.evaluate(() => window.mkit.errors())).slice(0, 300)}`);
    }
    state.setup.fixturesShareMs = Date.now() - t0;
    const own = await a.evaluate(() => window.mkit.adds().filter(x => x.own));
    for (const f of FIXTURES) {
      const title = { 'morning-tone.mp3': 'Morning Tone', 'evening-tone.wav': 'evening-tone', 'night-tone.flac': 'Night Tone' }[f];
      const detail = own.find(x => x.title === title);
      if (detail) state.tracks.push({ key: f, file: f, format: path.extname(f).slice(1), title, cid: detail.cid, bytes: statSync(path.join(ROOT, 'test/fixtures/audio', f)).size });
    }
    log(`A shared ${state.tracks.length} fixtures in ${state.setup.fixturesShareMs} ms`);
    if (LONG_S > 0) {
      const made = await a.evaluate(o => window.mkit.makeWav(o), { name: LONG_NAME, seconds: LONG_S, sampleRate: 44100, channels: 2, seed: 7 });
      const added = await a.evaluate(n => window.mkit.add(n), LONG_NAME);
      state.setup.long = { ...made, addMs: added.ms, error: added.error };
      if (added.cids.length) {
        state.tracks.push({ key: LONG_NAME, file: `${LONG_NAME} (made in A)`, format: 'wav', title: 'long-tone', cid: added.cids[0], bytes: made.bytes, seconds: LONG_S });
        log(`A made a ${LONG_S} s 44.1 kHz stereo WAV (${mb(made.bytes)}) in ${fmt(made.makeMs)} ms, addTracks took ${fmt(added.ms)} ms`);
      } else {
        notes.push(`A could not share the long WAV (${mb(made.bytes)}): ${added.error ?? JSON.stringify(await a.evaluate(() => window.mkit.errors())).slice(0, 300)}`);
        log(notes.at(-1));
      }
    }
    if (!state.tracks.length) throw new Error('A shared no track');
    const cids = state.tracks.map(t => t.cid);
    for (const [k, p] of [
      ['C', c],
      ['D', d],
    ]) {
      if (!(await waitRows(p, cids, [NAMES.A]))) notes.push(`${k} did not list every track held by ${NAMES.A} within ${LIST_TIMEOUT_MS / 1000} s`);
    }

    /**
     * One fresh page B: joins, waits for every row with `holderNames`, plays every track in `order`.
     * A B that does not connect or list the tracks in time is closed and replaced (ATTEMPTS in all).
     */
    const round = async (label, caseKey, holderNames, order, discard) => {
      let out;
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        out = await attemptRound(attempt > 1 ? `${label}#${attempt}` : label, caseKey, holderNames, order, discard, attempt);
        out.attempt = attempt;
        if (out.joined) break;
        state.failedAttempts.push(out);
      }
      return out;
    };

    /** B leaves as a closing tab would (the element is removed: the mesh leaves the room), then its context closes; waits for A, C, D to see it go. */
    const leave = async (b, out) => {
      await b.evaluate(() => document.querySelector('p2p-music')?.remove()).catch(() => undefined);
      await sleep(300);
      await b.context().close().catch(() => undefined);
      const leftAt = Date.now();
      try {
        await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, LEAVE_TIMEOUT_MS, TAG)));
        out.leaveMs = Date.now() - leftAt;
        await sleep(REJOIN_GAP_MS);
      } catch {
        const seen = await Promise.all([a, c, d].map(statusOf));
        notes.push(`${out.label}: A, C, D still counted it ${LEAVE_TIMEOUT_MS / 1000} s after it left (A "${seen[0]}", C "${seen[1]}", D "${seen[2]}")`);
      }
    };

    const attemptRound = async (label, caseKey, holderNames, order, discard, attemptNo) => {
      await refresh(attemptNo > 1);
      const joinStart = Date.now();
      const b = await openMusic(world, room, label, pageErrors);
      const out = { label, case: caseKey, discard, joined: false, ok: false, plays: [] };
      try {
        const diagnose = async () => {
          const wire = async p => p.evaluate(() => document.querySelector('p2p-music').getStats().then(s => s.wire ?? null)).catch(() => null);
          out.diagnosis = { wireB: await wire(b), wireA: await wire(a), errorsB: await b.evaluate(() => window.mkit.errors()).catch(() => null), relaySockets: [label, ...Object.values(NAMES)].map(socketSummary) };
          log(`relay sockets: ${out.diagnosis.relaySockets.join('; ')}`);
          if (TRACE) {
            out.diagnosis.rtc = Object.fromEntries(await Promise.all([['B', b], ['A', a], ['C', c], ['D', d]].map(async ([k, p]) => [k, await p.evaluate(() => window.__rtcDump?.() ?? null).catch(() => null)])));
            for (const [k, v] of Object.entries(out.diagnosis.rtc)) log(`rtc ${k}: ${(v ?? []).join(' | ')}`);
          }
        };
        const retry = attempt => (attempt < ATTEMPTS ? 'replaced by a fresh B' : 'round skipped');
        try {
          await waitForPeers(b, 3, 0, B_PEER_TIMEOUT_MS, TAG);
        } catch {
          const seen = await Promise.all([b, a, c, d].map(statusOf));
          out.reason = `not connected to A, C and D within ${B_PEER_TIMEOUT_MS / 1000} s (status B "${seen[0]}", A "${seen[1]}", C "${seen[2]}", D "${seen[3]}")`;
          await diagnose();
          notes.push(`${label}: ${out.reason}; ${retry(attemptNo)}`);
          log(notes.at(-1));
          return out;
        }
        out.joinMs = Date.now() - joinStart;
        if (!(await waitRows(b, cids, holderNames, B_LIST_TIMEOUT_MS))) {
          const rows = await b.evaluate(c => c.map(x => window.mkit.rowText(x)), cids);
          out.reason = `connected to A, C and D but did not list every track held by ${holderNames.join(', ')} within ${B_LIST_TIMEOUT_MS / 1000} s (rows: ${JSON.stringify(rows)})`;
          await diagnose();
          notes.push(`${label}: ${out.reason}; ${retry(attemptNo)}`);
          log(notes.at(-1));
          return out;
        }
        out.readyMs = Date.now() - joinStart;
        out.joined = true;
        out.rows = await b.evaluate(c => c.map(x => window.mkit.rowText(x)), cids);
        await sleep(SETTLE_MS);
        for (const [position, track] of order.entries()) {
          const before = Object.fromEntries(await Promise.all(Object.entries(holders).map(async ([k, p]) => [k, await swarmStats(p)])));
          const r = await b.evaluate(o => window.mkit.play(o), { cid: track.cid, timeoutMs: PLAY_TIMEOUT_MS, pollMs: POLL_MS });
          const after = Object.fromEntries(await Promise.all(Object.entries(holders).map(async ([k, p]) => [k, await swarmStats(p)])));
          const uploaded = Object.fromEntries(Object.keys(holders).map(k => [k, before[k] && after[k] ? after[k].bytesUploaded - before[k].bytesUploaded : null]));
          const play = {
            track: track.key,
            position: position + 1,
            ok: r.firstAudioAt !== null && r.completeAt !== null,
            firstAudioMs: r.firstAudioAt !== null ? r.firstAudioAt - r.t0 : null,
            // Back-dated by the position the player already reported: when the first buffer began on the audio clock.
            firstAudioBackdatedMs: r.firstAudioAt !== null ? r.firstAudioAt - r.t0 - r.firstAudioCurrentTime * 1000 : null,
            firstAudioCurrentTime: r.firstAudioCurrentTime,
            loadedMs: r.resolvedAt !== null ? r.resolvedAt - r.t0 : null,
            completeMs: r.completeAt !== null ? r.completeAt - r.t0 : null,
            chunksAtFirstAudio: r.firstAudioChunks,
            bytesAtFirstAudio: r.firstAudioBytes,
            totalChunks: r.totalChunks,
            size: r.size,
            maxPeers: r.maxPeers,
            stalls: r.stalls,
            stalledMs: r.stalledMs,
            polls: r.polls,
            maxPollGapMs: r.maxPollGapMs,
            downloaded: r.downloaded,
            badChunks: r.badChunks,
            uploaded,
            servedBy: Object.values(uploaded).filter(x => x > 0).length,
            startedWith: r.last?.startedWith ?? null,
            errorEvents: r.errorEvents,
            error: r.error,
            otherTrack: r.otherTrack,
            timedOut: r.timedOut,
          };
          play.mbps = play.completeMs ? (play.size ?? track.bytes) / 1e3 / play.completeMs : null;
          if (!play.ok) {
            play.reason = r.otherTrack
              ? `another track started (${r.otherTrack})`
              : r.timedOut
                ? `timed out after ${PLAY_TIMEOUT_MS / 1000} s (first audio ${play.firstAudioMs === null ? 'never' : 'seen'}, download ${play.completeMs === null ? `${mb(r.last?.progress?.bytes ?? 0)} of ${mb(track.bytes)}` : 'complete'}; state ${JSON.stringify(r.last).slice(0, 200)})`
                : (r.error ?? 'unknown');
            if (!discard) notes.push(`${label} playing ${track.key}: ${play.reason}${play.errorEvents.length ? `; p2pError ${JSON.stringify(play.errorEvents).slice(0, 200)}` : ''}`);
          }
          if (play.ok && track.bytes < 2e6 && play.completeMs > 5000) notes.push(`${label} ${track.key} (${mb(track.bytes)}): whole track after ${fmt(play.completeMs)} ms: a chunk request probably timed out (swarm requestTimeoutMs 10 s) and was sent again`);
          out.plays.push(play);
          log(
            `${label}${discard ? ' (warm-up)' : ''} ${track.key}: first audio ${fmt(play.firstAudioMs)} ms (loaded ${fmt(play.loadedMs)}, ${play.chunksAtFirstAudio ?? '—'}/${play.totalChunks ?? '—'} chunks), whole track ${fmt(play.completeMs)} ms (${fmt(play.mbps, 1)} MB/s, ≤ ${play.maxPeers} peer(s), ${play.stalls} stall(s)); sent ${Object.entries(uploaded)
              .map(([k, v]) => `${k} ${mb(v)}`)
              .join(', ')}${play.ok ? '' : ` — ${play.reason}`}`,
          );
          await sleep(GAP_MS);
        }
        out.ok = true;
        return out;
      } finally {
        await leave(b, out);
      }
    };

    /** Order of round i: the track list rotated by i, so every track is first in some round. */
    const rotated = i => state.tracks.map((_, k) => state.tracks[(k + i) % state.tracks.length]);

    // 1 holder: A only (C and D connected, holding nothing).
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      const discard = i < WARMUP;
      // The warm-up plays the fixtures only (it warms A's serving path and the pages; the long WAV would add its whole download).
      const order = discard ? rotated(i).filter(t => t.key !== LONG_NAME) : rotated(i);
      state.rounds.push(await round(discard ? `W${i + 1}` : `B${i - WARMUP + 1}`, 'one', [NAMES.A], order, discard));
    }

    // C, then D keep a copy of every track.
    for (const [k, p] of [
      ['C', c],
      ['D', d],
    ]) {
      for (const track of state.tracks) {
        const r = await p.evaluate(o => window.mkit.keep(o), { cid: track.cid, timeoutMs: KEEP_TIMEOUT_MS });
        state.keeps.push({ page: k, track: track.key, ...r, from: k === 'C' ? ['A'] : ['A', 'C'] });
        log(`${k} keeps a copy of ${track.key}: ${r.ok ? `${fmt(r.ms)} ms (${fmt(track.bytes / 1e3 / r.ms, 1)} MB/s)` : `FAILED: ${r.reason}`}`);
        if (!r.ok) notes.push(`${k} keeping a copy of ${track.key}: ${r.reason}`);
        else if (track.bytes < 2e6 && r.ms > 5000) notes.push(`${k} keeping a copy of ${track.key} (${mb(track.bytes)}) took ${fmt(r.ms)} ms: a chunk request probably timed out (swarm requestTimeoutMs 10 s) and was sent again`);
      }
    }

    // 3 holders: A, C and D.
    for (let i = 0; i < ROUNDS; i++) state.rounds.push(await round(`B${ROUNDS + i + 1}`, 'three', [NAMES.A, NAMES.C, NAMES.D], rotated(i), false));
    return state;
  } finally {
    await Promise.all(open.map(p => p.context().close().catch(() => undefined)));
  }
}

// ---------- report ----------

function summarize(result) {
  const out = [];
  for (const track of result.tracks) {
    for (const [caseKey, label] of [
      ['one', '1 (A)'],
      ['three', '3 (A, C, D)'],
    ]) {
      const plays = result.rounds.filter(r => r.case === caseKey && !r.discard).flatMap(r => r.plays.filter(p => p.track === track.key));
      const ok = plays.filter(p => p.ok);
      const first = stats(ok.map(p => p.firstAudioMs));
      const sentMedian = k => {
        const v = ok.map(p => p.uploaded[k]).filter(x => x !== null && x !== undefined);
        return v.length ? median(v) : null;
      };
      out.push({
        track: track.key,
        format: track.format,
        bytes: track.bytes,
        case: caseKey,
        holders: label,
        runs: plays.length,
        ok: ok.length,
        firstAudio: first,
        firstAudioBackdated: stats(ok.map(p => p.firstAudioBackdatedMs)),
        loaded: stats(ok.filter(p => p.loadedMs !== null).map(p => p.loadedMs)),
        complete: stats(ok.map(p => p.completeMs)),
        mbps: median(ok.map(p => p.mbps).filter(x => x !== null)),
        chunksAtFirstAudio: median(ok.map(p => p.chunksAtFirstAudio).filter(x => x !== null)),
        totalChunks: ok[0]?.totalChunks ?? null,
        maxPeers: median(ok.map(p => p.maxPeers)),
        servedBy: median(ok.map(p => p.servedBy)),
        stalls: ok.reduce((n, p) => n + p.stalls, 0),
        stalledMs: ok.reduce((n, p) => n + p.stalledMs, 0),
        maxPollGapMs: ok.length ? Math.max(...ok.map(p => p.maxPollGapMs)) : null,
        sent: { A: sentMedian('A'), C: sentMedian('C'), D: sentMedian('D') },
      });
    }
  }
  return out;
}

function render(result) {
  const s = result.summary;
  const out = [
    `## Music: play → first audio, 1 holder vs 3 holders`,
    ``,
    machineLine(result, [`load ${fmt(result.loadAverage.start, 1)} → ${fmt(result.loadAverage.end, 1)}`]),
    ``,
    `A shares the fixtures (file input) ${result.setup.long ? `and a ${LONG_S} s 44.1 kHz 16-bit stereo WAV made in the page (${mb(result.setup.long.bytes)}, \`addTracks\` ${fmt(result.setup.long.addMs)} ms)` : ''}; C and D are in the room throughout. "1 holder": only A holds the tracks. "3 holders": after C, then D pressed "Keep a copy" on every track. Each round is a fresh page B (new context: empty IndexedDB, cold cache) that waits for A, C, D and every row with its holders, ${result.config.settleMs} ms, then plays every track in turn (order rotated per round; the first play of a round also creates B's AudioContext). ${ROUNDS} rounds per case${WARMUP ? ` after ${WARMUP} discarded warm-up round(s)` : ''}; medians (min–max). In-page, from just before \`playTrack(cid)\`: **first audio** = first poll (every ${POLL_MS} ms, \`getPlayerState()\`) with \`currentTime > 0\`; "loaded" = \`playTrack\` resolved (manifest, first bytes, decoder ready); "chunks at first audio" = 64 KiB chunks B held then / total; **whole track** = first poll with \`progress.bytes === progress.size\` (every chunk verified and stored) while it plays; MB/s = size ÷ whole-track time; "A/C/D sent" = bytes each holder uploaded during the play (median); "peers" = most holders B's download drew from at once; "stalls" = times the player's scheduled audio ran below 50 ms (\`waiting\`) between first audio and the end of the download (sum over runs).`,
    ``,
    table(
      ['track', 'size', 'holders', 'ok', 'first audio', 'min–max', 'loaded', 'chunks at first audio', 'whole track', 'min–max', 'MB/s', 'A sent', 'C sent', 'D sent', 'peers', 'stalls'],
      s.map(r => [
        r.track,
        mb(r.bytes),
        r.holders,
        `${r.ok}/${r.runs}`,
        r.ok ? `**${fmt(r.firstAudio.median)}**` : '—',
        r.ok ? `${fmt(r.firstAudio.min)}–${fmt(r.firstAudio.max)}` : '—',
        fmt(r.loaded.median),
        r.chunksAtFirstAudio !== null ? `${fmt(r.chunksAtFirstAudio)}/${r.totalChunks}` : '—',
        r.ok ? `**${fmt(r.complete.median)}**` : '—',
        r.ok ? `${fmt(r.complete.min)}–${fmt(r.complete.max)}` : '—',
        fmt(r.mbps, 1),
        mb(r.sent.A),
        mb(r.sent.C),
        mb(r.sent.D),
        fmt(r.maxPeers),
        r.stalls,
      ]),
    ),
    ``,
  ];
  const ratios = result.tracks.map(t => {
    const one = s.find(r => r.track === t.key && r.case === 'one');
    const three = s.find(r => r.track === t.key && r.case === 'three');
    const q = (x, y) => (x !== null && y !== null && y > 0 ? `${(x / y).toFixed(2)}×` : '—');
    return `${t.key} first audio ${q(three?.firstAudio.median ?? null, one?.firstAudio.median ?? null)}, whole track ${q(three?.complete.median ?? null, one?.complete.median ?? null)}`;
  });
  out.push(`3 holders / 1 holder (medians): ${ratios.join('; ')}.`, ``);
  const gaps = s.filter(r => r.maxPollGapMs !== null);
  if (gaps.length) {
    const worst = gaps.reduce((w, r) => (r.maxPollGapMs > w.maxPollGapMs ? r : w));
    out.push(`Polling resolution: the in-page loop aimed at ${POLL_MS} ms; the longest gap between two polls was ${fmt(worst.maxPollGapMs)} ms (${worst.track}, ${worst.holders}: B's main thread busy while chunks arrive). Stalled time after first audio, summed over runs: ${s.filter(r => r.stalls).map(r => `${r.track} ${r.holders} ${fmt(r.stalledMs)} ms in ${r.stalls}`).join('; ') || 'none'}.`, ``);
  }
  if (result.keeps.length) {
    out.push(
      `"Keep a copy" (click → "Remove local copy" shown; C from A, then D from A and C), ms: ${result.keeps.map(k => `${k.page} ${k.track} ${k.ok ? fmt(k.ms) : 'FAILED'}`).join(', ')}.`,
      ``,
    );
  }
  const joins = result.rounds.filter(r => r.joinMs !== undefined);
  const all = result.rounds.length + result.failedAttempts.length;
  const ready = joins.filter(r => r.readyMs);
  out.push(
    `Fresh B pages: ${ready.length}/${all} connected to A, C and D and listed every track with its holders (median ${fmt(median(joins.map(r => r.joinMs)))} ms from opening the page to 3 peers, ${fmt(median(ready.map(r => r.readyMs)))} ms to every row${result.failedAttempts.length ? `; ${result.failedAttempts.length} page(s) that did not were replaced, see notes` : ''}). After B left (element removed, then context closed) A, C, D counted 2 peers again after ${fmt(median(result.rounds.filter(r => r.leaveMs !== undefined).map(r => r.leaveMs)))} ms (median).`,
    ``,
  );
  out.push(...notesSection(result.notes));
  return out.join('\n');
}

// ---------- main ----------

export async function main() {
  ensureBundle();
  const startedAt = Date.now();
  const loadStart = os.loadavg()[0];
  const log = elapsedLog(startedAt, 'music: ');
  const notes = [];
  // The bundle is whatever `npm run build` last made; say so when the sources are newer.
  const { bundleTime, newer, note: staleBundle } = bundleFreshness();
  if (staleBundle) notes.push(staleBundle);

  const world = await startWorld();
  const { stop, clearWatchdog, removeSignalHandlers } = guardRun(() => world.stop(), { watchdogMs: WATCHDOG_MS, watchdogLabel: 'bench: music watchdog' });
  const pageErrors = [];
  try {
    const chromium = world.browser.version();
    log(`relay ${world.relay.url} (pid ${world.relay.pid}), assets pid ${world.assets.pid}, host pid ${world.host.pid}, Chromium ${chromium}; load ${loadStart.toFixed(1)}`);
    const state = { room: null, setup: {}, tracks: [], rounds: [], failedAttempts: [], keeps: [], refreshMs: [] };
    await run(world, log, notes, pageErrors, state);
    if (!state.rounds.some(r => r.plays.some(p => p.ok))) notes.push('no play reached both first audio and a complete download');
    if (pageErrors.length) notes.push(`${pageErrors.length} uncaught page errors, e.g. ${pageErrors[0]}`);
    const loadEnd = os.loadavg()[0];
    const busy = busyMachineNote(loadStart, loadEnd);
    if (busy) notes.push(busy);
    const partial = {
      bench: 'music',
      date: new Date().toISOString(),
      chromium,
      ...machineInfo(),
      loadAverage: { start: loadStart, end: loadEnd },
      bundle: { path: 'www/build/p2p-widgets.esm.js', mtime: new Date(bundleTime).toISOString(), olderThanSources: newer.length },
      config: { fixtures: FIXTURES, longSeconds: LONG_S, rounds: ROUNDS, warmupRounds: WARMUP, attempts: ATTEMPTS, refreshS: REFRESH_S, rejoinGapMs: REJOIN_GAP_MS, peerTimeoutMs: PEER_TIMEOUT_MS, listTimeoutMs: LIST_TIMEOUT_MS, pollMs: POLL_MS, settleMs: SETTLE_MS, playTimeoutMs: PLAY_TIMEOUT_MS, gapMs: GAP_MS, strategy: 'nostr (local relay)', iceServers: [] },
      definitions: {
        t0: "B: performance.now() just before el.playTrack(cid); all times in B's clock",
        firstAudioMs: 'first in-page poll (getPlayerState every pollMs) with currentTime > 0: the first decoded buffer has started on the AudioContext clock',
        firstAudioBackdatedMs: 'firstAudioMs minus the currentTime reported at that poll (when the first buffer began, without the polling delay)',
        loadedMs: 'playTrack resolved: manifest fetched, first bytes read (WAV header), decoder ready, AudioContext resumed',
        completeMs: 'first poll with progress.bytes === progress.size (every chunk verified and stored in IndexedDB) while the track plays',
        chunksAtFirstAudio: 'progress.chunks (64 KiB chunks held) at the first-audio poll',
        uploaded: 'per holder: getStats().swarm.bytesUploaded after − before the play',
        maxPeers: 'most peers B received chunks from at once (progress.peers)',
        stalls: 'getPlayerState().waiting turned true (scheduled audio below 50 ms ahead, the player waiting for bytes) between first audio and the end of the download; stalledMs: time it stayed true',
      },
      setup: state.setup,
      tracks: state.tracks,
      keeps: state.keeps,
      rounds: state.rounds,
      failedAttempts: state.failedAttempts,
      refreshMs: state.refreshMs,
      notes,
      durationS: (Date.now() - startedAt) / 1000,
    };
    partial.summary = summarize(partial);
    const result = roundAll(partial);
    writeResults('music', result, render(result));
  } finally {
    clearWatchdog();
    removeSignalHandlers();
    await stop();
  }
}

if (isMainModule(import.meta.url)) main().catch(exitOnError('bench: music could not run:'));
