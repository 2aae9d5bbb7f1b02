import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import { P2pDatabase } from '../store';
import { freshDatabase } from '../testing';
import { RecordBook, type RecordBookOptions } from './record-book';
import { defineRecordKind, recordKey } from './signed-record';

/** A small kind to test the shared rules with: `note` primaries, `edit` (newest wins) and `drop` (retires) amendments. */
type Note =
  | { author: string; seq: number; ts: number; kind: 'note'; body: string; sig: string }
  | { author: string; seq: number; ts: number; kind: 'edit'; target: number; body: string; sig: string }
  | { author: string; seq: number; ts: number; kind: 'drop'; target: number; sig: string };

const noteKind = defineRecordKind<Note>('test/note/1', r => [r.kind === 'drop' ? null : r.body, r.kind === 'note' ? null : r.target]);
const ROOM = 'app\nroom';

function options(extra: Partial<RecordBookOptions<Note, 'shouting'>> = {}): RecordBookOptions<Note, 'shouting'> {
  return {
    feature: 'gallery',
    kind: noteKind,
    room: ROOM,
    database: null,
    maxRecords: 100,
    amends: r => r.kind !== 'note',
    retires: r => r.kind === 'drop',
    slot: r => (r.kind === 'edit' ? `edit:${r.author}:${r.target}` : recordKey(r)),
    ...extra,
  };
}

/** Another device in the room, signing records by hand (its seq chosen by the test). */
async function stranger() {
  const identity = await DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());
  return {
    publicKey: identity.publicKey,
    sign: (r: Record<string, unknown>) => noteKind.sign(ROOM, identity, { author: identity.publicKey, ts: 1, ...r } as never),
  };
}

