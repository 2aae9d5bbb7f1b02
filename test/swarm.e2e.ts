import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openLabPage, startWorld, uniqueRoom, waitForLabPeers, type World } from './harness/browser.mjs';

/**
 * The swarm between real browser pages through the local relay: verified chunks,
 * many peers, redistribution, tampering, a seeder leaving, resume after reload,
 * and chat-sized messages that do not wait behind bulk transfers.
 */
const MiB = 1024 * 1024;
const SIZE = 32 * MiB;

describe('swarm transfer between pages', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const lab = (page: Page) => ({
    share: (size: number, seed: number) => page.evaluate(([s, k]) => (window as any).lab.share(s, k), [size, seed]) as Promise<{ cid: string; sha256: string; chunks: number }>,
    start: (cid: string) => page.evaluate(c => (window as any).lab.startDownload(c), cid),
    wait: (cid: string) => page.evaluate(c => (window as any).lab.waitDownload(c), cid),
    digest: (cid: string, size: number) => page.evaluate(([c, s]) => (window as any).lab.digest(c, s), [cid, size] as const) as Promise<string>,
    progress: (cid: string) => page.evaluate(c => (window as any).lab.progress(c), cid) as Promise<{ chunks: number; totalChunks: number; bytes: number }>,
    have: (cid: string) => page.evaluate(c => (window as any).lab.have(c), cid) as Promise<number[]>,
    stats: () => page.evaluate(() => (window as any).lab.stats()) as Promise<{ bytesUploaded: number; bytesDownloaded: number; badChunks: number; chunksServed: number }>,
    holders: (cid: string) => page.evaluate(c => (window as any).lab.holders(c), cid) as Promise<string[]>,
  });

  async function waitHolders(page: Page, cid: string, n: number) {
    await expect.poll(() => lab(page).holders(cid), { timeout: 20_000 }).toHaveLength(n);
  }

  /** Two pages in a new room: the seeder shares SIZE bytes made from `seed`, the leecher starts downloading them. */
  async function startPairDownload(label: string, seed: number) {
    const room = uniqueRoom(label);
    const [seeder, leecher] = await Promise.all([openLabPage(world, room), openLabPage(world, room)]);
    await Promise.all([waitForLabPeers(seeder, 1), waitForLabPeers(leecher, 1)]);
    const file = await lab(seeder).share(SIZE, seed);
    await waitHolders(leecher, file.cid, 1);
    await lab(leecher).start(file.cid);
    return { seeder, leecher, file };
  }

  it('1 seeder → 1 downloader: 32 MiB arrive byte-identical', async () => {
    const { seeder, leecher, file } = await startPairDownload('swarm-1', 1);
    // A byte range near the end can be read while the download is still running (it is fetched first).
    const [start, end] = [SIZE - 300_000, SIZE - 100_000];
    const range = await leecher.evaluate(([c, a, b]) => (window as any).lab.readRange(c, a, b), [file.cid, start, end] as const);
    expect(range.sha256).toBe(await leecher.evaluate(([s, a, b]) => (window as any).lab.expected(s, 1, a, b), [SIZE, start, end] as const));
    expect(range.heldWhenRead).toBeLessThan(range.totalChunks);
    await lab(leecher).wait(file.cid);
    expect(await lab(leecher).digest(file.cid, SIZE)).toBe(file.sha256);
    const up = (await lab(seeder).stats()).bytesUploaded;
    if (up !== SIZE) console.log('events seeder', await seeder.evaluate(() => (window as any).lab.events()), 'leecher', await leecher.evaluate(() => (window as any).lab.events()), JSON.stringify(await lab(leecher).stats()));
    expect(up).toBe(SIZE); // each chunk sent once: no duplicate data on the wire
    await Promise.all([seeder, leecher].map(p => p.context().close()));
  });

  it('a seeder that goes quiet mid-transfer while its connection still carries packets is waited for, not dropped', async () => {
    // What Chromium's transport does at times between two pages of one machine (README, known
    // limits): nothing arrives for seconds, packets still cross. Here the seeder's script is paused
    // for 6 s (past the 3 s heartbeat timeout); its WebRTC threads keep acknowledging. The
    // downloader keeps it (it was receiving chunks from it and its connection still receives
    // packets) and the transfer goes on without resending a byte when the seeder resumes.
    const { seeder, leecher, file } = await startPairDownload('swarm-quiet', 3);
    await expect.poll(async () => (await lab(leecher).progress(file.cid)).chunks, { timeout: 20_000, interval: 20 }).toBeGreaterThan(0);
    const cdp = await seeder.context().newCDPSession(seeder);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    await new Promise(r => setTimeout(r, 6000));
    const listedWhilePaused = await leecher.evaluate(() => (window as any).lab.peerIds().length);
    await cdp.send('Debugger.resume');
    if (listedWhilePaused !== 1) console.log('leecher events', await leecher.evaluate(() => (window as any).lab.events()));
    expect(listedWhilePaused).toBe(1);
    await lab(leecher).wait(file.cid);
    expect(await lab(leecher).digest(file.cid, SIZE)).toBe(file.sha256);
    const leaves = (await leecher.evaluate(() => (window as any).lab.events() as string[])).filter(e => e.includes('peerLeave'));
    expect(leaves).toEqual([]);
    expect((await lab(seeder).stats()).bytesUploaded).toBe(SIZE);
    await Promise.all([seeder, leecher].map(p => p.context().close()));
  });

  it('1 seeder → 4 downloaders: all byte-identical, and downloaders serve each other', async () => {
    const room = uniqueRoom('swarm-4');
    const pages = await Promise.all(Array.from({ length: 5 }, () => openLabPage(world, room)));
    await Promise.all(pages.map(p => waitForLabPeers(p, 4, 60_000)));
    const [seeder, ...leechers] = pages;
    const file = await lab(seeder).share(SIZE, 4);
    await Promise.all(leechers.map(p => waitHolders(p, file.cid, 1)));
    await Promise.all(leechers.map(p => lab(p).start(file.cid)));
    await Promise.all(leechers.map(p => lab(p).wait(file.cid)));
    for (const p of leechers) expect(await lab(p).digest(file.cid, SIZE)).toBe(file.sha256);
    const served = (await Promise.all(leechers.map(p => lab(p).stats()))).reduce((n, s) => n + s.chunksServed, 0);
    expect(served).toBeGreaterThan(0);
    const seederUp = (await lab(seeder).stats()).bytesUploaded;
    expect(seederUp).toBeLessThan(4 * SIZE);
    console.log(`1→4 of 32 MiB: seeder uploaded ${(seederUp / MiB).toFixed(1)} MiB (${(seederUp / SIZE).toFixed(2)} copies); downloaders served ${served} chunks to each other`);
    await Promise.all(pages.map(p => p.context().close()));
  });

  it('a tampering peer cannot corrupt a download; it is penalised and the bad chunks come from elsewhere', async () => {
    const room = uniqueRoom('swarm-tamper');
    const SMALL = 8 * MiB;
    const [seeder, tamperer, leecher] = await Promise.all([openLabPage(world, room), openLabPage(world, room), openLabPage(world, room)]);
    await Promise.all([seeder, tamperer, leecher].map(p => waitForLabPeers(p, 2)));
    const file = await lab(seeder).share(SMALL, 7);
    // The tamperer holds the real file (its own copy), but flips bytes in everything it sends.
    const own = await lab(tamperer).share(SMALL, 7);
    expect(own.cid).toBe(file.cid); // same bytes, same content id
    await tamperer.evaluate(() => (window as any).lab.tamper());
    await waitHolders(leecher, file.cid, 2);
    await lab(leecher).start(file.cid);
    await lab(leecher).wait(file.cid);
    expect(await lab(leecher).digest(file.cid, SMALL)).toBe(file.sha256);
    const stats = await lab(leecher).stats();
    expect(stats.badChunks).toBeGreaterThan(0);
    expect(stats.badChunks).toBeLessThanOrEqual(3 + 6); // banned after 3 strikes (plus up to maxPerPeer = 6 requests already in flight)
    await Promise.all([seeder, tamperer, leecher].map(p => p.context().close()));
  });

  it('the seeder leaves mid-transfer and the downloaders finish from each other', async () => {
    const room = uniqueRoom('swarm-leave');
    const pages = await Promise.all(Array.from({ length: 4 }, () => openLabPage(world, room)));
    await Promise.all(pages.map(p => waitForLabPeers(p, 3, 60_000)));
    const [seeder, ...leechers] = pages;
    const file = await lab(seeder).share(SIZE, 9);
    await Promise.all(leechers.map(p => waitHolders(p, file.cid, 1)));
    await Promise.all(leechers.map(p => lab(p).start(file.cid)));
    // Leave as soon as the downloaders together hold every chunk (rarest-first makes that early).
    let percent = 0;
    await expect
      .poll(
        async () => {
          const haves = await Promise.all(leechers.map(p => lab(p).have(file.cid)));
          percent = Math.round((100 * haves.reduce((n, h) => n + h.length, 0)) / (haves.length * file.chunks));
          return new Set(haves.flat()).size;
        },
        { timeout: 60_000, intervals: [50] },
      )
      .toBe(file.chunks);
    await seeder.context().close();
    console.log(`seeder left when the downloaders held ${percent}% on average`);
    expect(percent).toBeLessThan(100);
    // Finished within 60 s, or the evidence of why not: each downloader's progress and its mesh and bulk-link events.
    const finished = await Promise.race([Promise.all(leechers.map(p => lab(p).wait(file.cid))).then(() => true), new Promise<false>(r => setTimeout(() => r(false), 60_000))]);
    if (!finished) {
      for (const p of leechers) {
        const [progress, events] = await Promise.all([p.evaluate(c => (window as any).lab.progress(c), file.cid), p.evaluate(() => (window as any).lab.events().slice(-40))]);
        console.error('[swarm-leave] not finished:', JSON.stringify(progress), '\n  ' + events.join('\n  '));
      }
    }
    expect(finished).toBe(true);
    for (const p of leechers) expect(await lab(p).digest(file.cid, SIZE)).toBe(file.sha256);
    await Promise.all(leechers.map(p => p.context().close()));
  });

  it('a reload at 50 % resumes without fetching stored chunks again', async () => {
    const room = uniqueRoom('swarm-resume');
    const seeder = await openLabPage(world, room);
    const context = await world.browser.newContext();
    let leecher = await openLabPage(world, room, { context });
    await Promise.all([waitForLabPeers(seeder, 1), waitForLabPeers(leecher, 1)]);
    const file = await lab(seeder).share(SIZE, 11);
    await waitHolders(leecher, file.cid, 1);
    await lab(leecher).start(file.cid);
    await expect.poll(async () => (await lab(leecher).have(file.cid)).length, { timeout: 60_000, intervals: [20] }).toBeGreaterThanOrEqual(file.chunks / 2);
    await leecher.close();
    leecher = await openLabPage(world, room, { context });
    await waitForLabPeers(leecher, 1);
    const kept = (await lab(leecher).have(file.cid)).length;
    expect(kept).toBeGreaterThanOrEqual(file.chunks / 2);
    await waitHolders(leecher, file.cid, 1);
    await lab(leecher).start(file.cid);
    await lab(leecher).wait(file.cid);
    expect(await lab(leecher).digest(file.cid, SIZE)).toBe(file.sha256);
    const chunkSize = SIZE / file.chunks;
    const fetchedAfterReload = (await lab(leecher).stats()).bytesDownloaded;
    expect(fetchedAfterReload).toBeLessThanOrEqual(SIZE - kept * chunkSize);
    await Promise.all([seeder.context().close(), context.close()]);
  });

  it('a chat-sized message during a 32 MiB transfer arrives while it runs: median round trip < 1 s, none > 3 s', async () => {
    const room = uniqueRoom('swarm-chat');
    const [seeder, leecher] = await Promise.all([openLabPage(world, room), openLabPage(world, room)]);
    await Promise.all([waitForLabPeers(seeder, 1), waitForLabPeers(leecher, 1)]);
    await leecher.evaluate(() => (window as any).lab.answerPings());
    const leecherId = (await seeder.evaluate(() => (window as any).lab.peerIds()))[0];
    const file = await lab(seeder).share(SIZE, 13);
    await waitHolders(leecher, file.cid, 1);
    await lab(leecher).start(file.cid);
    // Pings start once the transfer runs steadily (8 MiB of 32 in). In its first 2 MiB the WebRTC
    // transport itself (Chromium's SCTP, on this 2-core loopback) often stalls for 0.4–5 s and now
    // and then much longer, on every channel of the connection at once: `node
    // bench/transport-stall-probe.mjs` shows the same stall with a raw RTCDataChannel and no swarm
    // code, and a Trystero ping waiting the same time. What this test checks is the swarm's own
    // queueing: a chat line must not wait behind bulk data the page has queued.
    await expect.poll(async () => (await lab(leecher).progress(file.cid)).chunks, { intervals: [20], timeout: 30_000 }).toBeGreaterThanOrEqual(32);
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      rtts.push(await seeder.evaluate(id => (window as any).lab.ping(id), leecherId));
      await seeder.waitForTimeout(100);
    }
    const during = await lab(leecher).progress(file.cid);
    console.log(`round trips during the transfer (ms): ${rtts.map(r => r.toFixed(1)).join(', ')}; transfer at ${during.chunks}/${during.totalChunks} chunks`);
    expect(during.chunks).toBeLessThan(during.totalChunks); // the transfer was still running
    // Bound stated here: the median round trip stays under 1 s and no single one exceeds 3 s
    // (a loaded 2-core CI machine once stalled one round trip to 1.2 s; the median there was 59 ms).
    const sorted = [...rtts].sort((a, b) => a - b);
    if (sorted[Math.floor(sorted.length / 2)] >= 1000 || rtts.some(r => r >= 3000)) {
      // The two pages' timelines (Date.now() on one machine): pings, stalls of either main thread, link events.
      for (const [name, page] of [['seeder', seeder], ['leecher', leecher]] as const) {
        console.log(name, 'pings', await page.evaluate(() => (window as any).lab.pingLog()), 'events', await page.evaluate(() => (window as any).lab.events()));
      }
    }
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(1000);
    for (const rtt of rtts) expect(rtt).toBeLessThan(3000);
    await lab(leecher).wait(file.cid);
    await Promise.all([seeder, leecher].map(p => p.context().close()));
  });
});
