import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import { P2pDatabase, StorageError } from '../store';
import { chatRecordMessage, MAX_CHAT_TEXT_LENGTH, type ChatRecordWire } from '../wire';
import { recordSigningBytes, signRecord, verifyRecord } from './chat-record';
import { ChatItem, ChatMessage, ChatSendError, ChatSession, ChatSessionOptions, STORAGE_ERROR_QUIET_MS } from './chat-session';
import { toWire } from './chat-log';
import { DEFAULT_RETENTION_MS } from './retention';
import { freshDatabase, TestNetwork, TestPeer } from '../testing';

const ROOM = 'room-chat';
const T0 = 1_700_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;

const openSessions: ChatSession[] = [];
const openDatabases: P2pDatabase[] = [];
afterEach(() => {
  openSessions.splice(0).forEach(s => s.destroy());
  openDatabases.splice(0).forEach(db => db.close());
});

type OpenOptions = Partial<Omit<ChatSessionOptions, 'database'>> & { database?: P2pDatabase | null };

/** A test world: a network and a hand-driven clock shared by every device. */
function world() {
  let t = T0;
  const now = () => t;
  const net = new TestNetwork(now);

  /** A new database (one per device, as each browser has its own). */
  function database(label = 'session') {
    const db = freshDatabase(label);
    openDatabases.push(db);
    return db;
  }

  /**
   * Opens a chat session for a peer (a new TestPeer for a string id). Each device gets its own
   * fake IndexedDB unless `database` is given (`null`: memory only).
   */
  async function open(peer: TestPeer | string, userName: string, options: OpenOptions = {}) {
    const p = typeof peer === 'string' ? net.peer(peer, userName) : peer;
    const db = options.database === undefined ? database(p.selfId) : options.database;
    const session = await ChatSession.open(p, { room: ROOM, userName, now, ...options, database: db });
    openSessions.push(session);
    return { peer: p, session, db };
  }

  /** Waits until nothing moves: no payload in flight and no store or list changing. */
  const settle = () => net.settle({ probe: () => Promise.all(openSessions.map(async s => [await s.log.store.count().catch(() => -1), s.list().length])) });

  return { net, now, advance: (ms: number) => (t += ms), open, database, settle };
}

/** Waits (up to 5 s) until `check` stops throwing: for what must eventually arrive. */
const until = (check: () => unknown) => vi.waitFor(check as () => void, { timeout: 5000, interval: 10 });

const messages = (session: ChatSession) => session.list().filter((i): i is ChatMessage => i.kind === 'message');
const texts = (session: ChatSession) => messages(session).map(m => m.text);
/** What the device's store holds, oldest first, as short strings. */
async function stored(session: ChatSession): Promise<string[]> {
  return (await session.log.store.since(0)).map(r => (r.kind === 'msg' ? `${r.text}${r.retracted ? ' (retracted)' : ''}` : r.kind === 'retract' ? `retract:${r.target}` : `mode:${r.burn}`));
}

async function sendError(promise: Promise<unknown>): Promise<ChatSendError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChatSendError);
  return err as ChatSendError;
}

/** Two connected devices, Ann and Bob, each with a chat session and its own database. */
async function twoPeers(annOptions: OpenOptions = {}, bobOptions: OpenOptions = {}) {
  const w = world();
  const ann = await w.open('peer-ann', 'Ann', annOptions);
  const bob = await w.open('peer-bob', 'Bob', bobOptions);
  w.net.connect(ann.peer, bob.peer);
  await w.settle();
  return { ...w, ann: ann.session, bob: bob.session, annPeer: ann.peer, bobPeer: bob.peer, annDb: ann.db, bobDb: bob.db };
}

/** An identity outside any session, to make records by hand. */
const outsider = () => DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());
const chatPayload = (record: unknown) => JSON.stringify({ v: 1, record });

describe('ChatSession.open', () => {
  it('opens on a database: same identity after re-opening, a different one per room', async () => {
    const w = world();
    const db = w.database();
    const first = await w.open('p1', 'P', { database: db });
    const key = first.session.publicKey;
    expect(key).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(first.session.log.store.persistent).toBe(true);
    expect(first.session.storageError).toBeNull();
    first.session.destroy();
    const again = await w.open('p2', 'P', { database: db });
    expect(again.session.publicKey).toBe(key);
    const otherRoom = await ChatSession.open(w.net.peer('p3', 'P'), { room: 'another-room', userName: 'P', database: db, now: w.now });
    openSessions.push(otherRoom);
    expect(otherRoom.publicKey).not.toBe(key);
  });

  it('opens memory-only with database: null (a new identity every time)', async () => {
    const w = world();
    const a = await w.open('p1', 'P', { database: null });
    const b = await w.open('p2', 'P', { database: null });
    expect(a.session.log.store.persistent).toBe(false);
    expect(a.session.publicKey).not.toBe(b.session.publicKey);
    w.net.connect(a.peer, b.peer);
    await a.session.send('memory only');
    await until(() => expect(texts(b.session)).toEqual(['memory only']));
  });

  it('caps maxLength between 1 and the wire limit, default 4000', async () => {
    const w = world();
    const open = async (maxLength?: number) => (await w.open(`p${Math.random()}`, 'P', { database: null, maxLength })).session.maxLength;
    expect(await open()).toBe(4000);
    expect(await open(1_000_000)).toBe(MAX_CHAT_TEXT_LENGTH);
    expect(await open(0)).toBe(1);
    expect(await open(-5)).toBe(1);
  });

  it('uses the retention attribute, default 30 days', async () => {
    const w = world();
    expect((await w.open('p1', 'P')).session.retentionMs).toBe(DEFAULT_RETENTION_MS);
    expect((await w.open('p2', 'P', { retentionMs: HOUR })).session.retentionMs).toBe(HOUR);
  });
});

