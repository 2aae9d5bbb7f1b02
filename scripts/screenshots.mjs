#!/usr/bin/env node
/**
 * `npm run screenshots` (= `npm run build && node scripts/screenshots.mjs`): the images under
 * docs/screenshots/, made with two visitors in one room (two browser contexts: the "peer" shares
 * content, the "viewer" is photographed).
 *
 * 1. Each widget alone, in a realistic state, for every theme × language × width:
 *    `<widget>-<light|dark>-<en|zh-CN>-<320|960>.png` (24 files). The widget fills a page whose
 *    viewport is exactly that wide (no margins), and the shot is of the widget element, so
 *    anything that overflows shows. Chat: a few messages both ways. Music: the peer's three
 *    tracks (test/fixtures/audio), one playing with its lyrics. Gallery: the peer's three
 *    pictures (test/fixtures/images).
 * 2. The demo site (www/*.html) as a reader sees it: demo-two-pages-{light,dark} (the forum
 *    thread chat in two windows), music-room (the blog post's music room), gallery-wall,
 *    gallery-lightbox, all-in-one-room (the reading room: three widgets, one room).
 *
 * For every shot it prints whether the page overflows horizontally (scrollWidth > innerWidth)
 * and which parts of the widget stick out of its box; it exits non-zero if any page overflows.
 * It starts its own relay (free port) and a static server and stops them by PID. The pages are
 * real files on a loopback origin (a temporary folder with `build/` linked to www/build): copies
 * of www/*.html with the relay of `npm start` (ws://127.0.0.1:7777) replaced by this run's relay
 * and a room of their own per scene, and one bare page per widget shot.
 * Chinese text needs a CJK font (Debian: fonts-noto-cjk); the script warns when fc-list finds none.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from '../test/harness/browser.mjs';
import { ROOT, startRelay, startStaticServer } from '../test/harness/processes.mjs';

const OUT = path.join(ROOT, 'docs/screenshots');
const WIDGETS = ['chat', 'music', 'gallery'];
/** `SHOTS_ONLY=music` (or `chat,site`…): only those widgets' shots and/or the demo site's ("site"). */
const ONLY = process.env.SHOTS_ONLY ? process.env.SHOTS_ONLY.split(',') : null;
const wanted = what => !ONLY || ONLY.includes(what);
const THEMES = ['light', 'dark'];
const LANGS = ['en', 'zh-CN'];
const WIDTHS = [320, 960];
const HEIGHT = 800;
const CONNECT_TIMEOUT = 60_000;
const WATCHDOG_MS = 10 * 60_000;

const audio = (...names) => names.map(n => path.join(ROOT, 'test/fixtures/audio', n));
const images = (...names) => names.map(n => path.join(ROOT, 'test/fixtures/images', n));
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

/** The people and what they say, per language. */
const PEOPLE = {
  en: { peer: 'Ann', viewer: 'Bob' },
  'zh-CN': { peer: '安娜', viewer: '小博' },
};
const CHAT = {
  en: [
    ['peer', 'Hi! Did the new valve core fix it for you too?'],
    ['viewer', 'Yes, the tyre has held its pressure for three days now. My notes: https://example.org/bikes/valve-cores/presta-vs-schrader'],
    ['peer', 'Great. <b>Tags</b> show as text here, by the way.'],
    ['viewer', 'Ride around the lake on Sunday?'],
  ],
  'zh-CN': [
    ['peer', '你好！换了气门芯之后，你的车胎也好了吗？'],
    ['viewer', '好了，已经三天不漏气了。我的笔记在这里：https://example.org/bikes/valve-cores/presta-vs-schrader'],
    ['peer', '太好了。顺便说一下，<b>标签</b>在这里按原文显示。'],
    ['viewer', '周日一起绕湖骑一圈？'],
  ],
};
const CONNECTED = /^(Connected to \d+ peers?|已连接 \d+ 位成员)$/;

// ---------------------------------------------------------------------------------------------

let cleanup = async () => undefined;
const watchdog = setTimeout(async () => {
  console.error(`screenshots: gave up after ${WATCHDOG_MS / 1000} s`);
  await cleanup();
  process.exit(2);
}, WATCHDOG_MS);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

