import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import type { P2pDatabase, StorageError, StoredChatRecord } from '../store';
import type { ChatRecordWire } from '../wire';
import { ChatLog, MAX_FUTURE_SKEW_MS, toWire } from './chat-log';
import { recordSigningBytes, signRecord, UnsignedRecord } from './chat-record';
import { DexieRecordStore, MemoryRecordStore, PageCursor, RecordStore } from './record-store';
import { freshDatabase } from './test-transport';

const ROOM = 'room-log';
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

type MsgFields = { name?: string; text?: string; burn?: true };

const databases: P2pDatabase[] = [];
afterEach(() => {
  databases.splice(0).forEach(db => db.close());
});

/** An identity of its own (own memory store), as another device would have. */
const device = () => DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());

/** A record signed by its author (`seq` and `ts` given explicitly). */
function msg(author: DeviceIdentity, seq: number, ts: number, fields: MsgFields = {}, room = ROOM): Promise<ChatRecordWire> {
  return signRecord(room, author, { kind: 'msg', author: author.publicKey, seq, ts, name: fields.name ?? 'Someone', text: fields.text ?? `text ${seq}`, ...(fields.burn ? { burn: true as const } : {}) });
}
function retract(author: DeviceIdentity, seq: number, ts: number, target: number): Promise<ChatRecordWire> {
  return signRecord(ROOM, author, { kind: 'retract', author: author.publicKey, seq, ts, target });
}
/** A record that claims `claimed` as author but is signed with `signer`'s key. */
type WithoutAuthor<T> = T extends unknown ? Omit<T, 'author'> : never;
async function forge(signer: DeviceIdentity, claimed: string, unsigned: WithoutAuthor<UnsignedRecord>): Promise<ChatRecordWire> {
  const record = { ...unsigned, author: claimed } as UnsignedRecord;
  return { ...record, sig: await signer.sign(recordSigningBytes(ROOM, record)) } as ChatRecordWire;
}

/** This device's log over the real Dexie store (fake-indexeddb), with a hand-driven clock. */
async function setup(options: { retentionMs?: number; store?: (db: P2pDatabase) => RecordStore } = {}) {
  let t = T0;
  const now = () => t;
  const db = freshDatabase('chat-log');
  databases.push(db);
  const dexie = new DexieRecordStore(db, ROOM);
  const store = options.store ? options.store(db) : dexie;
  const me = await device();
  const log = new ChatLog(ROOM, store, me, { now, retentionMs: options.retentionMs });
  await log.init();
  const errors: StorageError[] = [];
  const events: StoredChatRecord[] = [];
  log.on('storageError', e => errors.push(e));
  log.on('record', r => events.push(r));
  const all = async () => (await dexie.since(0)).map(r => ({ author: r.author, seq: r.seq, kind: r.kind, text: r.text, retracted: r.retracted ?? false }));
  return { db, store: dexie, log, me, now, advance: (ms: number) => (t += ms), errors, events, all };
}

describe('ChatLog: signatures', () => {
  it('accepts and stores a genuine record of another author', async () => {
    const { log, store } = await setup();
    const ann = await device();
    const result = await log.ingest(await msg(ann, 1, T0, { text: 'hello' }));
    expect(result).toMatchObject({ status: 'accepted', stored: true });
    expect(await store.get(ann.publicKey, 1)).toMatchObject({ room: ROOM, author: ann.publicKey, seq: 1, ts: T0, kind: 'msg', text: 'hello', receivedAt: T0 });
  });

  it('refuses a forged record (author is someone else’s key, signed with another key) as bad-signature and stores nothing', async () => {
    const { log, store, events } = await setup();
    const ann = await device();
    const eve = await device();
    const forged = await forge(eve, ann.publicKey, { kind: 'msg', seq: 1, ts: T0, name: 'Ann', text: 'I owe Eve 100' });
    expect(await log.ingest(forged)).toEqual({ status: 'refused', reason: 'bad-signature' });
    expect(await store.get(ann.publicKey, 1)).toBeUndefined();
    expect(await store.count()).toBe(0);
    expect(events).toEqual([]);
    expect(log.refused['bad-signature']).toBe(1);
    // the forgery does not block the genuine record with the same author and seq
    expect(await log.ingest(await msg(ann, 1, T0, { text: 'the real one' }))).toMatchObject({ status: 'accepted', stored: true });
  });

  it('refuses a genuine record with one altered field as bad-signature', async () => {
    const { log, store } = await setup();
    const ann = await device();
    const genuine = (await msg(ann, 1, T0, { text: 'ten' })) as Extract<ChatRecordWire, { kind: 'msg' }>;
    expect(await log.ingest({ ...genuine, text: 'ten thousand' })).toEqual({ status: 'refused', reason: 'bad-signature' });
    expect(await log.ingest({ ...genuine, ts: T0 - 1 })).toEqual({ status: 'refused', reason: 'bad-signature' });
    expect(await store.count()).toBe(0);
  });

  it('refuses a record signed for another room', async () => {
    const { log, store } = await setup();
    const ann = await device();
    expect(await log.ingest(await msg(ann, 1, T0, {}, 'other-room'))).toEqual({ status: 'refused', reason: 'bad-signature' });
    expect(await store.count()).toBe(0);
  });
});

