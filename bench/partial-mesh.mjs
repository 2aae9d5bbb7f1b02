#!/usr/bin/env node
/**
 * Partial mesh against full mesh in real Chromium pages (part of `npm run bench`; alone:
 * `node bench/partial-mesh.mjs`, after `node test/harness/build-lab.mjs`): BENCH_PARTIAL_PAGES (20)
 * core lab pages (test/lab/swarm-lab.html: the mesh without a widget) join one room on the local
 * Nostr relay, one after another, first as a full mesh (today's default), then in a new room with
 * the partial mesh (`partialMesh: {}`: active view 6, between 4 and 8, at most 12 connections).
 * For each: RTCPeerConnections open per page and created per page (an init script counts them),
 * time from the first page's navigation until every page is in one connected room (full: every
 * page has every other as a peer; partial: one overlay), the relay's events per page per minute
 * while the room sits idle for BENCH_PARTIAL_IDLE_MS (60 000), and five messages, each from a
 * different page, on a flood channel: ms until the last page has it (Date.now() in the pages; one
 * machine, one clock) and copies per page.
 *
 * Writes bench/results/partial-mesh.json and .md. Never fails on numbers.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { machineLine } from './lib/machine.mjs';
import { cpuInfo } from './lib/machine.mjs';
import { logRelayEventsToTempFile } from './lib/relay-log.mjs';
import { roundAll, writeResultFiles } from './lib/results.mjs';
import { exitOnError } from './lib/script-entry.mjs';
import { median } from './lib/stats.mjs';
import { sleep } from './lib/timing.mjs';

const RELAY_LOG = logRelayEventsToTempFile('partial-mesh-');
const { openLabPage, startWorld, uniqueRoom } = await import('../test/harness/browser.mjs');
const { buildLab } = await import('../test/harness/build-lab.mjs');

const PAGES = Number(process.env.BENCH_PARTIAL_PAGES ?? 20);
const IDLE_MS = Number(process.env.BENCH_PARTIAL_IDLE_MS ?? 60_000);
const MESSAGES = 5;
const COUNT_PCS = `(() => { const B = window.RTCPeerConnection; window.pcCount = 0; window.RTCPeerConnection = class extends B { constructor(...a) { super(...a); window.pcCount++; } }; })();`;

/** Whether the pages form one room: full mesh, each has all others; partial, one overlay. */
async function connected(pages, partial) {
  const states = await Promise.all(pages.map(p => p.evaluate(() => ({ id: window.lab.selfId(), peers: window.lab.peerIds(), overlay: window.lab.overlay() }))));
  if (!partial) return states.every(s => s.peers.length >= pages.length - 1);
  const byId = new Map(states.map(s => [s.id, s]));
  const seen = new Set([states[0].id]);
  const queue = [states[0]];
  while (queue.length) for (const n of queue.shift().overlay.neighbors) if (byId.has(n) && !seen.has(n)) (seen.add(n), queue.push(byId.get(n)));
  return seen.size === pages.length;
}

