#!/usr/bin/env node
/**
 * Probe for `<p2p-live>`'s choice of how video goes down a relay tree (evidence for the README, not
 * part of `npm run bench`): a chain of pages P0 → P1 → P2 → P3 (depth 1 to 3; P1 and P2 relay) in
 * one headless Chromium, over loopback RTCPeerConnections signalled by this script, each way in turn:
 *
 *  - **tracks**: P0 sends its source's video track; each relay adds the track it receives to the
 *    connection to its child (Chromium decodes and encodes it again at every relay). Every sender's
 *    `maxBitrate` is BITRATE, the WebCodecs encoder's target.
 *  - **webcodecs**: P0 encodes once (WebCodecs VP8, realtime, BITRATE (1.5 Mbit/s), keyframe every 5 s) and
 *    sends each chunk over a data channel; each relay forwards the bytes as they came and decodes
 *    them for itself.
 *
 * The source is a 640×360 canvas at 30 fps with moving content and the current time (ms) stamped
 * in its pixels; every receiving page reads the stamp back from each frame it shows (tracks: the
 * video element's frame callback; webcodecs: the decoder's output) and records its age, and for
 * every 10th frame its PSNR against the same source frame drawn again from the stamp (the source is
 * a pure function of its time). Prints, per depth: latency p50/p95, frames read, unreadable stamps,
 * PSNR (median and 5th percentile); per page: CPU seconds over the
 * measured window (its renderer process, /proc); for tracks, the resolution each depth receives.
 *
 *   npm run build && node bench/live-transport-probe.mjs      (SECONDS=15 measured per way, WAYS=tracks,webcodecs)
 */
import { startWorld } from '../test/harness/browser.mjs';
import { browserCpuSeconds, rendererPidOf } from './lib/process-cpu.mjs';
import { sleep } from './lib/timing.mjs';

const SECONDS = Number(process.env.SECONDS ?? 15);
const WAYS = (process.env.WAYS ?? 'tracks,webcodecs').split(',');
const DEPTH = 3;
/** Bits per second: the WebCodecs encoder's target, and every track sender's `maxBitrate`. */
const BITRATE = Number(process.env.BITRATE ?? 1_500_000);
const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const world = await startWorld();
try {
  for (const way of WAYS) {
    const contexts = await Promise.all(Array.from({ length: DEPTH + 1 }, () => world.browser.newContext()));
    const pages = await Promise.all(contexts.map(c => c.newPage()));
    await Promise.all(pages.map(p => p.goto(`${world.host.url}/bench/fixtures/live-probe.html`)));
    const errors = [];
    pages.forEach((p, i) => p.on('pageerror', e => errors.push(`P${i}: ${e.message}`)));
    await pages[0].evaluate(() => window.startSource(30));
    const tracks = way === 'tracks';
    // Link each parent to its child, top down (a relay offers its child only once it has something to pass on).
    for (let i = 0; i < DEPTH; i++) {
      if (tracks && i > 0) await pages[i].waitForFunction(() => !!window.receivedTrack, null, { timeout: 20_000 });
      const offer = await pages[i].evaluate(([t, b]) => window.offer('down', { withTrack: t, withChannel: !t, maxBitrate: b }), [tracks, BITRATE]);
      const answer = await pages[i + 1].evaluate(([sdp, t]) => window.answer('up', sdp, { withChannel: !t }), [offer, tracks]);
      await pages[i].evaluate(sdp => window.accept('down', sdp), answer);
    }
    if (!tracks) {
      for (let i = DEPTH; i >= 1; i--) await pages[i].evaluate(() => window.startDecoder());
      await pages[0].evaluate(b => window.startEncoder({ bitrate: b, keyEveryS: 5, fps: 30 }), BITRATE);
    }
    // Warm up (the track way's encoders ramp their bitrate up), then measure.
    await sleep(5000);
    const pids = [];
    for (const p of pages) pids.push(await rendererPidOf(p));
    await Promise.all(pages.map(p => p.evaluate(() => ((window.probe.measuring = true), (window.probe.latencies.length = 0)))));
    const cpu0 = browserCpuSeconds();
    await sleep(SECONDS * 1000);
    const cpu1 = browserCpuSeconds();
    await Promise.all(pages.map(p => p.evaluate(() => (window.probe.measuring = false))));
    console.log(`\n${way}: ${DEPTH} hops, ${SECONDS} s measured${errors.length ? `; page errors: ${errors.slice(0, 3).join(' | ')}` : ''}`);
    console.log('depth | latency p50 ms | p95 ms | frames read | unreadable stamps | PSNR dB (median, p5) | CPU s (its renderer) | received');
    for (let i = 0; i <= DEPTH; i++) {
      const pr = await pages[i].evaluate(() => window.probe);
      const stats = i === 0 ? null : tracks ? await pages[i].evaluate(() => window.inboundStats()) : { bytes: await pages[i].evaluate(() => window.channelBytes()) };
      const cpu = pids[i] && cpu0 && cpu1 ? (cpu1.byPid[pids[i]] ?? 0) - (cpu0.byPid[pids[i]] ?? 0) : NaN;
      const recv = !stats ? 'source' : tracks ? `${stats.width}×${stats.height}, ${stats.decoded} decoded, ${stats.dropped ?? 0} dropped, ${(stats.bytes / 1e6).toFixed(1)} MB` : `${(stats.bytes / 1e6).toFixed(1)} MB`;
      console.log(`${i} | ${i ? pct(pr.latencies, 50).toFixed(0) : '—'} | ${i ? pct(pr.latencies, 95).toFixed(0) : '—'} | ${i ? pr.latencies.length : '—'} | ${i ? pr.badStamps : '—'} | ${i ? `${pct(pr.psnr, 50).toFixed(1)}, ${pct(pr.psnr, 5).toFixed(1)}` : '—'} | ${cpu.toFixed(2)} | ${recv}${pr.errors.length ? ` | errors: ${pr.errors.slice(0, 2).join('; ')}` : ''}`);
    }
    const all = cpu0 && cpu1 ? cpu1.total - cpu0.total : NaN;
    console.log(`browser CPU, all processes: ${all.toFixed(1)} s over ${SECONDS} s (${(all / SECONDS).toFixed(2)} cores)`);
    await Promise.all(contexts.map(c => c.close()));
  }
} finally {
  await world.stop();
}