describe('live chat', () => {
  it('sends a message that is shown as own, stored, and delivered to the peer through the wire', async () => {
    const { ann, bob, bobPeer, settle } = await twoPeers();
    const sent = await ann.send('hello Bob');
    expect(sent).toMatchObject({ kind: 'message', peerId: 'peer-ann', userName: 'Ann', text: 'hello Bob', timestamp: T0, own: true, retracted: false, marked: false, burn: false });
    expect(sent.key).toBe(`${ann.publicKey}:1`);
    expect(sent.id).toBe(sent.key);
    await until(async () => expect(await stored(bob)).toEqual(['hello Bob']));
    await settle();
    expect(messages(bob)).toEqual([
      {
        kind: 'message',
        key: sent.key,
        id: sent.key,
        author: ann.publicKey,
        seq: 1,
        peerId: 'peer-ann',
        userName: 'Ann',
        text: 'hello Bob',
        segments: [{ kind: 'text', text: 'hello Bob' }],
        timestamp: T0,
        own: false,
        retracted: false,
        marked: false,
        burn: false,
      },
    ]);
    expect(await stored(ann)).toEqual(['hello Bob']);
    expect(await stored(bob)).toEqual(['hello Bob']);
    expect(bobPeer.counters.snapshot().droppedByChannel).toEqual({});
    expect(bobPeer.handlerErrors).toEqual([]);
  });

  it('sends and shows a message without waiting for either device’s IndexedDB write, and stores it after', async () => {
    // Every chat-record write reports success 2 s late on both devices (a slow disk); without the
    // send-while-storing path the peer sees the message only after the sender's write (over 2 s).
    const { ann, bob, annDb, bobDb } = await twoPeers();
    for (const db of [annDb, bobDb]) (db as ReturnType<typeof freshDatabase>).delayWrites(2000);
    const started = Date.now();
    const sent = ann.send('hello, slow disks');
    await until(() => expect(texts(bob)).toEqual(['hello, slow disks']));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(texts(ann)).toEqual(['hello, slow disks']);
    await sent;
    await until(async () => expect(await stored(bob)).toEqual(['hello, slow disks']));
    expect(await stored(ann)).toEqual(['hello, slow disks']);
  });

  it('shows a reply while its own message is still being written, and a copy of a record being written is a duplicate', async () => {
    // Ann's writes report success 2 s late. Bob answers at once; before, Bob's reply waited in
    // Ann's record book until her own message's write had committed.
    const { ann, bob, annDb, bobPeer, net, settle, advance } = await twoPeers();
    (annDb as ReturnType<typeof freshDatabase>).delayWrites(2000);
    // The reply is signed 1 ms later: two records of the same time are listed by author key, which is random.
    bob.on('message', m => {
      if (m.own) return;
      advance(1);
      void bob.send(`re: ${m.text}`);
    });
    const started = Date.now();
    const sent = ann.send('ping');
    await until(() => expect(texts(ann)).toEqual(['ping', 're: ping']));
    expect(Date.now() - started).toBeLessThan(1000);
    // Bob's reply comes back to Ann again (a peer forwarding it) while Ann is still writing it: refused as a duplicate.
    net.deliver('peer-bob', 'peer-ann', 'chat', bobPeer.sent.filter(x => x.channel === 'chat').at(-1)!.text);
    await settle();
    expect(texts(ann)).toEqual(['ping', 're: ping']);
    expect(ann.stats().refused.duplicate).toBe(1);
    await sent;
    await until(async () => expect(await stored(ann)).toEqual(['ping', 're: ping']));
  });

  it('sends the documented, signed wire message', async () => {
    const { ann, annPeer } = await twoPeers();
    await ann.send('hi');
    const chat = annPeer.sent.filter(s => s.channel === 'chat');
    expect(chat).toHaveLength(1);
    const payload = JSON.parse(chat[0].text) as { v: number; record: ChatRecordWire };
    expect(payload).toEqual({ v: 1, record: { kind: 'msg', author: ann.publicKey, seq: 1, ts: T0, name: 'Ann', text: 'hi', sig: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) } });
    expect(chat[0].to).toEqual(['peer-bob']);
    expect(await verifyRecord(ROOM, payload.record)).toBe(true);
  });

  it('works in both directions, in time order, and emits message and change events', async () => {
    const { ann, bob, advance, settle } = await twoPeers();
    const annSeen: [string, boolean][] = [];
    const bobChanges: (readonly ChatItem[])[] = [];
    ann.on('message', m => annSeen.push([m.text, m.own]));
    bob.on('change', items => bobChanges.push(items));
    await ann.send('ping');
    advance(1000);
    await until(() => expect(texts(bob)).toEqual(['ping']));
    await bob.send('pong');
    await until(() => expect(texts(ann)).toEqual(['ping', 'pong']));
    await settle();
    expect(annSeen).toEqual([
      ['ping', true],
      ['pong', false],
    ]);
    expect(texts(ann)).toEqual(['ping', 'pong']);
    expect(texts(bob)).toEqual(['ping', 'pong']);
    expect(bobChanges.at(-1)).toBe(bob.list());
  });

  it('numbers every own message with the next seq, also after re-opening on the same database', async () => {
    const w = world();
    const db = w.database();
    const ann = await w.open('ann', 'Ann', { database: db });
    for (let i = 0; i < 3; i++) {
      w.advance(1000);
      await ann.session.send(`m${i}`);
    }
    expect(messages(ann.session).map(m => m.seq)).toEqual([1, 2, 3]);
    ann.session.destroy();
    const again = await w.open(ann.peer, 'Ann', { database: db });
    w.advance(1000);
    // 4 was reserved ahead by the first session (so its next message would not wait for IndexedDB) and never used.
    expect((await again.session.send('after reload')).seq).toBe(5);
    expect(texts(again.session)).toEqual(['m0', 'm1', 'm2', 'after reload']);
  });

  it('uses the new name after setUserName', async () => {
    const { ann, bob, settle } = await twoPeers();
    ann.setUserName('Annie');
    expect((await ann.send('renamed')).userName).toBe('Annie');
    await until(() => expect(messages(bob)[0]?.userName).toBe('Annie'));
  });

  describe('send rules', () => {
    it.each(['', ' ', '\n', ' \n\t\n ', '\r\n\r\n'])('refuses blank text %j with ChatSendError("empty") and sends nothing', async text => {
      const { ann, annPeer } = await twoPeers();
      expect((await sendError(ann.send(text))).code).toBe('empty');
      expect(messages(ann)).toEqual([]);
      expect(annPeer.sent.filter(s => s.channel === 'chat')).toEqual([]);
      expect(await stored(ann)).toEqual([]);
    });

    it('refuses text over maxLength with ChatSendError("too-long") and sends nothing', async () => {
      const { ann, annPeer } = await twoPeers({ maxLength: 10 });
      const err = await sendError(ann.send('x'.repeat(11)));
      expect(err.code).toBe('too-long');
      expect(err.message).toContain('10');
      expect(messages(ann)).toEqual([]);
      expect(annPeer.sent.filter(s => s.channel === 'chat')).toEqual([]);
    });

    it('accepts exactly maxLength characters, counting an emoji as one character', async () => {
      const { ann, bob, settle } = await twoPeers({ maxLength: 10 });
      await ann.send('x'.repeat(10));
      await ann.send('😀'.repeat(10));
      await until(() => expect(texts(bob)).toEqual(['x'.repeat(10), '😀'.repeat(10)]));
      expect((await sendError(ann.send('😀'.repeat(11)))).code).toBe('too-long');
    });

    it('trims leading and trailing blank lines but keeps inner text and indentation', async () => {
      const { ann, bob, settle } = await twoPeers({ maxLength: 15 });
      const sent = await ann.send('\n\n  indented\nline\n \n');
      expect(sent.text).toBe('  indented\nline');
      await until(() => expect(texts(bob)).toEqual(['  indented\nline']));
    });

    it('delivers the longest emoji text (16 000 characters) that send accepts', async () => {
      const { ann, bob, bobPeer, settle } = await twoPeers({ maxLength: MAX_CHAT_TEXT_LENGTH }, { maxLength: MAX_CHAT_TEXT_LENGTH });
      const text = '😀'.repeat(MAX_CHAT_TEXT_LENGTH);
      await ann.send(text);
      await until(() => expect(texts(bob)).toEqual([text]));
      expect(bobPeer.counters.snapshot().droppedByChannel).toEqual({});
    });

    it('refuses text that cannot be encoded within the wire size with ChatSendError, without showing or storing it', async () => {
      const { ann, annPeer } = await twoPeers({ maxLength: MAX_CHAT_TEXT_LENGTH });
      const text = 'a' + '\u0001'.repeat(12_400); // 12 401 characters ≤ 16 000, but 74 400+ bytes of JSON (\u0001 is escaped to 6 bytes)
      expect(JSON.stringify(text).length).toBeGreaterThan(chatRecordMessage.maxBytes);
      const err = await sendError(ann.send(text));
      expect(err.code).toBe('too-long');
      expect(messages(ann)).toEqual([]);
      expect(await stored(ann)).toEqual([]);
      expect(annPeer.sent.filter(s => s.channel === 'chat')).toEqual([]);
    });
  });

  describe('receive rules', () => {
    it('drops received text over its own maxLength and counts it in rejectedTooLong', async () => {
      const { ann, bob, bobPeer, settle } = await twoPeers({ maxLength: 100 }, { maxLength: 10 });
      await ann.send('z'.repeat(11));
      await ann.send('z'.repeat(10));
      await until(() => expect(texts(bob)).toEqual(['z'.repeat(10)]));
      await settle();
      expect(texts(bob)).toEqual(['z'.repeat(10)]);
      expect(bob.rejectedTooLong).toBe(1);
      expect(bobPeer.counters.snapshot().dropped.schema).toBe(0);
    });

    it('never shows what the wire refuses, and the wire counts it', async () => {
      const { bob, bobPeer, net, settle } = await twoPeers();
      const eve = await outsider();
      const good = await signRecord(ROOM, eve, { kind: 'msg', author: eve.publicKey, seq: 1, ts: T0, name: 'Eve', text: 'the only valid one' });
      const raw = (payload: unknown) => net.deliver('peer-ann', 'peer-bob', 'chat', payload);
      raw(new Uint8Array([1, 2, 3]));
      raw({ v: 1, record: good });
      raw('{"v":1,"record":');
      raw(JSON.stringify({ v: 2, record: good }));
      raw(chatPayload({ ...good, html: '<b>' }));
      raw(chatPayload({ ...good, sig: undefined }));
      raw(chatPayload({ ...good, name: '  Eve' }));
      raw(chatPayload({ ...good, text: 'x'.repeat(80_000) }));
      raw(JSON.stringify({ v: 1, id: 'old-shape-01', name: 'Ann', text: 'unsigned', ts: T0 }));
      raw(chatPayload(good));
      await until(() => expect(texts(bob)).toEqual(['the only valid one']));
      await settle();
      expect(texts(bob)).toEqual(['the only valid one']);
      const s = bobPeer.counters.snapshot();
      expect(s.droppedByChannel).toEqual({ 'chat:not-text': 2, 'chat:malformed-json': 1, 'chat:schema': 5, 'chat:oversize': 1 });
    });

    it('never shows a record that passes the wire but not the signature check', async () => {
      const { ann, bob, net, settle } = await twoPeers();
      const eve = await outsider();
      // Eve claims Ann's key
      const unsigned = { kind: 'msg' as const, author: ann.publicKey, seq: 1, ts: T0, name: 'Ann', text: 'I am Ann' };
      const forged = { ...unsigned, sig: await eve.sign(recordSigningBytes(ROOM, unsigned)) };
      net.deliver('peer-ann', 'peer-bob', 'chat', chatPayload(forged));
      await until(() => expect(bob.stats().refused['bad-signature']).toBe(1));
      await settle();
      expect(messages(bob)).toEqual([]);
      expect(await stored(bob)).toEqual([]);
      expect(bob.stats().refused['bad-signature']).toBe(1);
      // Ann's genuine seq 1 is still accepted afterwards
      await ann.send('the real Ann');
      await until(() => expect(texts(bob)).toEqual(['the real Ann']));
    });

    it('shows a replayed record once', async () => {
      const { ann, bob, net, annPeer, settle, advance } = await twoPeers();
      const seen: string[] = [];
      bob.on('message', m => seen.push(m.text));
      await ann.send('once');
      await until(() => expect(texts(bob)).toEqual(['once']));
      const [payload] = annPeer.sent.filter(s => s.channel === 'chat');
      advance(1000);
      net.deliver('peer-ann', 'peer-bob', 'chat', payload.text);
      net.deliver('peer-ann', 'peer-bob', 'chat', payload.text);
      await until(() => expect(bob.stats().refused.duplicate).toBe(2));
      await settle();
      expect(texts(bob)).toEqual(['once']);
      expect(seen).toEqual(['once']);
      expect(bob.stats().refused.duplicate).toBe(2);
    });

    it('applies the wire rate limit per peer (burst of 20, then 5/s)', async () => {
      const { bob, bobPeer, net, settle, advance } = await twoPeers();
      const eve = await outsider();
      const records = [];
      for (let i = 1; i <= 30; i++) records.push(await signRecord(ROOM, eve, { kind: 'msg', author: eve.publicKey, seq: i, ts: T0 + i, name: 'Eve', text: `f${i}` }));
      for (const r of records.slice(0, 25)) net.deliver('peer-ann', 'peer-bob', 'chat', chatPayload(r));
      await until(() => expect(messages(bob)).toHaveLength(chatRecordMessage.rate.burst));
      await settle();
      expect(messages(bob)).toHaveLength(chatRecordMessage.rate.burst);
      expect(bobPeer.counters.snapshot().dropped.rate).toBe(5);
      advance(1000);
      for (const r of records.slice(25)) net.deliver('peer-ann', 'peer-bob', 'chat', chatPayload(r));
      await until(() => expect(messages(bob)).toHaveLength(25));
      await settle();
      expect(messages(bob)).toHaveLength(25);
    });
  });
});