describe('ChatLog: retraction', () => {
  it('refuses a forged retraction (tombstone for A’s message signed by B, claiming A) and keeps the message', async () => {
    const { log, store, all } = await setup();
    const ann = await device();
    const bob = await device();
    await log.ingest(await msg(ann, 1, T0, { text: 'keep me' }));
    const forged = await forge(bob, ann.publicKey, { kind: 'retract', seq: 2, ts: T0 + 1, target: 1 });
    expect(await log.ingest(forged)).toEqual({ status: 'refused', reason: 'bad-signature' });
    expect(await all()).toEqual([{ author: ann.publicKey, seq: 1, kind: 'msg', text: 'keep me', retracted: false }]);
    expect(await store.tombstoneFor(ann.publicKey, 1)).toBeUndefined();
    const missing = await log.missingFor({}, 0);
    expect(missing.map(r => r.kind === 'msg' && r.text)).toEqual(['keep me']);
  });

  it('does not let B retract A’s message with B’s own tombstone', async () => {
    const { log, all } = await setup();
    const ann = await device();
    const bob = await device();
    await log.ingest(await msg(ann, 1, T0, { text: 'A says' }));
    // a genuine tombstone by Bob for "his" seq 1: it can only ever concern Bob's record 1
    expect(await log.ingest(await retract(bob, 2, T0 + 1, 1))).toMatchObject({ status: 'accepted' });
    expect((await all()).find(r => r.author === ann.publicKey)).toMatchObject({ text: 'A says', retracted: false });
  });

  it('a genuine retraction marks the stored message retracted; missingFor then gives the tombstone, never the body', async () => {
    const { log, store, events } = await setup();
    const ann = await device();
    const original = await msg(ann, 1, T0, { text: 'secret' });
    await log.ingest(original);
    const tomb = await retract(ann, 2, T0 + 1000, 1);
    const result = await log.ingest(tomb);
    expect(result).toMatchObject({ status: 'accepted', stored: true, retractedTarget: { author: ann.publicKey, seq: 1, retracted: true } });
    expect(events.at(-1)).toMatchObject({ kind: 'retract', target: 1 });
    // the body stays on this device, flagged
    expect(await store.get(ann.publicKey, 1)).toMatchObject({ text: 'secret', retracted: true });
    expect(await store.tombstoneFor(ann.publicKey, 1)).toMatchObject({ kind: 'retract', seq: 2, target: 1 });
    // a peer with nothing, a peer with the message, a peer with everything
    for (const [vector, since] of [[{}, 0], [{ [ann.publicKey]: [[1, 1]] }, 0], [{}, T0 - HOUR]] as const) {
      const missing = await log.missingFor(vector as Record<string, [number, number][]>, since);
      expect(missing).toEqual([tomb]);
      expect(JSON.stringify(missing)).not.toContain('secret');
    }
    expect(await log.missingFor({ [ann.publicKey]: [[1, 2]] }, 0)).toEqual([]);
    // the tombstone covers its target in this device's state vector
    expect(await log.stateVector(0)).toEqual({ [ann.publicKey]: [[1, 2]] });
  });

  it('stores a message retracted when its tombstone arrived first', async () => {
    const { log, store } = await setup();
    const ann = await device();
    const tomb = await retract(ann, 2, T0 + 1000, 1);
    expect(await log.ingest(tomb)).toMatchObject({ status: 'accepted', stored: true });
    expect((await log.ingest(await msg(ann, 1, T0, { text: 'late body' }))).status).toBe('accepted');
    expect(await store.get(ann.publicKey, 1)).toMatchObject({ text: 'late body', retracted: true });
    expect(await log.missingFor({}, 0)).toEqual([tomb]);
  });

  it('refuses a tombstone whose target is not an earlier record of its author (bad-target)', async () => {
    const { log, store } = await setup();
    const ann = await device();
    expect(await log.ingest(await retract(ann, 3, T0, 3))).toEqual({ status: 'refused', reason: 'bad-target' });
    expect(await log.ingest(await retract(ann, 3, T0, 7))).toEqual({ status: 'refused', reason: 'bad-target' });
    expect(await store.count()).toBe(0);
  });

  it('author() makes signed own records with increasing seq, and retracts its own message', async () => {
    const { log, me, store } = await setup();
    const a = await log.author({ kind: 'msg', name: 'Me', text: 'one' });
    const b = await log.author({ kind: 'msg', name: 'Me', text: 'two' });
    expect([a.wire.seq, b.wire.seq]).toEqual([1, 2]);
    expect(a.wire).toMatchObject({ author: me.publicKey, ts: T0 });
    expect('burn' in a.wire).toBe(false);
    const r = await log.author({ kind: 'retract', target: 1 });
    expect(r.result).toMatchObject({ status: 'accepted', retractedTarget: { seq: 1, retracted: true } });
    expect(await store.get(me.publicKey, 1)).toMatchObject({ retracted: true });
  });
});

