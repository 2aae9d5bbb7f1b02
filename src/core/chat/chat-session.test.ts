import { describe, expect, it } from 'vitest';
import { chatMessage, MAX_CHAT_TEXT_LENGTH } from '../wire';
import { ChatItem, ChatMessage, ChatSendError, ChatSession, ChatSessionOptions, MAX_CLOCK_SKEW_MS } from './chat-session';
import { TestNetwork, TestPeer } from './test-transport';

const T0 = 1_700_000_000_000;

/** Two connected peers, Ann and Bob, each with a chat session, sharing a hand-driven clock. */
function twoPeers(annOptions: ChatSessionOptions = {}, bobOptions: ChatSessionOptions = {}) {
  let t = T0;
  const now = () => t;
  const net = new TestNetwork(now);
  const annPeer = net.peer('peer-ann', 'Ann');
  const bobPeer = net.peer('peer-bob', 'Bob');
  const ann = new ChatSession(annPeer, 'Ann', { now, ...annOptions });
  const bob = new ChatSession(bobPeer, 'Bob', { now, ...bobOptions });
  net.connect(annPeer, bobPeer);
  return {
    net,
    annPeer,
    bobPeer,
    ann,
    bob,
    advance: (ms: number) => (t += ms),
    /** Delivers a raw payload from Ann's peer to Bob's, through Bob's validator. */
    rawToBob: (payload: unknown) => net.deliver('peer-ann', 'peer-bob', 'chat', payload),
  };
}

const messages = (session: ChatSession) => session.list().filter((i): i is ChatMessage => i.kind === 'message');
const texts = (session: ChatSession) => messages(session).map(m => m.text);
const wire = (fields: Partial<{ v: number; id: string; name: string; text: string; ts: number }> = {}) =>
  JSON.stringify({ v: 1, id: 'msg-00000001', name: 'Ann', text: 'hi', ts: T0, ...fields });

async function sendError(promise: Promise<unknown>): Promise<ChatSendError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ChatSendError);
    return err as ChatSendError;
  }
  throw new Error('expected send to be refused');
}

