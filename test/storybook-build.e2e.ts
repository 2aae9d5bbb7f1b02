import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './harness/browser.mjs';
import { ROOT, startStaticServer, type ServerProcess } from './harness/processes.mjs';

/**
 * The static Storybook (`npm run build-storybook`) builds here with no network, lists a story
 * for every widget state the docs promise, and a built story renders its widget.
 * (The play functions of all stories run as tests in the `storybook` Vitest project.)
 */
describe('static Storybook', () => {
  let outDir: string;
  let site: ServerProcess | undefined;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'p2p-storybook-'));
    const run = spawnSync('npx', ['storybook', 'build', '--quiet', '--disable-telemetry', '-o', outDir], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) throw new Error(`storybook build failed:\n${run.stdout}\n${run.stderr}`);
  });
  afterAll(async () => {
    await site?.stop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('type-checks the stories and the Storybook config (tsc -p stories)', () => {
    const run = spawnSync('npx', ['tsc', '-p', 'stories'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(run.stdout + run.stderr.replace(/^npm warn.*\n/gm, '')).toBe('');
    expect(run.status).toBe(0);
  });

  it('lists the stories of each widget with its docs page', async () => {
    const index = JSON.parse(await readFile(path.join(outDir, 'index.json'), 'utf8')) as { entries: Record<string, { type: string; title: string; name: string }> };
    const names = (title: string, type = 'story') =>
      Object.values(index.entries)
        .filter(e => e.title === title && e.type === type)
        .map(e => e.name);
    expect(names('Widgets/p2p-chat')).toEqual(expect.arrayContaining(['Live With Peers', 'Alone In The Room', 'Connecting', 'Relays Unreachable', 'Long History', 'Dark', 'Chinese']));
    expect(names('Widgets/p2p-music')).toEqual(expect.arrayContaining(['Live Room', 'Banned Tracks Hidden', 'Alone In The Room', 'Connecting', 'Relays Unreachable', 'Dark', 'Chinese']));
    expect(names('Widgets/p2p-gallery')).toEqual(expect.arrayContaining(['Live Wall', 'Lightbox Open', 'Alone In The Room', 'Connecting', 'Relays Unreachable', 'Dark Two Columns', 'Chinese']));
    expect(names('Pages/All three in one room')).toEqual(['Shared Room']);
    for (const title of ['Widgets/p2p-chat', 'Widgets/p2p-music', 'Widgets/p2p-gallery']) expect(names(title, 'docs')).toEqual(['Docs']);
  });

  it('renders a built story: the widget explains a bad attribute in plain words', async () => {
    site = await startStaticServer(outDir);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${site.url}/iframe.html?id=widgets-p2p-chat--bad-attribute&viewMode=story`);
      await page.locator('p2p-chat [part="error"]').filter({ hasText: 'ice-servers' }).waitFor({ timeout: 30_000 });
      // Controls are generated from custom-elements.json: every attribute of the widget, documented.
      const argTypes = await page.evaluate(async () => {
        const preview = (window as any).__STORYBOOK_PREVIEW__;
        const story = await preview.storyStoreValue.loadStory({ storyId: 'widgets-p2p-chat--bad-attribute' });
        return Object.fromEntries(Object.entries(story.argTypes as Record<string, any>).filter(([, a]) => a.table?.category === 'attributes').map(([k, a]) => [k, a.description ?? '']));
      });
      expect(Object.keys(argTypes)).toEqual(expect.arrayContaining(['room', 'app-id', 'password', 'strategy', 'relay-urls', 'ice-servers', 'user-name', 'lang', 'theme', 'max-length', 'retention', 'burn-after-reading']));
      expect(argTypes['relay-urls']).toMatch(/relay/i);
    } finally {
      await browser.close();
    }
  });
});
