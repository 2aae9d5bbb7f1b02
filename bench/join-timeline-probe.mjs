#!/usr/bin/env node
/**
 * Probe for where a fresh two-page join spends its time (evidence, not a bench figure): RUNS pairs
 * of each variant (p2p-chat widget, bare patched Trystero) are navigated at once on the local Nostr
 * relay; an init script in every page records, in performance.now() ms since navigation start:
 * the relay WebSocket's creation, open, first REQ sent and first EVENT sent / received, every
 * RTCPeerConnection's creation, first setLocalDescription / setRemoteDescription (offer or answer),
 * ICE connected, data channel open, and the page's first peer. Prints the median of each mark per
 * variant, so the two timelines can be compared step by step.
 *
 *   RUNS=7 node bench/join-timeline-probe.mjs
 */
import { lowerMedian } from './lib/stats.mjs';

const { startWorld, uniqueRoom } = await import('../test/harness/browser.mjs');

const RUNS = Number(process.env.RUNS ?? 7);
const APP_ID = 'join-timeline-probe';

const MARKS = `(() => {
  const marks = (window.joinMarks = {});
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  window.joinMark = mark;
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      mark('ws created');
      this.addEventListener('open', () => mark('ws open'));
      this.addEventListener('message', e => {
        try { const m = JSON.parse(e.data); if (m[0] === 'EVENT') mark('event received'); } catch {}
      });
    }
    send(d) {
      try { const m = JSON.parse(d); if (m[0] === 'REQ') mark('REQ sent'); if (m[0] === 'EVENT') mark('EVENT sent'); } catch {}
      return super.send(d);
    }
  };
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...a) {
      super(...a);
      mark('pc created');
      this.addEventListener('iceconnectionstatechange', () => { if (this.iceConnectionState === 'connected') mark('ice connected'); });
      this.addEventListener('datachannel', e => e.channel.addEventListener('open', () => mark('channel open')));
    }
    createDataChannel(...a) { const c = super.createDataChannel(...a); c.addEventListener('open', () => mark('channel open')); return c; }
    async setLocalDescription(d) { const r = await super.setLocalDescription(d); mark('setLocal ' + this.localDescription?.type); return r; }
    async setRemoteDescription(d) { mark('setRemote ' + d?.type); return super.setRemoteDescription(d); }
  };
  document.addEventListener('p2pPeerJoin', () => mark('peer'));
})();`;

const VARIANTS = [
  { key: 'widget', url: (w, room) => `${w.host.url}/bench/fixtures/chat-bench.html?${new URLSearchParams({ bundle: w.bundleUrl, room, relay: w.relay.url, appId: APP_ID, name: 'probe' })}` },
  { key: 'bare', url: (w, room) => `${w.host.url}/bench/fixtures/trystero-bare.html?${new URLSearchParams({ room, relay: w.relay.url, appId: APP_ID, pool: '1' })}` },
];

/** Lower median (ms); NaN, not null, when a mark never occurred: printed as '—' and sorted on below. */
const median = xs => lowerMedian(xs) ?? NaN;

const world = await startWorld();
try {
  const samples = Object.fromEntries(VARIANTS.map(v => [v.key, []]));
  for (let i = 0; i < RUNS + 1; i++) {
    for (const v of VARIANTS) {
      const room = uniqueRoom(`timeline-${v.key}`);
      const contexts = await Promise.all([0, 1].map(() => world.browser.newContext()));
      const pages = await Promise.all(contexts.map(async c => { await c.addInitScript(MARKS); return c.newPage(); }));
      await Promise.all(pages.map(p => p.goto(v.url(world, room))));
      await Promise.all(pages.map(p => p.waitForFunction(() => window.bench && window.bench.peerJoinAt !== null, null, { timeout: 30_000, polling: 20 })));
      const marks = await Promise.all(pages.map(p => p.evaluate(() => ({ ...window.joinMarks, defined: window.bench.definedAt, peer: window.bench.peerJoinAt }))));
      if (i > 0) samples[v.key].push(...marks); // the first round warms the browser up
      await Promise.all(contexts.map(c => c.close()));
    }
  }
  const names = [...new Set(Object.values(samples).flat().flatMap(m => Object.keys(m)))];
  const rows = names.map(n => [n, ...VARIANTS.map(v => median(samples[v.key].map(m => m[n]).filter(x => typeof x === 'number')))]);
  rows.sort((a, b) => (a[1] || a[2]) - (b[1] || b[2]));
  console.log(`median ms since navigation start over ${RUNS} pairs (${RUNS * 2} pages) each`);
  console.log(['mark', ...VARIANTS.map(v => v.key)].map(s => s.padEnd(16)).join(''));
  for (const r of rows) console.log([r[0], ...r.slice(1).map(x => (Number.isNaN(x) ? '—' : x.toFixed(0)))].map(s => String(s).padEnd(16)).join(''));
} finally {
  await world.stop();
}