describe('ChatLog: duplicates, conflicts, order', () => {
  it('refuses a replayed record as duplicate', async () => {
    const { log, store, events } = await setup();
    const ann = await device();
    const record = await msg(ann, 1, T0);
    expect((await log.ingest(record)).status).toBe('accepted');
    expect(await log.ingest(record)).toMatchObject({ status: 'refused', reason: 'duplicate' });
    expect(await log.ingest(JSON.parse(JSON.stringify(record)) as ChatRecordWire)).toMatchObject({ status: 'refused', reason: 'duplicate' });
    expect(await store.count()).toBe(1);
    expect(events).toHaveLength(1);
    expect(log.refused.duplicate).toBe(2);
  });

  it('refuses the same author+seq with another body as conflict and keeps the first', async () => {
    const { log, store } = await setup();
    const ann = await device();
    await log.ingest(await msg(ann, 1, T0, { text: 'first' }));
    expect(await log.ingest(await msg(ann, 1, T0, { text: 'second' }))).toMatchObject({ status: 'refused', reason: 'conflict' });
    // another kind of record under the same seq is a conflict too
    const mode = await signRecord(ROOM, ann, { kind: 'mode', author: ann.publicKey, seq: 1, ts: T0, burn: true });
    expect(await log.ingest(mode)).toMatchObject({ status: 'refused', reason: 'conflict' });
    expect(await store.get(ann.publicKey, 1)).toMatchObject({ kind: 'msg', text: 'first' });
    expect(await store.count()).toBe(1);
    expect(log.refused.conflict).toBe(2);
  });

  it('accepts out-of-order sequence numbers (3 before 1 and 2); the state vector is then [[1, 3]]', async () => {
    const { log } = await setup();
    const ann = await device();
    const [r1, r2, r3] = [await msg(ann, 1, T0), await msg(ann, 2, T0 + 1), await msg(ann, 3, T0 + 2)];
    expect((await log.ingest(r3)).status).toBe('accepted');
    expect(await log.stateVector(0)).toEqual({ [ann.publicKey]: [[3, 3]] });
    expect((await log.ingest(r1)).status).toBe('accepted');
    expect(await log.stateVector(0)).toEqual({ [ann.publicKey]: [[1, 1], [3, 3]] });
    expect((await log.ingest(r2)).status).toBe('accepted');
    expect(await log.stateVector(0)).toEqual({ [ann.publicKey]: [[1, 3]] });
  });

  it('serializes concurrent ingests: a record and its tombstone given at once end retracted either way', async () => {
    for (const order of ['msg-first', 'tomb-first'] as const) {
      const { log, store } = await setup();
      const ann = await device();
      const m = await msg(ann, 1, T0, { text: 'race' });
      const t = await retract(ann, 2, T0 + 1, 1);
      const results = await Promise.all(order === 'msg-first' ? [log.ingest(m), log.ingest(t)] : [log.ingest(t), log.ingest(m)]);
      expect(results.map(r => r.status)).toEqual(['accepted', 'accepted']);
      expect(await store.get(ann.publicKey, 1)).toMatchObject({ retracted: true });
    }
  });

  it('raises the own sequence counter when an own record comes back (e.g. by sync)', async () => {
    const { log, me } = await setup();
    await log.ingest(await msg(me, 7, T0));
    const next = await log.author({ kind: 'msg', name: 'Me', text: 'after' });
    expect(next.wire.seq).toBe(8);
  });
});

