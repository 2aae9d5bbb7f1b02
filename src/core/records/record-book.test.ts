import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import { P2pDatabase } from '../store';
import { freshDatabase } from '../testing';
import { RecordBook, type RecordBookOptions, type RecordOutcome, type RecordRules } from './record-book';
import { DexieRecordIndex, MemoryRecordIndex, type RecordIndex } from './record-index';
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

/**
 * A kind with chat's rules, to test the book over both indexes: `memo` primaries (`flash`: ephemeral,
 * like burn after reading), `strike` amendments that retire and mark their target (like a tombstone).
 */
type Memo =
  | { author: string; seq: number; ts: number; kind: 'memo'; body: string; flash?: true; sig: string }
  | { author: string; seq: number; ts: number; kind: 'strike'; target: number; sig: string };
/** A memo as held: with the time it was accepted and whether a strike marked it. */
type HeldMemo = Memo & { receivedAt: number; struck?: boolean };

const memoKind = defineRecordKind<Memo>('test/memo/1', r => [r.kind === 'memo' ? r.body : null, r.kind === 'memo' ? (r.flash ?? null) : null, r.kind === 'strike' ? r.target : null]);
const T0 = 1_700_000_000_000;
const SKEW = 60_000;
const HOUR = 3_600_000;
const memoShape = { amends: (r: HeldMemo) => r.kind === 'strike', retires: (r: HeldMemo) => r.kind === 'strike' };

/** Counts the reads and writes a book makes of its index. */
function counted(index: RecordIndex<HeldMemo>) {
  const calls = { getMany: 0, amendmentsFor: 0, count: 0, liveCount: 0, putMany: 0 };
  const wrapped: RecordIndex<HeldMemo> = {
    get persistent() {
      return index.persistent;
    },
    keepsFailedWrites: index.keepsFailedWrites,
    getMany: keys => (calls.getMany++, index.getMany(keys)),
    amendmentsFor: targets => (calls.amendmentsFor++, index.amendmentsFor(targets)),
    count: () => (calls.count++, index.count()),
    liveCount: author => (calls.liveCount++, index.liveCount(author)),
    putMany: records => (calls.putMany++, index.putMany(records)),
  };
  return { calls, wrapped };
}

const INDEXES = ['memory', 'dexie'] as const;

/** A book of memos over an in-memory index (written through to a database) or an IndexedDB one, with a hand-driven clock. */
async function memoBook(which: (typeof INDEXES)[number], extra: Partial<RecordRules<Memo, never, HeldMemo>> = {}) {
  const db = freshDatabase(`memo-${which}`);
  const table = { feature: 'chat' as const, room: ROOM, fromRow: (row: unknown) => { const { feature: _f, room: _r, ...rest } = row as HeldMemo & { feature: string; room: string }; void _f; void _r; return rest as HeldMemo; } };
  const index = which === 'memory' ? new MemoryRecordIndex<HeldMemo>(memoShape, { db, ...table }) : new DexieRecordIndex<HeldMemo>(db, table, memoShape);
  const { calls, wrapped } = counted(index);
  let t = T0;
  let retentionMs = HOUR;
  const identity = await DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());
  const book = new RecordBook<Memo, never, HeldMemo>(
    {
      kind: memoKind,
      room: ROOM,
      now: () => t,
      ...memoShape,
      window: { maxFutureSkewMs: SKEW, start: () => t - retentionMs },
      ephemeral: r => r.kind === 'memo' && r.flash === true,
      marks: target => (target.kind === 'memo' && !target.struck ? { ...target, struck: true } : null),
      hold: (r, receivedAt) => ({ ...r, receivedAt }),
      ...extra,
    },
    identity,
    wrapped,
  );
  const events: string[] = [];
  const errors: string[] = [];
  const show = (r: HeldMemo, marked?: HeldMemo) => events.push(`${r.seq}:${r.kind}${'struck' in r && r.struck ? ':struck' : ''}${marked ? `>${marked.seq}` : ''}`);
  book.on('record', show);
  book.on('batch', accepted => accepted.forEach(a => show(a.record, a.markedTarget)));
  book.on('error', e => errors.push(e.code));
  /** What the index holds under `author:seq`. */
  const held = async (author: string, seq: number) => (await index.getMany([[author, seq]]))[0];
  return { db, index, calls, book, events, errors, held, advance: (ms: number) => (t += ms), setRetention: (ms: number) => (retentionMs = ms) };
}

