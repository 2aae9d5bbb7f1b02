import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Runs axe-core (WCAG 2.x A/AA rules) on the widget, inside its shadow DOM; returns serious and critical violations. */
async function audit(page: Page, selector: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath });
  return page.evaluate(async sel => {
    const result = await (window as any).axe.run(sel, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations
      .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: any) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
  }, selector);
}

/** The control that has the keyboard focus inside the widget's shadow root: its tag, role and accessible name (aria-label or text). */
function focused(page: Page, tag: string) {
  return page.evaluate(t => {
    const el = document.querySelector(t)?.shadowRoot?.activeElement as HTMLElement | null | undefined;
    if (!el) return null;
    return { tag: el.tagName.toLowerCase(), role: el.getAttribute('role'), name: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim(), inDialog: !!el.closest('[role="dialog"]') };
  }, tag);
}

/** Presses Tab (at most `max` times) until the focused control matches; returns the names passed on the way. */
async function tabTo(page: Page, tag: string, match: (f: { tag: string; name: string }) => boolean, max = 30): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page, tag);
    if (f) seen.push(`${f.tag}:${f.name}`);
    if (f && match(f)) return seen;
  }
  throw new Error(`Tab never reached the control; focus went through ${seen.join(' → ')}`);
}

/** Waits until the nth widget's status says it is connected to one peer, in English or Chinese. */
async function waitForOnePeer(page: Page, tag: string) {
  await page.locator(tag).locator('[part="status"]').filter({ hasText: /^(Connected to 1 peer|已连接 1 位成员)$/ }).waitFor({ timeout: 30_000 });
}

const audio = (...names: string[]) => names.map(n => path.join(ROOT, 'test/fixtures/audio', n));

