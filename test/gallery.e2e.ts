import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import exifr from 'exifr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openFullPicture as openFull, openWidgetPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { ROOT } from './harness/processes.mjs';

/** The shared picture wall between real browsers. */
describe('<p2p-gallery>', () => {
  let world: World;
  const images = (...names: string[]) => names.map(n => path.join(ROOT, 'test/fixtures/images', n));

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const gallery = (page: Page) => page.locator('p2p-gallery');
  const tiles = (page: Page) => gallery(page).locator('[part="tile"]');
  const closeLightbox = (page: Page) => gallery(page).getByRole('dialog').press('Escape');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('shares pictures live, strips GPS/EXIF, serves from whoever holds them, and honours only the owner’s removal', async () => {
    const room = uniqueRoom('gallery');
    const [a, b, c] = await Promise.all(['Ann', 'Bob', 'Cy'].map(name => openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': name }])));
    await Promise.all([a, b, c].map(p => waitForPeers(p, 2, 0, 60_000, 'p2p-gallery')));

    // Ann adds three pictures with the file picker; Bob and Cy see the thumbnails live.
    await gallery(a).locator('input[type="file"]').setInputFiles(images('sunset-gps.jpg', 'lake.png', 'forest.webp'));
    for (const page of [a, b, c]) await expect.poll(() => tiles(page).count(), { timeout: 20_000 }).toBe(3);
    // Decoded, re-encoded and thumbnailed in Ann's picture worker, not on her page's main thread.
    const workers = await Promise.all(a.workers().map(w => w.evaluate(() => ({ name: (self as any).name as string, rendered: ((self as any).rendered ?? 0) as number }))));
    expect(workers.find(w => w.name === 'p2p-widgets picture preparer')?.rendered).toBe(3);
    const added = await b.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pImageAdd').map((e: any) => e.detail));
    expect(added.map((d: any) => d.userName)).toEqual(['Ann', 'Ann', 'Ann']);
    const byMime = Object.fromEntries(added.map((d: any) => [d.mime, d.cid]));
    expect(Object.keys(byMime).sort()).toEqual(['image/jpeg', 'image/png', 'image/webp']);

    // Cy opens the JPEG: byte-identical to what Ann shares, decodable, and without GPS or camera EXIF.
    const fromCy = await openFull(c, byMime['image/jpeg']);
    await closeLightbox(c);
    const atAnn = await openFull(a, byMime['image/jpeg']);
    await closeLightbox(a);
    expect(sha(fromCy)).toBe(sha(atAnn));
    expect(await exifr.gps(fromCy).catch(() => undefined)).toBeUndefined();
    const meta = await exifr.parse(fromCy, { tiff: true, xmp: true, gps: true }).catch(() => undefined);
    expect(meta?.Make).toBeUndefined();
    expect(await exifr.gps(path.join(ROOT, 'test/fixtures/images/sunset-gps.jpg'))).toMatchObject({ latitude: expect.any(Number) });

    // Bob caches the PNG; Ann removes the WebP (her own); then Ann leaves.
    await openFull(b, byMime['image/png']);
    await closeLightbox(b);
    await gallery(a).locator(`[part="tile"][data-cid="${byMime['image/webp']}"] button`).click();
    await gallery(a).getByRole('button', { name: 'Remove for everyone' }).click();
    for (const page of [b, c]) await expect.poll(() => tiles(page).count()).toBe(2);
    await a.context().close();
    await Promise.all([b, c].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-gallery')));

    // Cy can still open what Bob cached, from Bob.
    const pngFromBob = await openFull(c, byMime['image/png']);
    expect(pngFromBob.subarray(1, 4).toString()).toBe('PNG');
    // The PNG had no metadata to remove: it is shared byte for byte as picked, not re-encoded.
    expect(sha(pngFromBob)).toBe(sha(readFileSync(path.join(ROOT, 'test/fixtures/images/lake.png'))));
    await closeLightbox(c);
    const shown = await tiles(c).evaluateAll(els => els.map(e => e.getAttribute('data-cid')));
    expect(shown.sort()).toEqual([byMime['image/jpeg'], byMime['image/png']].sort());
    await Promise.all([b, c].map(p => p.context().close()));
  });

  it('refuses non-pictures by content, and a hostile peer’s forged removal and bogus thumbnails do not break the wall', async () => {
    const room = uniqueRoom('gallery-hostile');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(name => openWidgetPage(world, 'p2p-gallery', room, [{ 'user-name': name }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 60_000, 'p2p-gallery')));

    await gallery(a).locator('input[type="file"]').setInputFiles(images('not-a-picture.jpg'));
    await expect.poll(() => gallery(a).getByRole('alert').innerText()).toMatch(/not a picture/);
    const codes = await a.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => e.detail.code));
    expect(codes).toContain('not-an-image');

    await gallery(a).locator('input[type="file"]').setInputFiles(images('lake.png'));
    await expect.poll(() => tiles(b).count(), { timeout: 20_000 }).toBe(1);
    const pic = await b.evaluate(() => (window as any).p2pEvents.find((e: any) => e.type === 'p2pImageAdd').detail);

    const evil = await (await world.browser.newContext()).newPage();
    await evil.goto(`${world.host.url}/test/fixtures/bare-trystero.html`);
    await evil.waitForFunction(() => (window as any).ready === true);
    await evil.evaluate(([url, r]) => (window as any).join(url, r, location.host, 2), [world.relay.url, room]);
    await waitForPeers(b, 2, 0, 60_000, 'p2p-gallery');
    const signed = (fields: Record<string, unknown>) => evil.evaluate(([r, f]) => (window as any).signedGalleryRecord(r, f), [room, fields] as const);
    const send = (record: unknown) => evil.evaluate(rec => (window as any).send('gallery', JSON.stringify({ v: 1, record: rec })), record);
    const seq = Number(pic.id.split(':')[1]);
    // A removal in Ann's name signed with another key, and the hostile peer's "removal" of Ann's picture.
    await send(await signed({ kind: 'remove', author: pic.author, seq: seq + 1, target: seq }));
    await send(await signed({ kind: 'remove', seq: seq + 1, target: seq }));
    // Bogus thumbnails: random bytes, and a tiny PNG header claiming 60000 × 60000 pixels.
    const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64url');
    const bomb = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60, 8, 6, 0, 0, 0, 0, 0, 0, 0];
    const fake = { kind: 'pic', name: 'Evil', cid: 'A'.repeat(43), size: 1000, mime: 'image/png', width: 10, height: 10, alt: '' };
    // (Sequence numbers the hostile peer has not used yet: a second record under a used `author:seq` is only a duplicate.)
    await send(await signed({ ...fake, seq: seq + 10, thumb: b64([...Array(300)].map((_, i) => (i * 37) % 256)) }));
    await send(await signed({ ...fake, seq: seq + 11, thumb: b64(bomb) }));
    await b.waitForTimeout(1500);

    expect(await tiles(b).count()).toBe(1);
    const stats = await gallery(b).evaluate((el: any) => el.getStats());
    expect(stats.refused['bad-signature']).toBe(1);
    expect(stats.refused['bad-thumbnail']).toBe(2);
    // The wall still works: Bob opens Ann's picture.
    const png = await openFull(b, pic.cid);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    await Promise.all([a, b, evil].map(p => p.context().close()));
  });
});