/** Another device signing memos by hand. */
async function memoAuthor() {
  const identity = await DeviceIdentity.forRoom(ROOM, new MemoryIdentityStore());
  const sign = (r: Record<string, unknown>) => memoKind.sign(ROOM, identity, { author: identity.publicKey, ts: T0, ...r } as never);
  return {
    identity,
    publicKey: identity.publicKey,
    memo: (seq: number, body = `m${seq}`, extra: Record<string, unknown> = {}) => sign({ seq, kind: 'memo', body, ...extra }),
    strike: (seq: number, target: number, extra: Record<string, unknown> = {}) => sign({ seq, kind: 'strike', target, ...extra }),
  };
}

/** An outcome in a word: the refusal reason, or `stored` / `shown` (accepted, not stored). */
const word = (o: RecordOutcome<HeldMemo>) => (o.status === 'refused' ? o.reason : o.stored ? 'stored' : 'shown');

for (const which of INDEXES) {
  describe(`RecordBook over the ${which} index: the rules once`, () => {
    it('dedup: the same record again is a duplicate (even a changed copy with its signature); another valid record under a held key is a conflict; a forged one a bad signature', async () => {
      const { book, held, events } = await memoBook(which);
      const ann = await memoAuthor();
      const eve = await memoAuthor();
      const first = await ann.memo(1, 'first');
      expect(word(await book.accept(first))).toBe('stored');
      expect(await book.accept(first)).toMatchObject({ status: 'refused', reason: 'duplicate', existing: { body: 'first' } });
      expect(await book.accept({ ...first, body: 'changed' })).toMatchObject({ status: 'refused', reason: 'duplicate' });
      expect(await book.accept(await ann.memo(1, 'second'))).toMatchObject({ status: 'refused', reason: 'conflict', existing: { body: 'first' } });
      const forged = { ...(await eve.memo(1, 'forged')), author: ann.publicKey };
      expect(await book.accept(forged)).toEqual({ status: 'refused', reason: 'bad-signature' });
      expect(book.refused).toEqual({ future: 0, 'outside-window': 0, duplicate: 2, 'bad-signature': 1, 'bad-target': 0, conflict: 1 });
      expect(await held(ann.publicKey, 1)).toMatchObject({ body: 'first', receivedAt: T0 });
      expect(events).toEqual(['1:memo']);
    });

    it('owner-only: a strike marks only its own author’s earlier record; a target not earlier is bad-target', async () => {
      const { book, held } = await memoBook(which);
      const [ann, mallory] = [await memoAuthor(), await memoAuthor()];
      await book.accept(await ann.memo(1));
      expect(await book.accept(await mallory.strike(2, 1))).toMatchObject({ status: 'accepted', stored: true });
      expect(await held(ann.publicKey, 1)).not.toHaveProperty('struck');
      expect(await book.accept(await ann.strike(3, 3))).toEqual({ status: 'refused', reason: 'bad-target' });
      expect(await book.accept(await ann.strike(3, 7))).toEqual({ status: 'refused', reason: 'bad-target' });
      expect(await book.accept(await ann.strike(4, 1))).toMatchObject({ status: 'accepted', markedTarget: { seq: 1, struck: true } });
      expect(await held(ann.publicKey, 1)).toMatchObject({ struck: true });
      expect(book.refused['bad-target']).toBe(2);
    });

    it('marks: a record arriving after the amendment that marks it is stored marked', async () => {
      const { book, held, events } = await memoBook(which);
      const ann = await memoAuthor();
      await book.accept(await ann.strike(2, 1));
      expect(await book.accept(await ann.memo(1, 'late'))).toMatchObject({ status: 'accepted', record: { struck: true } });
      expect(await held(ann.publicKey, 1)).toMatchObject({ body: 'late', struck: true });
      expect(events).toEqual(['2:strike', '1:memo:struck']);
    });

    it('window: refuses a record beyond the future skew and one older than the window’s start, which applies at once when changed', async () => {
      const { book, setRetention } = await memoBook(which);
      const ann = await memoAuthor();
      expect(word(await book.accept(await ann.memo(1, 'ahead', { ts: T0 + SKEW + 1 })))).toBe('future');
      expect(word(await book.accept(await ann.memo(2, 'at the skew', { ts: T0 + SKEW })))).toBe('stored');
      expect(word(await book.accept(await ann.memo(3, 'too old', { ts: T0 - HOUR - 1 })))).toBe('outside-window');
      expect(word(await book.accept(await ann.memo(4, 'at the start', { ts: T0 - HOUR })))).toBe('stored');
      setRetention(2 * HOUR);
      expect(word(await book.accept(await ann.memo(3, 'too old', { ts: T0 - HOUR - 1 })))).toBe('stored');
      expect(book.refused).toMatchObject({ future: 1, 'outside-window': 1 });
    });

    it('ephemeral: accepted and emitted, never stored; a replay is a duplicate, another valid record under its key a conflict', async () => {
      const { book, held, events, calls } = await memoBook(which);
      const ann = await memoAuthor();
      const flash = await ann.memo(1, 'gone', { flash: true });
      expect(await book.accept(flash)).toMatchObject({ status: 'accepted', stored: false, record: { body: 'gone' } });
      expect(await held(ann.publicKey, 1)).toBeUndefined();
      expect(calls.putMany).toBe(0);
      expect(await book.accept(flash)).toEqual({ status: 'refused', reason: 'duplicate' });
      expect(await book.accept(await ann.memo(1, 'other'))).toEqual({ status: 'refused', reason: 'conflict' });
      expect(events).toEqual(['1:memo']);
    });

    it('bounds: live records per author (a retired one frees its place) and records per room', async () => {
      const { book } = await memoBook(which, { maxPerAuthor: 2, maxRecords: 5 });
      const [ann, bob] = [await memoAuthor(), await memoAuthor()];
      expect(word(await book.accept(await ann.memo(1)))).toBe('stored');
      expect(word(await book.accept(await ann.memo(2)))).toBe('stored');
      expect(word(await book.accept(await ann.memo(3)))).toBe('too-many');
      expect(word(await book.accept(await ann.strike(4, 1)))).toBe('stored');
      expect(word(await book.accept(await ann.memo(3)))).toBe('stored');
      expect(word(await book.accept(await bob.memo(1)))).toBe('stored');
      expect(word(await book.accept(await bob.memo(2)))).toBe('too-many');
      expect(book.refused['too-many']).toBe(2);
    });

    it('reads: a live record at most two reads, an amendment one, and one write; a batch of 300 one read of each kind and one transaction', async () => {
      const { book, calls } = await memoBook(which);
      const ann = await memoAuthor();
      await book.accept(await ann.memo(1));
      expect(calls).toMatchObject({ getMany: 1, amendmentsFor: 1, putMany: 1, count: 0, liveCount: 0 });
      await book.accept(await ann.strike(2, 1));
      expect(calls).toMatchObject({ getMany: 2, amendmentsFor: 1, putMany: 2 });
      const batch = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 10 === 9 ? ann.strike(3 + i, 2 + i) : ann.memo(3 + i))));
      const outcomes = await book.acceptBatch(batch);
      expect(outcomes.every(o => o.status === 'accepted' && o.stored)).toBe(true);
      expect(calls).toMatchObject({ getMany: 3, amendmentsFor: 2, putMany: 3 });
    });

    it('a batch ends exactly as one by one: outcomes, counters, events and what is held', async () => {
      const ann = await memoAuthor();
      const eve = await memoAuthor();
      const one = await ann.memo(1, 'one');
      const flash = await ann.memo(2, 'two', { flash: true });
      const records = [
        one,
        await ann.strike(3, 1),
        flash,
        flash,
        await ann.memo(1, 'one, again'),
        { ...(await eve.memo(4)), author: ann.publicKey },
        await ann.strike(5, 5),
        await ann.memo(6, 'old', { ts: T0 - 2 * HOUR }),
        await ann.memo(7, 'ahead', { ts: T0 + 2 * SKEW }),
        await ann.strike(9, 8),
        await ann.memo(8, 'struck before it came'),
        one,
      ];
      const outcomes = [];
      for (const mode of ['batch', 'one-by-one'] as const) {
        const { book, events, held } = await memoBook(which);
        const results = mode === 'batch' ? await book.acceptBatch(records) : await Promise.all(records.map(r => book.accept(r)));
        const kept = await Promise.all([1, 2, 3, 8, 9].map(seq => held(ann.publicKey, seq)));
        outcomes.push({ results: results.map(word), refused: { ...book.refused }, events, kept: kept.map(r => r && `${r.seq}:${r.kind}:${'struck' in r ? r.struck : false}`) });
      }
      expect(outcomes[0]).toEqual(outcomes[1]);
      expect(outcomes[0].results).toEqual(['stored', 'stored', 'shown', 'duplicate', 'conflict', 'bad-signature', 'bad-target', 'outside-window', 'future', 'stored', 'stored', 'duplicate']);
      expect(outcomes[0].kept).toEqual(['1:memo:true', undefined, '3:strike:false', '8:memo:true', '9:strike:false']);
    });

    it('a batch whose transaction fails (a full disk) is all-or-nothing, then goes one by one; nothing stored before is lost', async () => {
      const { book, db, errors, events, held, index } = await memoBook(which);
      const ann = await memoAuthor();
      await book.accept(await ann.memo(1, 'before'));
      db.failWrites();
      const batch = [await ann.memo(2), await ann.strike(3, 1), await ann.memo(4)];
      const outcomes = await book.acceptBatch(batch);
      expect(outcomes.map(word)).toEqual(['shown', 'shown', 'shown']);
      expect(errors).toEqual(['storage-full', 'storage-full', 'storage-full']);
      expect(events).toEqual(['1:memo', '2:memo', '3:strike>1', '4:memo']);
      db.failWrites(false);
      const rows = await db.signedRecords.toArray();
      expect(rows.map(r => [r.seq, (r as unknown as HeldMemo).struck ?? false])).toEqual([[1, false]]);
      if (index.keepsFailedWrites) {
        // memory is the truth: the batch is held for the session, so it comes back as duplicates
        expect(await held(ann.publicKey, 2)).toMatchObject({ seq: 2 });
        expect((await book.acceptBatch(batch)).map(word)).toEqual(['duplicate', 'duplicate', 'duplicate']);
      } else {
        // nothing of a failed write is held: the same batch re-sent by sync is stored, not refused
        expect(await held(ann.publicKey, 2)).toBeUndefined();
        expect((await book.acceptBatch(batch)).map(word)).toEqual(['stored', 'stored', 'stored']);
        expect(await held(ann.publicKey, 1)).toMatchObject({ struck: true });
      }
      db.close();
    });
  });
}

