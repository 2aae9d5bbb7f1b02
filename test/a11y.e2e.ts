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
      await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 30_000, 'p2p-gallery')));
      await a.locator('p2p-gallery input[type="file"]').setInputFiles(['lake.png', 'forest.webp'].map(n => path.join(ROOT, 'test/fixtures/images', n)));
      await b.locator('p2p-gallery [part="tile"]').nth(1).waitFor({ timeout: 20_000 });
      expect(await audit(b, 'p2p-gallery')).toEqual([]);
      await b.locator('p2p-gallery [part="tile"] button').first().click();
      await b.locator('p2p-gallery img.full').waitFor({ timeout: 20_000 });
      expect(await audit(b, 'p2p-gallery')).toEqual([]);
      await Promise.all([a, b].map(p => p.context().close()));
    });
  }
});
