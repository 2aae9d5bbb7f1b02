#!/usr/bin/env node
/**
 * Reproduced the "late join" failure of Trystero 0.25.4, fixed by the offer-pool patch in
 * patches/ (root cause: bench/idle-join-probe.mjs); kept as a regression check, not part of `npm run bench`:
 * three `<p2p-music>` pages (no tracks) join a room, wait WAIT0 ms (default 62 000, longer than
 * Trystero 0.25's offer-pool TTL of 57.3 s), then N fresh pages join one after another (each leaves
 * before the next). Each newcomer should reach "Connected to 3 peers" within 20 s. With WAIT0=0 and
 * GAP=0 they did; once the three had been in the room for about a minute, most newcomers stayed at
 * 1–2 peers (before the patch). With the patch: 3 of 3 newcomers met all three in 0.96–1.25 s
 * (WAIT0=75000 N=3 TAG=p2p-chat, 2026-12-01).
 *
 *   node bench/repro-late-join.mjs            # WAIT0=62000 N=4
 *   WAIT0=0 N=8 node bench/repro-late-join.mjs
 *
 * Knobs: WAIT0 (ms before the first newcomer), N (newcomers), GAP (ms between newcomers), TAG (widget).
 */
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers } from '../test/harness/browser.mjs';
import { elapsedLog, sleep } from './lib/timing.mjs';

const WAIT0 = Number(process.env.WAIT0 ?? 62_000);
const N = Number(process.env.N ?? 4);
const GAP = Number(process.env.GAP ?? 0);
const TAG = process.env.TAG ?? 'p2p-music';
const t0 = Date.now();
const log = elapsedLog(t0);
const status = p => p.locator(TAG).locator('[part="status"]').textContent().catch(() => '?');
const errors = p => p.evaluate(() => window.p2pEvents.filter(e => e.type === 'p2pError').map(e => e.detail.message)).catch(() => []);

const world = await startWorld();
let failed = 0;
try {
  const room = uniqueRoom('repro-late-join');
  const [a, c, d] = await Promise.all(['Ann', 'Cy', 'Dee'].map(n => openWidgetPage(world, TAG, room, [{ 'user-name': n }])));
  await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, 40_000, TAG)));
  log(`A, C, D connected; waiting ${WAIT0} ms`);
  await sleep(WAIT0);
  for (let i = 1; i <= N; i++) {
    const b = await openWidgetPage(world, TAG, room, [{ 'user-name': `Bob${i}` }]);
    const start = Date.now();
    try {
      await waitForPeers(b, 3, 0, 20_000, TAG);
      log(`Bob${i}: connected to 3 peers after ${Date.now() - start} ms`);
    } catch {
      failed++;
      log(`Bob${i}: FAILED — B "${await status(b)}", A "${await status(a)}", C "${await status(c)}", D "${await status(d)}"; p2pError on A, C, D: ${JSON.stringify([...(await errors(a)), ...(await errors(c)), ...(await errors(d))]).slice(0, 400)}`);
    }
    await b.evaluate(t => document.querySelector(t)?.remove(), TAG).catch(() => undefined);
    await sleep(300);
    await b.context().close();
    await Promise.all([a, c, d].map(p => waitForPeers(p, 2, 0, 20_000, TAG))).catch(() => log('A, C, D still count the newcomer'));
    await sleep(GAP);
  }
  log(`${N - failed}/${N} newcomers connected to all three`);
} finally {
  await world.stop();
}
