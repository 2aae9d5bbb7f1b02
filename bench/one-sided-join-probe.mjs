#!/usr/bin/env node
/**
 * Repeats the hostile-peer test's setup to catch one-sided joins: two chat widgets meet in a fresh
 * room, then a bare Trystero client joins; a round is one-sided when, 30 s later, one side lists the
 * other and the other does not. Each round uses a fresh browser, relay and servers (as each test file
 * does). Prints one line per round and a count at the end.
 *
 *   node bench/one-sided-join-probe.mjs [rounds=40]   (after `npm run build`)
 *
 * Session 4, with an earlier form of this loop, before the handshake-failure patch: 2 one-sided rounds of 78.
 * With the patch, a lost readiness heals ~10.5 s after the join (test/mesh-recovery.e2e.ts).
 */
import { openChatPage, launchChromium, uniqueRoom, waitForPeers } from '../test/harness/browser.mjs';
import { startRelay, startStaticServer } from '../test/harness/processes.mjs';

const ROUNDS = Number(process.argv[2] ?? 40);
let oneSided = 0;
for (let i = 0; i < ROUNDS; i++) {
  const [relay, assets, host, browser] = await Promise.all([startRelay(), startStaticServer('www', true), startStaticServer('.'), launchChromium()]);
  const world = { relay, assets, host, browser, bundleUrl: `${assets.url}/build/p2p-widgets.esm.js` };
  const room = uniqueRoom('probe');
  const t0 = Date.now();
  let line;
  try {
    const [ann, bob] = await Promise.all(['Ann', 'Bob'].map(name => openChatPage(world, room, [{ 'user-name': name }])));
    await Promise.all([ann, bob].map(p => waitForPeers(p, 1, 0, 30_000)));
    const bare = await (await browser.newContext()).newPage();
    await bare.goto(`${host.url}/test/fixtures/bare-trystero.html`);
    await bare.waitForFunction(() => window.ready === true);
    const bareMet = await bare.evaluate(([url, r]) => window.join(url, r, location.host, 2, 30_000).then(ids => ids.length, () => Object.keys(window.room.getPeers()).length), [relay.url, room]);
    const widgetsMet = await Promise.all([ann, bob].map(p => waitForPeers(p, 2, 0, 5_000).then(() => 1, () => 0)));
    const ok = bareMet === 2 && widgetsMet.every(Boolean);
    if (!ok) oneSided++;
    line = `${i} ${ok ? 'ok' : 'ONE-SIDED'} ${Date.now() - t0} ms: bare client lists ${bareMet}/2, widgets list it: ${widgetsMet.join(',')}`;
  } catch (err) {
    line = `${i} could not run: ${err.message.split('\n')[0]}`;
  }
  console.log(line);
  await browser.close();
  await Promise.all([relay.stop(), assets.stop(), host.stop()]);
}
console.log(`${oneSided} one-sided rounds of ${ROUNDS}`);
