import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from './drop-counters';
import { galleryRecordSchema } from './gallery-schemas';
import { encodeMessage, InboundValidator, type MessageSpec } from './message-definition';
import {
  AUDIO_TYPES,
  MAX_COVER_CHARS,
  MAX_LYRICS_LENGTH,
  MAX_TRACK_BYTES,
  musicListMessage,
  musicQueryMessage,
  musicRecordMessage,
  musicRecordSchema,
} from './music-schemas';

const CID = 'Ab0_-'.repeat(8) + 'xyz'; // 43 base64url characters
const AUTHOR = 'K'.repeat(87);
const SIG = 'S'.repeat(86);
const KIB = 1024;

const track = {
  kind: 'track',
  author: AUTHOR,
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
  sig: SIG,
};
const trackMeta = { kind: 'track-meta', author: AUTHOR, seq: 2, ts: 5, target: 1, cover: 'UklGRg', lyrics: '[00:01.00]x', sig: SIG };
const untrack = { kind: 'untrack', author: AUTHOR, seq: 3, ts: 6, target: 1, sig: SIG };

function check<S extends v.GenericSchema>(spec: MessageSpec<S>, payload: unknown) {
  const counters = new DropCounters();
  const result = new InboundValidator(spec, counters, () => 0).check(payload, 'peer');
  return { result, stats: counters.snapshot() };
}

function expectAccepted<S extends v.GenericSchema>(spec: MessageSpec<S>, value: unknown) {
  const { result, stats } = check(spec, JSON.stringify(value));
  expect(result, JSON.stringify(value).slice(0, 200)).toEqual({ ok: true, value });
  expect(stats.accepted).toBe(1);
}

function expectDropped<S extends v.GenericSchema>(spec: MessageSpec<S>, value: unknown, reason: DropReason) {
  const { result, stats } = check(spec, typeof value === 'string' ? value : JSON.stringify(value));
  expect(result, JSON.stringify(value).slice(0, 200)).toEqual({ ok: false, reason });
  expect(stats.accepted).toBe(0);
  expect(stats.droppedByChannel[`${spec.channel}:${reason}`]).toBe(1);
}

const recordMsg = (record: unknown) => ({ v: 1, record });

