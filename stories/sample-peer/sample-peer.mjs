#!/usr/bin/env node
/**
 * The scripted sample peer of the Storybook: a headless Chromium page (a real visitor,
 * real widgets, real WebRTC) that sits in the story rooms on a relay and fills them:
 * - LIVE_ROOM: chat messages, three tracks (mp3 with LRC lyrics, wav, flac) and three
 *   pictures from the test fixtures; it answers every chat message it receives with
 *   `REPLY_PREFIX “…”` so a story can check a round trip;
 * - HISTORY_ROOM: LONG_HISTORY chat messages that a newcomer syncs on join.
 *
 * Usage: node stories/sample-peer/sample-peer.mjs --relay ws://127.0.0.1:7777
 * Prints `sample peer ready` once everything is shared; stops on SIGTERM/SIGINT
 * (closes the browser and its static server).
 *
 * Its pages are never reloaded: a newcomer meets a page that has sat alone for minutes within
 * about a second (README, "Trystero patches"; `node bench/mesh-join.mjs`). An earlier version
 * reloaded a page alone for 40 s to work around the idle-room bug those patches fix; a reload
 * that fell while a story was connecting lost that story's messages.
 */
import path from 'node:path';
import { launchChromium } from '../../test/harness/browser.mjs';
import { ROOT, startStaticServer } from '../../test/harness/processes.mjs';
import { HISTORY_ROOM, LIVE_ROOM, LONG_HISTORY, REPLY_PREFIX, SAMPLE_PEER_NAME, STORY_APP_ID } from './rooms.mjs';

const argv = process.argv.slice(2);
const relayUrl = argv[argv.indexOf('--relay') + 1];
if (!argv.includes('--relay') || !relayUrl) {
  console.error('usage: sample-peer.mjs --relay ws://HOST:PORT');
  process.exit(2);
}

const site = await startStaticServer('.');
const browser = await launchChromium();
// One visitor (one context: one IndexedDB), one page per room.
const context = await browser.newContext();

// Answer every live message from someone else in the live room (installed before the pages load).
await context.addInitScript(
  ({ live, prefix }) => {
    document.addEventListener('p2pMessage', event => {
      const el = /** @type {any} */ (event.target);
      const detail = /** @type {CustomEvent} */ (event).detail;
      if (el.dataset.room !== live || detail.own || !detail.peerId) return;
      el.sendMessage(`${prefix} “${detail.text.slice(0, 200)}”`).catch(() => undefined);
    });
  },
  { live: LIVE_ROOM, prefix: REPLY_PREFIX },
);

/**
 * A page of the sample peer holding `tags` in `room`.
 * @param {string} room
 * @param {string[]} tags
 */
async function openRoomPage(room, tags) {
  const page = await context.newPage();
  page.on('pageerror', err => console.error('[sample peer page error]', err.message));
  const params = new URLSearchParams({
    bundle: `${site.url}/www/build/p2p-widgets.esm.js`,
    common: JSON.stringify({ 'app-id': STORY_APP_ID, 'relay-urls': relayUrl, 'ice-servers': '[]', 'user-name': SAMPLE_PEER_NAME, lang: 'en' }),
    widgets: JSON.stringify(tags.map(tag => ({ tag, room }))),
  });
  await page.goto(`${site.url}/stories/sample-peer/sample-peer.html?${params}`);
  await page.waitForFunction(t => t.every(tag => customElements.get(tag)), tags);
  return { room, page };
}

const fixture = (...names) => names.map(n => path.join(ROOT, 'test/fixtures', n));

/** Shares the sample content; returns the time it took in ms. */
async function share(live, history) {
  const started = Date.now();
  await live.page
    .locator('p2p-music header input[type="file"]')
    .setInputFiles(fixture('audio/morning-tone.mp3', 'audio/morning-tone.lrc', 'audio/evening-tone.wav', 'audio/night-tone.flac'));
  await live.page.locator('p2p-gallery input[type="file"]').setInputFiles(fixture('images/lake.png', 'images/forest.webp', 'images/sunset-gps.jpg'));
  await live.page.evaluate(async () => {
    const chat = /** @type {any} */ (document.querySelector('p2p-chat'));
    await chat.sendMessage('Hello! I am a scripted sample peer, here so the stories show a live room.');
    await chat.sendMessage('I shared three tracks and three pictures. Send me a message: I answer every one.');
  });
  await history.page.evaluate(async count => {
    const chat = /** @type {any} */ (document.querySelector('p2p-chat'));
    for (let i = 1; i <= count; i++) await chat.sendMessage(`Message ${i} of ${count} in a long conversation. Older ones load as you scroll up.`);
  }, LONG_HISTORY);
  await live.page.locator('p2p-music [part="track"]').nth(2).waitFor({ timeout: 60_000 });
  await live.page.locator('p2p-gallery [part="tile"]').nth(2).waitFor({ timeout: 60_000 });
  return Date.now() - started;
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await browser.close().catch(() => undefined);
  await site.stop();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const [live, history] = [await openRoomPage(LIVE_ROOM, ['p2p-chat', 'p2p-music', 'p2p-gallery']), await openRoomPage(HISTORY_ROOM, ['p2p-chat'])];
const ms = await share(live, history);
console.log(`sample peer ready: ${SAMPLE_PEER_NAME} in rooms ${LIVE_ROOM} and ${HISTORY_ROOM} on ${relayUrl} (shared in ${ms} ms)`);
