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
  const waitConnected = (page: Page) => page.locator('p2p-chat').locator('[part="status"]').filter({ hasText: /^Connected to \d+ peers?/ }).waitFor({ timeout: 60_000 });
  /** The names in the page's peer list (everyone in the room but the visitor), and which of them are reached through others. */
  const listed = (page: Page) =>
    page.locator('p2p-chat').evaluate((el: any) =>
      [...el.shadowRoot.querySelectorAll('[part="peer-list"] li[data-peer-id]')].map((li: HTMLElement) => ({ name: li.firstChild?.textContent ?? '', indirect: li.classList.contains('indirect') })),
    );
  const listedNames = async (page: Page) => (await listed(page)).map(m => m.name).sort();
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

  it('lists everyone in the room on every page, connected or not, and counts them in the status', async () => {
    for (const [i, page] of pages.entries()) {
      await expect.poll(() => listedNames(page), { timeout: 30_000 }).toEqual(names.filter((_, j) => j !== i).sort());
    }
    const lists = await Promise.all(pages.map(listed));
    // Some page lists someone it is not connected to (what the partial mesh is for), marked as such.
    expect(lists.some(l => l.some(m => m.indirect))).toBe(true);
    // Marked indirect exactly when not connected (sampled together; the overlay may be swapping a link at any one instant).
    const consistent = async (page: Page) => {
      const [l, d] = await Promise.all([listed(page), directNames(page)]);
      const ok = l.every(m => m.indirect === !d.includes(m.name));
      return ok;
    };
    for (const page of pages) await expect.poll(() => consistent(page), { timeout: 10_000 }).toBe(true);
    const withIndirect = lists.findIndex(l => l.some(m => m.indirect));
    await expect.poll(() => pages[withIndirect].locator('p2p-chat').locator('[part="status"]').textContent(), { timeout: 5000 }).toMatch(/^Connected to \d+ peers? · 6 in the room$/);
  });

  it("fills a newcomer's history from pages it is not connected to, then shows their live lines", async () => {
    const newcomer = await openChatPage(world, room, [{ 'user-name': 'Gus', 'partial-mesh': '2' }]);
    await waitConnected(newcomer);
    // Everyone is listed at once (a neighbour's member list on link-up), not after their next beacon (20 s).
    const connectedAt = Date.now();
    await expect.poll(() => listedNames(newcomer), { timeout: 10_000 }).toEqual([...names].sort());
    expect(Date.now() - connectedAt).toBeLessThan(5000);
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
    pages.push(newcomer);
    names.push('Gus');
  });

  it('a page that leaves (widget removed, or the tab closed) leaves every list within seconds, connected to it or not', async () => {
    // Widget removed: the mesh says bye to the whole room before its links close.
    const [ann] = pages.splice(0, 1);
    names.splice(0, 1);
    await ann.locator('p2p-chat').evaluate((el: HTMLElement) => el.remove());
    const removedAt = Date.now();
    for (const page of pages) await expect.poll(async () => (await listedNames(page)).includes('Ann'), { timeout: 10_000 }).toBe(false);
    const removedMs = Date.now() - removedAt;
    // Tab closed (its beforeunload says bye before Trystero's goodbye).
    const [bob] = pages.splice(0, 1);
    names.splice(0, 1);
    await bob.close({ runBeforeUnload: true });
    const closedAt = Date.now();
    for (const page of pages) await expect.poll(async () => (await listedNames(page)).includes('Bob'), { timeout: 10_000 }).toBe(false);
    const closedMs = Date.now() - closedAt;
    console.log(`[chat-partial-mesh] left every list: widget removed ${removedMs} ms, tab closed ${closedMs} ms`);
    // A removed widget's room lingers 1.5 s (LINGER_MS, for a widget re-added at once) before it leaves.
    expect(removedMs).toBeLessThan(1500 + 2500);
    expect(closedMs).toBeLessThan(2500);
    for (const [i, page] of pages.entries()) expect(await listedNames(page)).toEqual(names.filter((_, j) => j !== i).sort());
    expect(await pages[0].locator('p2p-chat').locator('.notice').filter({ hasText: 'Ann left' }).count()).toBe(1);
  });
});
