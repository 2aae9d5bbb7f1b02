#!/usr/bin/env node
/**
 * Partial mesh in the simulator (part of `npm run bench`; alone: `node bench/overlay.mjs`): the real
 * membership (HyParView) and broadcast (Plumtree) code of src/core/overlay, bundled with esbuild
 * and run in Node by the seeded simulator of src/core/testing/overlay-simulator.ts (per-pair
 * latency 20–150 ms, 1 % loss, 2 Mbit/s upload queues, 0.3–0.9 s to open a link, a cap of 12
 * links, crashes noticed after 1–5 s). For each room size (BENCH_OVERLAY_SIZES, default
 * 100,300,1000): pages join over 30 s, settle 20 s; AUTHORS (20) pages each publish once (their
 * trees form), CALM_MESSAGES (60) more come with every page staying (one every 0.5 s), then 10 %
 * of the pages are replaced per minute for 60 s while one message every
 * 0.5 s comes from a random author (120 messages); figures over the pages present for each
 * message's whole lifetime. Beside it, the same room as a full mesh (every page linked to every
 * other, a message sent once per link): what each page would hold and send today.
 *
 * Writes bench/results/overlay.json and .md. Never fails on numbers.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../test/harness/processes.mjs';
import { machineInfo } from './lib/machine.mjs';
import { roundAll, writeResultFiles } from './lib/results.mjs';
import { exitOnError } from './lib/script-entry.mjs';

const SIZES = (process.env.BENCH_OVERLAY_SIZES ?? '100,300,1000').split(',').map(Number);
const AUTHORS = 20;
const MESSAGES = 120;
/** Messages sent before the churn, with every page staying (3 per author). */
const CALM_MESSAGES = 60;
const SEED = Number(process.env.BENCH_OVERLAY_SEED ?? 1);

async function loadSimulator() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'overlay-bench-'));
  const outfile = path.join(dir, 'overlay-simulator.mjs');
  await build({ entryPoints: [path.join(ROOT, 'src/core/testing/overlay-simulator.ts')], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error' });
  const mod = await import(pathToFileURL(outfile).href);
  rmSync(dir, { recursive: true, force: true });
  return mod;
}

function runRoom({ OverlaySimulation, overlayReport }, n) {
  const started = Date.now();
  const sim = new OverlaySimulation({ seed: SEED + n });
  const views = sim.watchViews();
  for (let i = 0; i < n; i++) {
    sim.addPeer();
    sim.run(30_000 / n);
  }
  sim.run(20_000);
  const joinLinks = sim.linksCreated;
  const authors = sim.alive().slice(0, AUTHORS);
  for (const a of authors) {
    sim.publish(a);
    sim.run(250);
  }
  const firstMessages = sim.messages.slice();
  sim.run(5000);
  // Without churn: the trees settle (each message lets a page move to a neighbour fewer hops from the author).
  const calmFrom = sim.messages.length;
  for (let i = 0; i < CALM_MESSAGES; i++) {
    sim.publish(authors[i % authors.length]);
    sim.run(500);
  }
  sim.run(5000);
  const calm = overlayReport(sim, sim.messages.slice(calmFrom));
  const before = { links: sim.linksCreated, sent: sim.traffic.sent, bytes: sim.traffic.bytes, at: sim.now };
  const from = sim.messages.length;
  sim.churn(0.1, 60_000);
  let k = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const live = authors.filter(a => a.alive);
    sim.publish(live[k++ % live.length]);
    sim.run(500);
  }
  sim.run(10_000);
  const minutes = (sim.now - before.at) / 60_000;
  const alive = sim.alive();
  const steady = overlayReport(sim, sim.messages.slice(from));
  const first = overlayReport(sim, firstMessages);
  const linkCounts = alive.map(p => p.links.size);
  const actives = alive.map(p => p.membership.active.size);
  return {
    peers: n,
    steady,
    calm,
    firstFromAuthor: first,
    views,
    activeMin: Math.min(...actives),
    activeMax: Math.max(...actives),
    activeMean: actives.reduce((a, b) => a + b, 0) / actives.length,
    linksPerPageMax: Math.max(...linkCounts),
    linksCreatedPerPageJoining: joinLinks / n,
    linksCreatedPerPagePerMinute: (sim.linksCreated - before.links) / alive.length / minutes,
    messagesSentPerPagePerMinute: (sim.traffic.sent - before.sent) / alive.length / minutes,
    bytesSentPerPagePerMinute: (sim.traffic.bytes - before.bytes) / alive.length / minutes,
    fullMesh: { linksPerPage: n - 1, sendsPerMessagePerPage: (n - 1) / n, sendsPerMessage: n - 1 },
    overlaySendsPerMessage: (sim.traffic.sent - before.sent) / MESSAGES,
    wallMs: Date.now() - started,
  };
}

