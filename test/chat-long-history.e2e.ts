import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';

/** A long history stays fast: only what is on screen is in the DOM; older pages load on scroll. */
describe('a long chat history', () => {
  let world: World;
  const COUNT = 1500;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const rows = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('li').count();
  const texts = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('.message .text').allInnerTexts();

  it('virtualizes the list, loads older history on scroll, and offers a jump to new messages', async () => {
    const room = uniqueRoom('long');
    const a = await openChatPage(world, room, [{ 'user-name': 'Ann' }]);
    await a.locator('p2p-chat').getByRole('status').filter({ hasText: 'Waiting for peers' }).waitFor();
    await a.locator('p2p-chat').evaluate(async (el: any, n) => {
      for (let i = 0; i < n; i++) await el.sendMessage(`message ${i}`);
    }, COUNT);
    await expect.poll(async () => (await texts(a)).at(-1)).toBe(`message ${COUNT - 1}`);
    expect(await rows(a)).toBeLessThan(60);

    // Reopening shows the newest messages at once, with a bounded DOM.
    await a.reload();
    await expect.poll(async () => (await texts(a)).at(-1)).toBe(`message ${COUNT - 1}`);
    expect(await rows(a)).toBeLessThan(60);

    // Scrolling up loads older pages from IndexedDB until the first message shows.
    const list = a.locator('p2p-chat').getByRole('log', { name: 'Messages' });
    // As a reader does: the mouse wheel over the list (the list follows new messages until the reader scrolls away).
    const scrollUp = async () => {
      await list.hover();
      await a.mouse.wheel(0, -100_000);
      await a.waitForTimeout(50);
    };
    await expect
      .poll(
        async () => {
          await scrollUp();
          return (await texts(a)).includes('message 0');
        },
        { timeout: 60_000, intervals: [100] },
      )
      .toBe(true);
    expect(await rows(a)).toBeLessThan(60);

    // While scrolled up, a peer's new message shows a "new messages" button that jumps to the end.
    const b = await openChatPage(world, room, [{ 'user-name': 'Bob' }]);
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    await scrollUp();
    await b.locator('p2p-chat').evaluate((el: any) => el.sendMessage('hello from the present'));
    const jump = a.locator('p2p-chat').getByRole('button', { name: /new message/ });
    await jump.waitFor();
    await jump.click();
    await expect.poll(async () => (await texts(a)).at(-1)).toBe('hello from the present');
    await expect(jump.count()).resolves.toBe(0);
  });
});