describe('ChatSession over the test transport', () => {
  it('sends a message that is shown locally as own and delivered to the peer through the wire', async () => {
    const { ann, bob, bobPeer } = twoPeers();
    const sent = await ann.send('hello Bob');
    expect(sent).toMatchObject({ kind: 'message', peerId: 'peer-ann', userName: 'Ann', text: 'hello Bob', timestamp: T0, own: true });
    expect(sent.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ann.list()).toEqual([expect.objectContaining({ kind: 'notice', event: 'join', peerId: 'peer-bob' }), sent]);
    expect(messages(bob)).toEqual([
      { kind: 'message', id: sent.id, peerId: 'peer-ann', userName: 'Ann', text: 'hello Bob', segments: [{ kind: 'text', text: 'hello Bob' }], timestamp: T0, own: false },
    ]);
    // the message really went through Bob's InboundValidator
    expect(bobPeer.counters.snapshot().accepted).toBeGreaterThanOrEqual(2); // Ann's presence + the chat line
    expect(bobPeer.counters.snapshot().droppedByChannel).toEqual({});
  });

  it('sends the documented wire message', async () => {
    const { ann, annPeer } = twoPeers();
    const sent = await ann.send('hi');
    const chat = annPeer.sent.filter(s => s.channel === 'chat');
    expect(chat).toHaveLength(1);
    expect(JSON.parse(chat[0].text)).toEqual({ v: 1, id: sent.id, name: 'Ann', text: 'hi', ts: T0 });
    expect(chat[0].to).toEqual(['peer-bob']);
  });

  it('works in both directions and emits message and change events', async () => {
    const { ann, bob } = twoPeers();
    const annSeen: ChatMessage[] = [];
    const bobSeen: ChatMessage[] = [];
    const bobChanges: (readonly ChatItem[])[] = [];
    ann.on('message', m => annSeen.push(m));
    bob.on('message', m => bobSeen.push(m));
    bob.on('change', items => bobChanges.push(items));
    await ann.send('ping');
    await bob.send('pong');
    expect(annSeen.map(m => [m.text, m.own])).toEqual([
      ['ping', true],
      ['pong', false],
    ]);
    expect(bobSeen.map(m => [m.text, m.own])).toEqual([
      ['ping', false],
      ['pong', true],
    ]);
    expect(bobChanges).toHaveLength(2);
    expect(bobChanges[1]).toBe(bob.list());
    expect(texts(ann)).toEqual(['ping', 'pong']);
    expect(texts(bob)).toEqual(['ping', 'pong']);
  });

  it('gives every sent message a fresh id', async () => {
    const { ann, bob } = twoPeers();
    for (let i = 0; i < 10; i++) await ann.send(`m${i}`);
    const ids = new Set(messages(ann).map(m => m.id));
    expect(ids.size).toBe(10);
    expect(texts(bob)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });

  it('uses the new name after setUserName', async () => {
    const { ann, bob } = twoPeers();
    ann.setUserName('Annie');
    const sent = await ann.send('renamed');
    expect(sent.userName).toBe('Annie');
    expect(messages(bob)[0].userName).toBe('Annie');
  });

  describe('send rules', () => {
    it.each(['', ' ', '\n', ' \n\t\n ', '\r\n\r\n'])('refuses blank text %j with ChatSendError("empty") and sends nothing', async text => {
      const { ann, bob, annPeer } = twoPeers();
      const before = ann.list().length;
      const err = await sendError(ann.send(text));
      expect(err.code).toBe('empty');
      expect(ann.list()).toHaveLength(before);
      expect(annPeer.sent.filter(s => s.channel === 'chat')).toEqual([]);
      expect(messages(bob)).toEqual([]);
    });

    it('refuses text over maxLength with ChatSendError("too-long") and sends nothing', async () => {
      const { ann, bob, annPeer } = twoPeers({ maxLength: 10 });
      const err = await sendError(ann.send('x'.repeat(11)));
      expect(err.code).toBe('too-long');
      expect(err.message).toContain('10');
      expect(messages(ann)).toEqual([]);
      expect(annPeer.sent.filter(s => s.channel === 'chat')).toEqual([]);
      expect(messages(bob)).toEqual([]);
    });

    it('accepts exactly maxLength characters, counting an emoji as one character', async () => {
      const { ann, bob } = twoPeers({ maxLength: 10 });
      await ann.send('x'.repeat(10));
      await ann.send('😀'.repeat(10)); // 20 UTF-16 code units
      expect(texts(bob)).toEqual(['x'.repeat(10), '😀'.repeat(10)]);
      expect((await sendError(ann.send('😀'.repeat(11)))).code).toBe('too-long');
    });

    it('trims leading and trailing blank lines but keeps inner text and indentation', async () => {
      const { ann, bob } = twoPeers({ maxLength: 15 });
      const sent = await ann.send('\n\n  indented\nline\n \n'); // 15 characters once trimmed
      expect(sent.text).toBe('  indented\nline');
      expect(texts(bob)).toEqual(['  indented\nline']);
      // blank lines do not count towards the limit
      await ann.send('\n\n\n\n\n' + 'y'.repeat(15) + '\n\n\n\n');
      expect(texts(bob)[1]).toBe('y'.repeat(15));
    });

    it('caps maxLength between 1 and the wire limit, default 4000', () => {
      const net = new TestNetwork();
      const peer = net.peer('p', 'P');
      expect(new ChatSession(peer, 'P').maxLength).toBe(4000);
      expect(new ChatSession(peer, 'P', { maxLength: 1_000_000 }).maxLength).toBe(MAX_CHAT_TEXT_LENGTH);
      expect(new ChatSession(peer, 'P', { maxLength: 0 }).maxLength).toBe(1);
      expect(new ChatSession(peer, 'P', { maxLength: -5 }).maxLength).toBe(1);
    });

    // Regression guard (was a bug): ChatSession counts code points (`[...body].length`) but the wire schema's
    // `v.maxLength(MAX_CHAT_TEXT_LENGTH)` counts UTF-16 code units. With max-length above 8000,
    // a text of astral characters (emoji) passes `send`, is shown locally as sent, and every
    // receiver silently drops it as `schema`. Fix: count the same unit on both sides, e.g. a
    // code-point check in the schema (`v.check(t => [...t].length <= MAX_CHAT_TEXT_LENGTH)`),
    // or `body.length` in ChatSession.
    it('delivers every message that send accepted (emoji text with max-length 16000)', async () => {
      const { ann, bob, bobPeer } = twoPeers({ maxLength: MAX_CHAT_TEXT_LENGTH }, { maxLength: MAX_CHAT_TEXT_LENGTH });
      const text = '😀'.repeat(9000); // 9 000 characters, 18 000 code units, 36 KiB
      await ann.send(text);
      expect(bobPeer.counters.snapshot().dropped.schema).toBe(0);
      expect(texts(bob)).toEqual([text]);
    });

    // Regression guard (was a bug): `send` adds the message to the local list before encoding it; text whose JSON escaping
    // makes it bigger than chatMessage.maxBytes (e.g. control characters, 6 bytes each as \uXXXX)
    // makes `encodeMessage` throw a RangeError after the message is already shown as sent.
    // Fix: encode (or measure) before `this.add`, and refuse with ChatSendError('too-long').
    it('refuses text that cannot be encoded within the wire size with ChatSendError, without showing it', async () => {
      const { ann } = twoPeers({ maxLength: MAX_CHAT_TEXT_LENGTH });
      const text = 'a' + '\u0001'.repeat(12_000); // 12 001 characters ≤ 16 000, ~72 KB of JSON
      const err = await ann.send(text).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChatSendError);
      expect(messages(ann)).toEqual([]);
    });
  });

  describe('receive rules', () => {
    it('drops received text over its own maxLength and counts it in rejectedTooLong', async () => {
      const { ann, bob, bobPeer } = twoPeers({ maxLength: 100 }, { maxLength: 10 });
      await ann.send('z'.repeat(11));
      await ann.send('z'.repeat(50));
      expect(messages(bob)).toEqual([]);
      expect(bob.rejectedTooLong).toBe(2);
      // they passed the wire (the length rule is the session's), so they count as accepted there
      expect(bobPeer.counters.snapshot().dropped.schema).toBe(0);
      await ann.send('z'.repeat(10));
      await ann.send('😀'.repeat(10));
      expect(texts(bob)).toEqual(['z'.repeat(10), '😀'.repeat(10)]);
      expect(bob.rejectedTooLong).toBe(2);
      expect(ann.rejectedTooLong).toBe(0);
    });

    it('shows a duplicate message id from the same peer once', () => {
      const { bob, rawToBob, advance } = twoPeers();
      const seen: ChatMessage[] = [];
      bob.on('message', m => seen.push(m));
      rawToBob(wire({ id: 'dup-id-0001', text: 'first' }));
      advance(1000);
      rawToBob(wire({ id: 'dup-id-0001', text: 'replayed with other text' }));
      rawToBob(wire({ id: 'dup-id-0002', text: 'second' }));
      expect(texts(bob)).toEqual(['first', 'second']);
      expect(seen.map(m => m.text)).toEqual(['first', 'second']);
    });

    it('keeps messages of different peers apart even if they reuse an id', async () => {
      const { net, bob, bobPeer, rawToBob } = twoPeers();
      const eve = net.peer('peer-eve', 'Eve');
      net.connect(eve, bobPeer);
      rawToBob(wire({ id: 'same-id-0001', text: 'from Ann' }));
      net.deliver('peer-eve', 'peer-bob', 'chat', wire({ id: 'same-id-0001', name: 'Eve', text: 'from Eve' }));
      expect(messages(bob).map(m => [m.peerId, m.text])).toEqual([
        ['peer-ann', 'from Ann'],
        ['peer-eve', 'from Eve'],
      ]);
    });

    it('keeps a peer timestamp within MAX_CLOCK_SKEW_MS of the receiver clock', () => {
      const { bob, rawToBob } = twoPeers();
      rawToBob(wire({ id: 'ts-000000001', ts: T0 - 1234 }));
      rawToBob(wire({ id: 'ts-000000002', ts: T0 + MAX_CLOCK_SKEW_MS }));
      rawToBob(wire({ id: 'ts-000000003', ts: T0 - MAX_CLOCK_SKEW_MS }));
      expect(messages(bob).map(m => m.timestamp)).toEqual([T0 - 1234, T0 + MAX_CLOCK_SKEW_MS, T0 - MAX_CLOCK_SKEW_MS]);
    });

    it('clamps timestamps far in the future or past to the receiver clock', () => {
      const { bob, rawToBob, advance } = twoPeers();
      advance(42);
      const now = T0 + 42;
      rawToBob(wire({ id: 'ts-future-01', ts: now + MAX_CLOCK_SKEW_MS + 1 }));
      rawToBob(wire({ id: 'ts-future-02', ts: 8.64e15 }));
      rawToBob(wire({ id: 'ts-past-0001', ts: now - MAX_CLOCK_SKEW_MS - 1 }));
      rawToBob(wire({ id: 'ts-past-0002', ts: 0 }));
      expect(messages(bob).map(m => m.timestamp)).toEqual([now, now, now, now]);
      expect(MAX_CLOCK_SKEW_MS).toBe(5 * 60_000);
    });

    it('never shows what the wire refuses, and the wire counts it', () => {
      const { bob, bobPeer, rawToBob } = twoPeers();
      rawToBob(new Uint8Array([1, 2, 3]));
      rawToBob({ v: 1, id: 'raw-object-1', name: 'Ann', text: 'raw object', ts: T0 });
      rawToBob('{"v":1,"id":');
      rawToBob(wire({ v: 2, id: 'future-ver-1' }));
      rawToBob(JSON.stringify({ v: 1, id: 'extra-key-01', name: 'Ann', text: 'x', ts: T0, html: '<b>' }));
      rawToBob(wire({ id: '<img src=x onerror=alert(1)>' }));
      rawToBob(wire({ id: 'empty-name-1', name: '  ' }));
      rawToBob(wire({ id: 'huge-text-01', text: 'x'.repeat(70_000) }));
      rawToBob(wire({ id: 'valid-msg-01', text: 'the only valid one' }));
      expect(texts(bob)).toEqual(['the only valid one']);
      const s = bobPeer.counters.snapshot();
      expect(s.dropped).toMatchObject({ 'not-text': 2, 'malformed-json': 1, schema: 4, oversize: 1 });
      expect(s.droppedByChannel).toEqual({ 'chat:not-text': 2, 'chat:malformed-json': 1, 'chat:schema': 4, 'chat:oversize': 1 });
    });

    it('applies the wire rate limit per peer (burst of 20, then 5/s)', () => {
      const { bob, bobPeer, rawToBob, advance } = twoPeers();
      for (let i = 0; i < 25; i++) rawToBob(wire({ id: `flood-${String(i).padStart(4, '0')}`, text: `f${i}` }));
      expect(messages(bob)).toHaveLength(chatMessage.rate.burst);
      expect(bobPeer.counters.snapshot().dropped.rate).toBe(5);
      advance(1000);
      for (let i = 25; i < 35; i++) rawToBob(wire({ id: `flood-${String(i).padStart(4, '0')}`, text: `f${i}` }));
      expect(messages(bob)).toHaveLength(25);
    });

    it('shows the trimmed name of the sender', () => {
      const { bob, rawToBob } = twoPeers();
      rawToBob(wire({ id: 'trim-name-01', name: '  Ann  ' }));
      expect(messages(bob)[0].userName).toBe('Ann');
    });
  });

  describe('join and leave notices', () => {
    it('adds a join notice when a peer joins and a leave notice with its name when it leaves', () => {
      let t = T0;
      const now = () => t;
      const net = new TestNetwork(now);
      const ann = net.peer('peer-ann', 'Ann');
      const bob = net.peer('peer-bob', 'Bob');
      const session = new ChatSession(ann, 'Ann', { now });
      const changes: number[] = [];
      session.on('change', items => changes.push(items.length));
      net.connect(ann, bob);
      expect(session.list()).toEqual([{ kind: 'notice', id: expect.any(String), event: 'join', peerId: 'peer-bob', userName: null, timestamp: T0 }]);
      t += 5000;
      net.disconnect(ann, bob);
      expect(session.list()[1]).toEqual({ kind: 'notice', id: expect.any(String), event: 'leave', peerId: 'peer-bob', userName: 'Bob', timestamp: T0 + 5000 });
      expect(changes).toEqual([1, 2]);
    });

    it('interleaves notices and messages in arrival order, and counts a rejoin again', async () => {
      let t = T0;
      const now = () => t;
      const net = new TestNetwork(now);
      const annPeer = net.peer('peer-ann', 'Ann');
      const bobPeer = net.peer('peer-bob', 'Bob');
      const ann = new ChatSession(annPeer, 'Ann', { now });
      const bob = new ChatSession(bobPeer, 'Bob', { now });
      net.connect(annPeer, bobPeer);
      t += 1;
      await bob.send('hi');
      t += 1;
      net.disconnect(annPeer, bobPeer);
      t += 1;
      net.connect(annPeer, bobPeer);
      t += 1;
      await bob.send('back');
      const summary = ann.list().map(i => (i.kind === 'notice' ? `${i.event}:${i.peerId}` : `msg:${i.text}`));
      expect(summary).toEqual(['join:peer-bob', 'msg:hi', 'leave:peer-bob', 'join:peer-bob', 'msg:back']);
      expect(new Set(ann.list().map(i => i.id)).size).toBe(5);
    });

    it('notices several peers separately', () => {
      let t = T0;
      const now = () => t;
      const net = new TestNetwork(now);
      const ann = net.peer('peer-ann', 'Ann');
      const session = new ChatSession(ann, 'Ann', { now });
      for (const id of ['peer-b', 'peer-c', 'peer-d']) net.connect(ann, net.peer(id, id.toUpperCase()));
      expect(session.list().map(i => (i.kind === 'notice' ? i.peerId : '?'))).toEqual(['peer-b', 'peer-c', 'peer-d']);
    });
  });

  describe('maxItems', () => {
    it('keeps only the newest maxItems items, in order', async () => {
      const { ann, bob } = twoPeers({ maxItems: 3 }, { maxItems: 3 });
      for (let i = 1; i <= 6; i++) await ann.send(`m${i}`);
      expect(ann.list().map(i => (i.kind === 'message' ? i.text : i.event))).toEqual(['m4', 'm5', 'm6']);
      expect(bob.list().map(i => (i.kind === 'message' ? i.text : i.event))).toEqual(['m4', 'm5', 'm6']);
    });

    it('defaults to 1000 items', async () => {
      const { ann, advance } = twoPeers();
      for (let i = 0; i < 1005; i++) {
        advance(1000);
        await ann.send(`m${i}`);
      }
      const list = ann.list();
      expect(list).toHaveLength(1000);
      expect((list[0] as ChatMessage).text).toBe('m5');
      expect((list[999] as ChatMessage).text).toBe('m1004');
    });

    it('still drops a replayed id after the original left the list', () => {
      const { bob, rawToBob, advance } = twoPeers({}, { maxItems: 2 });
      rawToBob(wire({ id: 'replay-00001', text: 'original' }));
      rawToBob(wire({ id: 'replay-00002', text: 'b' }));
      rawToBob(wire({ id: 'replay-00003', text: 'c' }));
      expect(texts(bob)).toEqual(['b', 'c']);
      advance(1000);
      rawToBob(wire({ id: 'replay-00001', text: 'original' }));
      expect(texts(bob)).toEqual(['b', 'c']);
    });
  });

  describe('destroy', () => {
    it('stops receiving messages and notices, and stops emitting', async () => {
      const { net, ann, bob, annPeer, bobPeer } = twoPeers();
      let events = 0;
      bob.on('change', () => events++);
      bob.destroy();
      const before = bob.list().length;
      await ann.send('after destroy');
      net.disconnect(annPeer, bobPeer);
      expect(bob.list()).toHaveLength(before);
      expect(events).toBe(0);
    });
  });
});

describe('TestNetwork (test helper)', () => {
  it('routes payloads through the receiver’s real InboundValidator and only between connected peers', () => {
    const net = new TestNetwork(() => T0);
    const a: TestPeer = net.peer('a', 'A');
    const b = net.peer('b', 'B');
    const got: string[] = [];
    b.channel(chatMessage).onMessage(m => got.push(m.text));
    net.deliver('a', 'b', 'chat', wire({ text: 'not connected yet' }));
    expect(got).toEqual([]);
    net.connect(a, b);
    expect(a.peers.get('b')?.name).toBe('B'); // learned by presence, through the wire
    net.deliver('a', 'b', 'chat', '{broken');
    net.deliver('a', 'b', 'chat', wire({ text: 'ok' }));
    expect(got).toEqual(['ok']);
    expect(b.counters.snapshot().dropped['malformed-json']).toBe(1);
  });
});
