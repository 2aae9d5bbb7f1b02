#!/usr/bin/env node
/**
 * Probe for where a chat round trip between two <p2p-chat> widgets spends its time (evidence, not a
 * bench figure): page A sends N pings with `sendMessage`, page B answers each from its `p2pMessage`
 * listener (after DELAY ms, default 0: at once, as the bench does). An init script timestamps, in
 * each page, every data-channel send and receive of a chat-sized payload, every `p2pMessage`, and
 * every WebCrypto `sign` call. Prints medians of: A's send path (call → data channel), B's receive
 * path (data channel → p2pMessage), B's answer (p2pMessage → data channel; of it, call → sign start,
 * which holds the sequence-number reservation), A's receive path, and the round trip.
 *
 *   npm run build && N=40 node bench/chat-rtt-probe.mjs     (DELAY=60 to answer later; PARTIAL_MESH=off for widgets without the overlay; HIDE=1 hides the widgets; PROFILE=1 / TRACE=1 print where page A's main thread spends its time)
 */
import { lowerMedian } from './lib/stats.mjs';
import { mainThreadSummaries, printMainThreadSummaries, profileSelfTimes } from './lib/trace-summary.mjs';

const { startWorld, uniqueRoom } = await import('../test/harness/browser.mjs');
const N = Number(process.env.N ?? 40);
const DELAY = Number(process.env.DELAY ?? 0);
/** The widgets' `partial-mesh` attribute (unset: the default, a partial mesh that is a full mesh at two pages; `off`: no overlay). */
const PARTIAL = process.env.PARTIAL_MESH;

const INIT = `(() => {
  const t = (window.rtt = { dcSend: [], dcRecv: [], msg: [], call: [], signStart: [], signEnd: [] });
  const chatSized = d => { const n = typeof d === 'string' ? d.length : d.byteLength; return n > 200 && n < 20000; };
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (d) { if (chatSized(d)) t.dcSend.push(performance.now()); return send.call(this, d); };
  const watch = ch => { if (ch.__rtt) return; ch.__rtt = 1; ch.addEventListener('message', e => { if (chatSized(e.data)) t.dcRecv.push(performance.now()); }); };
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...a) { super(...a); this.addEventListener('datachannel', e => watch(e.channel)); }
    createDataChannel(...a) { const c = super.createDataChannel(...a); watch(c); return c; }
  };
  const sign = crypto.subtle.sign.bind(crypto.subtle);
  crypto.subtle.sign = async (...a) => { t.signStart.push(performance.now()); const r = await sign(...a); t.signEnd.push(performance.now()); return r; };
  document.addEventListener('p2pMessage', e => { if (!e.detail.own) t.msg.push(performance.now()); });
  // TIMELINE=1: IndexedDB transactions (created → complete) and animation-frame callbacks, to lay beside a ping.
  t.events = [];
  const ev = (what, t0, t1) => t.events.length < 50000 && t.events.push([what, t0, t1 ?? t0]);
  const tx = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...a) {
    const r = tx.apply(this, a);
    const t0 = performance.now();
    const mode = a[1] ?? 'readonly';
    r.addEventListener('complete', () => ev('idb ' + mode + ' ' + [].concat(a[0]).join(','), t0, performance.now()));
    return r;
  };
  const raf = window.requestAnimationFrame;
  window.requestAnimationFrame = cb => raf(ts => { const t0 = performance.now(); try { return cb(ts); } finally { ev('raf ' + (cb.name || 'anon'), t0, performance.now()); } });
})();`;

