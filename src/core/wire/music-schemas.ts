import * as v from 'valibot';
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN } from '../identity/device-identity';
import { defineMessage, PROTOCOL_VERSION } from './message-definition';
import { recordAuthorName } from './message-schemas';
import { CONTENT_ID_PATTERN } from './swarm-schemas';

/** Audio types the music room shares. */
export const AUDIO_TYPES = ['audio/mpeg', 'audio/wav', 'audio/flac', 'audio/ogg', 'audio/mp4', 'audio/aac'] as const;
/** An audio MIME type the music room shares. */
export type AudioType = (typeof AUDIO_TYPES)[number];
/** Hard cap on a shared track, bytes. */
export const MAX_TRACK_BYTES = 500 * 1024 * 1024;
/** Largest cover carried in a record: base64url of at most 48 KiB (a small WebP). */
export const MAX_COVER_CHARS = 65_536;
/** Largest .lrc carried in a record, bytes of UTF-8 (so a record with a full cover still fits a message). */
export const MAX_LYRICS_LENGTH = 32_000;

const version = v.literal(PROTOCOL_VERSION);
const author = v.pipe(v.string(), v.regex(PUBLIC_KEY_PATTERN));
const sig = v.pipe(v.string(), v.regex(SIGNATURE_PATTERN));
const seq = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15));
const text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const cover = v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/), v.maxLength(MAX_COVER_CHARS)));
const lyrics = v.optional(v.pipe(v.string(), v.maxBytes(MAX_LYRICS_LENGTH)));

/**
 * A signed music record. Kinds:
 * - `track`: a track of the author's list: sharer name, content id, size (bytes), type,
 *   title/artist/album, file name, duration (seconds), optional cover (WebP, base64url) and LRC lyrics
 * - `track-meta`: the author's new cover and/or lyrics for their track `target`
 * - `untrack`: the author removes their track `target` from their list
 */
export const musicRecordSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('track'),
    author,
    seq,
    ts: ms,
    name: recordAuthorName,
    cid: v.pipe(v.string(), v.regex(CONTENT_ID_PATTERN)),
    size: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_TRACK_BYTES)),
    mime: v.picklist(AUDIO_TYPES),
    title: text(200),
    artist: text(200),
    album: text(200),
    fileName: text(255),
    duration: v.pipe(v.number(), v.minValue(0), v.maxValue(86_400)),
    cover,
    lyrics,
    sig,
  }),
  v.strictObject({ kind: v.literal('track-meta'), author, seq, ts: ms, target: seq, cover, lyrics, sig }),
  v.strictObject({ kind: v.literal('untrack'), author, seq, ts: ms, target: seq, sig }),
]);

/** A signed music record as it travels. */
export type MusicRecordWire = v.InferOutput<typeof musicRecordSchema>;

/**
 * `music`: a new music record, broadcast (a `flood` channel: in a partial mesh forwarded to the
 * whole room and checked at every hop). Limits: 128 KiB, 5/s with a burst of 20 per peer.
 */
export const musicRecordMessage = defineMessage({
  channel: 'music',
  schema: v.strictObject({ v: version, record: musicRecordSchema }),
  maxBytes: 128 * 1024,
  rate: { ratePerSecond: 5, burst: 20 },
  flood: true,
  syncedOnConnect: true,
});

/** `music-q`: "send me your list" (answered to the asker only). Limits: 64 bytes, 1/s, burst 3. */
export const musicQueryMessage = defineMessage({
  channel: 'music-q',
  schema: v.strictObject({ v: version }),
  maxBytes: 64,
  rate: { ratePerSecond: 1, burst: 3 },
});

/** `music-list`: records of the tracks this peer holds, in batches. Limits: 1 MiB, 10/s, burst 40. */
export const musicListMessage = defineMessage({
  channel: 'music-list',
  schema: v.strictObject({ v: version, records: v.pipe(v.array(musicRecordSchema), v.maxLength(8)) }),
  maxBytes: 1024 * 1024,
  rate: { ratePerSecond: 10, burst: 40 },
});
