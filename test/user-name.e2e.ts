import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

/**
 * A host page that changes `user-name` after the widget connected (a visitor who signs in):
 * every widget, not only chat, tells its peers at once, and what the visitor shares afterwards
 * carries the new name.
 */
describe('changing user-name on a connected widget', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const peerNames = (page: Page, tag: string) =>
    page.locator(tag).evaluate(async (el: any) => (await el.getConnectionStats()).peers.map((p: { name: string | null }) => p.name));
  const rename = (page: Page, tag: string, name: string) => page.locator(tag).evaluate((el, n) => el.setAttribute('user-name', n), name);
  /** Ann and Bob meet in a fresh room; Ann becomes Anna and Bob's peer list follows. Returns [ann, bob]. */
  async function renameInRoom(tag: string): Promise<[Page, Page]> {
    const room = uniqueRoom(`rename-${tag}`);
    const [ann, bob] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, tag, room, [{ 'user-name': name }])));
    await Promise.all([ann, bob].map(p => waitForPeers(p, 1, 0, 60_000, tag)));
    await expect.poll(() => peerNames(bob, tag)).toEqual(['Ann']);
    await rename(ann, tag, 'Anna');
    await expect.poll(() => peerNames(bob, tag)).toEqual(['Anna']);
    return [ann, bob];
  }

  it('<p2p-gallery>: peers see the new name, and a picture shared afterwards carries it', async () => {
    const tag = 'p2p-gallery';
    const [ann, bob] = await renameInRoom(tag);
    await ann.locator(tag).locator('input[type="file"]').setInputFiles(path.join(ROOT, 'test/fixtures/images/lake.png'));
    await expect
      .poll(() => bob.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pImageAdd').map((e: any) => e.detail.userName)), { timeout: 20_000 })
      .toEqual(['Anna']);
  });

  it('<p2p-music>: peers see the new name', async () => {
    await renameInRoom('p2p-music');
  });
});
