import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, storedRecords, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';

/**
 * History that survives: every device keeps what it has seen in IndexedDB, within
 * its own retention window, and fills in peers when they meet.
 */
describe('chat history across visitors', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const texts = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('.message .text').allInnerTexts();
  const say = (page: Page, text: string) => page.locator('p2p-chat').evaluate((el: any, t) => el.sendMessage(t), text);

  it('a newcomer gets the whole conversation; a retraction syncs as a tombstone only; reload keeps everything', async () => {
    const room = uniqueRoom('history');
    const [a, b] = await Promise.all([openChatPage(world, room, [{ 'user-name': 'Ann' }]), openChatPage(world, room, [{ 'user-name': 'Bob' }])]);
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    const lines = ['one from Ann', 'two from Bob', 'three from Ann', 'four from Bob (to be retracted)', 'five from Ann'];
    for (const [i, line] of lines.entries()) {
      await say(i % 2 ? b : a, line);
      await expect.poll(() => texts(i % 2 ? a : b)).toContain(line);
    }

    // C was closed while A and B chatted; it opens and shows the whole conversation, in order, once.
    const c = await openChatPage(world, room, [{ 'user-name': 'Cy' }]);
    await waitForPeers(c, 2);
    await expect.poll(() => texts(c), { timeout: 15_000 }).toEqual(lines);

    // B retracts its message: A and C keep it, marked retracted, body hidden behind a click.
    const retractedId = await b.evaluate(() => (window as any).p2pEvents.find((e: any) => e.type === 'p2pMessage' && e.detail.text.startsWith('four')).detail.id);
    await b.locator('p2p-chat').evaluate((el: any, id) => el.retractMessage(id), retractedId);
    for (const page of [a, c]) {
      await expect.poll(async () => (await storedRecords(page)).find(r => r.kind === 'msg' && r.text?.startsWith('four'))?.retracted).toBe(true);
      await expect.poll(() => texts(page)).not.toContain(lines[3]);
      await expect(page.locator('p2p-chat').getByText('Message retracted by its author').count()).resolves.toBe(1);
    }
    await c.locator('p2p-chat').getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => texts(c)).toContain(lines[3]);

    // D joins later: it gets the tombstone, never the body.
    const d = await openChatPage(world, room, [{ 'user-name': 'Dee' }]);
    await waitForPeers(d, 3);
    await expect.poll(() => texts(d), { timeout: 15_000 }).toEqual([lines[0], lines[1], lines[2], lines[4]]);
    const dRecords = await storedRecords(d);
    expect(dRecords.some(r => r.text?.startsWith('four'))).toBe(false);
    expect(dRecords.filter(r => r.kind === 'retract')).toHaveLength(1);
    expect(await d.locator('p2p-chat').innerText()).not.toContain('four from Bob');

    // Everyone leaves; A reloads alone and still has everything it had.
    await Promise.all([b, c, d].map(p => p.context().close()));
    await a.reload();
    await a.locator('p2p-chat').getByRole('status').filter({ hasText: 'Waiting for peers' }).waitFor();
    await expect.poll(() => texts(a)).toEqual([lines[0], lines[1], lines[2], lines[4]]);
    expect((await storedRecords(a)).filter(r => r.kind === 'msg')).toHaveLength(5);
  });

  it('a device with retention="1h" receives nothing older than an hour', async () => {
    const room = uniqueRoom('retention');
    // The old-timer writes while offline three hours ago (its clock set back), then comes online now.
    const oldContext = await world.browser.newContext();
    await oldContext.clock.install({ time: Date.now() - 3 * 3_600_000 });
    const offline = await openChatPage(world, room, [{ 'user-name': 'Old', 'relay-urls': 'ws://127.0.0.1:9' }], { context: oldContext });
    await say(offline, 'three hours ago');
    await offline.close();
    await oldContext.clock.setSystemTime(Date.now());
    const old = await openChatPage(world, room, [{ 'user-name': 'Old' }], { context: oldContext });
    await expect.poll(() => texts(old)).toEqual(['three hours ago']);
    const fresh = await openChatPage(world, room, [{ 'user-name': 'New', retention: '1h' }]);
    await Promise.all([waitForPeers(old, 1), waitForPeers(fresh, 1)]);
    await say(old, 'just now');
    await expect.poll(() => texts(fresh)).toEqual(['just now']);
    // Give sync time to (wrongly) deliver, then check nothing older arrived or was stored.
    await fresh.waitForTimeout(1500);
    expect(await texts(fresh)).toEqual(['just now']);
    expect((await storedRecords(fresh)).map(r => r.text)).toEqual(['just now']);
    await Promise.all([oldContext.close(), fresh.context().close()]);
  });

  it('burn after reading: banner everywhere, nothing stored, nothing for late joiners, gone after reading', async () => {
    const room = uniqueRoom('burn');
    const attrs = { 'burn-seconds': '2' };
    const [a, b] = await Promise.all([openChatPage(world, room, [{ ...attrs, 'user-name': 'Ann' }]), openChatPage(world, room, [{ ...attrs, 'user-name': 'Bob' }])]);
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    await say(a, 'kept forever');
    await expect.poll(() => texts(b)).toEqual(['kept forever']);

    // Ann switches it on from the settings: every peer shows the banner.
    await a.locator('p2p-chat').getByRole('button', { name: 'Settings' }).click();
    await a.locator('p2p-chat').getByRole('checkbox', { name: /Burn after reading/ }).check();
    await a.locator('p2p-chat').getByRole('button', { name: 'Back to chat' }).click();
    for (const page of [a, b]) await page.locator('p2p-chat').getByRole('note').filter({ hasText: 'Burn after reading is on' }).waitFor();

    await say(b, 'secret one');
    await say(a, 'secret two');
    await expect.poll(() => texts(a)).toContain('secret one');
    await expect.poll(() => texts(b)).toContain('secret two');
    for (const page of [a, b]) {
      const stored = (await storedRecords(page)).filter(r => r.kind === 'msg').map(r => r.text);
      expect(stored).toEqual(['kept forever']);
    }

    // A late joiner gets the switch and the earlier message, none of the secrets.
    const c = await openChatPage(world, room, [{ ...attrs, 'user-name': 'Cy' }]);
    await waitForPeers(c, 2);
    await c.locator('p2p-chat').getByRole('note').filter({ hasText: 'Burn after reading is on' }).waitFor({ timeout: 15_000 });
    await c.waitForTimeout(1000);
    expect(await texts(c)).toEqual(['kept forever']);

    // Read messages vanish after burn-seconds, and do not come back on reload.
    await expect.poll(() => texts(b), { timeout: 10_000 }).toEqual(['kept forever']);
    await b.reload();
    await waitForPeers(b, 2);
    await b.waitForTimeout(1000);
    expect(await texts(b)).toEqual(['kept forever']);
    await Promise.all([a, b, c].map(p => p.context().close()));
  });
});