describe('RecordBook: the signed-record rules every feature shares', () => {
  it('accepts a record once: the same key again is a duplicate (even changed), a new one not signed so a bad signature', async () => {
    const book = await RecordBook.open(options());
    const ann = await stranger();
    const note = await ann.sign({ seq: 1, kind: 'note', body: 'hello' });
    const seen: Note[] = [];
    book.on('record', r => seen.push(r));
    expect(await Promise.all([book.ingest(note), book.ingest(note)])).toEqual([true, false]);
    expect(await book.ingest({ ...note, seq: 2 })).toBe(false);
    expect(await book.ingest({ ...note, body: 'hellO' } as Note)).toBe(false);
    expect(book.refused).toMatchObject({ duplicate: 2, 'bad-signature': 1 });
    expect(seen).toEqual([note]);
    expect(book.get(recordKey(note))).toEqual(note);
  });

  it('lets an amendment touch only its own author’s record, and only an earlier one', async () => {
    const book = await RecordBook.open(options());
    const [ann, mallory] = [await stranger(), await stranger()];
    const note = await ann.sign({ seq: 1, kind: 'note', body: 'mine' });
    await book.ingest(note);
    // Mallory can only name a target seq: her drop targets her own record 1, never Ann's.
    expect(await book.ingest(await mallory.sign({ seq: 2, kind: 'drop', target: 1 }))).toBe(true);
    expect(book.isRetired(recordKey(note))).toBe(false);
    expect(book.amendmentsOf(recordKey(note))).toEqual([]);
    // A target that is not an earlier seq of the author is refused.
    expect(await book.ingest(await ann.sign({ seq: 3, kind: 'drop', target: 3 }))).toBe(false);
    expect(await book.ingest(await ann.sign({ seq: 4, kind: 'drop', target: 9 }))).toBe(false);
    expect(book.refused['bad-target']).toBe(2);
    const drop = await ann.sign({ seq: 5, kind: 'drop', target: 1 });
    expect(await book.ingest(drop)).toBe(true);
    expect(book.isRetired(recordKey(note))).toBe(true);
    expect(book.amendmentsOf(recordKey(note))).toEqual([drop]);
  });

  it('keeps the newest record of a slot: an older edit arriving later is a duplicate', async () => {
    const book = await RecordBook.open(options());
    const ann = await stranger();
    await book.ingest(await ann.sign({ seq: 1, kind: 'note', body: 'v1' }));
    const newer = await ann.sign({ seq: 3, kind: 'edit', target: 1, body: 'v3' });
    const older = await ann.sign({ seq: 2, kind: 'edit', target: 1, body: 'v2' });
    expect(await book.ingest(newer)).toBe(true);
    expect(await book.ingest(older)).toBe(false);
    expect(book.refused.duplicate).toBe(1);
    expect(book.amendmentsOf(`${ann.publicKey}:1`)).toEqual([newer]);
  });

  it('bounds live records per author (a retired one frees its place) and records per room', async () => {
    const book = await RecordBook.open(options({ maxPerAuthor: 2, maxRecords: 5 }));
    const [ann, bob] = [await stranger(), await stranger()];
    const notes = await Promise.all([1, 2, 3].map(seq => ann.sign({ seq, kind: 'note', body: `n${seq}` })));
    expect(await book.ingest(notes[0])).toBe(true);
    expect(await book.ingest(notes[1])).toBe(true);
    expect(await book.ingest(notes[2])).toBe(false);
    expect(book.refused['too-many']).toBe(1);
    // A drop that arrives before its target still retires it (out-of-order delivery).
    expect(await book.ingest(await ann.sign({ seq: 4, kind: 'drop', target: 1 }))).toBe(true);
    expect(await book.ingest(notes[2])).toBe(true);
    expect(await book.ingest(await bob.sign({ seq: 1, kind: 'note', body: 'b' }))).toBe(true);
    expect(book.size).toBe(5);
    expect(await book.ingest(await bob.sign({ seq: 2, kind: 'note', body: 'c' }))).toBe(false);
    expect(book.refused['too-many']).toBe(2);
  });

  it('runs the kind’s own check after the signature; a check that throws refuses', async () => {
    const check = async (r: Note) => {
      if (r.kind !== 'drop' && r.body === 'boom') throw new Error('decoder crashed');
      return r.kind !== 'drop' && r.body.toUpperCase() === r.body ? ('shouting' as const) : null;
    };
    const book = await RecordBook.open(options({ check }));
    const ann = await stranger();
    expect(await book.ingest(await ann.sign({ seq: 1, kind: 'note', body: 'HEY' }))).toBe(false);
    expect(await book.ingest(await ann.sign({ seq: 2, kind: 'note', body: 'boom' }))).toBe(false);
    expect(await book.ingest(await ann.sign({ seq: 3, kind: 'note', body: 'hey' }))).toBe(true);
    expect(book.refused).toMatchObject({ shouting: 1, 'check-failed': 1 });
  });

  it('authors its own records with the next seq, and keeps them across a reopen, per feature and room', async () => {
    const db = freshDatabase('book', 'signedRecords');
    const book = await RecordBook.open(options({ database: db }));
    const note = await book.author({ kind: 'note', body: 'kept' });
    const edit = await book.author({ kind: 'edit', target: note!.seq, body: 'kept, edited' });
    expect(note).toMatchObject({ author: book.publicKey, seq: 1 });
    expect(edit).toMatchObject({ seq: 2 });
    const other = await RecordBook.open(options({ database: db, feature: 'music' }));
    expect(other.size).toBe(0);
    const otherRoom = await RecordBook.open(options({ database: db, room: 'app\nelsewhere' }));
    expect(otherRoom.size).toBe(0);
    const again = await RecordBook.open(options({ database: db }));
    expect(again.publicKey).toBe(book.publicKey);
    expect([...again.all()]).toEqual([note, edit]);
    expect(again.amendmentsOf(recordKey(note!))).toEqual([edit]);
    // 3 is held in reserve by the first book (reserved ahead, so its next record does not wait for IndexedDB).
    expect((await again.author({ kind: 'note', body: 'next' }))?.seq).toBe(4);
    db.close();
  });

  it('reports a failed write and keeps the record for the session', async () => {
    const db = freshDatabase('book-full', 'signedRecords');
    const book = await RecordBook.open(options({ database: db }));
    const errors: string[] = [];
    book.on('error', e => errors.push(e.code));
    db.failWrites();
    const ann = await stranger();
    const note = await ann.sign({ seq: 1, kind: 'note', body: 'not saved' });
    expect(await book.ingest(note)).toBe(true);
    expect(errors).toEqual(['storage-full']);
    expect(book.get(recordKey(note))).toEqual(note);
    db.close();
  });
});
