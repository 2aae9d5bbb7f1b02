#!/usr/bin/env node
/**
 * `npm run screenshots`: the demo page (www/index.html) open in two browser windows
 * chatting, in light and dark theme, saved side by side under docs/screenshots/.
 * Starts the local relay on 127.0.0.1:7777 (the port the demo page names) and a
 * static server for www/, and stops both by PID.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium } from '../test/harness/browser.mjs';
import { ROOT, startNodeProcess, startStaticServer } from '../test/harness/processes.mjs';

const relay = await startNodeProcess('test/harness/nostr-relay.mjs', ['--port', '7777'], /nostr relay listening on (ws:\/\/\S+)/);
const site = await startStaticServer('www');
const browser = await launchChromium();
try {
  for (const colorScheme of ['light', 'dark']) {
    const visitors = [];
    for (const name of ['Ann', 'Bob']) {
      const context = await browser.newContext({ viewport: { width: 560, height: 760 }, colorScheme });
      // A returning visitor keeps the friendly name stored for the site; here we pick it.
      await context.addInitScript(n => localStorage.setItem('p2p-widgets:user-name', n), name);
      const page = await context.newPage();
      await page.goto(`${site.url}/index.html`);
      visitors.push(page);
    }
    for (const page of visitors) {
      await page.locator('p2p-chat').getByRole('status').filter({ hasText: 'Connected to 1 peer' }).waitFor({ timeout: 30_000 });
    }
    const [ann, bob] = visitors;
    const say = async (page, text) => {
      const box = page.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
      await box.fill(text);
      await box.press('Enter');
    };
    await say(ann, 'Hi! Reading about the rain too?');
    await say(bob, 'Yes. Fixed my bicycle as well. Notes here: https://example.org/bikes');
    await say(ann, 'Ha, same. <b>Tags</b> show as text, by the way.');
    await bob.waitForTimeout(800);
    const shots = [];
    for (const page of visitors) {
      await page.locator('p2p-chat').scrollIntoViewIfNeeded();
      shots.push((await page.screenshot()).toString('base64'));
    }
    const board = await (await browser.newContext({ viewport: { width: 1140, height: 780 }, colorScheme })).newPage();
    await board.setContent(
      `<body style="margin:0;display:flex;gap:20px;padding:10px;background:#888">${shots.map(s => `<img src="data:image/png;base64,${s}" width="560">`).join('')}</body>`,
    );
    const file = path.join(ROOT, 'docs/screenshots', `demo-two-pages-${colorScheme}.png`);
    await writeFile(file, await board.screenshot());
    console.log(`wrote ${path.relative(ROOT, file)}`);
    await Promise.all(visitors.map(p => p.context().close()));
    await board.context().close();
  }
  // The gallery: Ann shares three pictures; Bob's wall, and Bob's lightbox on one of them.
  const visitors = [];
  for (const name of ['Ann', 'Bob']) {
    const context = await browser.newContext({ viewport: { width: 960, height: 760 } });
    await context.addInitScript(n => localStorage.setItem('p2p-widgets:user-name', n), name);
    const page = await context.newPage();
    await page.goto(`${site.url}/gallery.html`);
    visitors.push(page);
  }
  for (const page of visitors) await page.locator('p2p-gallery [part="status"]').filter({ hasText: 'Connected to 1 peer' }).waitFor({ timeout: 30_000 });
  const fixtures = ['sunset-gps.jpg', 'lake.png', 'forest.webp'].map(n => path.join(ROOT, 'test/fixtures/images', n));
  await visitors[0].locator('p2p-gallery input[type="file"]').setInputFiles(fixtures);
  await visitors[1].locator('p2p-gallery [part="tile"]').nth(2).waitFor({ timeout: 30_000 });
  await visitors[1].waitForTimeout(500);
  await writeFile(path.join(ROOT, 'docs/screenshots/gallery-wall.png'), await visitors[1].screenshot());
  await visitors[1].locator('p2p-gallery [part="tile"] button').first().click();
  await visitors[1].locator('p2p-gallery img.full').waitFor({ timeout: 30_000 });
  await writeFile(path.join(ROOT, 'docs/screenshots/gallery-lightbox.png'), await visitors[1].screenshot());
  console.log('wrote docs/screenshots/gallery-wall.png and gallery-lightbox.png');
} finally {
  await browser.close();
  await site.stop();
  await relay.stop();
}
