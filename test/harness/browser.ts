import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { ServerProcess, startRelay, startStaticServer } from './processes';

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
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/** Everything a multi-peer browser test needs: a relay, a CDN-like asset server, a host-site server and Chromium. */
export interface World {
  relay: ServerProcess;
  /** Serves `www/` with CORS: plays the CDN that hosts the bundle. */
  assets: ServerProcess;
  /** Serves the repo root: plays the third-party site that embeds the widgets (test/fixtures/*.html). */
  host: ServerProcess;
  browser: Browser;
  /** URL of the script-tag entry on the asset server. */
  bundleUrl: string;
  contexts: BrowserContext[];
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const [relay, assets, host, browser] = await Promise.all([startRelay(), startStaticServer('www', true), startStaticServer('.'), launchChromium()]);
  const world: World = {
    relay,
    assets,
    host,
    browser,
    bundleUrl: `${assets.url}/build/p2p-widgets.esm.js`,
    contexts: [],
    async stop() {
      await browser.close().catch(() => undefined);
      await Promise.all([relay.stop(), assets.stop(), host.stop()]);
    },
  };
  return world;
}

/** Attributes for a widget on a fixture page. */
export type WidgetAttributes = Record<string, string>;

/**
 * Opens a host page in a fresh browser context (a separate visitor, own storage)
 * with one `<p2p-chat>` per entry of `widgets`, pointed at the test relay with no ICE servers.
 */
export async function openChatPage(world: World, room: string, widgets: WidgetAttributes[] = [{}]): Promise<Page> {
  const context = await world.browser.newContext();
  world.contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', err => console.error('[page error]', err.message));
  const params = new URLSearchParams({ bundle: world.bundleUrl, widgets: JSON.stringify(widgets.map(w => ({ room, 'relay-urls': world.relay.url, 'ice-servers': '[]', ...w }))) });
  await page.goto(`${world.host.url}/test/fixtures/chat-host.html?${params}`);
  await page.waitForFunction(() => customElements.get('p2p-chat') !== undefined);
  return page;
}

/** Waits until the widget (nth on the page) says it is connected to `n` peers. */
export async function waitForPeers(page: Page, n: number, nth = 0, timeout = 30_000): Promise<void> {
  const status = page.locator('p2p-chat').nth(nth).getByRole('status');
  const text = n === 1 ? 'Connected to 1 peer' : `Connected to ${n} peers`;
  await status.filter({ hasText: new RegExp(`^${text}$`) }).waitFor({ timeout });
}

/** A fresh room name per test so runs never meet each other on a relay. */
export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
