import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';

/** Five visitors form a full mesh; every message reaches every page exactly once. */
describe('five pages in one room', () => {
  let world: World;
  let pages: Page[];
  const names = ['Ann', 'Bob', 'Cy', 'Dee', 'Eve'];

  beforeAll(async () => {
    world = await startWorld();
    const room = uniqueRoom('five');
    pages = await Promise.all(names.map(name => openChatPage(world, room, [{ 'user-name': name }])));
    await Promise.all(pages.map(page => waitForPeers(page, 4, 0, 60_000)));
  });

  afterAll(async () => {
    await world?.stop();
  });

  const peerNames = (page: Page) => page.locator('p2p-chat').getByRole('list', { name: 'In the room' }).locator('li:not(.self)').allInnerTexts();

  it('forms a full mesh: each page lists the four others by name', async () => {
    for (const [i, page] of pages.entries()) {
      const others = names.filter((_, j) => j !== i);
      await expect.poll(async () => (await peerNames(page)).map(n => n.split(' · ')[0]).sort()).toEqual(others.sort());
    }
  });

  it('delivers every message to every page exactly once', async () => {
    await Promise.all(pages.map((page, i) => page.locator('p2p-chat').evaluate((el: any, text) => el.sendMessage(text), `hello from ${names[i]}`)));
    const expected = names.map(n => `hello from ${n}`).sort();
    for (const page of pages) {
      await expect
        .poll(async () => (await page.locator('p2p-chat').locator('.message .text').allInnerTexts()).sort(), { timeout: 15_000 })
        .toEqual(expected);
      const events = await page.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pMessage').map((e: any) => e.detail.text));
      expect(events.sort()).toEqual(expected);
    }
  });

  it('removes a page that closes mid-conversation from everyone else’s peer list', async () => {
    // Close without beforeunload: the browser tab is gone, as when a visitor's laptop sleeps or a tab crashes.
    await pages[4].context().close();
    const rest = pages.slice(0, 4);
    await Promise.all(rest.map(page => waitForPeers(page, 3, 0, 60_000)));
    for (const page of rest) {
      expect((await peerNames(page)).map(n => n.split(' · ')[0])).not.toContain('Eve');
      await expect.poll(() => page.locator('p2p-chat').locator('.notice').last().innerText()).toBe('Eve left');
    }
    // The conversation goes on among the remaining four.
    await rest[0].locator('p2p-chat').evaluate((el: any) => el.sendMessage('still four of us'));
    for (const page of rest.slice(1)) {
      await expect.poll(async () => (await page.locator('p2p-chat').locator('.message .text').allInnerTexts()).at(-1)).toBe('still four of us');
    }
  });
});
