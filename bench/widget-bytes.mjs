#!/usr/bin/env node
/**
 * Bytes a visitor downloads before each widget has rendered: the host page loads the bundle from
 * the asset server (the "CDN"), with one widget on it; every response from the asset server that
 * finished before the widget's status line was on screen is counted, at its gzip size (zlib level
 * 9 of the body, as a CDN would serve it), then what loads later (on first use) separately.
 *
 * Issue targets (gzip, until rendered): <p2p-chat> ≤ 80 KiB, <p2p-music> ≤ 120 KiB, <p2p-gallery> ≤ 100 KiB.
 *
 * Writes bench/results/widget-bytes.json and .md. Needs `npm run build` first (www/build).
 * Knob: BENCH_BYTES_SETTLE_MS (3000): how long to keep listening after render for later loads.
 */
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { startWorld, uniqueRoom } from '../test/harness/browser.mjs';
import { writeResultFiles } from './lib/results.mjs';

const SETTLE_MS = Number(process.env.BENCH_BYTES_SETTLE_MS ?? 3000);
const TARGETS_KIB = { 'p2p-chat': 80, 'p2p-music': 120, 'p2p-gallery': 100 };

/** Loads one widget on a fresh page and measures what came from the asset server before and after it rendered. */
async function measure(world, tag) {
  const context = await world.browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const responses = new Map();
  cdp.on('Network.responseReceived', e => {
    if (e.response.url.startsWith(world.assets.url)) responses.set(e.requestId, { url: e.response.url });
  });
  const finished = [];
  cdp.on('Network.loadingFinished', e => {
    const r = responses.get(e.requestId);
    if (r) finished.push({ ...r, requestId: e.requestId, at: Date.now() });
  });
  const params = new URLSearchParams({
    bundle: world.bundleUrl,
    tag,
    widgets: JSON.stringify([{ room: uniqueRoom('bytes'), 'relay-urls': world.relay.url, 'ice-servers': '[]', 'user-name': 'Bench' }]),
  });
  await page.goto(`${world.host.url}/test/fixtures/widget-host.html?${params}`);
  await page.locator(tag).locator('[part="status"]').waitFor({ timeout: 30_000 });
  const renderedAt = Date.now();
  await page.waitForTimeout(SETTLE_MS);
  const files = [];
  for (const f of finished) {
    const { body, base64Encoded } = await cdp.send('Network.getResponseBody', { requestId: f.requestId });
    const bytes = Buffer.from(body, base64Encoded ? 'base64' : 'utf8');
    files.push({ file: path.basename(new URL(f.url).pathname), bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, beforeRender: f.at <= renderedAt });
  }
  await context.close();
  const sum = (list, key) => list.reduce((n, f) => n + f[key], 0);
  const before = files.filter(f => f.beforeRender);
  const after = files.filter(f => !f.beforeRender);
  return { tag, files, gzipBeforeRender: sum(before, 'gzip'), rawBeforeRender: sum(before, 'bytes'), filesBeforeRender: before.length, gzipAfterRender: sum(after, 'gzip') };
}

const world = await startWorld();
const results = [];
try {
  for (const tag of Object.keys(TARGETS_KIB)) results.push(await measure(world, tag));
} finally {
  await world.stop();
}

const kib = n => (n / 1024).toFixed(1);
const rows = results.map(r => `| \`<${r.tag}>\` | ${kib(r.gzipBeforeRender)} | ${TARGETS_KIB[r.tag]} | ${r.gzipBeforeRender / 1024 <= TARGETS_KIB[r.tag] ? 'met' : 'not met'} | ${kib(r.rawBeforeRender)} | ${r.filesBeforeRender} | ${kib(r.gzipAfterRender)} |`);
const md = `# Bytes until each widget has rendered

\`node bench/widget-bytes.mjs\` (after \`npm run build\`), ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Chromium headless.
Every response of the asset server that finished before the widget's status line was on screen, at its gzip
size (level 9); "later" is what the widget loaded in the ${SETTLE_MS / 1000} s after (joining the room: strategy code).

| widget | gzip KiB until rendered | target KiB | | raw KiB | files | gzip KiB later |
| --- | ---: | ---: | --- | ---: | ---: | ---: |
${rows.join('\n')}

Files per widget (gzip bytes; * = before render):
${results.map(r => `- \`<${r.tag}>\`: ${r.files.map(f => `${f.file} ${f.gzip}${f.beforeRender ? '*' : ''}`).join(', ')}`).join('\n')}
`;
writeResultFiles('widget-bytes', JSON.stringify({ date: new Date().toISOString(), settleMs: SETTLE_MS, targetsKiB: TARGETS_KIB, results }, null, 2), md);
console.log(md);
