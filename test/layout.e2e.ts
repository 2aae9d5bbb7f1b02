import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

/** Widths the widgets must fit: a small phone (280 px), a common phone (320 px) and a wide blog column (960 px). */
const WIDTHS = [280, 320, 960];

interface Layout {
  /** `document.documentElement.scrollWidth` and `innerWidth` of the host page. */
  scrollWidth: number;
  innerWidth: number;
  /** Shadow elements whose box sticks out of the widget's host box (px beyond its left or right edge). */
  outside: string[];
  /** Pairs of visible controls whose boxes intersect, and text lines drawn over a control. */
  overlaps: string[];
  /** Visible control boxes counted (so an empty check cannot pass silently). */
  controls: number;
}

/**
 * Measures the host page and the widget's shadow content: horizontal overflow of the page,
 * shadow elements beyond the host's box, intersecting boxes of the visible controls (buttons,
 * links, fields, sliders) inside `scope` (a selector in the shadow root; default all), and text
 * lines drawn over one of those controls.
 */
function measure(page: Page, tag: string, scope = ':host'): Promise<Layout> {
  return page.evaluate(
    ([t, sc]) => {
      const host = document.querySelector(t)!;
      const root = host.shadowRoot!;
      const box = host.getBoundingClientRect();
      const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().replace(/\s+/g, '.')}` : ''}${el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : ''}${el.textContent?.trim() ? ` "${el.textContent.trim().slice(0, 30)}"` : ''}`;
      const outside: string[] = [];
      for (const el of root.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (r.right > box.right + 0.5 || r.left < box.left - 0.5) outside.push(`${describe(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} in ${Math.round(box.left)}–${Math.round(box.right)}`);
      }
      // What can be seen of a box: clipped by every scrolling or clipping ancestor (a message scrolled out
      // of the list is not drawn over the header, even though its box lies there).
      const clip = (r: DOMRect, from: Element | null): DOMRect | null => {
        let { left, top, right, bottom } = r;
        for (let el = from; el && el !== host; el = el.parentElement ?? ((el.parentNode as ShadowRoot | null)?.host ?? null)) {
          const style = getComputedStyle(el);
          if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
          const c = el.getBoundingClientRect();
          left = Math.max(left, c.left);
          top = Math.max(top, c.top);
          right = Math.min(right, c.right);
          bottom = Math.min(bottom, c.bottom);
        }
        return right - left > 1 && bottom - top > 1 ? new DOMRect(left, top, right - left, bottom - top) : null;
      };
      const container = sc === ':host' ? root : root.querySelector(sc)!;
      const controls = [...container.querySelectorAll('button, a[href], input, select, textarea, progress')]
        .filter(el => getComputedStyle(el).visibility !== 'hidden')
        // One box per line for a link that wraps (its bounding box would cover the text around it).
        .flatMap(el => [...el.getClientRects()].map(r => ({ el, box: clip(r, el.parentElement) })))
        .filter((c): c is { el: Element; box: DOMRect } => c.box !== null);
      const intersect = (a: DOMRect, b: DOMRect) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
      const overlaps: string[] = [];
      for (let i = 0; i < controls.length; i++) {
        for (let j = i + 1; j < controls.length; j++) {
          if (controls[i].el !== controls[j].el && intersect(controls[i].box, controls[j].box)) overlaps.push(`${describe(controls[i].el)} × ${describe(controls[j].el)}`);
        }
      }
      // Text drawn over a control (e.g. a squeezed title running under a button): line boxes of every text node
      // outside the controls, against the control boxes.
      const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent?.trim();
        const parent = node.parentElement;
        if (!text || !parent || parent.closest('button, a, label, option, select, textarea, .visually-hidden')) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
          const line = clip(rect, parent);
          if (!line) continue;
          for (const control of controls) if (intersect(line, control.box)) overlaps.push(`text "${text.slice(0, 30)}" × ${describe(control.el)}`);
        }
      }
      return { scrollWidth: document.documentElement.scrollWidth, innerWidth, outside, overlaps, controls: controls.length };
    },
    [tag, scope] as const,
  );
}

/** Resizes the page to each width and checks the widget fits: no page overflow, nothing outside the host, no overlapping controls. */
async function checkWidths(page: Page, tag: string, state: string, scope?: string, minControls = 2) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    await page.waitForTimeout(150); // container queries and the virtualizer settle after a resize
    const m = await measure(page, tag, scope);
    const where = `${tag} ${state} at ${width} px`;
    expect(m.scrollWidth, `${where}: the host page scrolls sideways`).toBeLessThanOrEqual(m.innerWidth);
    expect(m.outside, `${where}: shadow content wider than the host`).toEqual([]);
    expect(m.overlaps, `${where}: controls overlap`).toEqual([]);
    expect(m.controls, `${where}: controls measured`).toBeGreaterThanOrEqual(minControls);
  }
}