describe('musicRecordMessage', () => {
  it('has the documented limits', () => {
    expect(musicRecordMessage).toMatchObject({ channel: 'music', maxBytes: 128 * KIB, rate: { ratePerSecond: 5, burst: 20 } });
    expect(MAX_TRACK_BYTES).toBe(500 * 1024 * 1024);
    expect(MAX_COVER_CHARS).toBe(65_536);
    expect(MAX_LYRICS_LENGTH).toBe(32_000);
  });

  it.each([
    ['track (no cover or lyrics)', track],
    ['track with cover and lyrics', { ...track, cover: 'UklGRg', lyrics: '[00:01.00]hello\n[00:02.00]world' }],
    ['track with empty tags and zero duration', { ...track, title: '', artist: '', album: '', fileName: '', duration: 0 }],
    ['track at the largest size', { ...track, size: MAX_TRACK_BYTES }],
    ['track with the largest cover and lyrics', { ...track, cover: 'A'.repeat(MAX_COVER_CHARS), lyrics: 'l'.repeat(MAX_LYRICS_LENGTH) }],
    ['track-meta with cover and lyrics', trackMeta],
    ['track-meta with cover only', { ...trackMeta, lyrics: undefined }],
    ['track-meta with empty lyrics (clearing them)', { ...trackMeta, cover: undefined, lyrics: '' }],
    ['untrack', untrack],
  ])('accepts %s', (_label, record) => {
    const value = recordMsg(JSON.parse(JSON.stringify(record)));
    expectAccepted(musicRecordMessage, value);
  });

  it.each(AUDIO_TYPES)('accepts the audio type %s', mime => {
    expectAccepted(musicRecordMessage, recordMsg({ ...track, mime }));
  });

  it.each([
    ['cid too short', { ...track, cid: CID.slice(1) }],
    ['cid too long', { ...track, cid: CID + 'a' }],
    ['cid with a non-base64url character', { ...track, cid: CID.slice(1) + '+' }],
    ['cid missing', { ...track, cid: undefined }],
    ['unknown mime', { ...track, mime: 'audio/x-ms-wma' }],
    ['video mime', { ...track, mime: 'video/mp4' }],
    ['mime in other case', { ...track, mime: 'AUDIO/MPEG' }],
    ['cover one char too long', { ...track, cover: 'A'.repeat(MAX_COVER_CHARS + 1) }],
    ['cover with base64 padding', { ...track, cover: 'UklGRg==' }],
    ['cover with + and /', { ...track, cover: 'ab+/' }],
    ['empty cover', { ...track, cover: '' }],
    ['lyrics one char too long', { ...track, lyrics: 'l'.repeat(MAX_LYRICS_LENGTH + 1) }],
    ['track-meta cover too long', { ...trackMeta, cover: 'A'.repeat(MAX_COVER_CHARS + 1) }],
    ['track-meta lyrics too long', { ...trackMeta, lyrics: 'l'.repeat(MAX_LYRICS_LENGTH + 1) }],
    ['size 0', { ...track, size: 0 }],
    ['size over the cap', { ...track, size: MAX_TRACK_BYTES + 1 }],
    ['fractional size', { ...track, size: 1.5 }],
    ['negative duration', { ...track, duration: -1 }],
    ['duration over a day', { ...track, duration: 86_401 }],
    ['empty name', { ...track, name: '' }],
    ['name too long', { ...track, name: 'n'.repeat(65) }],
    ['title too long', { ...track, title: 't'.repeat(201) }],
    ['fileName too long', { ...track, fileName: 'f'.repeat(256) }],
    ['seq 0', { ...track, seq: 0 }],
    ['negative ts', { ...track, ts: -1 }],
    ['bad author', { ...track, author: 'K'.repeat(86) }],
    ['bad sig', { ...track, sig: 'S'.repeat(85) }],
    ['an extra field', { ...track, extra: 1 }],
    ['a target on a track', { ...track, target: 1 }],
    ['a cover on an untrack', { ...untrack, cover: 'abc' }],
    ['track-meta without target', { ...trackMeta, target: undefined }],
    ['unknown kind', { ...untrack, kind: 'retrack' }],
  ])('drops a record with %s as schema', (_label, record) => {
    expectDropped(musicRecordMessage, recordMsg(JSON.parse(JSON.stringify(record))), 'schema');
  });

  it.each([
    ['version 2', { v: 2, record: track }],
    ['version "1"', { v: '1', record: track }],
    ['no version', { record: track }],
    ['no record', { v: 1 }],
    ['an extra top-level field', { v: 1, record: track, x: 1 }],
  ])('drops a message with %s as schema', (_label, value) => {
    expectDropped(musicRecordMessage, value, 'schema');
  });

  it('drops a payload over 128 KiB as oversize, before parsing', () => {
    const big = recordMsg({ ...track, lyrics: 'l'.repeat(128 * KIB) });
    expectDropped(musicRecordMessage, big, 'oversize');
    // Oversize is decided on bytes: 50 000 three-byte characters are 150 000 bytes.
    expectDropped(musicRecordMessage, recordMsg({ ...track, title: '歌'.repeat(50_000) }), 'oversize');
    expectDropped(musicRecordMessage, '['.repeat(128 * KIB + 1), 'oversize');
  });

  it('drops non-text and malformed payloads', () => {
    expectDropped(musicRecordMessage, '{"v":1,', 'malformed-json');
    const { result } = check(musicRecordMessage, new Uint8Array(8));
    expect(result).toEqual({ ok: false, reason: 'not-text' });
  });

  // Limit mismatch: the schema accepts lyrics up to 32 000 *characters*, but the message cap is
  // 128 KiB of UTF-8. A full-size cover (65 536 chars) plus long CJK lyrics (3 bytes/char) is a
  // record the schema calls valid that can never be sent (encodeMessage throws) or received.
  it('can carry every record the schema accepts', () => {
    // Lyrics are capped in UTF-8 bytes: the largest CJK lyrics the schema accepts still fit with a full cover.
    const record = { ...track, cover: 'A'.repeat(MAX_COVER_CHARS), lyrics: '歌'.repeat(Math.floor(MAX_LYRICS_LENGTH / 3)) };
    expect(v.safeParse(musicRecordSchema, record).success).toBe(true);
    expect(() => encodeMessage(musicRecordMessage, recordMsg(record))).not.toThrow();
    expect(v.safeParse(musicRecordSchema, { ...record, lyrics: '歌'.repeat(MAX_LYRICS_LENGTH) }).success).toBe(false);
  });
});

