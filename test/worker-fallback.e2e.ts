import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { openFullPicture, openWidgetPage, startWorld, uniqueRoom, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

/**
 * The swarm writes received chunks through a background worker (src/core/swarm/chunk-write-worker.ts).
 * Where the page refuses it (a Content Security Policy without `worker-src blob:`) or it dies, the
 * chunks are written by the page itself: the transfer completes, the widget says so once in the
 * visitor's language, `p2pError` carries `worker-unavailable`, and what was received is kept.
 */
describe('transfers without the chunk-writing worker', () => {
  let world: World;
  let sharer: Page;
  let room = '';
  let cid = '';
  let original: Buffer;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const gallery = (page: Page) => page.locator('p2p-gallery');
  const tiles = (page: Page) => gallery(page).locator('[part="tile"]');
  const errorCodes = (page: Page): Promise<string[]> => page.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => e.detail.code));

  beforeAll(async () => {
    world = await startWorld();
    room = uniqueRoom('worker-fallback');
    sharer = await openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': 'Ann' }]);
    await gallery(sharer).locator('input[type="file"]').setInputFiles([path.join(ROOT, 'test/fixtures/images/lake.png')]);
    await tiles(sharer).first().waitFor({ timeout: 20_000 });
    cid = (await tiles(sharer).first().getAttribute('data-cid'))!;
    original = await openFullPicture(sharer, cid);
  });

  afterAll(async () => {
    await world?.stop();
  });

  /** Opens a visitor in `context`, fetches the picture from Ann, and checks what a visitor should see. */
  async function fetchWithoutWorker(context: BrowserContext, name: string): Promise<Page> {
    const page = await openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': name }], { context });
    await expect.poll(() => tiles(page).count(), { timeout: 30_000 }).toBe(1);
    expect(sha(await openFullPicture(page, cid))).toBe(sha(original));
    await expect.poll(() => errorCodes(page), { timeout: 10_000 }).toContain('worker-unavailable');
    expect((await errorCodes(page)).filter(c => c === 'worker-unavailable')).toHaveLength(1);
    await expect.poll(() => gallery(page).locator('[part="error"]').textContent()).toBe('Background work is not available on this page; transfers are saved by the page itself and may be slower.');
    return page;
  }

  it('completes a transfer on a page whose Content Security Policy refuses workers, says so once, and keeps the picture', async () => {
    const context = await world.browser.newContext();
    // The host page's own policy, workers forbidden (`worker-src 'none'`), as a <meta> in its head
    // (a response header set through Playwright's routing would make Chromium treat the page as
    // outside the loopback address space and block the bundle); violations are recorded.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', e => ((window as any).cspViolations ??= []).push(e.effectiveDirective));
      new MutationObserver((_, observer) => {
        if (!document.head) return;
        const meta = document.createElement('meta');
        meta.httpEquiv = 'Content-Security-Policy';
        meta.content = "worker-src 'none'";
        document.head.prepend(meta);
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    const page = await fetchWithoutWorker(context, 'Bob');
    expect(await page.evaluate(() => (window as any).cspViolations)).toContain('worker-src');
    // Sharing works too: the picture is decoded and thumbnailed on the page's main thread instead.
    await gallery(page).locator('input[type="file"]').setInputFiles([path.join(ROOT, 'test/fixtures/images/forest.webp')]);
    await expect.poll(() => tiles(sharer).count(), { timeout: 20_000 }).toBe(2);

    // Kept: with its only other holder gone, the picture opens again after a reload from this device.
    await sharer.context().close();
    await page.reload();
    await expect.poll(() => tiles(page).count(), { timeout: 20_000 }).toBe(2);
    expect(sha(await openFullPicture(page, cid))).toBe(sha(original));
    await context.close();
  });

  it('completes a transfer when the worker dies at start, and says so once', async () => {
    // The first sharer left: a new one shares the same file (same content id).
    sharer = await openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': 'Ann' }]);
    await gallery(sharer).locator('input[type="file"]').setInputFiles([path.join(ROOT, 'test/fixtures/images/lake.png')]);
    await expect.poll(() => tiles(sharer).count(), { timeout: 20_000 }).toBe(1);
    const context = await world.browser.newContext();
    // Every worker this page starts runs a script that throws: its `error` event fires, as for a worker that crashes.
    await context.addInitScript(() => {
      const Original = window.Worker;
      window.Worker = class extends Original {
        constructor(_url: string | URL, options?: WorkerOptions) {
          super(URL.createObjectURL(new Blob(['throw new Error("worker crashed")'], { type: 'text/javascript' })), options);
        }
      } as typeof Worker;
    });
    await fetchWithoutWorker(context, 'Cy');
    await context.close();
  });
});