/** Each widget at phone and blog-column widths, in its busiest states, in English and Chinese. */
describe('layout', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  for (const lang of ['en', 'zh-CN']) {
    it(`<p2p-chat> (${lang}) fits 280–960 px: conversation with a long link, settings`, async () => {
      const room = uniqueRoom(`layout-chat-${lang}`);
      const [a, b] = await Promise.all(['Ann', 'Bartholomew Longname'].map(name => openWidgetPage(world, 'p2p-chat', room, [{ 'user-name': name, lang }])));
      await Promise.all([a, b].map(p => p.locator('p2p-chat [part="status"]').filter({ hasText: /1/ }).waitFor({ timeout: 30_000 })));
      await a.locator('p2p-chat').evaluate((el: any) => el.sendMessage('See https://example.org/a/very/long/path/without/any/spaces/that/keeps/going/and/going?query=1'));
      await b.locator('p2p-chat').evaluate((el: any) => el.sendMessage('Averyveryverylongwordwithoutspacesthatmustwrapinsidethebubbleandnotoverflow'));
      await a.locator('p2p-chat .message').nth(1).waitFor();
      await checkWidths(a, 'p2p-chat', 'conversation');
      await a.locator('p2p-chat [part="header"] button:not([part="connection-toggle"])').nth(1).click(); // Settings
      await a.locator('p2p-chat [part="settings"]').waitFor();
      await checkWidths(a, 'p2p-chat', 'settings');
      await Promise.all([a, b].map(p => p.context().close()));
    });

    it(`<p2p-music> (${lang}) fits 280–960 px: peer's list, player playing, own list, settings`, async () => {
      const room = uniqueRoom(`layout-music-${lang}`);
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-music', room, [{ 'user-name': name, lang }])));
      await Promise.all([a, b].map(p => p.locator('p2p-music [part="status"]').filter({ hasText: /1/ }).waitFor({ timeout: 30_000 })));
      await a.locator('p2p-music header input[type="file"]').setInputFiles(['morning-tone.mp3', 'morning-tone.lrc', 'evening-tone.wav', 'night-tone.flac'].map(n => path.join(ROOT, 'test/fixtures/audio', n)));
      await expect.poll(() => b.locator('p2p-music [part="track"]').count(), { timeout: 30_000 }).toBe(3);
      await b.locator('p2p-music [part="track"] button.play').first().click();
      await expect.poll(() => b.locator('p2p-music').evaluate((el: any) => el.getPlayerState().then((s: any) => s.playing)), { timeout: 30_000 }).toBe(true);
      await checkWidths(b, 'p2p-music', 'listening', undefined, 8);
      await checkWidths(a, 'p2p-music', 'own list', undefined, 8);
      await b.locator('p2p-music [part="header"] button:not([part="connection-toggle"])').first().click(); // Settings
      await b.locator('p2p-music [part="settings"]').waitFor();
      await checkWidths(b, 'p2p-music', 'settings', undefined, 8);
      await Promise.all([a, b].map(p => p.context().close()));
    });

    it(`<p2p-gallery> (${lang}) fits 280–960 px: wall, and the owner's lightbox`, async () => {
      const room = uniqueRoom(`layout-gallery-${lang}`);
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': name, lang }])));
      await Promise.all([a, b].map(p => p.locator('p2p-gallery [part="status"]').filter({ hasText: /1/ }).waitFor({ timeout: 30_000 })));
      await a.locator('p2p-gallery input[type="file"]').setInputFiles(['lake.png', 'forest.webp', 'sunset-gps.jpg'].map(n => path.join(ROOT, 'test/fixtures/images', n)));
      await b.locator('p2p-gallery [part="tile"]').nth(2).waitFor({ timeout: 20_000 });
      await checkWidths(b, 'p2p-gallery', 'wall', undefined, 3);
      // The owner's lightbox has the most controls: toolbar, and the description form.
      await a.locator('p2p-gallery [part="tile"] button').nth(1).click();
      await a.locator('p2p-gallery img.full').waitFor({ timeout: 20_000 });
      await checkWidths(a, 'p2p-gallery', 'lightbox', '[part="lightbox"]', 6);
      await Promise.all([a, b].map(p => p.context().close()));
    });
  }

  it('theme="auto" follows prefers-color-scheme; light and dark override it', async () => {
    const room = uniqueRoom('layout-theme');
    const background = (page: Page, nth: number) =>
      page.locator('p2p-chat').nth(nth).evaluate(el => getComputedStyle(el.shadowRoot!.querySelector('.chat')!).backgroundColor);
    const widgets = [{ theme: 'auto' }, { theme: 'light' }, { theme: 'dark' }, {}];
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await world.browser.newContext({ colorScheme });
      const page = await openWidgetPage(world, 'p2p-chat', room, widgets, { context });
      await page.locator('p2p-chat').nth(3).locator('.chat').waitFor();
      const dark = 'rgb(13, 17, 23)';
      const light = 'rgb(255, 255, 255)';
      expect(await background(page, 0)).toBe(colorScheme === 'dark' ? dark : light);
      expect(await background(page, 1)).toBe(light);
      expect(await background(page, 2)).toBe(dark);
      expect(await background(page, 3)).toBe(colorScheme === 'dark' ? dark : light); // no attribute: auto
      await context.close();
    }
  });
});
