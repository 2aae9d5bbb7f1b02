#!/usr/bin/env node
/**
 * Probe for the "newcomer into an idle room" failure (evidence, not a bench figure):
 * MEMBERS bare-Trystero pages join a room, idle IDLE_MS, then one newcomer joins. Every
 * RTCPeerConnection in every page is wrapped to log (ms since the probe started) its creation,
 * setLocalDescription/setRemoteDescription types, restartIce, local candidates gathered and
 * ICE/connection state changes; the relay logs every event (RELAY_LOG). Prints whom the
 * newcomer met and when, and the per-connection logs of pairs that did not meet.
 *
 *   IDLE_MS=75000 MEMBERS=3 node bench/idle-join-probe.mjs
 */
import { readFileSync } from 'node:fs';
import { logRelayEventsToTempFile } from './lib/relay-log.mjs';

logRelayEventsToTempFile('idle-join-');
const { startWorld, uniqueRoom } = await import('../test/harness/browser.mjs');

const IDLE_MS = Number(process.env.IDLE_MS ?? 75_000);
const MEMBERS = Number(process.env.MEMBERS ?? 3);
const WAIT_MS = Number(process.env.WAIT_MS ?? 20_000);
const PAGE = process.env.PAGE ?? '/bench/fixtures/trystero-bare.html';
const t0 = Date.now();

/** Wraps RTCPeerConnection; log lines go to window.pcLog. */
const wrapPc = `(() => {
  const t0 = ${t0};
  const Base = window.RTCPeerConnection;
  let n = 0;
  window.pcLog = [];
  const log = (id, what) => window.pcLog.push([Date.now() - t0, id, what]);
  window.RTCPeerConnection = class extends Base {
    constructor(...a) {
      super(...a);
      const id = ++n;
      this.__id = id;
      log(id, 'created');
      this.addEventListener('icecandidate', e => log(id, 'local-candidate ' + (e.candidate ? e.candidate.candidate.split(' ').slice(4, 8).join(' ') : 'end')));
      this.addEventListener('iceconnectionstatechange', () => log(id, 'ice ' + this.iceConnectionState));
      this.addEventListener('connectionstatechange', () => log(id, 'conn ' + this.connectionState));
      this.addEventListener('icegatheringstatechange', () => log(id, 'gathering ' + this.iceGatheringState));
    }
    async setLocalDescription(d) { log(this.__id, 'setLocal ' + (d?.type ?? 'implicit')); const r = await super.setLocalDescription(d); log(this.__id, 'local=' + this.localDescription?.type + ' cands-in-sdp=' + ((this.localDescription?.sdp.match(/a=candidate/g) || []).length)); return r; }
    async setRemoteDescription(d) { log(this.__id, 'setRemote ' + d?.type + ' cands-in-sdp=' + ((d?.sdp?.match(/a=candidate/g) || []).length)); return super.setRemoteDescription(d); }
    async addIceCandidate(c) { log(this.__id, 'addIceCandidate ' + (c?.candidate ?? '').split(' ').slice(4, 8).join(' ')); return super.addIceCandidate(c); }
    restartIce() { log(this.__id, 'restartIce'); return super.restartIce(); }
    close() { log(this.__id, 'close()'); return super.close(); }
  };
})();`;

const world = await startWorld();
const room = uniqueRoom('idle-join');
const appId = 'idle-join-probe';
const open = async name => {
  const ctx = await world.browser.newContext();
  await ctx.addInitScript(wrapPc);
  const page = await ctx.newPage();
  await page.goto(`${world.host.url}${PAGE}?${new URLSearchParams({ room, relay: world.relay.url, appId })}`);
  await page.waitForFunction(() => window.benchRoom);
  await page.evaluate(() => {
    window.met = [];
    window.benchRoom.onPeerJoin = id => window.met.push([Date.now(), id]);
  });
  const selfId = await page.evaluate(async () => (await import('trystero')).selfId);
  return { name, page, selfId };
};
try {
  const members = [];
  for (let i = 0; i < MEMBERS; i++) members.push(await open(`M${i}`));
  await Promise.all(members.map(m => m.page.waitForFunction(k => window.met.length >= k, MEMBERS - 1, { timeout: 30_000 })));
  console.log(`members met at ${Date.now() - t0} ms; idle ${IDLE_MS} ms`);
  await new Promise(r => setTimeout(r, IDLE_MS));
  const joinAt = Date.now();
  const nc = await open('NEW');
  console.log(`newcomer opened at ${joinAt - t0} ms`);
  await nc.page.waitForFunction(k => window.met.length >= k, MEMBERS, { timeout: WAIT_MS }).catch(() => undefined);
  const met = await nc.page.evaluate(() => window.met);
  const ids = Object.fromEntries([...members, nc].map(m => [m.selfId, m.name]));
  console.log('newcomer met:', met.map(([t, id]) => `${ids[id]}@${t - joinAt}ms`).join(', ') || 'nobody');
  for (const m of members) {
    const leads = m.selfId < nc.selfId ? 'member offers' : 'newcomer offers';
    const ok = met.some(([, id]) => id === m.selfId);
    console.log(`\n== ${m.name} (${leads}) ${ok ? 'MET' : 'NOT MET'}`);
    if (ok && !process.env.VERBOSE) continue;
    const log = await m.page.evaluate(() => window.pcLog);
    console.log(log.filter(([t]) => t >= joinAt - t0 - 100).map(l => l.join(' ')).join('\n'));
  }
  console.log('\n== newcomer');
  console.log((await nc.page.evaluate(() => window.pcLog)).map(l => l.join(' ')).join('\n'));
  const events = readFileSync(process.env.RELAY_LOG, 'utf8').trim().split('\n').map(l => JSON.parse(l));
  console.log('\n== relay events after the newcomer opened');
  for (const e of events.filter(e => e.t >= joinAt)) console.log(e.t - joinAt, ids[e.peerId] ?? e.peerId, e.type, e.tag?.slice(0, 8));
} finally {
  await world.stop();
}
