import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWidgetPage, startWorld, uniqueRoom, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

/**
 * `<p2p-music partial-mesh="2">`: five pages with about two neighbours each (at most 4
 * connections). A track's record is forwarded along the overlay to every playlist; a page that is
 * not connected to the sharer plays it, its bytes fetched over a temporary link to the holder (as
 * the gallery's pictures, `test/gallery-partial-mesh.e2e.ts`).
 */
describe('music over the partial mesh', () => {
  let world: World;
  const names = ['Ann', 'Bob', 'Cy', 'Dee', 'Eve'];
  const pages: Page[] = [];
  const music = (page: Page) => page.locator('p2p-music');
  const tracks = (page: Page) => music(page).locator('[part="track"]');
  /** Names of the pages this one has a connection to (the connection panel's data). */
  const directNames = (page: Page): Promise<(string | null)[]> => music(page).evaluate(async (el: any) => (await el.getConnectionStats()).peers.map((p: { name: string | null }) => p.name));
  const waitConnected = (page: Page) => music(page).locator('[part="status"]').filter({ hasText: /^Connected to \d+ peers?/ }).waitFor({ timeout: 60_000 });
  const state = (page: Page) => music(page).evaluate((el: any) => el.getPlayerState()) as Promise<{ title: string | null; currentTime: number }>;

  beforeAll(async () => {
    world = await startWorld();
    const room = uniqueRoom('music-partial');
    for (const name of names) {
      const page = await openWidgetPage(world, 'p2p-music', room, [{ 'user-name': name, 'partial-mesh': '2' }]);
      if (pages.length) await waitConnected(page);
      pages.push(page);
    }
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('lists a track on every page and plays it on a page not connected to its sharer', async () => {
    const [ann] = pages;
    await music(ann).locator('header input[type="file"]').setInputFiles([path.join(ROOT, 'test/fixtures/audio/morning-tone.mp3')]);
    for (const page of pages) await expect.poll(() => tracks(page).count(), { timeout: 20_000 }).toBe(1);
    expect(await tracks(pages[4]).locator('.info .title').innerText()).toBe('Morning Tone');

    const direct = await Promise.all(pages.map(directNames));
    for (const d of direct) expect(d.length).toBeLessThanOrEqual(4);
    const far = pages.findIndex((_, i) => i > 0 && !direct[i].includes('Ann'));
    expect(far).toBeGreaterThan(0);
    const page = pages[far];
    const started = Date.now();
    const cid = await tracks(page).first().getAttribute('data-cid');
    await music(page).evaluate((el: any, c) => el.playTrack(c), cid);
    await expect.poll(async () => (await state(page)).currentTime, { timeout: 30_000, intervals: [100] }).toBeGreaterThan(0.3);
    console.log(`[music-partial-mesh] ${names[far]} (not connected to Ann) played the track ${Date.now() - started} ms after playTrack`);
    expect((await state(page)).title).toBe('Morning Tone');
    // The bytes came over a temporary link to Ann, the only holder, inside the cap.
    expect(await directNames(page)).toContain('Ann');
    expect((await directNames(page)).length).toBeLessThanOrEqual(4);
  });
});