const cjkFonts = (() => {
  try {
    return execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return -1;
  }
})();
if (cjkFonts <= 0) console.warn('screenshots: no CJK font found (fc-list :lang=zh); Chinese text will show as boxes. Debian: apt-get install fonts-noto-cjk');

await mkdir(OUT, { recursive: true });
const tmp = await mkdtemp(path.join(os.tmpdir(), 'p2p-screenshots-'));
await symlink(path.join(ROOT, 'www/build'), path.join(tmp, 'build'), 'dir');
/** @type {import('../test/harness/processes.mjs').ServerProcess[]} */
const servers = [];
let browser;
let stopped = false;
cleanup = async () => {
  if (stopped) return;
  stopped = true;
  await browser?.close().catch(() => undefined);
  await Promise.all(servers.map(s => s.stop()));
  await rm(tmp, { recursive: true, force: true });
};
let relay, site;
try {
  relay = await startRelay();
  servers.push(relay);
  site = await startStaticServer(tmp);
  servers.push(site);
  browser = await launchChromium();
} catch (err) {
  await cleanup();
  throw err;
}
console.log(`relay ${relay.url} (pid ${relay.pid}), pages on ${site.url} (pid ${site.pid}) from ${tmp}`);

/** One row per shot: file, viewport width, page overflow, widget parts sticking out. */
const report = [];
let roomCounter = 0;

/** A fresh visitor: its own storage, a chosen name, every widget event recorded in `window.p2pEvents`. */
async function newVisitor(name, viewport, colorScheme = 'light') {
  const context = await browser.newContext({ viewport, colorScheme });
  await context.addInitScript(n => {
    localStorage.setItem('p2p-widgets:user-name', n);
    window.p2pEvents = [];
    for (const type of ['p2pPeerJoin', 'p2pMessage', 'p2pError', 'p2pImageAdd', 'p2pTrackAdd', 'p2pTrackPlay']) {
      document.addEventListener(type, e => window.p2pEvents.push({ type, detail: e.detail }));
    }
  }, name);
  const page = await context.newPage();
  page.on('pageerror', err => console.error(`[page error, ${name}]`, err.message));
  return page;
}

/**
 * A copy of the demo site for one scene: www/*.html with the relay of `npm start` replaced by this
 * run's relay and every room name suffixed (a room per scene). Returns the folder's URL.
 */
async function demoScene() {
  const name = `scene${++roomCounter}`;
  const dir = path.join(tmp, name);
  await mkdir(dir);
  await symlink(path.join(ROOT, 'www/build'), path.join(dir, 'build'), 'dir');
  for (const file of (await readdir(path.join(ROOT, 'www'))).filter(f => f.endsWith('.html') || f.endsWith('.css'))) {
    const html = await readFile(path.join(ROOT, 'www', file), 'utf8');
    await writeFile(path.join(dir, file), html.replaceAll('relay-urls="ws://127.0.0.1:7777"', `relay-urls="${relay.url}"`).replace(/\broom="([^"]+)"/g, `room="$1-${name}-${Date.now().toString(36)}"`));
  }
  return `${site.url}/${name}`;
}