describe('ChatLog: time rules', () => {
  it('refuses records from the future beyond MAX_FUTURE_SKEW_MS, accepts up to it', async () => {
    const { log, store } = await setup();
    const ann = await device();
    expect(MAX_FUTURE_SKEW_MS).toBe(5 * 60_000);
    expect(await log.ingest(await msg(ann, 1, T0 + MAX_FUTURE_SKEW_MS + 1))).toEqual({ status: 'refused', reason: 'future' });
    expect(await log.ingest(await msg(ann, 2, 8.64e15))).toEqual({ status: 'refused', reason: 'future' });
    expect((await log.ingest(await msg(ann, 3, T0 + MAX_FUTURE_SKEW_MS))).status).toBe('accepted');
    expect(await store.count()).toBe(1);
    expect(log.refused.future).toBe(2);
  });

  it('refuses records older than the retention window, accepts from its start', async () => {
    const { log, store } = await setup({ retentionMs: HOUR });
    const ann = await device();
    expect(await log.ingest(await msg(ann, 1, T0 - HOUR - 1))).toEqual({ status: 'refused', reason: 'outside-window' });
    expect(await log.ingest(await msg(ann, 2, 0))).toEqual({ status: 'refused', reason: 'outside-window' });
    expect((await log.ingest(await msg(ann, 3, T0 - HOUR))).status).toBe('accepted');
    expect(await store.count()).toBe(1);
    expect(log.refused['outside-window']).toBe(2);
  });

  it('keeps everything with a window of 0 (forever)', async () => {
    const { log } = await setup({ retentionMs: 0 });
    const ann = await device();
    expect((await log.ingest(await msg(ann, 1, 0))).status).toBe('accepted');
    expect(log.windowStart()).toBe(0);
  });

  it('uses a 30-day window by default', async () => {
    const { log } = await setup();
    expect(log.retentionMs).toBe(30 * 24 * HOUR);
    expect(log.windowStart()).toBe(T0 - 30 * 24 * HOUR);
  });
});

describe('ChatLog: missingFor', () => {
  it('returns only what the vector lacks, with ts >= max(since, own window start), oldest first, never burn records', async () => {
    const { log, store, advance } = await setup({ retentionMs: 2 * HOUR });
    const ann = await device();
    const bob = await device();
    // received in a scrambled order; timestamps spread over the last 3 hours
    const a1 = await msg(ann, 1, T0 - 90 * 60_000); // inside the window now, outside after advancing 1h
    const a2 = await msg(ann, 2, T0 - 30 * 60_000);
    const a3 = await msg(ann, 3, T0 - 10 * 60_000);
    const b1 = await msg(bob, 1, T0 - 20 * 60_000);
    const b2 = await msg(bob, 2, T0 - 5 * 60_000);
    const b3 = await msg(bob, 3, T0 - 4 * 60_000, { burn: true });
    for (const r of [b2, a3, a1, b3, b1, a2]) await log.ingest(r);
    // a burn record in the store (put by hand: ingest never stores one) is still never sent
    const b4 = await msg(bob, 4, T0 - 3 * 60_000, { burn: true });
    await store.put({ ...b4, room: ROOM, receivedAt: T0 });

    expect(await log.missingFor({}, 0)).toEqual([a1, a2, b1, a3, b2]);
    expect(await log.missingFor({ [ann.publicKey]: [[2, 3]], [bob.publicKey]: [[2, 2]] }, 0)).toEqual([a1, b1]);
    expect(await log.missingFor({ [ann.publicKey]: [[1, 3]], [bob.publicKey]: [[1, 4]] }, 0)).toEqual([]);
    // the requester's `since`
    expect(await log.missingFor({}, T0 - 25 * 60_000)).toEqual([b1, a3, b2]);
    // this device's own window: after 1h, a1 is older than 2h and not sent even if asked from 0
    advance(HOUR);
    expect(await log.missingFor({}, 0)).toEqual([a2, b1, a3, b2]);
    expect(await log.missingFor({}, T0 - 15 * 60_000)).toEqual([a3, b2]);
  });

  it('returns records that verify again on the other side (toWire drops local fields)', async () => {
    const { log } = await setup();
    const ann = await device();
    const r = await msg(ann, 1, T0);
    await log.ingest(r);
    const [out] = await log.missingFor({}, 0);
    expect(out).toEqual(r);
    expect(Object.keys(out).sort()).toEqual(['author', 'kind', 'name', 'seq', 'sig', 'text', 'ts']);
    const other = await setup();
    expect((await other.log.ingest(out)).status).toBe('accepted');
  });

  it('toWire keeps a mode record’s switch and a tombstone’s target', async () => {
    const { log, me } = await setup();
    const { wire: mode } = await log.author({ kind: 'mode', burn: false });
    const [stored] = await log.newest(null, 10);
    expect(toWire(stored)).toEqual(mode);
    expect(mode).toMatchObject({ kind: 'mode', burn: false, author: me.publicKey });
  });
});

