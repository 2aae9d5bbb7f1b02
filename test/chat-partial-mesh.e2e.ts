import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, uniqueRoom, type World } from './harness/browser.mjs';

/**
 * `<p2p-chat partial-mesh="2">`: each page keeps about two neighbours, so most pages of the room
 * are not connected to each other; chat lines are forwarded along the overlay and a newcomer's
 * history comes from its neighbours, who hold what pages it never connects to wrote.
 */
describe('chat over the partial mesh', () => {
  let world: World;
  let room: string;
  const names = ['Ann', 'Bob', 'Cy', 'Dee', 'Eve', 'Fay'];
  const pages: Page[] = [];
  const texts = (page: Page) => page.locator('p2p-chat').locator('.message .text').allInnerTexts();
  /** Names of the pages this one is connected to (the connection panel's data). */
  /** Waits until the page is connected to at least one peer (how many depends on the overlay). */
  const waitConnected = (page: Page) => page.locator('p2p-chat').locator('[part="status"]').filter({ hasText: /^Connected to \d+ peers?$/ }).waitFor({ timeout: 60_000 });
  const directNames = (page: Page) => page.locator('p2p-chat').evaluate(async (el: any) => (await el.getConnectionStats()).peers.map((p: { name: string | null }) => p.name));

  beforeAll(async () => {
    world = await startWorld();
    room = uniqueRoom('chat-partial');
    for (const name of names) {
      const page = await openChatPage(world, room, [{ 'user-name': name, 'partial-mesh': '2' }]);
      if (pages.length) await waitConnected(page);
      pages.push(page);
    }
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('delivers every line to every page, connected to its author or not', async () => {
    for (const [i, page] of pages.entries()) await page.locator('p2p-chat').evaluate((el: any, text) => el.sendMessage(text), `line from ${names[i]}`);
    const expected = names.map(n => `line from ${n}`).sort();
    for (const page of pages) await expect.poll(async () => (await texts(page)).sort(), { timeout: 20_000 }).toEqual(expected);
    // Not a full mesh: some page is not connected to some author.
    const direct = await Promise.all(pages.map(directNames));
    expect(direct.some((d, i) => d.length < names.length - 1 && names.some((n, j) => j !== i && !d.includes(n)))).toBe(true);
  });

  it("fills a newcomer's history from pages it is not connected to, then shows their live lines", async () => {
    const newcomer = await openChatPage(world, room, [{ 'user-name': 'Gus', 'partial-mesh': '2' }]);
    await waitConnected(newcomer);
    const expected = names.map(n => `line from ${n}`).sort();
    await expect.poll(async () => (await texts(newcomer)).sort(), { timeout: 20_000 }).toEqual(expected);
    const direct: string[] = await directNames(newcomer);
    const strangers = names.filter(n => !direct.includes(n));
    expect(strangers.length).toBeGreaterThan(0);
    // A page the newcomer is not connected to writes now: the line is forwarded to it.
    const author = pages[names.indexOf(strangers[0])];
    await author.locator('p2p-chat').evaluate((el: any) => el.sendMessage('hello Gus'));
    await expect.poll(async () => (await texts(newcomer)).includes('hello Gus'), { timeout: 10_000 }).toBe(true);
    expect((await texts(newcomer)).filter(t => t === 'hello Gus')).toHaveLength(1);
  });
});
