import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { openChatPage, startWorld, uniqueRoom, waitForPeers, type World } from './harness/browser.mjs';
import { freePort, startRelay, type ServerProcess } from './harness/processes.mjs';
import { startTcpProxy } from './harness/tcp-proxy.mjs';

/**
 * The mesh holds (issue: "Visitors meet at once and stay met"): newcomers meet idle rooms, pages
 * survive a relay outage and find the relay again, reloads and dead tabs leave no ghosts.
 * Timings are printed; the bench (npm run bench) reports them over many rounds.
 */
describe('mesh recovery', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.stop();
  });

  const chat = (page: Page) => page.locator('p2p-chat');
  const peerNames = async (page: Page) =>
    (await chat(page).getByRole('list', { name: 'In the room' }).locator('li:not(.self)').allInnerTexts()).map(n => n.split(' · ')[0]).sort();
  const texts = (page: Page) => chat(page).locator('.message .text').allInnerTexts();
  const send = (page: Page, text: string) => chat(page).evaluate((el: any, t) => el.sendMessage(t), text);
  const relayNotice = (page: Page) => chat(page).locator('[part="relay-notice"]');
  const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
  /**
   * Waits until `page` has heard a heartbeat from the peer named `name`: a page tracks a peer's
   * silence only from its first heartbeat (so a peer without heartbeats, an older version, is never
   * dropped), so freezing or crashing a page before then would test nothing but that rule.
   */
  const heardFrom = (page: Page, name: string) =>
    expect
      .poll(async () => (await chat(page).evaluate(async (el: any) => (await el.getConnectionStats()).peers)).find((p: any) => p.name === name)?.silentForMs ?? null, { timeout: 5_000 })
      .not.toBeNull();

  it('a newcomer into a room idle for 75 s meets every member at once', async () => {
    const room = uniqueRoom('idle');
    const members = await Promise.all(['Ann', 'Bob', 'Cy'].map(n => openChatPage(world, room, [{ 'user-name': n }])));
    await Promise.all(members.map(p => waitForPeers(p, 2)));
    await sleep(75_000); // longer than Trystero's 57.3 s offer TTL and its 60 s announce interval
    const start = Date.now();
    const newcomer = await openChatPage(world, room, [{ 'user-name': 'Dee' }]);
    // Before the fix this newcomer met 0–1 of the three, not later either.
    await waitForPeers(newcomer, 3, 0, 10_000);
    console.log(`newcomer into a room idle 75 s met all 3 members ${Date.now() - start} ms after opening the page`);
    expect(await peerNames(newcomer)).toEqual(['Ann', 'Bob', 'Cy']);
    for (const p of members) await expect.poll(() => peerNames(p)).toContain('Dee');
    await Promise.all([...members, newcomer].map(p => p.context().close()));
  }, 200_000);

  it('keeps links through a 3-minute relay outage, says so, and finds the relay again without a reload', async () => {
    const port = await freePort();
    let relay: ServerProcess = await startRelay({ port });
    try {
      const room = uniqueRoom('outage');
      const attrs = { 'relay-urls': relay.url };
      const [a, b] = await Promise.all(['Ann', 'Bob'].map(n => openChatPage(world, room, [{ ...attrs, 'user-name': n }])));
      await Promise.all([a, b].map(p => waitForPeers(p, 1)));
      await expect(relayNotice(a).count()).resolves.toBe(0);

      await relay.stop();
      const downAt = Date.now();
      // Both pages say plainly that nobody new can join, and still count their peer.
      for (const p of [a, b]) {
        // Failed once in a fresh-clone CI run (session 14; not reproduced in 12 loops of this step):
        // a page showed no notice within 10 s. On a recurrence, say what that page's mesh saw.
        await relayNotice(p)
          .waitFor({ timeout: 10_000 })
          .catch(async err => {
            const seen = await chat(p).evaluate(async (el: any) => JSON.stringify({ stats: await el.getConnectionStats(), status: el.shadowRoot?.querySelector('[part="status"]')?.textContent ?? null }));
            throw new Error(`${p === a ? 'Ann' : 'Bob'} showed no relay notice ${Date.now() - downAt} ms after the relay stopped; its mesh: ${seen}`, { cause: err });
          });
        expect(await relayNotice(p).innerText()).toContain('new visitors cannot join');
        await waitForPeers(p, 1, 0, 1000);
      }
      const stats = await chat(a).evaluate((el: any) => el.getConnectionStats());
      expect(stats.relaysDown).toBe(true);
      expect(stats.relays.map((r: any) => r.state)).toEqual(['reconnecting']);
      // The WebRTC link keeps working during the outage, at its start and at its end.
      await send(a, 'during the outage');
      await expect.poll(() => texts(b), { timeout: 10_000 }).toContain('during the outage');
      await sleep(Math.max(0, 180_000 - (Date.now() - downAt)));
      await send(b, 'three minutes later');
      await expect.poll(() => texts(a), { timeout: 10_000 }).toContain('three minutes later');

      relay = await startRelay({ port });
      const backAt = Date.now();
      const newcomer = await openChatPage(world, room, [{ ...attrs, 'user-name': 'Cy' }]);
      await waitForPeers(newcomer, 2, 0, 10_000 - (Date.now() - backAt));
      console.log(`after a 180 s outage: newcomer met both ${Date.now() - backAt} ms after the relay came back`);
      for (const p of [a, b]) await expect.poll(() => relayNotice(p).count()).toBe(0);
      await Promise.all([a, b, newcomer].map(p => p.context().close()));
    } finally {
      await relay.stop();
    }
  }, 300_000);

  it('reconnects to the relay when the browser comes back online', async () => {
    const room = uniqueRoom('offline');
    // Ann reaches the relay through a proxy the test can cut, as her Wi-Fi going away; the others directly.
    const proxy = await startTcpProxy(Number(new URL(world.relay.url).port));
    try {
      const a = await openChatPage(world, room, [{ 'user-name': 'Ann', 'relay-urls': `ws://127.0.0.1:${proxy.port}` }]);
      const b = await openChatPage(world, room, [{ 'user-name': 'Bob' }]);
      await Promise.all([a, b].map(p => waitForPeers(p, 1)));
      // Offline: the browser says so ('offline' pauses relay reconnection) and the path is cut.
      await a.context().setOffline(true);
      proxy.cut();
      await relayNotice(a).waitFor({ timeout: 10_000 });
      await waitForPeers(a, 1, 0, 1000); // the WebRTC link to Bob stays
      await sleep(20_000);
      proxy.restore();
      await a.context().setOffline(false);
      const onlineAt = Date.now();
      await expect.poll(() => relayNotice(a).count(), { timeout: 10_000 }).toBe(0);
      const foundAfter = Date.now() - onlineAt;
      // A newcomer meets Ann through the relay she found again.
      const c = await openChatPage(world, room, [{ 'user-name': 'Cy' }]);
      await waitForPeers(c, 2, 0, 10_000);
      console.log(`back online: relay found again ${foundAfter} ms after 'online'; newcomer met both ${Date.now() - onlineAt} ms after it`);
      await Promise.all([a, b, c].map(p => p.context().close()));
    } finally {
      await proxy.close();
    }
  });

  it('while the browser is offline a relay socket that is still open counts as down, and it is replaced when back online', async () => {
    const room = uniqueRoom('offline-stale');
    // The network path vanishes without closing Ann's relay socket (no FIN, no reset): the socket
    // still reads as open. Chromium's offline emulation usually closes it at once, but 1 time in
    // 4 to 16 it stayed open, and the widget said nothing; here that case is made on purpose.
    const proxy = await startTcpProxy(Number(new URL(world.relay.url).port));
    try {
      const a = await openChatPage(world, room, [{ 'user-name': 'Ann', 'relay-urls': `ws://127.0.0.1:${proxy.port}` }]);
      const b = await openChatPage(world, room, [{ 'user-name': 'Bob' }]);
      await Promise.all([a, b].map(p => waitForPeers(p, 1)));
      const setOnline = (online: boolean) =>
        a.evaluate(on => {
          Object.defineProperty(Navigator.prototype, 'onLine', { get: () => on, configurable: true });
          dispatchEvent(new Event(on ? 'online' : 'offline'));
        }, online);
      proxy.blackhole();
      await setOnline(false);
      await relayNotice(a).waitFor({ timeout: 2000 });
      const stats = await chat(a).evaluate((el: any) => el.getConnectionStats());
      expect(stats.relays.map((r: any) => r.state)).toEqual(['reconnecting']);
      await waitForPeers(a, 1, 0, 1000); // the WebRTC link to Bob stays
      proxy.restore();
      await setOnline(true);
      // 'online' cycles the relay sockets: the stale one is replaced by one that works.
      await expect.poll(() => relayNotice(a).count(), { timeout: 10_000 }).toBe(0);
      const c = await openChatPage(world, room, [{ 'user-name': 'Cy' }]);
      await waitForPeers(c, 2, 0, 10_000);
      await Promise.all([a, b, c].map(p => p.context().close()));
    } finally {
      await proxy.close();
    }
  });

  it('a dead relay among several does not slow joins, and the panel says which is down', async () => {
    const dead = `ws://127.0.0.1:${await freePort()}`; // nothing listens there
    const room = uniqueRoom('dead-relay');
    const attrs = { 'relay-urls': `${dead},${world.relay.url}` };
    const start = Date.now();
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(n => openChatPage(world, room, [{ ...attrs, 'user-name': n }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 10_000)));
    console.log(`with one dead relay of two: pair met ${Date.now() - start} ms after opening`);
    const stats = await chat(a).evaluate((el: any) => el.getConnectionStats());
    expect(Object.fromEntries(stats.relays.map((r: any) => [r.url, r.state]))).toEqual({ [dead]: 'reconnecting', [world.relay.url]: 'connected' });
    expect(stats.relaysDown).toBe(false);
    expect(await relayNotice(a).count()).toBe(0);
    await Promise.all([a, b].map(p => p.context().close()));
  });

  it('a tab frozen for 10 s (sleep) is dropped by the others and met again when it resumes', async () => {
    const room = uniqueRoom('freeze');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(n => openChatPage(world, room, [{ 'user-name': n }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1)));
    await heardFrom(a, 'Bob');
    // Bob's page stops running script, as a frozen or sleeping tab (CDP's lifecycle "frozen" is
    // ignored for a visible page, so the debugger pauses it); its network stack keeps going.
    await a.evaluate(() => {
      (window as any).__leaves = [];
      document.addEventListener('p2pPeerLeave', e => (window as any).__leaves.push((e as CustomEvent).detail.reason));
    });
    const cdp = await b.context().newCDPSession(b);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    await expect.poll(() => peerNames(a), { timeout: 6_000 }).toEqual([]);
    expect(await a.evaluate(() => (window as any).__leaves)).toEqual(['silent']);
    await sleep(10_000);
    await cdp.send('Debugger.resume');
    const resumedAt = Date.now();
    await expect.poll(() => peerNames(a), { timeout: 15_000 }).toEqual(['Bob']);
    await waitForPeers(b, 1, 0, 15_000);
    console.log(`frozen tab met again ${Date.now() - resumedAt} ms after it resumed`);
    await expect.poll(() => peerNames(b)).toEqual(['Ann']);
    await send(b, 'back from sleep');
    await expect.poll(() => texts(a)).toContain('back from sleep');
    await Promise.all([a, b].map(p => p.context().close()));
  });

  it('a connection lost without a goodbye is met again within seconds, on both sides', async () => {
    const room = uniqueRoom('lost');
    // Ann's page records its data channels, so the test can cut the link as a network glitch would:
    // both sides see the channel close, neither said goodbye. Before both sides announced again
    // after such a loss, the pair met again only at the next 60 s announce.
    const context = await world.browser.newContext();
    await context.addInitScript(() => {
      const channels: RTCDataChannel[] = ((window as any).__dataChannels = []);
      const create = RTCPeerConnection.prototype.createDataChannel;
      RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, ...args: Parameters<typeof create>) {
        const channel = create.apply(this, args);
        channels.push(channel);
        return channel;
      };
      const Native = RTCPeerConnection;
      (window as any).RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config);
          this.addEventListener('datachannel', e => channels.push(e.channel));
        }
      };
    });
    const a = await openChatPage(world, room, [{ 'user-name': 'Ann' }], { context });
    const b = await openChatPage(world, room, [{ 'user-name': 'Bob' }]);
    await Promise.all([a, b].map(p => waitForPeers(p, 1)));
    await sleep(3_000); // past the join's warm-up announces (233, 533, 1333 ms): only the steady 60 s one is left
    await b.evaluate(() => {
      (window as any).__leaves = [];
      document.addEventListener('p2pPeerLeave', e => (window as any).__leaves.push((e as CustomEvent).detail.reason));
    });
    const closed = await a.evaluate(() => {
      const open = ((window as any).__dataChannels as RTCDataChannel[]).filter(c => c.readyState === 'open');
      open.forEach(c => c.close());
      return open.length;
    });
    expect(closed).toBeGreaterThan(0);
    const cutAt = Date.now();
    await expect.poll(() => b.evaluate(() => (window as any).__leaves), { timeout: 5_000 }).toEqual(['connection-lost']);
    await expect.poll(() => peerNames(b), { timeout: 5_000 }).toEqual(['Ann']);
    await expect.poll(() => peerNames(a), { timeout: 5_000 }).toEqual(['Bob']);
    console.log(`link cut without goodbye: both listed each other again ${Date.now() - cutAt} ms after the cut`);
    await send(b, 'still here');
    await expect.poll(() => texts(a)).toContain('still here');
    await Promise.all([a, b].map(p => p.context().close()));
  });

  it('a visitor who reloads three times is met again each time, listed once, with its history', async () => {
    const room = uniqueRoom('reload');
    const [a, b] = await Promise.all(['Ann', 'Bob'].map(n => openChatPage(world, room, [{ 'user-name': n }])));
    await Promise.all([a, b].map(p => waitForPeers(p, 1)));
    await send(b, 'before the reloads');
    await expect.poll(() => texts(a)).toContain('before the reloads');
    for (let i = 1; i <= 3; i++) {
      const start = Date.now();
      await b.reload();
      await waitForPeers(b, 1, 0, 10_000);
      await expect.poll(() => peerNames(a), { timeout: 10_000 }).toEqual(['Bob']);
      console.log(`reload ${i}: met again ${Date.now() - start} ms after the reload started`);
      // Ann's name reaches the reloaded page with her presence message, a moment after the join
      // ("Someone" until then: read at once, this failed once in a full run).
      await expect.poll(() => peerNames(b)).toEqual(['Ann']);
      await expect.poll(() => texts(b)).toContain('before the reloads');
    }
    // No ghost: Ann saw three leaves and four joins of Bob, and lists him once.
    const events = await a.evaluate(() => (window as any).p2pEvents.map((e: any) => e.type).filter((t: string) => t === 'p2pPeerJoin' || t === 'p2pPeerLeave'));
    expect(events.filter((t: string) => t === 'p2pPeerJoin').length - events.filter((t: string) => t === 'p2pPeerLeave').length).toBe(1);
    await send(a, 'after the reloads');
    await expect.poll(() => texts(b)).toContain('after the reloads');
    await Promise.all([a, b].map(p => p.context().close()));
  });

  it('a tab that dies without unloading leaves the others’ lists within 5 s', async () => {
    const room = uniqueRoom('crash');
    const [a, b, c] = await Promise.all(['Ann', 'Bob', 'Cy'].map(n => openChatPage(world, room, [{ 'user-name': n }])));
    await Promise.all([a, b, c].map(p => waitForPeers(p, 2)));
    await Promise.all([heardFrom(a, 'Cy'), heardFrom(b, 'Cy')]);
    // Crash Cy's renderer: no unload, no close of its connections (as a crashed or frozen tab).
    const cdp = await c.context().newCDPSession(c);
    const crashedAt = Date.now();
    void cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
    await Promise.all([a, b].map(p => waitForPeers(p, 1, 0, 5_000)));
    console.log(`crashed tab left both lists ${Date.now() - crashedAt} ms after the crash`);
    for (const p of [a, b]) expect(await peerNames(p)).toEqual([p === a ? 'Bob' : 'Ann']);
    await Promise.all([a, b, c].map(p => p.context().close().catch(() => undefined)));
  });

  /**
   * Makes every page of `context` drop its own "@_hsready" frames (Trystero's handshake readiness):
   * the first `count` of them, or all for `windowMs` from the first drop. `window.droppedReadiness`
   * counts them.
   */
  async function dropReadiness(context: BrowserContext, drop: { count: number } | { windowMs: number }) {
    await context.addInitScript(rule => {
      const send = RTCDataChannel.prototype.send;
      const shouldDrop = (n: number, ms: number) => ('count' in rule ? n < rule.count : ms < rule.windowMs);
      let firstAt = 0;
      (window as any).droppedReadiness = 0;
      RTCDataChannel.prototype.send = function (data: any) {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
        if (bytes && String.fromCharCode(...bytes.subarray(0, 96)).includes('@_hsready')) {
          const n = (window as any).droppedReadiness;
          if (shouldDrop(n, firstAt ? Date.now() - firstAt : 0)) {
            firstAt ||= Date.now();
            (window as any).droppedReadiness = n + 1;
            return;
          }
        }
        return send.call(this, data);
      };
    }, drop);
  }

  /**
   * Opens Ann's chat page and a bare Trystero page whose data channels drop its own readiness
   * frames (see {@link dropReadiness}); then joins the bare page.
   */
  async function joinWithLostReadiness(label: string, drop: { count: number } | { windowMs: number }) {
    const room = uniqueRoom(label);
    const ann = await openChatPage(world, room, [{ 'user-name': 'Ann' }]);
    const evilContext = await world.browser.newContext();
    await dropReadiness(evilContext, drop);
    const evil = await evilContext.newPage();
    await evil.goto(`${world.host.url}/test/fixtures/bare-trystero.html`);
    await evil.waitForFunction(() => (window as any).ready === true);
    const startedAt = Date.now();
    void evil.evaluate(([url, r]) => {
      (window as any).leaves = 0;
      void (window as any).join(url, r, location.host, 1);
      const room = (window as any).room;
      room.onPeerLeave = () => (window as any).leaves++;
    }, [world.relay.url, room] as const);
    await evil.waitForFunction(() => (window as any).droppedReadiness >= 1, null, { timeout: 30_000 });
    return { ann, evil, startedAt, close: () => Promise.all([ann.context().close(), evilContext.close()]) };
  }

  it('a lost handshake readiness frame is sent again: both list each other at once, with no disconnection', async () => {
    // Trystero activates a peer once both sides sent "@_hsready" over the new data channel. The bare
    // client drops its first one. Patched Trystero sends readiness again every 500 ms until the other
    // side's arrives; without that, Ann waited out the 10 s handshake timeout (seen in idle-room joins).
    const { ann, evil, startedAt, close } = await joinWithLostReadiness('hsready-lost', { count: 1 });
    // Within 5 s: a join that needed the 10 s handshake timeout fails here.
    await waitForPeers(ann, 1, 0, 5_000);
    await evil.waitForFunction(() => Object.keys((window as any).room.getPeers()).length === 1, null, { timeout: 5_000 });
    expect(await evil.evaluate(() => (window as any).leaves)).toBe(0);
    console.log(`lost readiness: Ann listed the bare client ${Date.now() - startedAt} ms after it joined`);
    await close();
  });

  it('what a page sends first after its join reaches a peer that missed its readiness frame', async () => {
    // Bob's first readiness frame is lost: he hears Ann's, becomes active and sends his name and
    // his history request at once, while Ann still waits for his readiness. Upstream Trystero
    // dropped those messages; Ann joined him 500 ms later (on the re-sent readiness) and listed him
    // as "Someone" for good, because a page tells its name once per connection. Patched, the first
    // message from a peer that can only send it once active completes Ann's side of the handshake.
    const room = uniqueRoom('hsready-first-words');
    const ann = await openChatPage(world, room, [{ 'user-name': 'Ann' }]);
    await send(ann, 'said before Bob came');
    await expect.poll(() => texts(ann)).toContain('said before Bob came');
    const bobContext = await world.browser.newContext();
    await dropReadiness(bobContext, { count: 1 });
    const bob = await openChatPage(world, room, [{ 'user-name': 'Bob' }], { context: bobContext });
    await bob.waitForFunction(() => (window as any).droppedReadiness >= 1, null, { timeout: 30_000 });
    await expect.poll(() => peerNames(ann), { timeout: 5_000 }).toEqual(['Bob']);
    await expect.poll(() => peerNames(bob), { timeout: 5_000 }).toEqual(['Ann']);
    await expect.poll(() => texts(bob)).toContain('said before Bob came');
    await Promise.all([ann, bob].map(p => p.context().close()));
  });

  it('a handshake that never completes is closed on both sides and met again', async () => {
    // The bare client drops every readiness frame for 12 s, so Ann's handshake times out (10 s): the
    // connection must then close (so the bare client, which heard Ann's readiness and listed her,
    // forgets her too) and Ann announce again, so that both list each other afresh once frames get
    // through, not 1–2 minutes later.
    const { ann, evil, startedAt, close } = await joinWithLostReadiness('hsready-never', { windowMs: 12_000 });
    await evil.waitForFunction(() => (window as any).leaves >= 1, null, { timeout: 20_000 });
    await waitForPeers(ann, 1, 0, 20_000);
    await evil.waitForFunction(() => Object.keys((window as any).room.getPeers()).length === 1, null, { timeout: 5_000 });
    console.log(`handshake never completing: recovered ${Date.now() - startedAt} ms after the bare client joined`);
    await close();
  });
});