describe('sync on join', () => {
  it('a late joiner receives the whole conversation, in order, with no duplicates', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    const b = await w.open('peer-b', 'Bob');
    w.net.connect(a.peer, b.peer);
    const expected: string[] = [];
    for (let i = 1; i <= 6; i++) {
      w.advance(1000);
      const who = i % 2 ? a : b;
      await who.session.send(`line ${i}`);
      expected.push(`line ${i}`);
      const other = who === a ? b : a;
      await until(() => expect(texts(other.session)).toEqual(expected));
    }
    expect(texts(a.session)).toEqual(expected);
    expect(texts(b.session)).toEqual(expected);
    w.advance(1000);
    const c = await w.open('peer-c', 'Cat');
    w.net.connect(c.peer, a.peer);
    w.net.connect(c.peer, b.peer);
    await until(async () => expect(await c.session.log.store.count()).toBe(6));
    await w.settle();
    expect(await c.session.log.store.count()).toBe(6);
    expect(await stored(c.session)).toEqual(expected);
    expect(texts(c.session)).toEqual(expected);
    const keys = messages(c.session).map(m => m.key);
    expect(new Set(keys).size).toBe(6);
    expect(messages(c.session).map(m => m.userName)).toEqual(['Ann', 'Bob', 'Ann', 'Bob', 'Ann', 'Bob']);
    expect(c.session.stats().refused).toMatchObject({ duplicate: 0, conflict: 0, 'bad-signature': 0 });
    // what A and B sent to C by sync adds up to the conversation exactly once
    expect(a.session.stats().syncSent + b.session.stats().syncSent).toBe(6);
    // and C's join notices are there, the messages are not duplicated by them
    expect(c.session.list().filter(i => i.kind === 'notice').map(i => (i.kind === 'notice' ? i.peerId : ''))).toEqual(['peer-a', 'peer-b']);
  });

  // BUG (src/core/chat/chat-session.ts:413 in `notice`, together with src/core/chat/chat-sync.ts:63): ChatSync already enqueues every joining peer on `peerJoin`, and the
  // session's own join handler (registered first) calls `sync.enqueue(peer.id)` as well. The first
  // call shifts the peer out of the queue and awaits the state vector before `pending` is set, so
  // the second call does not see it as queued or pending and queues it again: every join costs two
  // sync rounds (two requests, two `missingFor` scans on the peer). Fix: drop the `enqueue` in
  // `ChatSession.notice`, or make `enqueue` also skip the peer whose request is being prepared
  // (e.g. set `pending`/a `preparing` id before awaiting the vector).
  it('sends one sync request per peer when it joins', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    await a.session.send('hello');
    const c = await w.open('peer-c', 'Cat');
    w.net.connect(c.peer, a.peer);
    await until(async () => expect(await c.session.log.store.count()).toBe(1));
    await w.settle();
    expect(c.peer.sentOn('chat-sync-req', 'peer-a')).toHaveLength(1);
    expect(a.peer.sentOn('chat-sync-req', 'peer-c')).toHaveLength(1);
  });

  it('a device with a 1h retention window receives nothing older than an hour', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    for (let i = 1; i <= 3; i++) {
      w.advance(MIN);
      await a.session.send(`old ${i}`);
    }
    w.advance(2 * HOUR);
    for (let i = 1; i <= 2; i++) {
      w.advance(MIN);
      await a.session.send(`recent ${i}`);
    }
    const c = await w.open('peer-c', 'Cat', { retentionMs: HOUR });
    const d = await w.open('peer-d', 'Dan'); // default 30 days
    w.net.connect(c.peer, a.peer);
    w.net.connect(d.peer, a.peer);
    await until(async () => expect([await c.session.log.store.count(), await d.session.log.store.count()]).toEqual([2, 5]));
    await w.settle();
    expect(await stored(c.session)).toEqual(['recent 1', 'recent 2']);
    expect(texts(c.session)).toEqual(['recent 1', 'recent 2']);
    expect(c.session.stats().refused['outside-window']).toBe(0); // the sender filtered, nothing old travelled
    expect(JSON.stringify(a.peer.sentOn('chat-sync-batch', 'peer-c'))).not.toContain('old ');
    expect(texts(d.session)).toEqual(['old 1', 'old 2', 'old 3', 'recent 1', 'recent 2']);
  });

  it('shows a synced batch with one change (its new messages and the retraction of a shown message together), and a message event for each', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    w.advance(1000);
    const first = await a.session.send('first');
    // C got A's first message earlier (live) and shows it
    const c = await w.open('peer-c', 'Cat');
    await c.session.log.ingest(toWire((await a.session.log.store.get(a.session.publicKey, first.seq))!));
    await until(() => expect(texts(c.session)).toEqual(['first']));
    const lines: string[] = [];
    for (let i = 1; i <= 30; i++) {
      w.advance(1000);
      lines.push((await a.session.send(`line ${i}`)).text);
    }
    w.advance(1000);
    await a.session.retract(first.key);
    await new Promise(resolve => setTimeout(resolve, 50)); // C's per-frame flush of the first message is over
    const changes: { messages: number; retracted: boolean }[] = [];
    c.session.on('change', items => {
      const ms = items.filter((i): i is ChatMessage => i.kind === 'message');
      changes.push({ messages: ms.length, retracted: ms.some(m => m.retracted) });
    });
    const arrived: string[] = [];
    c.session.on('message', m => arrived.push(m.text));
    w.net.connect(a.peer, c.peer);
    await until(async () => expect(await c.session.log.store.count()).toBe(32));
    await w.settle();
    expect(arrived).toEqual(lines);
    // one sync batch (31 records): the list goes from 1 message to 31 in one change, the retraction with it
    expect(changes.filter(ch => ch.messages > 1)[0]).toEqual({ messages: 31, retracted: true });
    expect(changes.filter(ch => ch.messages > 1 && ch.messages < 31)).toEqual([]);
    expect(texts(c.session)).toEqual(['first', ...lines]);
    expect(messages(c.session)[0]).toMatchObject({ retracted: true });
  });

  it('after a retraction, a newcomer receives the tombstone but never the body', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    const b = await w.open('peer-b', 'Bob');
    w.net.connect(a.peer, b.peer);
    w.advance(1000);
    await a.session.send('hi all');
    w.advance(1000);
    const oops = await b.session.send('my password is hunter2');
    w.advance(1000);
    await b.session.send('ignore that');
    await until(() => expect(texts(a.session)).toEqual(['hi all', 'my password is hunter2', 'ignore that']));
    w.advance(1000);
    await b.session.retract(oops.key);
    await until(async () => expect(await stored(a.session)).toContain(`retract:${oops.seq}`));
    await w.settle();
    // A and B keep the body on their device, flagged, and show it as retracted
    for (const s of [a.session, b.session]) {
      expect(messages(s).find(m => m.key === oops.key)).toMatchObject({ retracted: true });
      expect(await stored(s)).toEqual(['hi all', 'my password is hunter2 (retracted)', 'ignore that', `retract:${oops.seq}`]);
    }
    const d = await w.open('peer-d', 'Dan');
    w.net.connect(d.peer, a.peer);
    w.net.connect(d.peer, b.peer);
    await until(async () => expect(await d.session.log.store.count()).toBe(3));
    await w.settle();
    expect(await stored(d.session)).toEqual(['hi all', 'ignore that', `retract:${oops.seq}`]);
    expect(texts(d.session)).toEqual(['hi all', 'ignore that']);
    expect(d.session.list().filter(i => i.kind === 'tombstone')).toEqual([{ kind: 'tombstone', key: `tomb:${b.session.publicKey}:${oops.seq + 2}`, author: b.session.publicKey, target: oops.seq, timestamp: T0 + 4000 }]);
    const toD = JSON.stringify([...a.peer.sent, ...b.peer.sent].filter(s => s.to.includes('peer-d')));
    expect(toD).not.toContain('hunter2');
  });

  it('only the author can retract', async () => {
    const { ann, bob, settle } = await twoPeers();
    const sent = await ann.send('mine');
    await until(() => expect(messages(bob)).toHaveLength(1));
    await expect(bob.retract(sent.key)).rejects.toThrow(/only the author/);
    await expect(bob.retract('nope:1')).rejects.toThrow(/only the author/);
    expect(messages(ann)[0].retracted).toBe(false);
  });

  it('burn after reading (setBurn): messages are never stored, and a late joiner receives none of them', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    const b = await w.open('peer-b', 'Bob');
    w.net.connect(a.peer, b.peer);
    w.advance(1000);
    await a.session.send('before burn');
    const burnEvents: boolean[] = [];
    b.session.on('burn', on => burnEvents.push(on));
    w.advance(1000);
    await a.session.setBurn(true);
    await until(() => expect([a.session.burn, b.session.burn]).toEqual([true, true]));
    expect(burnEvents).toEqual([true]);
    w.advance(1000);
    const burning = await a.session.send('burn one');
    expect(burning.burn).toBe(true);
    await until(() => expect(texts(b.session)).toContain('burn one'));
    w.advance(1000);
    await b.session.send('burn two');
    await until(() => expect(texts(a.session)).toContain('burn two'));
    await w.settle();
    expect(texts(a.session)).toEqual(['before burn', 'burn one', 'burn two']);
    expect(messages(b.session).map(m => [m.text, m.burn])).toEqual([
      ['before burn', false],
      ['burn one', true],
      ['burn two', true],
    ]);
    for (const s of [a.session, b.session]) expect(await stored(s)).toEqual(['before burn', 'mode:true']);
    w.advance(1000);
    const c = await w.open('peer-c', 'Cat');
    w.net.connect(c.peer, a.peer);
    w.net.connect(c.peer, b.peer);
    await until(async () => expect(await c.session.log.store.count()).toBe(2));
    await w.settle();
    expect(texts(c.session)).toEqual(['before burn']);
    expect(c.session.burn).toBe(true);
    expect(await stored(c.session)).toEqual(['before burn', 'mode:true']);
    expect(JSON.stringify([...a.peer.sent, ...b.peer.sent].filter(s => s.to.includes('peer-c')))).not.toContain('burn one');
  });

  it('burn after reading (burnDefault): nothing is stored and a late joiner receives nothing', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann', { burnDefault: true });
    const b = await w.open('peer-b', 'Bob', { burnDefault: true });
    w.net.connect(a.peer, b.peer);
    await a.session.send('ephemeral a');
    w.advance(1000);
    await b.session.send('ephemeral b');
    await until(() => expect([texts(a.session).length, texts(b.session).length]).toEqual([2, 2]));
    await w.settle();
    expect(texts(a.session)).toEqual(['ephemeral a', 'ephemeral b']);
    expect(texts(b.session)).toEqual(['ephemeral a', 'ephemeral b']);
    expect(await stored(a.session)).toEqual([]);
    expect(await stored(b.session)).toEqual([]);
    const c = await w.open('peer-c', 'Cat', { burnDefault: true });
    w.net.connect(c.peer, a.peer);
    w.net.connect(c.peer, b.peer);
    await w.settle();
    expect(messages(c.session)).toEqual([]);
    expect(await stored(c.session)).toEqual([]);
  });

  it('removes a burn message burnAfterMs after it was seen', async () => {
    const { ann, bob, settle } = await twoPeers({ burnDefault: true }, { burnAfterMs: 20 });
    const sent = await ann.send('read me once');
    await until(() => expect(texts(bob)).toEqual(['read me once']));
    bob.seen(sent.key);
    await until(() => expect(texts(bob)).toEqual([]));
    expect(texts(ann)).toEqual(['read me once']); // not seen there yet
  });

  it('keeps burn mode switched on across re-opening (from the stored mode record)', async () => {
    const w = world();
    const db = w.database();
    const a = await w.open('peer-a', 'Ann', { database: db });
    await a.session.setBurn(true);
    a.session.destroy();
    const again = await w.open(a.peer, 'Ann', { database: db });
    expect(again.session.burn).toBe(true);
    expect((await again.session.send('still burning')).burn).toBe(true);
    expect(await stored(again.session)).toEqual(['mode:true']);
  });
});

