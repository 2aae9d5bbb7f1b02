/**
 * Headless Chromium and the "world" of a multi-peer browser test: a local relay,
 * a CDN-like asset server for the bundle, a host-site server and the browser.
 */
import { chromium } from 'playwright-core';
import { startRelay, startStaticServer } from './processes.mjs';

/** Chromium flags that work on these machines (see shared RECIPES.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-gpu',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

/** Launches Debian's Chromium headless (override the path with CHROMIUM_PATH). */
export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/**
 * @typedef {import('./processes.mjs').ServerProcess} ServerProcess
 * @typedef {object} World
 * @property {ServerProcess} relay the local Nostr relay
 * @property {ServerProcess} assets serves `www/` with CORS: plays the CDN that hosts the bundle
 * @property {ServerProcess} host serves the repo root: plays the third-party site (test/fixtures/*.html)
 * @property {import('playwright-core').Browser} browser
 * @property {string} bundleUrl URL of the script-tag entry on the asset server
 * @property {() => Promise<void>} stop closes the browser and stops the servers by PID
 */

/** @returns {Promise<World>} */
export async function startWorld() {
  const [relay, assets, host, browser] = await Promise.all([startRelay(), startStaticServer('www', true), startStaticServer('.'), launchChromium()]);
  return {
    relay,
    assets,
    host,
    browser,
    bundleUrl: `${assets.url}/build/p2p-widgets.esm.js`,
    async stop() {
      await browser.close().catch(() => undefined);
      await Promise.all([relay.stop(), assets.stop(), host.stop()]);
    },
  };
}

/**
 * Opens a host page in a fresh browser context (a separate visitor with its own
 * storage) with one `<p2p-chat>` per entry of `widgets`, pointed at the test relay
 * with no ICE servers (loopback host candidates only).
 * @param {World} world
 * @param {string} room
 * @param {Record<string, string>[]} [widgets] attributes per widget
 * @param {{ context?: import('playwright-core').BrowserContext }} [options] reuse a visitor's context (same storage) instead of a fresh one
 * @returns {Promise<import('playwright-core').Page>}
 */
export function openChatPage(world, room, widgets = [{}], options = {}) {
  return openWidgetPage(world, 'p2p-chat', room, widgets, options);
}

/**
 * Opens a host page with one `tag` element per entry of `widgets` (see {@link openChatPage}).
 * @param {World} world
 * @param {'p2p-chat' | 'p2p-gallery' | 'p2p-music'} tag
 * @param {string} room
 * @param {Record<string, string>[]} [widgets]
 * @param {{ context?: import('playwright-core').BrowserContext }} [options]
 * @returns {Promise<import('playwright-core').Page>}
 */
export async function openWidgetPage(world, tag, room, widgets = [{}], options = {}) {
  const context = options.context ?? (await world.browser.newContext());
  const page = await context.newPage();
  page.on('pageerror', err => console.error('[page error]', err.message));
  const params = new URLSearchParams({
    bundle: world.bundleUrl,
    tag,
    widgets: JSON.stringify(widgets.map(w => ({ room, 'relay-urls': world.relay.url, 'ice-servers': '[]', ...w }))),
  });
  await page.goto(`${world.host.url}/test/fixtures/widget-host.html?${params}`);
  await page.waitForFunction(t => customElements.get(t) !== undefined, tag);
  return page;
}

/**
 * Waits until the nth widget on the page says it is connected to `n` peers. The default 60 s is
 * a generous ceiling for first connections on a loaded machine; joins take 1–3 s here, including
 * into rooms idle for minutes since the Trystero offer-pool patch (README, "Trystero patches").
 * @param {import('playwright-core').Page} page
 * @param {number} n
 */
export async function waitForPeers(page, n, nth = 0, timeout = 60_000, tag = 'p2p-chat') {
  const text = n === 1 ? 'Connected to 1 peer' : `Connected to ${n} peers`;
  await page.locator(tag).nth(nth).locator('[part="status"]').filter({ hasText: new RegExp(`^${text}$`) }).waitFor({ timeout });
}

/** A fresh room name per test so runs never meet each other on a relay. */
export function uniqueRoom(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Reads the chat records of every room from the page's IndexedDB with the plain
 * IndexedDB API (not through the widget), for tests that check what is stored.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Array<{ author: string, seq: number, ts: number, kind: string, text?: string, retracted?: boolean, target?: number }>>}
 */
export function storedRecords(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('p2p-widgets');
        // Never create the database here (that would get in the way of the widget's own schema setup).
        open.onupgradeneeded = () => open.transaction.abort();
        open.onerror = () => (open.error?.name === 'AbortError' ? resolve([]) : reject(open.error));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('signedRecords')) {
            db.close();
            return resolve([]);
          }
          // The chat rows of the shared signed-record table (index [feature+room]: every room's 'chat' rows).
          const get = db.transaction('signedRecords').objectStore('signedRecords').index('[feature+room]').getAll(IDBKeyRange.bound(['chat'], ['chat', []]));
          get.onsuccess = () => {
            db.close();
            resolve(get.result);
          };
          get.onerror = () => reject(get.error);
        };
      }),
  );
}

/**
 * Opens the swarm lab page (core modules, no widget) in a fresh context and joins `room`.
 * @param {World} world
 * @param {string} room
 * @param {{ context?: import('playwright-core').BrowserContext, cacheBytes?: number, requestTimeoutMs?: number, partialMesh?: { activeTarget?: number, activeMin?: number, activeMax?: number, maxLinks?: number } }} [options]
 */
export async function openLabPage(world, room, options = {}) {
  const context = options.context ?? (await world.browser.newContext());
  const page = await context.newPage();
  page.on('pageerror', err => console.error('[lab page error]', err.message));
  await page.goto(`${world.host.url}/test/lab/swarm-lab.html`);
  await page.waitForFunction(() => window.labReady === true);
  await page.evaluate(([url, r, o]) => window.lab.join(url, r, o), [world.relay.url, room, { cacheBytes: options.cacheBytes, requestTimeoutMs: options.requestTimeoutMs, partialMesh: options.partialMesh }]);
  return page;
}

/** Waits until the lab page has `n` peers. */
export async function waitForLabPeers(page, n, timeout = 30_000) {
  await page.waitForFunction(k => window.lab.peers() >= k, n, { timeout });
}

/**
 * Opens the picture whose tile has `cid` in the page's `<p2p-gallery>` lightbox, waits for the
 * full image (fetched by the swarm) to decode and returns its bytes.
 * @param {import('playwright-core').Page} page
 * @param {string} cid
 * @returns {Promise<Buffer>}
 */
export async function openFullPicture(page, cid) {
  const gallery = page.locator('p2p-gallery');
  await gallery.locator(`[part="tile"][data-cid="${cid}"] button`).click();
  const full = gallery.getByRole('dialog').locator('img.full');
  await full.waitFor({ timeout: 30_000 });
  const bytes = await full.evaluate(async img => {
    await img.decode();
    return [...new Uint8Array(await (await fetch(img.src)).arrayBuffer())];
  });
  return Buffer.from(bytes);
}
