import { describe, expect, it } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import { musicRecordSchema, type MusicRecordWire } from '../wire';
import * as v from 'valibot';
import { MUSIC_SIGNING_TAG, musicSigningBytes, signMusicRecord, type UnsignedMusicRecord, verifyMusicRecord } from './track-record';

const ROOM = 'room-a';
const CID = 'Ab0_-'.repeat(8) + 'xyz';
const OTHER_CID = 'Zz9_-'.repeat(8) + 'xyz';

async function identity(room = ROOM): Promise<DeviceIdentity> {
  return DeviceIdentity.forRoom(room, new MemoryIdentityStore());
}

function track(author: string, extra: Partial<Extract<UnsignedMusicRecord, { kind: 'track' }>> = {}): UnsignedMusicRecord {
  return {
    kind: 'track',
    author,
    seq: 1,
    ts: 1_700_000_000_000,
    name: 'ann',
    cid: CID,
    size: 249_274,
    mime: 'audio/mpeg',
    title: 'Morning Tone',
    artist: 'The Fixtures',
    album: 'Test Pressings',
    fileName: 'morning-tone.mp3',
    duration: 62.5,
    cover: 'UklGRg',
    lyrics: '[00:00.50]First line',
    ...extra,
  };
}

describe('music record signatures', () => {
  it('signs a track record that verifies and passes the wire schema', async () => {
    const id = await identity();
    const signed = await signMusicRecord(ROOM, id, track(id.publicKey));
    expect(v.safeParse(musicRecordSchema, signed).success).toBe(true);
    expect(await verifyMusicRecord(ROOM, signed)).toBe(true);
  });

  it('signs track-meta and untrack records that verify', async () => {
    const id = await identity();
    const meta = await signMusicRecord(ROOM, id, { kind: 'track-meta', author: id.publicKey, seq: 2, ts: 5, target: 1, cover: 'abc', lyrics: '[00:01.00]x' });
    const untrack = await signMusicRecord(ROOM, id, { kind: 'untrack', author: id.publicKey, seq: 3, ts: 6, target: 1 });
    for (const r of [meta, untrack]) {
      expect(v.safeParse(musicRecordSchema, r).success).toBe(true);
      expect(await verifyMusicRecord(ROOM, r)).toBe(true);
    }
  });

  it('refuses to sign a record for another author', async () => {
    const id = await identity();
    const other = await identity();
    await expect(signMusicRecord(ROOM, id, track(other.publicKey))).rejects.toThrow(/own records/);
  });

  const trackChanges: [string, Partial<MusicRecordWire>][] = [
    ['seq', { seq: 2 }],
    ['ts', { ts: 1_700_000_000_001 }],
    ['name', { name: 'bob' }],
    ['cid', { cid: OTHER_CID }],
    ['size', { size: 249_275 }],
    ['mime', { mime: 'audio/flac' }],
    ['title', { title: 'Morning Tone (remix)' }],
    ['artist', { artist: 'The Fixture' }],
    ['album', { album: 'Test Pressing' }],
    ['fileName', { fileName: 'evil.mp3' }],
    ['duration', { duration: 62.4 }],
    ['cover (changed)', { cover: 'UklGRh' }],
    ['cover (removed)', { cover: undefined }],
    ['lyrics (changed)', { lyrics: '[00:00.50]First linE' }],
    ['lyrics (removed)', { lyrics: undefined }],
    ['lyrics (emptied)', { lyrics: '' }],
  ];

  it.each(trackChanges)('breaks when the track field %s changes', async (_label, change) => {
    const id = await identity();
    const signed = await signMusicRecord(ROOM, id, track(id.publicKey));
    expect(await verifyMusicRecord(ROOM, signed)).toBe(true);
    const tampered = { ...signed, ...change } as MusicRecordWire;
    expect(await verifyMusicRecord(ROOM, tampered)).toBe(false);
  });

  it('breaks when a cover or lyrics are added to a track signed without them', async () => {
    const id = await identity();
    const signed = await signMusicRecord(ROOM, id, track(id.publicKey, { cover: undefined, lyrics: undefined }));
    expect(await verifyMusicRecord(ROOM, signed)).toBe(true);
    expect(await verifyMusicRecord(ROOM, { ...signed, cover: 'AAAA' } as MusicRecordWire)).toBe(false);
    expect(await verifyMusicRecord(ROOM, { ...signed, lyrics: '[00:01.00]added' } as MusicRecordWire)).toBe(false);
  });

  it('breaks when the target, cover or lyrics of a track-meta change, or an untrack is retargeted', async () => {
    const id = await identity();
    const meta = await signMusicRecord(ROOM, id, { kind: 'track-meta', author: id.publicKey, seq: 2, ts: 5, target: 1, cover: 'abc', lyrics: 'la' });
    for (const change of [{ target: 7 }, { cover: 'abd' }, { cover: undefined }, { lyrics: 'lb' }, { lyrics: undefined }]) {
      expect(await verifyMusicRecord(ROOM, { ...meta, ...change } as MusicRecordWire), JSON.stringify(change)).toBe(false);
    }
    const untrack = await signMusicRecord(ROOM, id, { kind: 'untrack', author: id.publicKey, seq: 3, ts: 6, target: 1 });
    expect(await verifyMusicRecord(ROOM, { ...untrack, target: 2 })).toBe(false);
  });

  it('does not let a signed track-meta pass as an untrack (the kind is signed)', async () => {
    const id = await identity();
    const meta = await signMusicRecord(ROOM, id, { kind: 'track-meta', author: id.publicKey, seq: 2, ts: 5, target: 1 });
    const { kind: _kind, ...rest } = meta;
    expect(await verifyMusicRecord(ROOM, { ...rest, kind: 'untrack' } as MusicRecordWire)).toBe(false);
  });

  it('breaks with another author key or a damaged signature', async () => {
    const id = await identity();
    const other = await identity();
    const signed = await signMusicRecord(ROOM, id, track(id.publicKey));
    expect(await verifyMusicRecord(ROOM, { ...signed, author: other.publicKey })).toBe(false);
    const flipped = (signed.sig[0] === 'A' ? 'B' : 'A') + signed.sig.slice(1);
    expect(await verifyMusicRecord(ROOM, { ...signed, sig: flipped })).toBe(false);
    expect(await verifyMusicRecord(ROOM, { ...signed, sig: 'not a signature' })).toBe(false);
  });

  it('does not verify a record from room A in room B', async () => {
    const id = await identity('room-a');
    const signed = await signMusicRecord('room-a', id, track(id.publicKey));
    expect(await verifyMusicRecord('room-a', signed)).toBe(true);
    expect(await verifyMusicRecord('room-b', signed)).toBe(false);
  });

  it('signs domain-separated canonical bytes', () => {
    const bytes = new TextDecoder().decode(musicSigningBytes(ROOM, { kind: 'untrack', author: 'k', seq: 3, ts: 6, target: 1 }));
    const parsed = JSON.parse(bytes) as unknown[];
    expect(parsed.slice(0, 2)).toEqual([MUSIC_SIGNING_TAG, ROOM]);
    expect(parsed.at(-1)).toBe(1);
  });
});
