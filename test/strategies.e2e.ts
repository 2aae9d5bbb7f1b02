import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { startMqttBroker, startTorrentTracker, type ServerProcess } from './harness/processes.mjs';

/** `strategy="mqtt"` and `strategy="torrent"` work with self-hosted relays, like the default Nostr. */
describe('signaling strategies', () => {
  let world: World;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
    await Promise.all(servers.map(s => s.stop()));
  });

  for (const [strategy, start] of [
    ['mqtt', startMqttBroker],
    ['torrent', startTorrentTracker],
  ] as const) {
    it(`chats with strategy="${strategy}" through a local ${strategy === 'mqtt' ? 'broker' : 'tracker'}`, async () => {
      const relay = await start();
      servers.push(relay);
      const room = uniqueRoom(strategy);
      const attrs = { strategy, 'relay-urls': relay.url };
      const [a, b] = await Promise.all([openChatPage(world, room, [{ ...attrs, 'user-name': 'A' }]), openChatPage(world, room, [{ ...attrs, 'user-name': 'B' }])]);
      await Promise.all([waitForPeers(a, 1, 0, 60_000), waitForPeers(b, 1, 0, 60_000)]);
      await a.locator('p2p-chat').evaluate((el: any, s) => el.sendMessage(`hello over ${s}`), strategy);
      await expect.poll(() => b.locator('p2p-chat').locator('.message .text').allInnerTexts()).toEqual([`hello over ${strategy}`]);
      await Promise.all([a.context().close(), b.context().close()]);
    });
  }
});