describe('retention and marks on this device', () => {
  it('remembers the retention window chosen for the room across re-opening', async () => {
    const w = world();
    const db = w.database();
    const first = await w.open('peer-a', 'Ann', { database: db });
    expect(first.session.retentionMs).toBe(DEFAULT_RETENTION_MS);
    await first.session.setRetention(2 * HOUR);
    expect(first.session.retentionMs).toBe(2 * HOUR);
    first.session.destroy();
    const again = await w.open(first.peer, 'Ann', { database: db });
    expect(again.session.retentionMs).toBe(2 * HOUR);
    again.session.destroy();
    // the choice made in the widget wins over the attribute
    const withAttribute = await w.open(first.peer, 'Ann', { database: db, retentionMs: 7 * 24 * HOUR });
    expect(withAttribute.session.retentionMs).toBe(2 * HOUR);
    // per room: another room on the same database keeps its own
    const other = await ChatSession.open(w.net.peer('peer-x', 'X'), { room: 'other-room', userName: 'X', database: db, now: w.now });
    openSessions.push(other);
    expect(other.retentionMs).toBe(DEFAULT_RETENTION_MS);
  });

  it('setRetention prunes what falls outside the new window, except marked messages', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann');
    const old = await a.session.send('old, marked');
    await a.session.send('old');
    w.advance(3 * HOUR);
    await a.session.send('new');
    await a.session.setMark(old.key, true);
    await a.session.setRetention(HOUR);
    expect(texts(a.session)).toEqual(['old, marked', 'new']);
    expect(await stored(a.session)).toEqual(['old, marked', 'new']);
  });

  it('keeps marks across re-opening, and keeps marked messages beyond the window', async () => {
    const w = world();
    const db = w.database();
    const a = await w.open('peer-a', 'Ann', { database: db, retentionMs: HOUR });
    const keep = await a.session.send('keep me');
    w.advance(1000);
    await a.session.send('let me go');
    await a.session.setMark(keep.key, true);
    expect(messages(a.session).map(m => [m.text, m.marked])).toEqual([
      ['keep me', true],
      ['let me go', false],
    ]);
    a.session.destroy();
    const again = await w.open(a.peer, 'Ann', { database: db, retentionMs: HOUR });
    expect(messages(again.session).map(m => [m.text, m.marked])).toEqual([
      ['keep me', true],
      ['let me go', false],
    ]);
    expect((await again.session.marked()).map(m => m.text)).toEqual(['keep me']);
    again.session.destroy();
    // two hours later, the window has passed: the marked message is still there, the other one is pruned
    w.advance(2 * HOUR);
    const later = await w.open(a.peer, 'Ann', { database: db, retentionMs: HOUR });
    expect(messages(later.session).map(m => [m.text, m.marked])).toEqual([['keep me', true]]);
    expect(await stored(later.session)).toEqual(['keep me']);
    await later.session.setMark(keep.key, false);
    later.session.destroy();
    const last = await w.open(a.peer, 'Ann', { database: db, retentionMs: HOUR });
    expect(messages(last.session)).toEqual([]);
  });

  it('marks are per device: marking does not travel', async () => {
    const { ann, bob, annPeer, settle } = await twoPeers();
    const sent = await ann.send('x');
    await until(() => expect(messages(bob)).toHaveLength(1));
    const before = annPeer.sent.length;
    await ann.setMark(sent.key, true);
    await settle();
    expect(annPeer.sent.length).toBe(before);
    expect(messages(bob)[0].marked).toBe(false);
  });

  it('loads history from storage page by page, newest first, without duplicates', async () => {
    const w = world();
    const db = w.database();
    const a = await w.open('peer-a', 'Ann', { database: db });
    const all: string[] = [];
    for (let i = 1; i <= 9; i++) {
      w.advance(1000);
      await a.session.send(`h${i}`);
      all.push(`h${i}`);
    }
    a.session.destroy();
    const again = await w.open(a.peer, 'Ann', { database: db, pageSize: 3 });
    expect(texts(again.session)).toEqual(all.slice(-texts(again.session).length));
    expect(texts(again.session).length).toBeGreaterThanOrEqual(3);
    expect(texts(again.session).length).toBeLessThan(9);
    let guard = 0;
    while (again.session.hasOlder && guard++ < 10) await again.session.loadOlder();
    expect(texts(again.session)).toEqual(all);
    expect(again.session.hasOlder).toBe(false);
    expect(await again.session.loadOlder()).toBe(0);
  });
});