/** axe-core audits of each widget's main states, light and dark: no serious or critical violations. */
describe('accessibility', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  for (const theme of ['light', 'dark']) {
    it(`<p2p-chat> (${theme}): conversation, settings and marked views`, async () => {
      const room = uniqueRoom(`a11y-chat-${theme}`);
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-chat', room, [{ 'user-name': name, theme }])));
      await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
      await a.locator('p2p-chat').evaluate((el: any) => el.sendMessage('Hello, see https://example.org'));
      await b.locator('p2p-chat').evaluate((el: any) => el.sendMessage('Hi!'));
      await a.locator('p2p-chat').locator('.message').nth(1).waitFor();
      // New messages from others are read out once, politely; one's own are not.
      const live = a.locator('p2p-chat [aria-live="polite"]');
      await expect.poll(() => live.innerText()).toContain('Bob: Hi!');
      expect(await live.innerText()).not.toContain('Hello, see');
      // History a newcomer receives by sync is shown, not read out.
      const c = await openWidgetPage(world, 'p2p-chat', room, [{ 'user-name': 'Cat', theme }]);
      await c.locator('p2p-chat').locator('.message').nth(1).waitFor();
      expect(await c.locator('p2p-chat [aria-live="polite"]').innerText()).toBe('');
      await c.context().close();
      expect(await audit(a, 'p2p-chat')).toEqual([]);
      await a.locator('p2p-chat').getByRole('button', { name: 'Settings' }).click();
      expect(await audit(a, 'p2p-chat')).toEqual([]);
      await a.locator('p2p-chat').getByRole('button', { name: 'Back to chat' }).click();
      await a.locator('p2p-chat').getByRole('button', { name: 'Marked' }).click();
      expect(await audit(a, 'p2p-chat')).toEqual([]);
      await Promise.all([a, b].map(p => p.context().close()));
    });

    it(`<p2p-gallery> (${theme}): wall and lightbox`, async () => {
      const room = uniqueRoom(`a11y-gallery-${theme}`);
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': name, theme }])));
      await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-gallery')));
      await a.locator('p2p-gallery input[type="file"]').setInputFiles(['lake.png', 'forest.webp'].map(n => path.join(ROOT, 'test/fixtures/images', n)));
      await b.locator('p2p-gallery [part="tile"]').nth(1).waitFor({ timeout: 20_000 });
      expect(await audit(b, 'p2p-gallery')).toEqual([]);
      await b.locator('p2p-gallery [part="tile"] button').first().click();
      await b.locator('p2p-gallery img.full').waitFor({ timeout: 20_000 });
      expect(await audit(b, 'p2p-gallery')).toEqual([]);
      await Promise.all([a, b].map(p => p.context().close()));
    });

    it(`<p2p-music> (${theme}): track lists from a peer, player playing, lyrics, settings`, async () => {
      const room = uniqueRoom(`a11y-music-${theme}`);
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-music', room, [{ 'user-name': name, theme }])));
      await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-music')));
      await a.locator('p2p-music header input[type="file"]').setInputFiles(audio('morning-tone.mp3', 'morning-tone.lrc', 'evening-tone.wav', 'night-tone.flac'));
      await expect.poll(() => b.locator('p2p-music [part="track"]').count(), { timeout: 30_000 }).toBe(3);
      await b.locator('p2p-music').getByRole('button', { name: 'Play Morning Tone' }).click();
      await expect.poll(() => b.locator('p2p-music').evaluate((el: any) => el.getPlayerState().then((s: any) => s.playing && s.currentTime > 0.3)), { timeout: 30_000 }).toBe(true);
      await b.locator('p2p-music').getByRole('list', { name: 'Lyrics' }).waitFor();
      expect(await audit(b, 'p2p-music')).toEqual([]);
      await b.locator('p2p-music').getByRole('button', { name: 'Settings' }).click();
      await b.locator('p2p-music').getByRole('textbox', { name: /Hide tracks matching/ }).waitFor();
      expect(await audit(b, 'p2p-music')).toEqual([]);
      // The owner's view: her own list with the attach and remove buttons.
      expect(await audit(a, 'p2p-music')).toEqual([]);
      await Promise.all([a, b].map(p => p.context().close()));
    });
  }

  it('every widget in zh-CN (dark): chat, music with a track playing, gallery with the lightbox open', async () => {
    const attrs = (name: string) => [{ 'user-name': name, theme: 'dark', lang: 'zh-CN' }];
    const chatRoom = uniqueRoom('a11y-zh-chat');
    const [ca, cb] = await Promise.all(['Ann', 'Bob'].map(n => openWidgetPage(world, 'p2p-chat', chatRoom, attrs(n))));
    await Promise.all([ca, cb].map(p => waitForOnePeer(p, 'p2p-chat')));
    await cb.locator('p2p-chat').evaluate((el: any) => el.sendMessage('你好！'));
    await ca.locator('p2p-chat').getByRole('log', { name: '消息列表' }).locator('.message').waitFor();
    expect(await audit(ca, 'p2p-chat')).toEqual([]);
    await Promise.all([ca, cb].map(p => p.context().close()));

    const musicRoom = uniqueRoom('a11y-zh-music');
    const [ma, mb] = await Promise.all(['Ann', 'Bob'].map(n => openWidgetPage(world, 'p2p-music', musicRoom, attrs(n))));
    await Promise.all([ma, mb].map(p => waitForOnePeer(p, 'p2p-music')));
    await ma.locator('p2p-music header input[type="file"]').setInputFiles(audio('evening-tone.wav'));
    await mb.locator('p2p-music').getByRole('button', { name: '播放 evening-tone' }).click();
    await expect.poll(() => mb.locator('p2p-music').evaluate((el: any) => el.getPlayerState().then((s: any) => s.playing)), { timeout: 30_000 }).toBe(true);
    expect(await audit(mb, 'p2p-music')).toEqual([]);
    await Promise.all([ma, mb].map(p => p.context().close()));

    const galleryRoom = uniqueRoom('a11y-zh-gallery');
    const [ga, gb] = await Promise.all(['Ann', 'Bob'].map(n => openWidgetPage(world, 'p2p-gallery', galleryRoom, attrs(n))));
    await Promise.all([ga, gb].map(p => waitForOnePeer(p, 'p2p-gallery')));
    await ga.locator('p2p-gallery input[type="file"]').setInputFiles(path.join(ROOT, 'test/fixtures/images/lake.png'));
    await gb.locator('p2p-gallery').getByRole('button', { name: '打开 Ann 的图片' }).click();
    await gb.locator('p2p-gallery').getByRole('dialog', { name: 'Ann 的图片' }).locator('img.full').waitFor({ timeout: 20_000 });
    expect(await audit(gb, 'p2p-gallery')).toEqual([]);
    await Promise.all([ga, gb].map(p => p.context().close()));
  });
});