describe('storage errors are visible and lose nothing', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const texts = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('.message .text').allInnerTexts();
  const say = (page: Page, text: string) => page.locator('p2p-chat').evaluate((el: any, t) => el.sendMessage(t), text);

  it('a browser that forbids IndexedDB: plain message, p2pError, live chat works', async () => {
    const room = uniqueRoom('no-idb');
    const blocked = await world.browser.newContext();
    await blocked.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', {
        get() {
          throw new DOMException('The user denied permission to access the database.', 'SecurityError');
        },
      });
    });
    const [a, b] = await Promise.all([openChatPage(world, room, [{ 'user-name': 'Private' }], { context: blocked }), openChatPage(world, room, [{ 'user-name': 'Bob' }])]);
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    await expect.poll(() => a.locator('p2p-chat').getByRole('alert').innerText()).toMatch(/does not allow saving \(private mode or storage blocked\)/);
    const codes = await a.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => e.detail.code));
    expect(codes).toContain('storage-unavailable');
    await say(a, 'hello without storage');
    await expect.poll(() => texts(b)).toEqual(['hello without storage']);
    await say(b, 'and back');
    await expect.poll(() => texts(a)).toEqual(['hello without storage', 'and back']);
    await Promise.all([blocked.close(), b.context().close()]);
  });

  it('a full disk: plain message, p2pError, the message still goes out, stored ones survive', async () => {
    const room = uniqueRoom('full');
    const context = await world.browser.newContext();
    // After `window.diskFull = true`, every IndexedDB write fails as a full disk does.
    await context.addInitScript(() => {
      for (const method of ['put', 'add'] as const) {
        const original = IDBObjectStore.prototype[method];
        IDBObjectStore.prototype[method] = function (this: IDBObjectStore, ...args: any[]) {
          if ((window as any).diskFull) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return (original as any).apply(this, args);
        } as any;
      }
    });
    const [a, b] = await Promise.all([openChatPage(world, room, [{ 'user-name': 'Ann' }], { context }), openChatPage(world, room, [{ 'user-name': 'Bob' }])]);
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    await say(a, 'stored before');
    await expect.poll(async () => (await storedRecords(a)).map(r => r.text)).toEqual(['stored before']);

    await a.evaluate(() => ((window as any).diskFull = true));
    await say(a, 'sent while full');
    await expect.poll(() => texts(b)).toEqual(['stored before', 'sent while full']);
    await expect.poll(() => texts(a)).toEqual(['stored before', 'sent while full']);
    await expect.poll(() => a.locator('p2p-chat').getByRole('alert').innerText()).toMatch(/no room left/);
    const codes = await a.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => e.detail.code));
    expect(codes).toContain('storage-full');

    // Space again: a reload still has what was stored before the disk filled up.
    await a.evaluate(() => ((window as any).diskFull = false));
    await b.context().close();
    await a.reload();
    await a.locator('p2p-chat').getByRole('status').filter({ hasText: 'Waiting for peers' }).waitFor();
    await expect.poll(() => texts(a)).toEqual(['stored before']);
    await context.close();
  });
});
