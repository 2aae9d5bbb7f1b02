import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';

/**
 * The widget as a third-party site embeds it: the bundle comes from one origin (a CDN),
 * the host page from another. Widgets on one page share one mesh room.
 */
describe('embedding on a third-party page', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('loads the bundle from another origin and two widgets on one page share one set of peer connections', async () => {
    const room = uniqueRoom('embed');
    const [host, guest] = await Promise.all([
      openChatPage(world, room, [{ 'user-name': 'Host' }, { 'user-name': 'Host' }]),
      openChatPage(world, room, [{ 'user-name': 'Guest' }]),
    ]);
    const bundleOrigin = new URL(world.bundleUrl).origin;
    expect(new URL(host.url()).origin).not.toBe(bundleOrigin);
    expect(await host.evaluate(() => [...document.scripts].some(s => s.type === 'module' && !s.src.startsWith(location.origin)))).toBe(true);

    // One shared room: the guest sees one peer (not two), and both host widgets see the guest.
    await Promise.all([waitForPeers(host, 1, 0), waitForPeers(host, 1, 1), waitForPeers(guest, 1)]);
    await guest.waitForTimeout(1500);
    await waitForPeers(guest, 1);

    // A message from the guest shows in both widgets on the host page.
    await guest.locator('p2p-chat').evaluate((el: any) => el.sendMessage('to both widgets'));
    for (const nth of [0, 1]) {
      await expect.poll(() => host.locator('p2p-chat').nth(nth).locator('.message .text').allInnerTexts()).toEqual(['to both widgets']);
    }

    // Removing one widget keeps the room; removing the last one leaves it cleanly (the guest is told at once).
    await host.evaluate(() => document.getElementById('chat-0')!.remove());
    await guest.waitForTimeout(1000);
    await waitForPeers(guest, 1);
    await host.locator('p2p-chat').evaluate((el: any) => el.sendMessage('still here'));
    await expect.poll(async () => (await guest.locator('p2p-chat').locator('.message .text').allInnerTexts()).at(-1)).toBe('still here');

    const removedAt = Date.now();
    await host.evaluate(() => document.getElementById('chat-1')!.remove());
    await guest.locator('p2p-chat').getByRole('status').filter({ hasText: 'Waiting for peers' }).waitFor({ timeout: 30_000 });
    // A clean leave is announced through the room, well before an ICE timeout would notice (≈ 10+ s here).
    expect(Date.now() - removedAt).toBeLessThan(8000);
    const leaves = await guest.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pPeerLeave').map((e: any) => e.detail.userName));
    expect(leaves).toEqual(['Host']);
    // And the host stays gone: a page that is leaving neither announces again nor accepts a new
    // connection (it once did, in one run of three, when the guest closed its end first).
    await guest.waitForTimeout(3000);
    expect(await guest.locator('p2p-chat').getByRole('status').innerText()).toContain('Waiting for peers');
    const joins = await guest.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pPeerJoin').length);
    expect(joins).toBe(1);
  });

  it('a widget removed and added back at once (a host page re-rendering) meets the room again', async () => {
    const room = uniqueRoom('embed-remount');
    const [host, guest] = await Promise.all([openChatPage(world, room, [{ 'user-name': 'Host' }]), openChatPage(world, room, [{ 'user-name': 'Guest' }])]);
    await Promise.all([waitForPeers(host, 1), waitForPeers(guest, 1)]);
    // The same element taken out and put back in one task, as frameworks do when they re-render or move it.
    await host.evaluate(() => {
      const el = document.getElementById('chat-0')!;
      const parent = el.parentElement!;
      el.remove();
      parent.append(el);
    });
    await waitForPeers(host, 1);
    await guest.locator('p2p-chat').evaluate((el: any) => el.sendMessage('after the remount'));
    await expect.poll(() => host.locator('p2p-chat .message .text').allInnerTexts(), { timeout: 20_000 }).toContain('after the remount');
    await host.locator('p2p-chat').evaluate((el: any) => el.sendMessage('the host is back'));
    await expect.poll(() => guest.locator('p2p-chat .message .text').allInnerTexts(), { timeout: 20_000 }).toContain('the host is back');
    await Promise.all([host, guest].map(p => p.context().close()));
  });

  it('keeps strangers without the room password out', async () => {
    const room = uniqueRoom('password');
    const [a, b, stranger] = await Promise.all([
      openChatPage(world, room, [{ 'user-name': 'A', password: 'open sesame' }]),
      openChatPage(world, room, [{ 'user-name': 'B', password: 'open sesame' }]),
      openChatPage(world, room, [{ 'user-name': 'Stranger', password: 'guess' }]),
    ]);
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    await stranger.waitForTimeout(4000);
    await expect(stranger.locator('p2p-chat').getByRole('status').innerText()).resolves.toBe('Waiting for peers…');
    await expect(a.locator('p2p-chat').getByRole('status').innerText()).resolves.toBe('Connected to 1 peer');
    // The failed handshake is reported, not swallowed: one side could not decrypt the other's offer.
    const joinErrors = await Promise.all(
      [a, b, stranger].map(p => p.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError' && e.detail.code === 'join-error').map((e: any) => e.detail.message))),
    );
    expect(joinErrors.flat().join('\n')).toMatch(/password/);
  });

  it('shows bad attributes and unreachable relays in plain words and as p2pError', async () => {
    const room = uniqueRoom('errors');
    const page = await openChatPage(world, room, [{ strategy: 'carrier-pigeon' }, { 'relay-urls': 'ws://127.0.0.1:9' }, { 'ice-servers': '{not json' }, { 'relay-urls': 'ws://127.0.0.1:9', lang: 'zh-CN' }]);
    await expect.poll(() => page.locator('#chat-0').getByRole('alert').innerText()).toMatch(/strategy must be one of nostr, mqtt, torrent/);
    await expect.poll(() => page.locator('#chat-2').getByRole('alert').innerText()).toMatch(/ice-servers must be a JSON array/);
    await page.locator('#chat-1').getByRole('status').filter({ hasText: /Connection failed: could not reach any relay \(ws:\/\/127\.0\.0\.1:9\)/ }).waitFor({ timeout: 20_000 });
    // The same failure in Chinese: the status and the alert come from i18n, not the core's English.
    await page.locator('#chat-3').getByRole('status').filter({ hasText: '连接失败：无法连接任何中继（ws://127.0.0.1:9）' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('#chat-3').getByRole('alert').innerText()).toBe('无法连接任何中继（ws://127.0.0.1:9）');
    const codes = await page.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => `${e.target}:${e.detail.code}`));
    expect(codes).toEqual(expect.arrayContaining(['chat-0:bad-attribute', 'chat-2:bad-attribute', 'chat-1:relay-unreachable']));
  });
});
