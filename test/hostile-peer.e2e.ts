import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openChatPage, startWorld, storedRecords, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';

/**
 * A hostile peer (a plain Trystero client, not the widget) joins a room with two
 * widgets and sends malformed, oversized, forged and flooding messages. The widgets
 * keep working, render nothing invalid, store nothing forged, and count every drop.
 */
describe('a hostile peer', () => {
  let world: World;
  let ann: Page;
  let bob: Page;
  let evil: Page;
  let room: string;

  beforeAll(async () => {
    world = await startWorld();
    room = uniqueRoom('hostile');
    [ann, bob] = await Promise.all([openChatPage(world, room, [{ 'user-name': 'Ann' }]), openChatPage(world, room, [{ 'user-name': 'Bob' }])]);
    await Promise.all([waitForPeers(ann, 1), waitForPeers(bob, 1)]);
    evil = await (await world.browser.newContext()).newPage();
    await evil.goto(`${world.host.url}/test/fixtures/bare-trystero.html`);
    await evil.waitForFunction(() => (window as any).ready === true);
    await evil.evaluate(([url, r]) => (window as any).join(url, r, location.host, 2), [world.relay.url, room]);
    await Promise.all([waitForPeers(ann, 2), waitForPeers(bob, 2)]);
  });

  afterAll(async () => {
    await world?.stop();
  });

  const texts = (page: Page) => page.locator('p2p-chat').getByRole('log', { name: 'Messages' }).locator('.message .text').allInnerTexts();
  const stats = (page: Page) => page.locator('p2p-chat').evaluate((el: any) => el.getWireStats());
  const send = (name: string, payload: unknown) => evil.evaluate(([n, p]) => (window as any).send(n, p), [name, payload] as const);
  const signed = (fields: Record<string, unknown>) => evil.evaluate(([r, f]) => (window as any).signedRecord(r, f), [room, fields] as const);

  it('drops malformed, wrongly typed, oversized and forged messages without rendering or storing them', async () => {
    const annMessage = await ann.locator('p2p-chat').evaluate((el: any) => el.sendMessage('a genuine message from Ann'));
    await expect.poll(() => texts(bob)).toEqual(['a genuine message from Ann']);

    const valid = await signed({ kind: 'msg', seq: 1, name: 'Evil', text: '<img src=x onerror="window.pwned=1">valid markup-looking text' });
    await evil.evaluate(() => (window as any).send('chat', new Uint8Array([1, 2, 3])));
    await send('chat', { v: 1, record: valid });
    await send('chat', '{"v":1,"record":');
    await send('chat', JSON.stringify({ v: 2, record: valid }));
    await send('chat', JSON.stringify({ v: 1, record: valid, html: '<script>' }));
    await send('chat', JSON.stringify({ v: 1, record: { ...valid, author: '<img src=x onerror=alert(1)>' } }));
    await send('chat', JSON.stringify({ v: 1, record: { ...valid, name: '' } }));
    await send('chat', JSON.stringify({ v: 1, record: { ...valid, text: 'x'.repeat(80_000) } }));
    await send('presence', JSON.stringify({ v: 1, name: 'N'.repeat(65) }));
    await send('presence', JSON.stringify({ v: 1, name: 'N'.repeat(1000) }));
    // Forgeries: Ann's key as author, signed with Evil's key.
    const [author, seq] = [annMessage.author, Number(annMessage.id.split(':')[1])];
    await send('chat', JSON.stringify({ v: 1, record: await signed({ kind: 'msg', author, seq: seq + 1, name: 'Ann', text: 'forged in Ann’s name' }) }));
    await send('chat', JSON.stringify({ v: 1, record: await signed({ kind: 'retract', author, seq: seq + 2, target: seq }) }));
    // A sync batch nobody asked for.
    const smuggled = await signed({ kind: 'msg', seq: 50, name: 'Evil', text: 'smuggled in by an unrequested sync batch' });
    await send('chat-sync-batch', JSON.stringify({ v: 1, id: 'unrequested-1', records: [smuggled], done: true }));
    await send('chat', JSON.stringify({ v: 1, record: valid }));

    // The one valid message arrives, rendered as characters; nothing else does.
    const expected = ['a genuine message from Ann', '<img src=x onerror="window.pwned=1">valid markup-looking text'];
    await expect.poll(() => texts(ann)).toEqual(expected);
    await expect.poll(() => texts(bob)).toEqual(expected);
    expect(await ann.evaluate(() => (window as any).pwned)).toBeUndefined();
    expect(await bob.locator('p2p-chat').getByText('Message retracted by its author').count()).toBe(0);
    const stored = await storedRecords(bob);
    expect(stored.map(r => r.text).sort()).toEqual([...expected].sort());
    expect(stored.some(r => r.retracted)).toBe(false);

    const s = await stats(ann);
    expect(s.dropped['not-text']).toBeGreaterThanOrEqual(2);
    expect(s.dropped['malformed-json']).toBe(1);
    expect(s.dropped['schema']).toBe(5);
    expect(s.dropped['oversize']).toBe(2);
    expect(s.refused['bad-signature']).toBe(2);
  });

  it('rate-limits a flood of valid messages per peer', async () => {
    await evil.evaluate(async r => {
      const w = window as any;
      const records = await Promise.all(Array.from({ length: 200 }, (_, i) => w.signedRecord(r, { kind: 'msg', seq: 100 + i, name: 'Evil', text: `flood ${i}` })));
      await Promise.all(records.map(record => w.send('chat', JSON.stringify({ v: 1, record }))));
    }, room);
    await expect.poll(async () => (await stats(ann)).dropped.rate).toBeGreaterThan(100);
    // The drops are counted as the messages arrive; the accepted ones are rendered only after their
    // signatures are verified (asynchronous), so wait for them rather than read the list at once.
    const flood = async () => (await texts(ann)).filter(t => t.startsWith('flood')).length;
    await expect.poll(flood).toBeGreaterThan(0);
    expect((await stats(ann)).accepted).toBeGreaterThan(0);
    await ann.waitForTimeout(500);
    expect(await flood()).toBeLessThan(60);
  });

  it('checks a sync batch in the signature worker: a newcomer keeps its genuine records and refuses the tampered and forged ones', async () => {
    const annKey = (await storedRecords(ann)).find(r => r.text === 'a genuine message from Ann')!.author;
    await evil.evaluate(
      async ([r, ann]) => {
        const w = window as any;
        const records = await Promise.all(Array.from({ length: 12 }, (_, i) => w.signedRecord(r, { kind: 'msg', seq: 1000 + i, name: 'Evil', text: `synced ${i}` })));
        records[3] = { ...records[3], text: 'tampered after signing' };
        records[7] = { ...records[7], ts: records[7].ts - 1 };
        records[10] = await w.signedRecord(r, { kind: 'msg', author: ann, seq: 9000, name: 'Ann', text: 'forged in Ann’s name, by sync' });
        w.answerChatSync(records);
      },
      [room, annKey] as const,
    );
    const cat = await openChatPage(world, room, [{ 'user-name': 'Cat' }]);
    await waitForPeers(cat, 3);
    await expect.poll(() => evil.evaluate(() => (window as any).syncAnswered), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const synced = async () => (await storedRecords(cat)).map(r => r.text).filter(t => /^synced \d+$/.test(t ?? '')).sort();
    const genuine = [0, 1, 2, 4, 5, 6, 8, 9, 11].map(i => `synced ${i}`).sort();
    await expect.poll(synced, { timeout: 20_000 }).toEqual(genuine);
    await expect.poll(async () => (await stats(cat)).refused['bad-signature'] ?? 0).toBe(3);
    const stored = await storedRecords(cat);
    expect(stored.some(r => r.text === 'tampered after signing' || r.text?.startsWith('forged'))).toBe(false);
    expect((await texts(cat)).some(t => t.startsWith('tampered') || t.startsWith('forged'))).toBe(false);
    // The batch was checked off the main thread: the page runs the widgets' signature worker.
    const workerNames = await Promise.all(cat.workers().map(w => w.evaluate(() => self.name).catch(() => '')));
    expect(workerNames).toContain('p2p-widgets signature checker');
    await cat.context().close();
  });

  it('disconnects a peer that pushes megabytes, and the widgets keep chatting', async () => {
    await send('chat', 'A'.repeat(8 * 1024 * 1024));
    await Promise.all([waitForPeers(ann, 1), waitForPeers(bob, 1)]).catch(async err => {
      // Evidence for a failure seen once in a full run (not reproduced alone or under CPU load).
      for (const [name, page] of [['Ann', ann], ['Bob', bob]] as const) {
        const status = await page.locator('p2p-chat [part="status"]').innerText().catch(() => '?');
        const connection = await page.locator('p2p-chat').evaluate((el: any) => el.getConnectionStats()).catch(() => null);
        console.error(`${name}: "${status}"`, JSON.stringify(connection), JSON.stringify(await stats(page).catch(() => null)));
      }
      throw err;
    });
    expect((await stats(ann)).dropped.flood).toBeGreaterThanOrEqual(1);
    const errors = await ann.evaluate(() => (window as any).p2pEvents.filter((e: any) => e.type === 'p2pError').map((e: any) => e.detail.code));
    expect(errors).toContain('peer-flood');

    await ann.locator('p2p-chat').evaluate((el: any) => el.sendMessage('still here'));
    await expect.poll(async () => (await texts(bob)).at(-1)).toBe('still here');
    await bob.locator('p2p-chat').evaluate((el: any) => el.sendMessage('me too'));
    await expect.poll(async () => (await texts(ann)).at(-1)).toBe('me too');
  });
});