export async function main() {
  const sim = await loadSimulator();
  const rooms = [];
  for (const n of SIZES) {
    const r = runRoom(sim, n);
    rooms.push(r);
    console.log(`[overlay] ${n} pages: reached ${(r.steady.reached * 100).toFixed(2)} %, p95 ${r.steady.p95Ms.toFixed(0)} ms, p99 ${r.steady.p99Ms.toFixed(0)} ms, p95 ${r.steady.p95Hops} hops, ${r.steady.meanDuplicates.toFixed(2)} duplicates/msg/page (${(r.wallMs / 1000).toFixed(1)} s)`);
  }
  const result = roundAll({ bench: 'overlay', date: new Date().toISOString(), ...machineInfo(), seed: SEED, authors: AUTHORS, messages: MESSAGES, rooms });
  const pct = x => `${(x * 100).toFixed(2)} %`;
  const f0 = x => x.toFixed(0);
  const md = [
    '## Partial mesh (HyParView + Plumtree) in the simulator',
    '',
    `${result.date} · Node ${result.node} · ${result.cpu.count}× ${result.cpu.model} · seed ${SEED} · per-pair latency 20–150 ms, 1 % loss, 2 Mbit/s uplinks, links open in 0.3–0.9 s, ≤ 12 links per page, crashes noticed in 1–5 s`,
    '',
    `### Messages under churn (10 % of pages replaced per minute; ${MESSAGES} messages from ${AUTHORS} authors whose trees exist; pages present for a message's whole lifetime)`,
    '',
    '| pages | reached | within 1 s | p50 ms | p95 ms | p99 ms | p95 hops | max hops | duplicates per message per page (mean / max) |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rooms.map(r => `| ${r.peers} | ${pct(r.steady.reached)} | ${pct(r.steady.within1s)} | ${f0(r.steady.p50Ms)} | ${f0(r.steady.p95Ms)} | ${f0(r.steady.p99Ms)} | ${r.steady.p95Hops} | ${r.steady.maxHops} | ${r.steady.meanDuplicates.toFixed(2)} / ${r.steady.maxDuplicates} |`),
    '',
    `### Without churn (${CALM_MESSAGES} messages from the same authors, every page staying; sent before the churn above)`,
    '',
    '| pages | reached | within 1 s | p50 ms | p95 ms | p99 ms | p95 hops | max hops | duplicates per message per page (mean / max) |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rooms.map(r => `| ${r.peers} | ${pct(r.calm.reached)} | ${pct(r.calm.within1s)} | ${f0(r.calm.p50Ms)} | ${f0(r.calm.p95Ms)} | ${f0(r.calm.p99Ms)} | ${r.calm.p95Hops} | ${r.calm.maxHops} | ${r.calm.meanDuplicates.toFixed(2)} / ${r.calm.maxDuplicates} |`),
    '',
    `### An author's first message (its tree does not exist yet: pushed on every link, then pruned)`,
    '',
    '| pages | reached | p95 ms | p95 hops | duplicates per page (mean / max) |',
    '|--:|--:|--:|--:|--:|',
    ...rooms.map(r => `| ${r.peers} | ${pct(r.firstFromAuthor.reached)} | ${f0(r.firstFromAuthor.p95Ms)} | ${r.firstFromAuthor.p95Hops} | ${r.firstFromAuthor.meanDuplicates.toFixed(2)} / ${r.firstFromAuthor.maxDuplicates} |`),
    '',
    '### Views and connections (full mesh: what every page would hold today)',
    '',
    '| pages | active view min / mean / max | links per page, max (full mesh) | longest stretch below 4 neighbours | links created per page: joining / per minute of churn | overlay messages sent per broadcast (full mesh) | messages sent per page per minute |',
    '|--:|--:|--:|--:|--:|--:|--:|',
    ...rooms.map(r => `| ${r.peers} | ${r.activeMin} / ${r.activeMean.toFixed(1)} / ${r.activeMax} | ${r.linksPerPageMax} (${r.fullMesh.linksPerPage}) | ${(r.views.longestBelowMinMs / 1000).toFixed(1)} s | ${r.linksCreatedPerPageJoining.toFixed(1)} / ${r.linksCreatedPerPagePerMinute.toFixed(2)} | ${f0(r.overlaySendsPerMessage)} (${r.fullMesh.sendsPerMessage}) | ${f0(r.messagesSentPerPagePerMinute)} |`),
    '',
    'Overlay messages include membership (joins, shuffles, neighbour requests) and lazy announcements, not only pushes. The simulator runs the shipped code; the numbers are its model of a network, not a browser measurement.',
    '',
  ].join('\n');
  writeResultFiles('overlay', `${JSON.stringify(result, null, 2)}\n`, md);
  console.log(md);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main().catch(exitOnError('bench: overlay could not run:'));