describe('the author name of a picture or a track', () => {
  it('counts code points, as the widgets cut names: 64 emoji pass, 65 characters do not', () => {
    const pic = { kind: 'pic', author: AUTHOR, seq: 1, ts: 1, name: 'x', cid: CID, size: 1000, mime: 'image/png', width: 10, height: 10, alt: '', thumb: 'AAAA', sig: SIG };
    const emoji = '🎵'.repeat(64); // 128 UTF-16 units
    for (const [schema, record] of [[musicRecordSchema, track], [galleryRecordSchema, pic]] as const) {
      expect(v.safeParse(schema, { ...record, name: emoji }).success).toBe(true);
      expect(v.safeParse(schema, { ...record, name: 'a'.repeat(64) }).success).toBe(true);
      expect(v.safeParse(schema, { ...record, name: 'a'.repeat(65) }).success).toBe(false);
      expect(v.safeParse(schema, { ...record, name: '' }).success).toBe(false);
    }
  });
});

describe('musicQueryMessage', () => {
  it('accepts {v:1} and refuses anything else', () => {
    expect(musicQueryMessage).toMatchObject({ channel: 'music-q', maxBytes: 64, rate: { ratePerSecond: 1, burst: 3 } });
    expectAccepted(musicQueryMessage, { v: 1 });
    expectDropped(musicQueryMessage, { v: 2 }, 'schema');
    expectDropped(musicQueryMessage, { v: 1, all: true }, 'schema');
    expectDropped(musicQueryMessage, { v: 1, pad: 'x'.repeat(64) }, 'oversize');
  });
});

describe('musicListMessage', () => {
  const records = Array.from({ length: 8 }, (_, i) => [track, trackMeta, untrack][i % 3]).map((r, i) => ({ ...r, seq: i + 1 }));

  it('has the documented limits', () => {
    expect(musicListMessage).toMatchObject({ channel: 'music-list', maxBytes: 1024 * KIB, rate: { ratePerSecond: 10, burst: 40 } });
  });

  it('accepts 0 to 8 records of any kind', () => {
    expectAccepted(musicListMessage, { v: 1, records: [] });
    expectAccepted(musicListMessage, { v: 1, records: records.slice(0, 1) });
    expectAccepted(musicListMessage, { v: 1, records });
  });

  it('drops 9 records as schema', () => {
    expectDropped(musicListMessage, { v: 1, records: [...records, untrack] }, 'schema');
  });

  it('drops the whole batch when one record is bad', () => {
    expectDropped(musicListMessage, { v: 1, records: [...records.slice(0, 7), { ...track, cid: 'short' }] }, 'schema');
    expectDropped(musicListMessage, { v: 2, records }, 'schema');
  });

  it('carries 8 full-size ASCII records, and drops a payload over 1 MiB as oversize', () => {
    const full = { ...track, cover: 'A'.repeat(MAX_COVER_CHARS), lyrics: 'l'.repeat(MAX_LYRICS_LENGTH) };
    const eight = { v: 1, records: Array.from({ length: 8 }, (_, i) => ({ ...full, seq: i + 1 })) };
    expect(() => encodeMessage(musicListMessage, eight as never)).not.toThrow();
    expectAccepted(musicListMessage, eight);
    expectDropped(musicListMessage, { v: 1, records: [{ ...track, lyrics: 'l'.repeat(1024 * KIB) }] }, 'oversize');
  });
});