/** A page that is the widget and nothing else, full width, in `lang`; same origin as www/ (so /build loads). */
function widgetPageHtml(tag, lang, attributes) {
  const attrs = Object.entries(attributes)
    .map(([k, v]) => `${k}="${String(v).replaceAll('&', '&amp;').replaceAll('"', '&quot;')}"`)
    .join(' ');
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${tag}</title><script type="module" src="/build/p2p-widgets.esm.js"></script>
<style>:root { color-scheme: light dark; } body { margin: 0; background: Canvas; }</style></head>
<body><${tag} ${attrs}></${tag}></body></html>`;
}

/** Writes the widget-only page and opens it for a visitor. */
async function openWidgetPage(page, tag, lang, attributes) {
  const file = `${tag}-${lang}-${attributes['user-name'] === PEOPLE[lang].peer ? 'peer' : 'viewer'}-${++roomCounter}.html`;
  await writeFile(path.join(tmp, file), widgetPageHtml(tag, lang, attributes));
  await page.goto(`${site.url}/${file}`);
  await page.waitForFunction(t => customElements.get(t) !== undefined, tag);
}

async function waitConnected(page, selector = 'p2p-chat, p2p-music, p2p-gallery') {
  const widgets = page.locator(selector);
  const n = await widgets.count();
  for (let i = 0; i < n; i++) {
    await widgets.nth(i).locator('[part="status"]').filter({ hasText: CONNECTED }).waitFor({ timeout: CONNECT_TIMEOUT });
  }
}

const events = (page, type) => page.evaluate(t => window.p2pEvents.filter(e => e.type === t).map(e => e.detail), type);

async function poll(what, fn, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 150));
  }
}

/** Whether the page scrolls sideways, and which parts of each widget stick out of the widget's box. */
function measure(page) {
  return page.evaluate(() => {
    const describe = el => {
      const part = el.getAttribute('part');
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      return `${el.tagName.toLowerCase()}${part ? `[part=${part}]` : ''}${cls}`;
    };
    const outside = [];
    const clipped = [];
    for (const host of document.querySelectorAll('p2p-chat, p2p-music, p2p-gallery')) {
      const box = host.getBoundingClientRect();
      const walk = root => {
        for (const el of root.querySelectorAll('*')) {
          // Screen-reader-only text (the chat's live region) is clipped to 1 px on purpose.
          if (el.closest('.visually-hidden')) continue;
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.height > 0 && (r.right > box.right + 1 || r.left < box.left - 1)) {
            outside.push(`${host.tagName.toLowerCase()} ${describe(el)} (${Math.round(r.left - box.left)}…${Math.round(r.right - box.left)} of ${Math.round(box.width)} px)`);
          }
          // Content wider than its own box: spilling over neighbours (overflow visible) or cut off (hidden/clip).
          const style = getComputedStyle(el);
          if (style.display !== 'inline' && style.display !== 'contents' && el.scrollWidth > el.clientWidth + 1) {
            const how = style.overflowX === 'visible' ? 'spills' : style.overflowX === 'hidden' || style.overflowX === 'clip' ? (style.textOverflow === 'ellipsis' ? 'truncated…' : 'clipped') : null;
            if (how) clipped.push(`${host.tagName.toLowerCase()} ${describe(el)} ${how} (${el.scrollWidth} px content in ${el.clientWidth} px${el.clientWidth === 0 ? ': squeezed to nothing' : ''})`);
          }
          if (el.shadowRoot) walk(el.shadowRoot);
        }
      };
      if (host.shadowRoot) walk(host.shadowRoot);
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, outside, clipped };
  });
}

/** Takes one shot and reports on it; `measured` stands in for the page's own measure (composite shots). */
async function record(file, page, shoot, measured = undefined) {
  await shoot(path.join(OUT, file));
  const m = measured ?? (await measure(page));
  const overflow = m.scrollWidth > m.innerWidth;
  const clipped = m.clipped ?? [];
  report.push({ file, width: m.innerWidth, overflow, scrollWidth: m.scrollWidth, outside: m.outside, clipped });
  const list = (what, items) => (items.length ? `\n    ${items.length} ${what}: ${items.slice(0, 6).join('; ')}${items.length > 6 ? '; …' : ''}` : '');
  const note = list('element(s) outside the widget box', m.outside) + list('element(s) wider than their box', clipped);
  console.log(`[${seconds()} s] ${file}: ${overflow ? `PAGE OVERFLOWS (scrollWidth ${m.scrollWidth} > ${m.innerWidth})` : 'no horizontal overflow'}${note}`);
}

// ---------------------------------------------------------------------------------------------
// 1. Each widget alone: theme × language × width.

/** Puts the two visitors' widget in its realistic state; returns a function to call before each shot. */
const fill = {
  async chat(peer, viewer, lang) {
    const byWho = { peer, viewer };
    for (const [i, [who, text]] of CHAT[lang].entries()) {
      await byWho[who].locator('p2p-chat').evaluate((el, t) => el.sendMessage(t), text);
      await poll('chat message', async () => (await events(viewer, 'p2pMessage')).length >= i + 1);
    }
    await viewer.waitForTimeout(300);
    return async () => undefined;
  },
  async music(peer, viewer) {
    await peer.locator('p2p-music header input[type="file"]').setInputFiles(audio('morning-tone.mp3', 'morning-tone.lrc', 'evening-tone.wav', 'night-tone.flac'));
    await poll('three tracks', async () => (await viewer.locator('p2p-music [part="track"]').count()) === 3);
    const added = await events(viewer, 'p2pTrackAdd');
    const cid = added.find(d => d.title === 'Morning Tone').cid;
    await viewer.locator('p2p-music').evaluate((el, c) => el.playTrack(c), cid);
    await poll('playback', async () => (await viewer.locator('p2p-music').evaluate(el => el.getPlayerState())).currentTime > 0.3);
    await poll('covers', () => viewer.locator('p2p-music img.cover').evaluateAll(imgs => imgs.length >= 2 && imgs.every(i => i.complete)));
    // Before each shot: back to 2.5 s, so the second lyric line is the current one in every picture.
    return async () => {
      await viewer.locator('p2p-music').evaluate(el => el.seek(2.5));
      await viewer.waitForTimeout(600);
    };
  },
  async gallery(peer, viewer) {
    await peer.locator('p2p-gallery input[type="file"]').setInputFiles(images('sunset-gps.jpg', 'lake.png', 'forest.webp'));
    await poll('three thumbnails', () =>
      viewer.locator('p2p-gallery [part="tile"] img').evaluateAll(imgs => imgs.length === 3 && imgs.every(i => i.complete && i.naturalWidth > 0)),
    );
    return async () => undefined;
  },
};

let failed;
try {
  for (const widget of WIDGETS.filter(wanted)) {
    for (const lang of LANGS) {
      const tag = `p2p-${widget}`;
      const room = `shots-${widget}-${lang}-${Date.now().toString(36)}`;
      const [peer, viewer] = await Promise.all(
        ['peer', 'viewer'].map(async role => {
          const page = await newVisitor(PEOPLE[lang][role], { width: 960, height: HEIGHT });
          await openWidgetPage(page, tag, lang, { room, 'relay-urls': relay.url, 'ice-servers': '[]', lang, theme: 'auto', 'user-name': PEOPLE[lang][role] });
          return page;
        }),
      );
      await Promise.all([peer, viewer].map(p => waitConnected(p)));
      const beforeShot = await fill[widget](peer, viewer, lang);
      for (const theme of THEMES) {
        await viewer.emulateMedia({ colorScheme: theme });
        for (const width of WIDTHS) {
          await viewer.setViewportSize({ width, height: HEIGHT });
          await viewer.waitForTimeout(400); // layout, virtualized list re-measure
          await beforeShot();
          await record(`${widget}-${theme}-${lang}-${width}.png`, viewer, file => viewer.locator(tag).screenshot({ path: file }));
        }
      }
      await Promise.all([peer, viewer].map(p => p.context().close()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 2. The demo site.

  /** Two readers (Ann, Bob) on one demo page, in a room of their own, connected. */
  async function twoReaders(pageName, viewport, colorScheme = 'light') {
    const base = await demoScene();
    const pages = [];
    for (const name of ['Ann', 'Bob']) {
      const page = await newVisitor(name, viewport, colorScheme);
      await page.goto(`${base}/${pageName}`);
      pages.push(page);
    }
    await Promise.all(pages.map(p => waitConnected(p)));
    return pages;
  }

  if (wanted('site')) {
    // The forum thread's chat in two windows, light and dark, side by side.
    for (const colorScheme of THEMES) {
      const [ann, bob] = await twoReaders('chat.html', { width: 560, height: 760 }, colorScheme);
      const say = async (page, text) => {
        const box = page.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
        await box.fill(text);
        await box.press('Enter');
      };
      await say(ann, 'Hi! Did the new valve core fix it for you too?');
      await poll('message', async () => (await events(bob, 'p2pMessage')).length >= 1);
      await say(bob, 'Yes. Three days without losing pressure. Notes here: https://example.org/bikes');
      await poll('message', async () => (await events(ann, 'p2pMessage')).length >= 2);
      await say(ann, 'Ha, great. <b>Tags</b> show as text, by the way.');
      await poll('message', async () => (await events(bob, 'p2pMessage')).length >= 3);
      await bob.waitForTimeout(500);
      const shots = [];
      const measured = { scrollWidth: 0, innerWidth: 0, outside: [], clipped: [] };
      for (const page of [ann, bob]) {
        await page.locator('h2', { hasText: 'Live chat' }).evaluate(el => el.scrollIntoView());
        const m = await measure(page);
        if (m.scrollWidth - m.innerWidth >= measured.scrollWidth - measured.innerWidth) Object.assign(measured, { scrollWidth: m.scrollWidth, innerWidth: m.innerWidth });
        measured.outside.push(...m.outside);
        measured.clipped.push(...m.clipped);
        shots.push((await page.screenshot()).toString('base64'));
      }
      const board = await (await browser.newContext({ viewport: { width: 1160, height: 780 }, colorScheme })).newPage();
      await board.setContent(`<body style="margin:0;display:flex;gap:20px;padding:10px;background:#888">${shots.map(s => `<img src="data:image/png;base64,${s}" width="560">`).join('')}</body>`);
      await record(`demo-two-pages-${colorScheme}.png`, board, file => board.screenshot({ path: file }), measured);
      await Promise.all([ann, bob, board].map(p => p.context().close()));
    }

    // The blog post's music room: Bob plays Ann's track, lyrics following.
    {
      const [ann, bob] = await twoReaders('index.html', { width: 960, height: 900 });
      await fill.music(ann, bob).then(beforeShot => beforeShot());
      await record('music-room.png', bob, file => bob.screenshot({ path: file }));
      await Promise.all([ann, bob].map(p => p.context().close()));
    }

    // The photos page: Ann shares three pictures; Bob's wall, and Bob's lightbox on one of them.
    {
      const [ann, bob] = await twoReaders('gallery.html', { width: 960, height: 760 });
      await fill.gallery(ann, bob);
      await record('gallery-wall.png', bob, file => bob.screenshot({ path: file }));
      await bob.locator('p2p-gallery [part="tile"] button').first().click();
      await bob.locator('p2p-gallery img.full').waitFor({ timeout: 30_000 });
      await bob.locator('p2p-gallery img.full').evaluate(img => img.decode());
      await record('gallery-lightbox.png', bob, file => bob.screenshot({ path: file }));
      await Promise.all([ann, bob].map(p => p.context().close()));
    }

    // The reading room: three widgets, one room, one set of connections; Bob's page after a little of everything.
    {
      const [ann, bob] = await twoReaders('all.html', { width: 1280, height: 900 });
      await ann.locator('p2p-chat').evaluate(el => el.sendMessage('Morning! I put on a few tracks and the lake photos.'));
      await fill.gallery(ann, bob);
      const beforeShot = await fill.music(ann, bob);
      await poll('message', async () => (await events(bob, 'p2pMessage')).length >= 1);
      await bob.locator('p2p-chat').evaluate(el => el.sendMessage('Lovely. The forest one is my favourite.'));
      await poll('message', async () => (await events(bob, 'p2pMessage')).length >= 2);
      await beforeShot();
      await record('all-in-one-room.png', bob, file => bob.screenshot({ path: file, fullPage: true }));
      await Promise.all([ann, bob].map(p => p.context().close()));
    }

    // ---------------------------------------------------------------------------------------------

  }
} catch (err) {
  failed = err;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
if (failed) {
  console.error('screenshots: failed:', failed);
  process.exit(1);
}
const overflowing = report.filter(r => r.overflow);
const sticking = report.filter(r => r.outside.length);
console.log(`\n${report.length} screenshots in docs/screenshots/ in ${seconds()} s (CJK fonts: ${cjkFonts > 0 ? cjkFonts : 'none'})`);
console.log(`pages that overflow horizontally: ${overflowing.length ? overflowing.map(r => `${r.file} (${r.scrollWidth} > ${r.width})`).join(', ') : 'none'}`);
console.log(`shots with widget parts outside the widget box: ${sticking.length ? sticking.map(r => r.file).join(', ') : 'none'}`);
const cut = report.filter(r => r.clipped.some(c => !c.includes('truncated…')));
console.log(`shots with content spilling or clipped inside a widget: ${cut.length ? cut.map(r => r.file).join(', ') : 'none'}`);
if (overflowing.length) process.exitCode = 1;
