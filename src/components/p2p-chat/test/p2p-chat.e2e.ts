import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from '../../../../test/harness/browser.mjs';

/** Two visitors in two browser contexts chat through the local relay. */
describe('<p2p-chat> between two pages', () => {
  let world: World;
  let ann: Page;
  let bob: Page;

  beforeAll(async () => {
    world = await startWorld();
    const room = uniqueRoom('two-pages');
    [ann, bob] = await Promise.all([
      openChatPage(world, room, [{ 'user-name': 'Ann', 'max-length': '120' }]),
      openChatPage(world, room, [{ 'user-name': 'Bob', 'max-length': '120' }]),
    ]);
    await Promise.all([waitForPeers(ann, 1), waitForPeers(bob, 1)]);
  });

  afterAll(async () => {
    await world?.stop();
  });

  const messages = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('.message .text');

  it('lists the other visitor by name', async () => {
    await expect.poll(() => ann.locator('p2p-chat').getByRole('list', { name: 'In the room' }).innerText()).toContain('Bob');
    await expect.poll(() => bob.locator('p2p-chat').getByRole('list', { name: 'In the room' }).innerText()).toContain('Ann');
  });

  it('sends with Enter, both ways, and fires p2pMessage', async () => {
    const annBox = ann.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
    await annBox.fill('hello from Ann');
    await annBox.press('Enter');
    await expect.poll(() => messages(bob).allInnerTexts()).toEqual(['hello from Ann']);

    const bobBox = bob.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
    await bobBox.fill('hi Ann');
    await bob.locator('p2p-chat').getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => messages(ann).allInnerTexts()).toEqual(['hello from Ann', 'hi Ann']);

    const events = await bob.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pMessage').map((e: any) => e.detail));
    expect(events.map((d: any) => [d.userName, d.text, d.own])).toEqual([
      ['Ann', 'hello from Ann', false],
      ['Bob', 'hi Ann', true],
    ]);
    expect(typeof events[0].timestamp).toBe('number');
    expect(events[0].peerId).toMatch(/\S+/);
  });

  it('makes a new line with Shift+Enter instead of sending', async () => {
    const box = ann.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
    await box.fill('line one');
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    expect(await box.inputValue()).toBe('line one\nline two');
    await box.press('Enter');
    await expect.poll(() => messages(bob).last().innerText()).toBe('line one\nline two');
  });

  it('renders markup as text and only http(s) links, with rel=noopener noreferrer', async () => {
    const hostile = '<img src=x onerror="window.pwned=1"> javascript:alert(1) see https://example.org/a?b=1';
    await ann.locator('p2p-chat').evaluate((el: any, text) => el.sendMessage(text), hostile);
    const last = messages(bob).last();
    await expect.poll(() => last.innerText()).toBe(hostile);
    expect(await last.locator('img').count()).toBe(0);
    const links = last.locator('a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.org/a?b=1');
    expect(await links.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await bob.evaluate(() => (window as any).pwned)).toBeUndefined();
  });

  it('enforces max-length on send', async () => {
    const box = ann.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
    await box.fill('x'.repeat(121));
    await expect(ann.locator('p2p-chat').getByRole('button', { name: 'Send' }).isDisabled()).resolves.toBe(true);
    await box.press('Enter');
    expect(await box.inputValue()).toBe('x'.repeat(121));
    const error = await ann.locator('p2p-chat').evaluate((el: any) => el.sendMessage('y'.repeat(121)).then(() => null, (e: Error) => e.message));
    expect(error).toMatch(/limit is 120/);
    await box.fill('');
  });

  it('enforces max-length on receive', async () => {
    // Bob allows 4000; Ann allows 120: Ann drops Bob's long line and counts it.
    const before = await messages(ann).count();
    await bob.locator('p2p-chat').evaluate((el: any) => {
      el.maxLength = 4000;
    });
    await waitForPeers(bob, 1);
    await waitForPeers(ann, 1);
    await bob.locator('p2p-chat').evaluate((el: any) => el.sendMessage('z'.repeat(300)));
    await bob.locator('p2p-chat').evaluate((el: any) => el.sendMessage('short one'));
    await expect.poll(() => messages(ann).last().innerText()).toBe('short one');
    expect(await messages(ann).count()).toBe(before + 1);
    const stats = await ann.locator('p2p-chat').evaluate((el: any) => el.getWireStats());
    expect(stats.rejectedTooLong).toBe(1);
  });

  it('shows a leave notice and empties the peer list when the other page closes', async () => {
    await bob.close();
    await ann.locator('p2p-chat').getByRole('status').filter({ hasText: 'Waiting for peers' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => ann.locator('p2p-chat').locator('.notice').last().innerText()).toBe('Bob left');
    expect(await ann.locator('p2p-chat').getByRole('list', { name: 'In the room' }).locator('li').count()).toBe(1);
  });
});
