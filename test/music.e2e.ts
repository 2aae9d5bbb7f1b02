import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWidgetPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

/** The music room between real browsers, with real audio (autoplay allowed by a launch flag). */
describe('<p2p-music>', () => {
  let world: World;
  const audio = (...names: string[]) => names.map(n => path.join(ROOT, 'test/fixtures/audio', n));

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const music = (page: Page) => page.locator('p2p-music');
  const tracks = (page: Page) => music(page).locator('[part="track"]');
  const state = (page: Page) =>
    music(page).evaluate((el: any) => el.getPlayerState()) as Promise<{
      cid: string | null;
      title: string | null;
      currentTime: number;
      playing: boolean;
      progress: { bytes: number; size: number } | null;
      startedWith: { chunks: number; totalChunks: number } | null;
    }>;
  const added = (page: Page) => page.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pTrackAdd').map((e: any) => e.detail)) as Promise<{ cid: string; title: string }[]>;
  /**
   * Shares a long WAV made in the page (180 s, 44.1 kHz, 16-bit stereo ≈ 31.8 MB, 485 chunks), so a
   * download takes seconds whatever the machine's speed and streaming can be observed reliably.
   */
  async function shareLongWav(page: Page): Promise<void> {
    await music(page).evaluate(async (el: any) => {
      const rate = 44100;
      const seconds = 180;
      const frames = rate * seconds;
      const bytes = new Uint8Array(44 + frames * 4);
      const view = new DataView(bytes.buffer);
      const text = (o: number, s: string) => [...s].forEach((c, i) => view.setUint8(o + i, c.charCodeAt(0)));
      text(0, 'RIFF');
      view.setUint32(4, 36 + frames * 4, true);
      text(8, 'WAVEfmt ');
      view.setUint32(16, 16, true);
      view.setUint16(20, 1, true);
      view.setUint16(22, 2, true);
      view.setUint32(24, rate, true);
      view.setUint32(28, rate * 4, true);
      view.setUint16(32, 4, true);
      view.setUint16(34, 16, true);
      text(36, 'data');
      view.setUint32(40, frames * 4, true);
      for (let i = 0; i < frames; i++) {
        const v = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000);
        view.setInt16(44 + i * 4, v, true);
        view.setInt16(46 + i * 4, v, true);
      }
      await el.addTracks([new File([bytes], 'long-tone.wav', { type: 'audio/wav' })]);
    });
  }

  /** Slows a page's CPU (Chrome DevTools Protocol), so a seeder serves slowly and a download takes a while. */
  async function throttle(page: Page, rate: number) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  }

  it('lists tracks with tags and covers, plays mp3, wav and flac, streams a long track while it downloads, syncs lyrics, honours the ban list', async () => {
    const room = uniqueRoom('music');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-music', room, [{ 'user-name': name }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-music')));
    await music(a).locator('header input[type="file"]').setInputFiles(audio('morning-tone.mp3', 'morning-tone.lrc', 'evening-tone.wav', 'night-tone.flac'));
    await expect.poll(() => tracks(b).count(), { timeout: 30_000 }).toBe(3);
    const titles = (await tracks(b).locator('.info .title').allInnerTexts()).sort();
    expect(titles).toEqual(['Morning Tone', 'Night Tone', 'evening-tone']);
    expect(await tracks(b).locator('img.cover').count()).toBe(2); // mp3 and flac carry cover art; the wav has none
    const byTitle = Object.fromEntries((await added(b)).map(d => [d.title, d.cid]));

    // Each format plays from Ann (the small fixtures may finish downloading before the first sound).
    for (const title of ['Morning Tone', 'evening-tone', 'Night Tone']) {
      await music(b).evaluate((el: any, cid) => el.playTrack(cid), byTitle[title]);
      await expect.poll(async () => (await state(b)).currentTime, { timeout: 30_000, intervals: [100] }).toBeGreaterThan(0.3);
      expect((await state(b)).title).toBe(title);
    }
    // A long track plays while its download is still running: first sound with a fraction of its chunks held.
    await shareLongWav(a);
    await expect.poll(async () => (await added(b)).some(d => d.title === 'long-tone'), { timeout: 30_000 }).toBe(true);
    const longCid = (await added(b)).find(d => d.title === 'long-tone')!.cid;
    await music(b).evaluate((el: any, cid) => el.playTrack(cid), longCid);
    await expect.poll(async () => (await state(b)).currentTime, { timeout: 30_000, intervals: [100] }).toBeGreaterThan(0.3);
    const streaming = await state(b);
    expect(streaming.startedWith!.chunks).toBeLessThan(streaming.startedWith!.totalChunks);

    // Synced lyrics travel with the track and follow playback.
    await music(b).evaluate((el: any, cid) => el.playTrack(cid), byTitle['Morning Tone']);
    const lyrics = music(b).getByRole('list', { name: 'Lyrics' });
    await expect.poll(() => lyrics.locator('li').count(), { timeout: 10_000 }).toBe(5);
    await expect.poll(() => lyrics.locator('li[aria-current="true"]').innerText(), { timeout: 10_000 }).toMatch(/Second line|Third line|Fourth line/);

    // A ban entry hides a track behind a count and next/previous skip it.
    await music(b).evaluate((el: any) => (el.ban = 'night'));
    await expect.poll(() => tracks(b).count()).toBe(3);
    await expect(music(b).getByRole('button', { name: '1 hidden' }).count()).resolves.toBe(1);
    for (let i = 0; i < 3; i++) {
      await music(b).getByRole('button', { name: 'Next track' }).click();
      await expect.poll(async () => (await state(b)).title).not.toBe(null);
      expect((await state(b)).title).not.toBe('Night Tone');
    }
    await Promise.all([a, b].map(p => p.context().close()));
  });

  it('keeps a copy that plays with nobody online; one load per track; a peer joining does not interrupt', async () => {
    const room = uniqueRoom('music-cache');
    const bobContext = await world.browser.newContext();
    const a = await openWidgetPage(world, 'p2p-music', room, [{ 'user-name': 'Ann' }]);
    let b = await openWidgetPage(world, 'p2p-music', room, [{ 'user-name': 'Bob' }], { context: bobContext });
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-music')));
    await music(a).locator('header input[type="file"]').setInputFiles(audio('evening-tone.wav', 'morning-tone.mp3'));
    await expect.poll(() => tracks(b).count(), { timeout: 30_000 }).toBe(2);
    const byTitle = Object.fromEntries((await added(b)).map(d => [d.title, d.cid]));

    // Rapid double play of one track: one load, the right track, playing.
    await music(b).evaluate((el: any, cid) => Promise.all([el.playTrack(cid), el.playTrack(cid)]), byTitle['Morning Tone']);
    await expect.poll(async () => (await state(b)).currentTime, { timeout: 20_000 }).toBeGreaterThan(0.5);
    expect((await state(b)).title).toBe('Morning Tone');

    // Cy joins during playback: Bob's track keeps playing, uninterrupted.
    const before = (await state(b)).currentTime;
    const c = await openWidgetPage(world, 'p2p-music', room, [{ 'user-name': 'Cy' }]);
    await waitForPeers(b, 2, 0, 60_000, 'p2p-music');
    await b.waitForTimeout(1000);
    const after = await state(b);
    expect(after.title).toBe('Morning Tone');
    expect(after.currentTime).toBeGreaterThan(before + 0.5);
    await c.context().close();

    // Keep a copy of the WAV; reload; Ann leaves; the copy still plays.
    await music(b).locator(`[part="track"][data-cid="${byTitle['evening-tone']}"]`).getByRole('button', { name: 'Keep a copy' }).click();
    await expect.poll(() => music(b).locator(`[part="track"][data-cid="${byTitle['evening-tone']}"]`).getByRole('button', { name: 'Remove local copy' }).count(), { timeout: 20_000 }).toBe(1);
    await b.close();
    b = await openWidgetPage(world, 'p2p-music', room, [{ 'user-name': 'Bob' }], { context: bobContext });
    await a.context().close();
    await expect.poll(() => tracks(b).count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await music(b).evaluate((el: any, cid) => el.playTrack(cid), byTitle['evening-tone']);
    await expect.poll(async () => (await state(b)).currentTime, { timeout: 20_000 }).toBeGreaterThan(0.5);
    expect((await state(b)).title).toBe('evening-tone');
    await bobContext.close();
  });

  it('seeks into a part not downloaded yet, and says plainly when the rest is unavailable', async () => {
    const room = uniqueRoom('music-seek');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-music', room, [{ 'user-name': name }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-music')));
    await shareLongWav(a);
    await expect.poll(() => tracks(b).count(), { timeout: 30_000 }).toBe(1);
    const [{ cid }] = await added(b);
    await throttle(a, 20);
    await music(b).evaluate((el: any, c) => el.playTrack(c), cid);
    await expect.poll(async () => (await state(b)).currentTime, { timeout: 30_000, intervals: [100] }).toBeGreaterThan(0.2);
    await music(b).evaluate((el: any) => el.seek(150));
    await expect.poll(async () => (await state(b)).currentTime, { timeout: 30_000, intervals: [100] }).toBeGreaterThan(150);
    const s = await state(b);
    expect(s.progress!.bytes).toBeLessThan(s.progress!.size); // the part at 150 s came before the rest
    // Ann leaves with the track unfinished: what is buffered plays, then the widget says the rest is unavailable.
    await music(b).evaluate((el: any) => el.seek(5));
    await a.context().close();
    await expect.poll(() => music(b).getByRole('alert').innerText(), { timeout: 60_000 }).toMatch(/rest of this track is not available/);
    await b.context().close();
  });
});
