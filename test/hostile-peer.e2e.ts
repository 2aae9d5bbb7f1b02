import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';

/**
 * A hostile peer (a plain Trystero client, not the widget) joins a room with two
 * widgets and sends malformed, oversized and flooding messages. The widgets keep
 * working, render nothing invalid, and count every drop by reason.
 */
describe('a hostile peer', () => {
  let world: World;
  let ann: Page;
  let bob: Page;
  let evil: Page;
  let room: string;

  beforeAll(async () => {
    world = await startWorld();
    room = uniqueRoom('hostile');
    [ann, bob] = await Promise.all([openChatPage(world, room, [{ 'user-name': 'Ann' }]), openChatPage(world, room, [{ 'user-name': 'Bob' }])]);
    await Promise.all([waitForPeers(ann, 1), waitForPeers(bob, 1)]);
    evil = await (await world.browser.newContext()).newPage();
    await evil.goto(`${world.host.url}/test/fixtures/bare-trystero.html`);
    await evil.waitForFunction(() => (window as any).ready === true);
    await evil.evaluate(([url, r]) => (window as any).join(url, r, location.host, 2), [world.relay.url, room]);
    await Promise.all([waitForPeers(ann, 2), waitForPeers(bob, 2)]);
  });

  afterAll(async () => {
    await world?.stop();
  });

  const texts = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('.message .text').allInnerTexts();
  const stats = (page: Page) => page.locator('p2p-chat').evaluate((el: any) => el.getWireStats());
  const send = (name: string, payload: unknown) => evil.evaluate(([n, p]) => (window as any).send(n, p), [name, payload] as const);

  it('drops malformed, wrongly typed and oversized messages without rendering them', async () => {
    const ok = (text: string) => JSON.stringify({ v: 1, id: 'evil-0001', name: 'Evil', text, ts: Date.now() });
    await evil.evaluate(() => (window as any).send('chat', new Uint8Array([1, 2, 3])));
    await send('chat', { v: 1, id: 'evil-raw-obj', name: 'Evil', text: 'raw object', ts: 1 });
    await send('chat', '{"v":1,"id":');
    await send('chat', JSON.stringify({ v: 2, id: 'evil-0002', name: 'Evil', text: 'future protocol', ts: Date.now() }));
    await send('chat', JSON.stringify({ v: 1, id: 'evil-0003', name: 'Evil', text: 'extra key', ts: Date.now(), html: '<script>' }));
    await send('chat', JSON.stringify({ v: 1, id: '<img src=x onerror=alert(1)>', name: 'Evil', text: 'bad id', ts: Date.now() }));
    await send('chat', JSON.stringify({ v: 1, id: 'evil-0004', name: '', text: 'empty name', ts: Date.now() }));
    await send('chat', JSON.stringify({ v: 1, id: 'evil-0005', name: 'Evil', text: 'x'.repeat(70_000), ts: Date.now() }));
    await send('presence', JSON.stringify({ v: 1, name: 'N'.repeat(65) }));
    await send('presence', JSON.stringify({ v: 1, name: 'N'.repeat(1000) }));
    await send('chat', ok('<img src=x onerror="window.pwned=1">valid markup-looking text'));

    // The one valid message arrives, rendered as characters; nothing before it was rendered.
    await expect.poll(() => texts(ann)).toEqual(['<img src=x onerror="window.pwned=1">valid markup-looking text']);
    await expect.poll(() => texts(bob)).toEqual(['<img src=x onerror="window.pwned=1">valid markup-looking text']);
    expect(await ann.evaluate(() => (window as any).pwned)).toBeUndefined();
    const s = await stats(ann);
    expect(s.dropped['not-text']).toBeGreaterThanOrEqual(2);
    expect(s.dropped['malformed-json']).toBe(1);
    expect(s.dropped['schema']).toBe(5);
    expect(s.dropped['oversize']).toBe(2);
  });

  it('rate-limits a flood of valid messages per peer', async () => {
    await evil.evaluate(async () => {
      const sends = [];
      for (let i = 0; i < 200; i++) sends.push((window as any).send('chat', JSON.stringify({ v: 1, id: `flood-${String(i).padStart(4, '0')}`, name: 'Evil', text: `flood ${i}`, ts: Date.now() })));
      await Promise.all(sends);
    });
    await expect.poll(async () => (await stats(ann)).dropped.rate).toBeGreaterThan(100);
    const rendered = (await texts(ann)).filter(t => t.startsWith('flood'));
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThan(60);
  });

  it('disconnects a peer that pushes megabytes, and the widgets keep chatting', async () => {
    await send('chat', 'A'.repeat(8 * 1024 * 1024));
    await Promise.all([waitForPeers(ann, 1), waitForPeers(bob, 1)]);
    expect((await stats(ann)).dropped.flood).toBeGreaterThanOrEqual(1);
    const errors = await ann.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => e.detail.code));
    expect(errors).toContain('peer-flood');

    await ann.locator('p2p-chat').evaluate((el: any) => el.sendMessage('still here'));
    await expect.poll(async () => (await texts(bob)).at(-1)).toBe('still here');
    await bob.locator('p2p-chat').evaluate((el: any) => el.sendMessage('me too'));
    await expect.poll(async () => (await texts(ann)).at(-1)).toBe('me too');
  });
});