describe('history paging (loadOlder)', () => {
  // BUG (src/core/chat/chat-session.ts:292-293): `loadOlder` pages from the oldest item in the
  // list. A record that sync inserts below the loaded page (older than it, e.g. a message this
  // device missed while offline) becomes that oldest item, so the next `loadOlder` starts below
  // it and the stored records between it and the page are never shown (and `hasOlder` turns
  // false). Fix: keep a separate cursor of what was loaded from storage (timestamp + key of the
  // oldest record loaded by `loadOlder`) instead of deriving it from the list.
  it('shows every stored record after loading all pages, even when sync inserted an older record meanwhile', async () => {
    const w = world();
    const b = await w.open('peer-b', 'Bob');
    await b.session.send('b0, only Bob has it');
    const a = await w.open('peer-a', 'Ann');
    const all = ['b0, only Bob has it'];
    for (let i = 1; i <= 9; i++) {
      w.advance(1000);
      await a.session.send(`h${i}`);
      all.push(`h${i}`);
    }
    a.session.destroy();
    const again = await w.open(a.peer, 'Ann', { database: a.db, pageSize: 3 });
    w.net.connect(again.peer, b.peer);
    await until(() => expect(texts(again.session)).toContain('b0, only Bob has it'));
    await w.settle();
    for (let guard = 0; again.session.hasOlder && guard < 10; guard++) await again.session.loadOlder();
    expect(await again.session.log.store.count()).toBe(10);
    expect(texts(again.session)).toEqual(all);
  });

  // BUG (src/core/chat/chat-session.ts:293-301): the page query is `ts <= before` (inclusive) and
  // keeps only records not yet in the list; when more than `pageSize` records share the boundary
  // timestamp (several messages in the same millisecond, e.g. sent by a script or synced in bulk),
  // every later call returns the same already-shown records: it adds 0 and leaves `hasOlder` true
  // for ever, and the older records are never shown. Fix: page by a compound cursor
  // ([ts, author, seq], the `[room+ts]` index order), or skip the records already shown and query again.
  it('gets past several records that share one timestamp', async () => {
    const w = world();
    const db = w.database();
    const a = await w.open('peer-a', 'Ann', { database: db });
    for (let i = 1; i <= 6; i++) await a.session.send(`m${i}`); // all at T0
    a.session.destroy();
    const again = await w.open(a.peer, 'Ann', { database: db, pageSize: 2 });
    for (let guard = 0; again.session.hasOlder && guard < 10; guard++) await again.session.loadOlder();
    expect(again.session.hasOlder).toBe(false);
    expect(texts(again.session).sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  // BUG (src/core/chat/chat-session.ts:302, with `itemFor` at line 381): `loadOlder` turns a page
  // into items with `itemFor` before any of them is in `this.index`; the page is newest first, so a
  // tombstone is handled before the message it retracts and becomes a separate `tombstone` item even
  // though the (retracted) message is on the same page. After a reload the list shows the retracted
  // message and a tombstone for it, where the live list showed only the flagged message. Fix: in
  // `loadOlder`, drop retract records whose target is in the same page (or index the page's messages
  // before mapping tombstones).
  it('shows a retracted message the same way after re-opening (no extra tombstone item)', async () => {
    const w = world();
    const db = w.database();
    const a = await w.open('peer-a', 'Ann', { database: db });
    const oops = await a.session.send('oops');
    w.advance(1000);
    await a.session.send('fine');
    w.advance(1000);
    await a.session.retract(oops.key);
    const live = a.session.list().map(i => `${i.kind}${i.kind === 'message' && i.retracted ? ' (retracted)' : ''}`);
    expect(live).toEqual(['message (retracted)', 'message']);
    a.session.destroy();
    const again = await w.open(a.peer, 'Ann', { database: db });
    expect(again.session.list().map(i => `${i.kind}${i.kind === 'message' && i.retracted ? ' (retracted)' : ''}`)).toEqual(live);
  });
});

describe('storage failures', () => {
  it('a full disk emits error storage-full; the message is still shown and sent; nothing stored is lost', async () => {
    const { ann, bob, annDb, settle, advance } = await twoPeers();
    const errors: StorageError[] = [];
    ann.on('error', e => errors.push(e));
    await ann.send('stored');
    (annDb as ReturnType<typeof freshDatabase>).failWrites();
    advance(1000);
    await ann.send('not stored');
    await until(() => expect(texts(bob)).toEqual(['stored', 'not stored']));
    await settle();
    expect(errors.map(e => e.code)).toEqual(['storage-full']);
    expect(texts(ann)).toEqual(['stored', 'not stored']);
    expect(texts(bob)).toEqual(['stored', 'not stored']);
    expect(await stored(ann)).toEqual(['stored']);
    expect(await stored(bob)).toEqual(['stored', 'not stored']);
  });
});

describe('storage failures, reported once', () => {
  it('a full disk failing many records in a row is reported once per quiet period, the rest counted', async () => {
    const { ann, bob, annDb, settle, advance } = await twoPeers();
    const errors: StorageError[] = [];
    ann.on('error', e => errors.push(e));
    (annDb as ReturnType<typeof freshDatabase>).failWrites();
    for (const text of ['one', 'two', 'three']) await bob.send(text);
    await until(() => expect(texts(ann)).toEqual(['one', 'two', 'three']));
    await settle();
    expect(errors.map(e => e.code)).toEqual(['storage-full']);
    expect(ann.suppressedStorageErrors).toBe(2);
    advance(STORAGE_ERROR_QUIET_MS + 1);
    await bob.send('four');
    await until(() => expect(texts(ann)).toContain('four'));
    await settle();
    expect(errors.map(e => e.code)).toEqual(['storage-full', 'storage-full']);
  });
});

describe('join and leave notices', () => {
  it('adds a join notice that gets the name when presence arrives, and a leave notice with the name', async () => {
    const w = world();
    const a = await w.open('peer-a', 'Ann', { database: null });
    const b = w.net.peer('peer-b', 'Bob');
    w.net.connect(a.peer, b);
    expect(a.session.list()).toEqual([{ kind: 'notice', key: expect.any(String), event: 'join', peerId: 'peer-b', userName: null, timestamp: T0 }]);
    await until(() => expect(a.session.list()[0]).toMatchObject({ userName: 'Bob' }));
    w.advance(5000);
    w.net.disconnect(a.peer, b);
    expect(a.session.list()[1]).toEqual({ kind: 'notice', key: expect.any(String), event: 'leave', peerId: 'peer-b', userName: 'Bob', timestamp: T0 + 5000 });
  });
});

describe('destroy', () => {
  it('stops receiving, syncing and emitting', async () => {
    const { net, ann, bob, annPeer, bobPeer, settle } = await twoPeers();
    const requestsBefore = bobPeer.sentOn('chat-sync-req').length;
    let events = 0;
    bob.on('change', () => events++);
    bob.destroy();
    const before = bob.list().length;
    await ann.send('after destroy');
    net.disconnect(annPeer, bobPeer);
    net.connect(annPeer, bobPeer);
    await settle();
    expect(bob.list()).toHaveLength(before);
    expect(events).toBe(0);
    expect(await stored(bob)).toEqual([]);
    expect(bobPeer.sentOn('chat-sync-req')).toHaveLength(requestsBefore); // no new request on the re-join
  });
});

describe('one device, two tabs', () => {
  // BUG (src/core/identity/device-identity.ts:66-71, `nextSeq`): each DeviceIdentity keeps its
  // own copy of `nextSeq` read once at open. Two tabs of the same page (or two sessions of the same
  // room) share the database and hence the key, and both hand out seq 1, 2, …: peers keep the first
  // record of each (author, seq) and refuse the other tab's as 'conflict', so its messages are lost for
  // everyone else. Fix: reserve sequence numbers atomically in the store (a Dexie `rw` transaction
  // that reads and increments `identities.nextSeq`; IndexedDB serializes such transactions across
  // tabs), or give each tab its own seq space (e.g. a per-tab sub-key or a seq block reserved per tab).
  it('messages of two tabs sharing the same database both reach the peers', async () => {
    const w = world();
    const name = `two-tabs-${Math.random()}`;
    const tab1Db = new P2pDatabase(name);
    const tab2Db = new P2pDatabase(name);
    openDatabases.push(tab1Db, tab2Db);
    const tab1 = await w.open('tab-1', 'Ann', { database: tab1Db });
    const tab2 = await w.open('tab-2', 'Ann', { database: tab2Db });
    expect(tab1.session.publicKey).toBe(tab2.session.publicKey);
    const bob = await w.open('peer-bob', 'Bob');
    for (const tab of [tab1, tab2]) w.net.connect(tab.peer, bob.peer);
    w.net.connect(tab1.peer, tab2.peer);
    await w.settle();
    await tab1.session.send('from tab 1');
    w.advance(1000);
    await tab2.session.send('from tab 2');
    await w.settle();
    expect(bob.session.stats().refused.conflict).toBe(0);
    expect(texts(tab2.session)).toEqual(['from tab 1', 'from tab 2']);
    expect(texts(bob.session)).toEqual(['from tab 1', 'from tab 2']);
  });
});