const world = await startWorld();
try {
  const room = uniqueRoom('rtt');
  const contexts = await Promise.all([0, 1].map(() => world.browser.newContext()));
  const pages = await Promise.all(contexts.map(async c => { await c.addInitScript(INIT); return c.newPage(); }));
  const url = name => `${world.host.url}/bench/fixtures/chat-bench.html?${new URLSearchParams({ bundle: world.bundleUrl, room, relay: world.relay.url, appId: 'rtt-probe', name, ...(PARTIAL === undefined ? {} : { partialMesh: PARTIAL }) })}`;
  await Promise.all(pages.map((p, i) => p.goto(url(`p${i}`))));
  // HIDE=1: the widgets are not laid out or painted (display: none), to see what rendering costs the round trip.
  if (process.env.HIDE === '1') await Promise.all(pages.map(p => p.addStyleTag({ content: 'p2p-chat { display: none !important; }' })));
  await Promise.all(pages.map(p => p.waitForFunction(() => window.bench && window.bench.peerJoinAt !== null, null, { timeout: 30_000 })));
  await pages[1].evaluate(d => window.benchTransport.onText(text => setTimeout(() => { window.rtt.call.push(performance.now()); window.benchTransport.send('pong ' + text); }, d)), DELAY);
  await pages[0].evaluate(() => { window.pong = null; window.benchTransport.onText(() => (window.pong = performance.now())); });
  await new Promise(r => setTimeout(r, 1500));
  // PROFILE=1: V8 sampling profile of page A during the pings; prints the functions with the most self time.
  const cdp = process.env.PROFILE === '1' ? await contexts[0].newCDPSession(pages[0]) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
  }
  // TRACE=1: a Chromium trace (devtools.timeline) of page A during the pings; prints where its main thread's time went by event name.
  const tracing = process.env.TRACE === '1';
  if (tracing) await world.browser.startTracing(pages[0], { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  const rtts = [];
  for (let i = 0; i < N; i++) {
    rtts.push(await pages[0].evaluate(async i => {
      window.pong = null;
      const t0 = performance.now();
      window.rtt.call.push(t0);
      await window.benchTransport.send('ping ' + i);
      while (window.pong === null) await new Promise(r => setTimeout(r, 0));
      return window.pong - t0;
    }, i));
    await new Promise(r => setTimeout(r, 250));
  }
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = profileSelfTimes(profile);
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`page A busy ${total.toFixed(0)} ms over ${N} pings (${(total / N).toFixed(1)} ms per round trip); top self time (ms):`);
    for (const [k, t] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`  ${t.toFixed(0).padStart(6)}  ${k}`);
  }
  if (tracing) {
    const { traceEvents } = JSON.parse((await world.browser.stopTracing()).toString());
    printMainThreadSummaries(mainThreadSummaries(traceEvents).slice(0, 1), 20);
  }
  const [A, B] = await Promise.all(pages.map(p => p.evaluate(() => window.rtt)));
  // Both pages' clocks on one time line (performance.timeOrigin + now), for the time between one page's send and the other's receive.
  const [oA, oB] = await Promise.all(pages.map(p => p.evaluate(() => performance.timeOrigin)));
  const after = (xs, t) => xs.find(x => x >= t);
  const before = (xs, t) => [...xs].reverse().find(x => x <= t);
  const rows = { 'A send (call → channel)': [], 'B receive (channel → p2pMessage)': [], 'B answer (p2pMessage → channel)': [], '  of it: B call → sign start': [], '  of it: B sign → sign end': [], '  of it: B sign end → channel': [], 'A receive (channel → p2pMessage)': [], 'wire A → B (A send → B receive event)': [], 'wire B → A (B send → A receive event)': [], 'A p2pMessage → the page sees the pong': [], 'round trip': rtts };
  for (let i = 0; i < N; i++) {
    rows['A send (call → channel)'].push(after(A.dcSend, A.call[i]) - A.call[i]);
    rows['B receive (channel → p2pMessage)'].push(B.msg[i] - before(B.dcRecv, B.msg[i]));
    rows['B answer (p2pMessage → channel)'].push(after(B.dcSend, B.msg[i]) - B.msg[i]);
    rows['  of it: B call → sign start'].push(after(B.signStart, B.call[i]) - B.call[i]);
    const bSignEnd = after(B.signEnd, B.call[i]);
    rows['  of it: B sign → sign end'].push(bSignEnd - after(B.signStart, B.call[i]));
    rows['  of it: B sign end → channel'].push(after(B.dcSend, bSignEnd) - bSignEnd);
    rows['A receive (channel → p2pMessage)'].push(A.msg[i] - before(A.dcRecv, A.msg[i]));
    const aSent = after(A.dcSend, A.call[i]);
    rows['wire A → B (A send → B receive event)'].push(oB + before(B.dcRecv, B.msg[i]) - (oA + aSent));
    const bSent = after(B.dcSend, B.msg[i]);
    rows['wire B → A (B send → A receive event)'].push(oA + before(A.dcRecv, A.msg[i]) - (oB + bSent));
    rows['A p2pMessage → the page sees the pong'].push(A.call[i] + rtts[i] - A.msg[i]);
  }
  if (process.env.TIMELINE === '1') {
    for (const [who, evs] of [['A', A.events], ['B', B.events]]) {
      const by = new Map();
      for (const [w, a, b] of evs.filter(([, a]) => a >= A.call[0])) {
        const e = by.get(w) ?? [0, 0];
        by.set(w, [e[0] + 1, e[1] + b - a]);
      }
      console.log(`${who} over the pings: ` + [...by].map(([w, [n, ms]]) => `${w} ×${n} ${ms.toFixed(0)} ms`).join('; '));
    }
    for (const i of [5, 10, 15, 20, 25].filter(i => i < N)) {
      const t0 = A.call[i];
      const end = A.msg[i];
      const bOff = oB - oA;
      const line = [`ping ${i}: A call 0`, `A send ${(after(A.dcSend, t0) - t0).toFixed(1)}`, `B recv ${(before(B.dcRecv, B.msg[i]) + bOff - t0).toFixed(1)}`, `B msg ${(B.msg[i] + bOff - t0).toFixed(1)}`, `B send ${(after(B.dcSend, B.msg[i]) + bOff - t0).toFixed(1)}`, `A recv ${(before(A.dcRecv, end) - t0).toFixed(1)}`, `A msg ${(end - t0).toFixed(1)}`];
      console.log(line.join(' | '));
      for (const [who, evs, off] of [['A', A.events, 0], ['B', B.events, bOff]]) {
        const inside = evs.filter(([, a, b]) => b + off >= t0 && a + off <= end);
        console.log(`   ${who}: ` + inside.map(([w, a, b]) => `${w} ${(a + off - t0).toFixed(1)}–${(b + off - t0).toFixed(1)}`).join('; '));
      }
    }
  }
  console.log(`medians over ${N} pings (ms), B answers after ${DELAY} ms`);
  for (const [k, v] of Object.entries(rows)) console.log(k.padEnd(36), (lowerMedian(v.filter(Number.isFinite)) ?? NaN).toFixed(1));
} finally {
  await world.stop();
}
