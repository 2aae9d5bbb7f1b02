import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { DexieRecordStore } from '../chat/record-store';
import { freshDatabase } from '../testing';
import { P2pDatabase, type StoredChatRecord } from './database';

const ROOM = 'app\nroom';

/** The tables every version from 3 to 7 had (chat, marks, identities, settings, swarm). */
const BASE_STORES = {
  chatRecords: '[room+author+seq], [room+ts], [room+author+target], [room+ts+author+seq]',
  chatMarks: '[room+author+seq], room',
  identities: 'room',
  roomSettings: 'room',
  swarmFiles: 'cid, lastAccess',
  swarmChunks: '[cid+index]',
};
/** A version 5 database: gallery and music in tables of their own. */
const V5_STORES = { ...BASE_STORES, galleryRecords: '[room+author+seq], room', musicRecords: '[room+author+seq], room' };
/** A version 7 database: gallery and music in `signedRecords`, chat still in its own table. */
const V7_STORES = { ...BASE_STORES, signedRecords: '[feature+room+author+seq], [feature+room]' };

const msg = (author: string, seq: number, ts: number, text: string, room = ROOM): StoredChatRecord => ({ room, author, seq, ts, kind: 'msg', name: author, text, sig: `s${seq}`, receivedAt: ts });

describe('P2pDatabase version 6', () => {
  it('moves gallery and music records of a version 5 database into signedRecords', async () => {
    const name = `v5-${Math.random().toString(36).slice(2)}`;
    const old = new Dexie(name);
    old.version(5).stores(V5_STORES);
    await old.table('galleryRecords').put({ room: ROOM, author: 'A', seq: 1, ts: 1, kind: 'remove', target: 0, sig: 's' });
    await old.table('musicRecords').bulkPut([
      { room: ROOM, author: 'B', seq: 1, ts: 1, kind: 'untrack', target: 0, sig: 's' },
      { room: 'app\nother', author: 'B', seq: 2, ts: 2, kind: 'untrack', target: 1, sig: 't' },
    ]);
    old.close();
    const db = new P2pDatabase(name);
    await db.open();
    expect(db.tables.map(t => t.name).sort()).not.toContain('galleryRecords');
    expect(await db.signedRecords.where('[feature+room]').equals(['gallery', ROOM]).toArray()).toEqual([{ feature: 'gallery', room: ROOM, author: 'A', seq: 1, ts: 1, kind: 'remove', target: 0, sig: 's' }]);
    expect(await db.signedRecords.where('[feature+room]').equals(['music', ROOM]).count()).toBe(1);
    expect(await db.signedRecords.count()).toBe(3);
    db.close();
  });
});

describe('P2pDatabase version 8', () => {
  it('moves the chat records of a version 7 database into signedRecords, where the chat store reads them', async () => {
    const name = `v7-${Math.random().toString(36).slice(2)}`;
    const old = new Dexie(name);
    old.version(7).stores(V7_STORES);
    const retract: StoredChatRecord = { room: ROOM, author: 'A', seq: 3, ts: 30, kind: 'retract', target: 1, sig: 's3', receivedAt: 30 };
    await old.table('chatRecords').bulkPut([{ ...msg('A', 1, 10, 'first'), retracted: true }, msg('B', 1, 20, 'second'), retract, msg('A', 1, 5, 'elsewhere', 'app\nother')]);
    await old.table('signedRecords').put({ feature: 'gallery', room: ROOM, author: 'G', seq: 1, ts: 1, kind: 'remove', target: 0, sig: 'g' });
    old.close();

    const db = new P2pDatabase(name);
    await db.open();
    expect(db.tables.map(t => t.name)).not.toContain('chatRecords');
    expect(await db.signedRecords.count()).toBe(5);
    const store = new DexieRecordStore(db, ROOM);
    expect(await store.count()).toBe(3);
    // Newest first, without the table partition; the other room's record and the gallery row are not this room's chat.
    expect(await store.newest(null, 10)).toEqual([retract, msg('B', 1, 20, 'second'), { ...msg('A', 1, 10, 'first'), retracted: true }]);
    expect(await store.tombstoneFor('A', 1)).toEqual(retract);
    expect((await store.since(15)).map(r => r.seq)).toEqual([1, 3]);
    expect(await new DexieRecordStore(db, 'app\nother').count()).toBe(1);
    db.close();
  });

  it('keeps chat and gallery rows of one room apart in the shared table', async () => {
    const db = freshDatabase('store-partition', 'signedRecords');
    await db.open();
    await db.signedRecords.put({ feature: 'gallery', room: ROOM, author: 'A', seq: 1, ts: 1, kind: 'remove', target: 0, sig: 'g' });
    const store = new DexieRecordStore(db, ROOM);
    await store.putMany([msg('A', 1, 1, 'hello')]);
    expect(await store.get('A', 1)).toEqual(msg('A', 1, 1, 'hello'));
    expect(await store.tombstoneFor('A', 0)).toBeUndefined(); // the gallery removal targets seq 0 too
    expect(await store.deleteOlderThan(100, new Set())).toBe(1);
    expect(await db.signedRecords.where('[feature+room]').equals(['gallery', ROOM]).count()).toBe(1);
    db.close();
  });
});