/** Every main control is reachable with Tab and works with the keyboard alone. */
describe('keyboard', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('<p2p-chat>: Tab reaches the view buttons, the message list, the text box and Send; Enter on Send sends', async () => {
    const room = uniqueRoom('kbd-chat');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-chat', room, [{ 'user-name': name }])));
    await Promise.all([waitForPeers(a, 1), waitForPeers(b, 1)]);
    const route = await tabTo(a, 'p2p-chat', f => f.tag === 'textarea');
    expect(route).toEqual(expect.arrayContaining(['button:Marked', 'button:Settings', 'div:Messages', 'textarea:Message']));
    await a.keyboard.type('Typed, tabbed, sent');
    await a.keyboard.press('Tab');
    expect(await focused(a, 'p2p-chat')).toMatchObject({ tag: 'button', name: 'Send' });
    await a.keyboard.press('Enter');
    await expect.poll(() => b.locator('p2p-chat .message .text').allInnerTexts(), { timeout: 10_000 }).toContain('Typed, tabbed, sent');
    // The focus ring is visible: an outline drawn in the focus color.
    await a.keyboard.press('Shift+Tab');
    const ring = await a.evaluate(() => {
      const el = document.querySelector('p2p-chat')!.shadowRoot!.activeElement!;
      const style = getComputedStyle(el);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(ring.style).toBe('solid');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    await Promise.all([a, b].map(p => p.context().close()));
  });

  for (const [tag, lang, toggle, heading] of [
    ['p2p-chat', 'en', 'Connection', 'Connection details'],
    ['p2p-gallery', 'zh-CN', '连接', '连接详情'],
    ['p2p-music', 'en', 'Connection', 'Connection details'],
  ] as const) {
    it(`${tag} (${lang}): the connection panel opens from the keyboard, is labelled and passes axe`, async () => {
      const room = uniqueRoom(`kbd-panel-${tag}`);
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, tag, room, [{ 'user-name': name, lang }])));
      await Promise.all([waitForOnePeer(a, tag), waitForOnePeer(b, tag)]);
      await tabTo(a, tag, f => f.tag === 'button' && f.name === toggle);
      const button = a.locator(tag).getByRole('button', { name: toggle });
      expect(await button.getAttribute('aria-expanded')).toBe('false');
      await a.keyboard.press('Enter');
      // The widget re-renders on its next frame: wait for it.
      await expect.poll(() => button.getAttribute('aria-expanded')).toBe('true');
      const panel = a.locator(tag).getByRole('region', { name: heading });
      await panel.waitFor();
      // One row per peer: Bob, connected directly (loopback, no ICE servers), with a round trip.
      await expect.poll(() => panel.locator('tbody tr').count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => panel.locator('tbody tr td[data-path]').getAttribute('data-path')).toBe('direct');
      expect(await panel.locator('tbody th[scope="row"]').innerText()).toBe('Bob');
      expect(await panel.locator('li[data-relay-state]').getAttribute('data-relay-state')).toBe('connected');
      expect(await audit(a, tag)).toEqual([]);
      await a.keyboard.press('Enter');
      await expect.poll(() => panel.count()).toBe(0);
      await Promise.all([a, b].map(p => p.context().close()));
    });
  }

  it('<p2p-music>: Tab reaches Add tracks and the player; the play button works with Enter and Space', async () => {
    const room = uniqueRoom('kbd-music');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-music', room, [{ 'user-name': name }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-music')));
    await a.locator('p2p-music header input[type="file"]').setInputFiles(audio('evening-tone.wav'));
    await expect.poll(() => b.locator('p2p-music [part="track"]').count(), { timeout: 30_000 }).toBe(1);
    const state = () => b.locator('p2p-music').evaluate((el: any) => el.getPlayerState()) as Promise<{ playing: boolean; currentTime: number }>;
    const route = await tabTo(b, 'p2p-music', f => f.name === 'Play');
    expect(route).toEqual(expect.arrayContaining(['button:Settings', 'button:Add tracks', 'button:Previous track']));
    await b.keyboard.press('Enter');
    await expect.poll(async () => (await state()).currentTime, { timeout: 30_000 }).toBeGreaterThan(0.3);
    // getPlayerState() reads the controller, which changes at once; the button's label follows on the
    // widget's next render (a frame later), so the label is polled, not read once.
    await expect.poll(() => focused(b, 'p2p-music')).toMatchObject({ tag: 'button', name: 'Pause' });
    await b.keyboard.press('Space');
    await expect.poll(async () => (await state()).playing).toBe(false);
    await expect.poll(() => focused(b, 'p2p-music')).toMatchObject({ name: 'Play' });
    await b.keyboard.press('Space');
    await expect.poll(async () => (await state()).playing).toBe(true);
    // Further on: the seek slider, the volume, and the track's own buttons.
    const rest = await tabTo(b, 'p2p-music', f => f.name === 'Play evening-tone');
    expect(rest).toEqual(expect.arrayContaining(['input:Seek', 'input:Volume', 'button:Keep a copy']));
    await Promise.all([a, b].map(p => p.context().close()));
  });

  it('<p2p-gallery>: a tile opens with Enter, Tab stays in the lightbox, Escape closes it and gives the focus back', async () => {
    const room = uniqueRoom('kbd-gallery');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': name }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-gallery')));
    await a.locator('p2p-gallery input[type="file"]').setInputFiles(['lake.png', 'forest.webp'].map(n => path.join(ROOT, 'test/fixtures/images', n)));
    await b.locator('p2p-gallery [part="tile"]').nth(1).waitFor({ timeout: 20_000 });
    await tabTo(b, 'p2p-gallery', f => f.name.startsWith('Open picture by Ann'));
    await b.keyboard.press('Enter');
    const dialog = b.locator('p2p-gallery').getByRole('dialog', { name: 'Picture by Ann' });
    await dialog.waitFor();
    await dialog.locator('img.full').waitFor({ timeout: 20_000 });
    expect(await focused(b, 'p2p-gallery')).toMatchObject({ inDialog: true });
    const inside: string[] = [];
    for (let i = 0; i < 8; i++) {
      await b.keyboard.press('Tab');
      const f = await focused(b, 'p2p-gallery');
      expect(f?.inDialog, `Tab ${i + 1} left the dialog for ${f?.tag}:${f?.name}`).toBe(true);
      inside.push(`${f!.tag}:${f!.name}`);
    }
    expect(inside).toEqual(expect.arrayContaining(['button:Close', 'button:Actual size', 'a:Download']));
    await b.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(async () => (await focused(b, 'p2p-gallery'))?.name ?? '').toMatch(/^Open picture by Ann/);
    await Promise.all([a, b].map(p => p.context().close()));
  });
});
