/**
 * Probe: does a data-channel association stall at the start of a bulk transfer without the swarm?
 *
 * Two lab pages (the mesh, no widget) meet on the local relay. The first sends `SIZE` bytes to the
 * second on a raw negotiated RTCDataChannel of the same RTCPeerConnection (64 KiB messages, the
 * swarm's watermarks: wait above 4 MiB buffered until 1 MiB), while it pings the second over the
 * mesh's Trystero channel every 100 ms (`lab.ping`, the chat path). Prints per run: the longest gap
 * between two raw messages at the receiver, the ping round trips, and the transport's bytes.
 *
 *   node bench/transport-stall-probe.mjs            (RUNS=5 SIZE_MIB=32 HIGH_KIB=4096 LOW_KIB=1024)
 *
 * Written to tell a stall of the swarm from a stall of the WebRTC transport under it
 * (`test/swarm.e2e.ts`, "a chat-sized message during a 32 MiB transfer").
 */
import { openLabPage, startWorld, uniqueRoom, waitForLabPeers } from '../test/harness/browser.mjs';
import { buildLab } from '../test/harness/build-lab.mjs';

const RUNS = Number(process.env.RUNS ?? 5);
const SIZE = Number(process.env.SIZE_MIB ?? 32) * 1024 * 1024;
const CHANNEL_ID = 77;
/** The sender waits while more than HIGH_KIB is buffered, until LOW_KIB (default: the swarm's 4 MiB / 1 MiB). */
const HIGH = Number(process.env.HIGH_KIB ?? 4096) * 1024;
const LOW = Number(process.env.LOW_KIB ?? 1024) * 1024;

await buildLab();
const world = await startWorld();
try {
  for (let run = 1; run <= RUNS; run++) {
    const room = uniqueRoom('stall-probe');
    const [a, b] = await Promise.all([openLabPage(world, room), openLabPage(world, room)]);
    await Promise.all([waitForLabPeers(a, 1), waitForLabPeers(b, 1)]);
    await b.evaluate(() => window.lab.answerPings());
    const bId = (await a.evaluate(() => window.lab.peerIds()))[0];
    const aId = (await b.evaluate(() => window.lab.peerIds()))[0];
    const open = (page, peerId) =>
      page.evaluate(
        ([peerId, id]) =>
          new Promise((resolve, reject) => {
            const ch = window.lab.peerConnection(peerId).createDataChannel(`probe-${id}`, { negotiated: true, id, ordered: true });
            ch.binaryType = 'arraybuffer';
            window.probeChannel = ch;
            ch.onopen = () => resolve(true);
            setTimeout(() => reject(new Error(`channel ${ch.readyState}`)), 10_000);
          }),
        [peerId, CHANNEL_ID],
      );
    await Promise.all([open(a, bId), open(b, aId)]);
    // Transport counters every 100 ms on both sides (the ICE candidate pair in use, and the SCTP
    // send buffer): whether packets still cross the wire while no message reaches the channel.
    const sample = (page, peerId) =>
      page.evaluate(peerId => {
        const samples = (window.probeSamples = []);
        const pc = window.lab.peerConnection(peerId);
        window.probeSampler = setInterval(async () => {
          const stats = await pc.getStats();
          let pair = null;
          let sctp = null;
          stats.forEach(r => {
            if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
            if (r.type === 'data-channel' && r.label?.startsWith('probe-')) sctp = r;
          });
          samples.push({
            t: Date.now(),
            appRx: window.probeRx?.received ?? 0,
            buffered: window.probeChannel.bufferedAmount,
            pktRx: pair?.packetsReceived ?? null,
            bytesRx: pair?.bytesReceived ?? null,
            pktTx: pair?.packetsSent ?? null,
            bytesTx: pair?.bytesSent ?? null,
            dcMsgRx: sctp?.messagesReceived ?? null,
          });
        }, 100);
      }, peerId);
    await Promise.all([sample(a, bId), sample(b, aId)]);
    await b.evaluate(total => {
      const rx = (window.probeRx = { received: 0, last: null, maxGap: 0, maxGapAt: 0, done: null });
      rx.done = new Promise(resolve => {
        window.probeChannel.onmessage = e => {
          const t = performance.now();
          if (rx.last !== null && t - rx.last > rx.maxGap) [rx.maxGap, rx.maxGapAt] = [t - rx.last, rx.received];
          rx.last = t;
          rx.received += e.data.byteLength;
          if (rx.received >= total) resolve(true);
        };
      });
    }, SIZE);
    const sending = a.evaluate(async ([total, high, low]) => {
      const ch = window.probeChannel;
      const payload = new Uint8Array(64 * 1024);
      ch.bufferedAmountLowThreshold = low;
      const start = performance.now();
      for (let off = 0; off < total; off += payload.byteLength) {
        if (ch.bufferedAmount > high) await new Promise(r => ch.addEventListener('bufferedamountlow', r, { once: true }));
        ch.send(payload);
      }
      return performance.now() - start;
    }, [SIZE, HIGH, LOW]);
    const rtts = [];
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      const done = await b.evaluate(() => window.probeRx.received);
      if (done >= SIZE) break;
      rtts.push(Math.round(await a.evaluate(id => window.lab.ping(id), bId)));
      await a.waitForTimeout(100);
    }
    await sending;
    await b.evaluate(() => window.probeRx.done);
    const rx = await b.evaluate(() => ({ maxGap: Math.round(window.probeRx.maxGap), at: window.probeRx.maxGapAt }));
    const secs = (Date.now() - started) / 1000;
    console.log(`run ${run}: ${(SIZE / 1048576).toFixed(0)} MiB in ${secs.toFixed(1)} s; longest gap between raw messages ${rx.maxGap} ms (after ${(rx.at / 1048576).toFixed(1)} MiB); ping ms ${rtts.join(' ')}`);
    const samples = await Promise.all([a, b].map(p => p.evaluate(() => (clearInterval(window.probeSampler), window.probeSamples))));
    if (rx.maxGap >= 400) {
      // The receiver's samples while its app count stood still at the gap, beside the sender's at the same moments.
      const [tx, recv] = samples;
      const still = recv.filter(s => s.appRx === rx.at);
      const near = t => tx.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), tx[0]);
      const show = s => `pkts rx ${s.pktRx} tx ${s.pktTx}, bytes rx ${s.bytesRx} tx ${s.bytesTx}, buffered ${s.buffered}`;
      if (still.length >= 2) {
        const [first, last] = [still[0], still.at(-1)];
        console.log(`  during the gap (${Math.round(last.t - first.t)} ms sampled): receiver ${show(first)} -> ${show(last)}`);
        console.log(`  sender at the same moments: ${show(near(first.t))} -> ${show(near(last.t))}`);
      }
    }
    await Promise.all([a.context().close(), b.context().close()]);
  }
} finally {
  await world.stop();
}
