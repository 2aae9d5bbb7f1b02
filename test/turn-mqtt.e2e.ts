import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { ROOT, startCoturn, startMosquitto } from './harness/processes.mjs';

/**
 * Real servers site owners deploy, from Debian (installed by .ci/run): coturn for networks where
 * visitors can only meet through TURN, mosquitto for `strategy="mqtt"`.
 */
describe('TURN-only and MQTT with Debian servers', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const texts = (page: Page) => page.locator('p2p-chat').locator('.message .text').allInnerTexts();
  const send = (page: Page, text: string) => page.locator('p2p-chat').evaluate((el: any, t) => el.sendMessage(t), text);

  it('chats both ways and moves a picture through coturn with ice-transport-policy="relay"', async () => {
    const turn = await startCoturn();
    try {
      const relayOnly = { 'ice-servers': JSON.stringify([turn.iceServer]), 'ice-transport-policy': 'relay' };
      const room = uniqueRoom('turn');
      // Chat and gallery on each page, in one room: one connection per pair carries both.
      const widgets = (name: string) => [{ ...relayOnly, 'user-name': name }];
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(n => openWidgetPage(world, 'p2p-chat', room, widgets(n))));
      await Promise.all([a, b].map(p => waitForPeers(p, 1)));
      await send(a, 'through TURN');
      await expect.poll(() => texts(b)).toContain('through TURN');
      await send(b, 'and back');
      await expect.poll(() => texts(a)).toContain('and back');
      // Only relayed candidates: the selected pair goes through TURN, on both sides.
      for (const p of [a, b]) {
        const stats = await p.locator('p2p-chat').evaluate((el: any) => el.getConnectionStats());
        expect(stats.peers.map((peer: any) => peer.path)).toEqual(['turn']);
        expect(stats.peers[0].bytesReceived).toBeGreaterThan(0);
      }
      const chatAllocations = turn.allocations();
      console.log(`coturn allocations for two chat visitors: ${chatAllocations} (Trystero's pool of 20 made 41)`);
      // Each visitor: one warm offer + the connection actually used (the answerer's own); never the pool of 20.
      expect(chatAllocations).toBeLessThanOrEqual(6);
      await Promise.all([a, b].map(p => p.context().close()));

      // A picture through the swarm, over TURN only.
      const galleryRoom = uniqueRoom('turn-gallery');
      const [ga, gb] = await Promise.all(['Ann', 'Bob'].map(n => openWidgetPage(world, 'p2p-gallery', galleryRoom, widgets(n))));
      await Promise.all([ga, gb].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-gallery')));
      const file = path.join(ROOT, 'test/fixtures/images/lake.png');
      await ga.locator('p2p-gallery').locator('input[type="file"]').setInputFiles(file);
      const tile = gb.locator('p2p-gallery').locator('[part="tile"]');
      await expect.poll(() => tile.count(), { timeout: 20_000 }).toBe(1);
      await tile.locator('button').click();
      const full = gb.locator('p2p-gallery').getByRole('dialog').locator('img.full');
      await full.waitFor({ timeout: 30_000 });
      const bytes: number[] = await full.evaluate(async (img: HTMLImageElement) => [...new Uint8Array(await (await fetch(img.src)).arrayBuffer())]);
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      expect(sha(Buffer.from(bytes))).toBe(sha(readFileSync(file))); // a PNG without metadata is shared as is
      const gstats = await gb.locator('p2p-gallery').evaluate((el: any) => el.getConnectionStats());
      expect(gstats.peers[0].path).toBe('turn');
      expect(gstats.peers[0].bytesReceived).toBeGreaterThan(bytes.length);
      await Promise.all([ga, gb].map(p => p.context().close()));
    } finally {
      await turn.stop();
    }
  });

  it('chats with strategy="mqtt" through Debian’s mosquitto', async () => {
    const broker = await startMosquitto();
    try {
      const room = uniqueRoom('mosquitto');
      const attrs = { strategy: 'mqtt', 'relay-urls': broker.url };
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(n => openWidgetPage(world, 'p2p-chat', room, [{ ...attrs, 'user-name': n }])));
      await Promise.all([a, b].map(p => waitForPeers(p, 1)));
      await send(a, 'hello over mosquitto');
      await expect.poll(() => texts(b)).toContain('hello over mosquitto');
      await send(b, 'and back');
      await expect.poll(() => texts(a)).toContain('and back');
      expect(broker.log()).toMatch(/New client connected/);
      await Promise.all([a, b].map(p => p.context().close()));
    } finally {
      await broker.stop();
    }
  });
});