describe('ChatLog: burn after reading', () => {
  it('accepts and emits burn records but never writes them to the store', async () => {
    const { log, db, events } = await setup();
    const ann = await device();
    const result = await log.ingest(await msg(ann, 1, T0, { burn: true, text: 'burn me' }));
    expect(result).toMatchObject({ status: 'accepted', stored: false });
    const own = await log.author({ kind: 'msg', name: 'Me', text: 'mine, burning', burn: true });
    expect(own.result).toMatchObject({ status: 'accepted', stored: false });
    expect(events.map(e => e.text)).toEqual(['burn me', 'mine, burning']);
    expect(await db.chatRecords.count()).toBe(0);
    expect(await log.stateVector(0)).toEqual({});
    expect(await log.missingFor({}, 0)).toEqual([]);
  });
});

describe('ChatLog: marks and pruning', () => {
  it('prune deletes unmarked records older than the window and keeps marked ones, also across a restart', async () => {
    const { log, store, me, advance, all } = await setup({ retentionMs: HOUR });
    const ann = await device();
    await log.ingest(await msg(ann, 1, T0, { text: 'old, marked' }));
    await log.ingest(await msg(ann, 2, T0 + 1, { text: 'old' }));
    await log.ingest(await msg(ann, 3, T0 + 2, { text: 'old too' }));
    await log.setMark({ author: ann.publicKey, seq: 1 }, true);
    expect(log.isMarked({ author: ann.publicKey, seq: 1 })).toBe(true);
    expect(await log.prune()).toBe(0);
    advance(2 * HOUR);
    await log.ingest(await msg(ann, 4, T0 + 2 * HOUR, { text: 'new' }));
    const pruned: number[] = [];
    log.on('pruned', count => pruned.push(count));
    expect(await log.prune()).toBe(2);
    expect(pruned).toEqual([2]);
    expect((await all()).map(r => r.text)).toEqual(['old, marked', 'new']);
    expect((await log.marked()).map(r => r.text)).toEqual(['old, marked']);
    // a new log on the same store (a reload) knows the mark and keeps the record
    const again = new ChatLog(ROOM, store, me, { now: () => T0 + 3 * HOUR + 1, retentionMs: HOUR });
    await again.init();
    expect(again.isMarked({ author: ann.publicKey, seq: 1 })).toBe(true);
    expect(await again.prune()).toBe(1);
    expect((await all()).map(r => r.text)).toEqual(['old, marked']);
    // unmarked, it goes at the next prune
    await again.setMark({ author: ann.publicKey, seq: 1 }, false);
    expect(await again.prune()).toBe(1);
    expect(await store.count()).toBe(0);
  });

  it('never prunes with a window of 0', async () => {
    const { log, store, advance } = await setup({ retentionMs: 0 });
    const ann = await device();
    await log.ingest(await msg(ann, 1, T0));
    advance(1000 * 24 * HOUR);
    expect(await log.prune()).toBe(0);
    expect(await store.count()).toBe(1);
  });
});