async function runVariant(world, partial) {
  const room = uniqueRoom(partial ? 'partial' : 'full');
  const pages = [];
  const startedAt = Date.now();
  for (let i = 0; i < PAGES; i++) {
    const context = await world.browser.newContext();
    await context.addInitScript(COUNT_PCS);
    pages.push(await openLabPage(world, room, { context, ...(partial ? { partialMesh: {} } : {}) }));
  }
  const openedAt = Date.now();
  let formedAt = null;
  while (Date.now() - startedAt < 180_000) {
    if (await connected(pages, partial)) {
      formedAt = Date.now();
      break;
    }
    await sleep(500);
  }
  const ids = new Set(await Promise.all(pages.map(p => p.evaluate(() => window.lab.selfId()))));
  const idleFrom = Date.now() + 5000;
  await sleep(IDLE_MS + 5000);
  const idleTo = Date.now();
  const events = readFileSync(RELAY_LOG, 'utf8').trim().split('\n').filter(Boolean).map(l => JSON.parse(l)).filter(e => e.t >= idleFrom && e.t < idleTo && ids.has(e.peerId));
  const sends = [];
  for (let k = 0; k < MESSAGES; k++) {
    const from = Math.floor(((k + 0.5) * PAGES) / MESSAGES);
    const id = `b${k}`;
    const at = await pages[from].evaluate(i => {
      const t = Date.now();
      void window.lab.flood(i, 'bench');
      return t;
    }, id);
    await sleep(3000);
    const arrivals = await Promise.all(pages.map((p, j) => (j === from ? null : p.evaluate(i => ({ at: window.lab.floodArrivedAt()[i] ?? null, copies: window.lab.floodReceived()[i] ?? 0 }), id))));
    const got = arrivals.filter(a => a && a.at !== null);
    sends.push({ reached: got.length, of: PAGES - 1, lastMs: got.length ? Math.max(...got.map(a => a.at - at)) : null, medianMs: median(got.map(a => a.at - at)), copies: Math.max(0, ...got.map(a => a.copies)) });
  }
  const conns = await Promise.all(pages.map(p => p.evaluate(() => window.lab.connectionCount())));
  const created = await Promise.all(pages.map(p => p.evaluate(() => window.pcCount)));
  await Promise.all(pages.map(p => p.context().close()));
  return {
    variant: partial ? 'partial mesh (active view 6, ≤ 12 connections)' : 'full mesh (today)',
    pages: PAGES,
    openMs: openedAt - startedAt,
    formedMs: formedAt === null ? null : formedAt - startedAt,
    connectionsMean: conns.reduce((a, b) => a + b, 0) / conns.length,
    connectionsMax: Math.max(...conns),
    createdMean: created.reduce((a, b) => a + b, 0) / created.length,
    relayEventsPerPagePerMinute: events.length / PAGES / ((idleTo - idleFrom) / 60_000),
    relayEventsByType: events.reduce((acc, e) => ((acc[e.type] = (acc[e.type] ?? 0) + 1), acc), {}),
    messages: sends,
  };
}

export async function main() {
  await buildLab();
  const world = await startWorld();
  try {
    const variants = [];
    for (const partial of [false, true]) {
      const r = await runVariant(world, partial);
      variants.push(r);
      console.log(`[partial-mesh] ${r.variant}: ${r.connectionsMean.toFixed(1)} connections per page (max ${r.connectionsMax}), messages reached ${r.messages.map(m => `${m.reached}/${m.of} in ${m.lastMs} ms`).join(', ')}`);
    }
    const result = roundAll({ bench: 'partial-mesh', date: new Date().toISOString(), chromium: world.browser.version(), cpu: cpuInfo(), pages: PAGES, idleMs: IDLE_MS, variants });
    const fmt = x => (x === null || x === undefined ? '—' : String(Math.round(x)));
    const md = [
      `## Partial mesh against full mesh: ${PAGES} pages in one room`,
      '',
      machineLine(result, ['local Nostr relay, core lab pages (no widget), pages opened one after another']),
      '',
      '| variant | connections per page, mean (max) | RTCPeerConnections created per page | ms until one room (from the first page) | relay events per page per minute, idle | message: last page reached, ms (median of 5) | copies per page, max |',
      '|---|--:|--:|--:|--:|--:|--:|',
      ...result.variants.map(r => `| ${r.variant} | ${r.connectionsMean.toFixed(1)} (${r.connectionsMax}) | ${r.createdMean.toFixed(1)} | ${fmt(r.formedMs)} | ${r.relayEventsPerPagePerMinute.toFixed(2)} | ${fmt(median(r.messages.map(m => m.lastMs).filter(x => x !== null)))} (${r.messages.filter(m => m.reached === m.of).length}/${MESSAGES} reached all) | ${Math.max(...r.messages.map(m => m.copies))} |`),
      '',
      `Relay events by type (idle ${IDLE_MS / 1000} s): ${result.variants.map(r => `${r.variant}: ${JSON.stringify(r.relayEventsByType)}`).join('; ')}.`,
      '',
      'Two cores run all the pages: opening takes about 3 s per page for either variant. A full mesh of 20 holds 19 connections per page; the partial mesh holds its active view and no more.',
      '',
    ].join('\n');
    writeResultFiles('partial-mesh', `${JSON.stringify(result, null, 2)}\n`, md);
    console.log(md);
  } finally {
    await world.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main().catch(exitOnError('bench: partial mesh could not run:'));