describe('DexieRecordIndex: the highest stored seq per author', () => {
  it("decides a live record above its author's highest stored seq without reading IndexedDB; a copy of it is still a duplicate", async () => {
    const { db, book } = await memoBook('dexie');
    const ann = await memoAuthor();
    expect(word(await book.accept(await ann.memo(1)))).toBe('stored'); // Ann's highest is read once here
    const bulkGet = vi.spyOn(db.signedRecords, 'bulkGet');
    const where = vi.spyOn(db.signedRecords, 'where');
    const second = await ann.memo(2);
    expect(word(await book.accept(second))).toBe('stored');
    expect(word(await book.accept(await ann.strike(3, 2)))).toBe('stored'); // its target is held: read
    expect(bulkGet).toHaveBeenCalledTimes(1);
    bulkGet.mockClear();
    where.mockClear();
    expect(word(await book.accept(await ann.memo(4)))).toBe('stored');
    expect(bulkGet).not.toHaveBeenCalled();
    expect(where).not.toHaveBeenCalled();
    // At or below the bound: looked up, so a copy is a duplicate and a message after its tombstone is marked.
    expect(word(await book.accept(second))).toBe('duplicate');
    expect(bulkGet).toHaveBeenCalledTimes(1);
  });

  it('finds what was stored before it opened: the bound is read from IndexedDB for each author first seen', async () => {
    const first = await memoBook('dexie');
    const ann = await memoAuthor();
    const records = [await ann.memo(1), await ann.memo(2), await ann.memo(3)];
    for (const r of records) await first.book.accept(r);
    const index = new DexieRecordIndex<HeldMemo>(first.db, { feature: 'chat', room: ROOM }, memoShape);
    expect((await index.getMany([[ann.publicKey, 2], [ann.publicKey, 4]])).map(r => r?.seq)).toEqual([2, undefined]);
    expect(await index.amendmentsFor([[ann.publicKey, 5]])).toEqual([]);
  });
});