describe('ChatLog: storage failures', () => {
  /** A store whose writes fail like a full disk when `failing` is set. */
  class QuotaStore implements RecordStore {
    failing = false;
    constructor(private readonly inner: RecordStore) {}
    get persistent() {
      return this.inner.persistent;
    }
    get = (author: string, seq: number) => this.inner.get(author, seq);
    put = (record: StoredChatRecord) =>
      this.failing ? Promise.reject(Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' })) : this.inner.put(record);
    tombstoneFor = (author: string, target: number) => this.inner.tombstoneFor(author, target);
    since = (since: number) => this.inner.since(since);
    newest = (before: PageCursor | null, limit: number) => this.inner.newest(before, limit);
    deleteOlderThan = (cutoff: number, keep: Set<string>) => this.inner.deleteOlderThan(cutoff, keep);
    count = () => this.inner.count();
    marks = () => this.inner.marks();
    setMark = (author: string, seq: number, marked: boolean) => this.inner.setMark(author, seq, marked);
    settings = () => this.inner.settings();
    putSettings = (s: Parameters<RecordStore['putSettings']>[0]) => this.inner.putSettings(s);
  }

  it('a failing put emits storageError storage-full; the record is still accepted (stored: false) and nothing stored is lost', async () => {
    let quota!: QuotaStore;
    const { log, errors, events, all } = await setup({ store: db => (quota = new QuotaStore(new DexieRecordStore(db, ROOM))) });
    const ann = await device();
    await log.ingest(await msg(ann, 1, T0, { text: 'kept 1' }));
    await log.ingest(await msg(ann, 2, T0 + 1, { text: 'kept 2' }));
    quota.failing = true;
    const r3 = await msg(ann, 3, T0 + 2, { text: 'not kept' });
    const result = await log.ingest(r3);
    expect(result).toMatchObject({ status: 'accepted', stored: false, record: { seq: 3, text: 'not kept' } });
    expect(events.map(e => e.text)).toEqual(['kept 1', 'kept 2', 'not kept']);
    expect(errors.map(e => e.code)).toEqual(['storage-full']);
    expect(errors[0].message).toMatch(/no room left/);
    // a retraction while full: refused by storage, the message stays
    expect((await log.ingest(await retract(ann, 4, T0 + 3, 1))).status).toBe('accepted');
    expect(await all()).toEqual([
      { author: ann.publicKey, seq: 1, kind: 'msg', text: 'kept 1', retracted: false },
      { author: ann.publicKey, seq: 2, kind: 'msg', text: 'kept 2', retracted: false },
    ]);
    // once there is room again, the same record (e.g. from sync) is accepted and stored, not a duplicate
    quota.failing = false;
    expect(await log.ingest(r3)).toMatchObject({ status: 'accepted', stored: true });
    expect((await all()).map(r => r.text)).toEqual(['kept 1', 'kept 2', 'not kept']);
  });

  it('maps a real Dexie QuotaExceededError from the IndexedDB store to storage-full', async () => {
    const { log, db, errors, all } = await setup();
    const ann = await device();
    await log.ingest(await msg(ann, 1, T0, { text: 'before' }));
    (db as ReturnType<typeof freshDatabase>).failWrites();
    expect(await log.ingest(await msg(ann, 2, T0 + 1, { text: 'during' }))).toMatchObject({ status: 'accepted', stored: false });
    expect(errors.map(e => e.code)).toEqual(['storage-full']);
    expect((await all()).map(r => r.text)).toEqual(['before']);
  });

  it('works in memory when storage is unavailable (MemoryRecordStore)', async () => {
    const me = await device();
    const ann = await device();
    const log = new ChatLog(ROOM, new MemoryRecordStore(ROOM), me, { now: () => T0 });
    await log.init();
    const r1 = await msg(ann, 1, T0);
    expect((await log.ingest(r1)).status).toBe('accepted');
    expect(await log.ingest(r1)).toMatchObject({ status: 'refused', reason: 'duplicate' });
    await log.ingest(await retract(ann, 2, T0 + 1, 1));
    expect(await log.missingFor({}, 0)).toEqual([expect.objectContaining({ kind: 'retract', target: 1 })]);
  });
});
