import * as v from 'valibot';
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN } from '../identity/device-identity';
import { defineMessage, PROTOCOL_VERSION } from './message-definition';
import { recordAuthorName } from './message-schemas';
import { CONTENT_ID_PATTERN } from './swarm-schemas';

/** Picture types the gallery shares (checked by content, not by name). */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'] as const;
/** A picture MIME type the gallery shares. */
export type ImageType = (typeof IMAGE_TYPES)[number];
/** Hard cap on a shared picture, bytes (the `max-size` attribute is at most this). */
export const MAX_IMAGE_BYTES = 100 * 1024 * 1024;
/** Largest thumbnail carried in an entry: base64url of at most 48 KiB. */
export const MAX_THUMB_CHARS = 65_536;
/** Longest alt text, characters. */
export const MAX_ALT_LENGTH = 1000;

const version = v.literal(PROTOCOL_VERSION);
const author = v.pipe(v.string(), v.regex(PUBLIC_KEY_PATTERN));
const sig = v.pipe(v.string(), v.regex(SIGNATURE_PATTERN));
const seq = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15));
const alt = v.pipe(v.string(), v.maxLength(MAX_ALT_LENGTH));
const dimension = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535));

/**
 * A signed gallery record. Kinds:
 * - `pic`: a shared picture: the sharer's display name, content id, size (bytes), type, dimensions (px), alt text, and a
 *   WebP thumbnail (base64url) so the wall fills before any full image is fetched
 * - `alt`: the owner's new alt text for their picture `target` (a sequence number)
 * - `remove`: the owner's removal of their picture `target`
 * Signed by the author's per-room key over `gallerySigningBytes` (src/core/gallery/gallery-record.ts).
 */
export const galleryRecordSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('pic'),
    author,
    seq,
    ts: ms,
    name: recordAuthorName,
    cid: v.pipe(v.string(), v.regex(CONTENT_ID_PATTERN)),
    size: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_IMAGE_BYTES)),
    mime: v.picklist(IMAGE_TYPES),
    width: dimension,
    height: dimension,
    alt,
    thumb: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/), v.maxLength(MAX_THUMB_CHARS)),
    sig,
  }),
  v.strictObject({ kind: v.literal('alt'), author, seq, ts: ms, target: seq, alt, sig }),
  v.strictObject({ kind: v.literal('remove'), author, seq, ts: ms, target: seq, sig }),
]);

/** A signed gallery record as it travels. */
export type GalleryRecordWire = v.InferOutput<typeof galleryRecordSchema>;

/**
 * `gallery`: a new gallery record, broadcast (a `flood` channel: in a partial mesh forwarded to the
 * whole room and checked at every hop). Limits: 80 KiB, 5/s with a burst of 20 per peer.
 */
export const galleryRecordMessage = defineMessage({
  channel: 'gallery',
  schema: v.strictObject({ v: version, record: galleryRecordSchema }),
  maxBytes: 80 * 1024,
  rate: { ratePerSecond: 5, burst: 20 },
  flood: true,
  syncedOnConnect: true,
});

/**
 * `gallery-q`: "send me your wall" (answered to the asker only).
 * Limits: 64 bytes, 1/s with a burst of 3 per peer.
 */
export const galleryQueryMessage = defineMessage({
  channel: 'gallery-q',
  schema: v.strictObject({ v: version }),
  maxBytes: 64,
  rate: { ratePerSecond: 1, burst: 3 },
});

/**
 * `gallery-wall`: records this peer holds (its own and those of pictures it caches), in batches.
 * Limits: 1 MiB, 10/s with a burst of 40 per peer.
 */
export const galleryWallMessage = defineMessage({
  channel: 'gallery-wall',
  schema: v.strictObject({ v: version, records: v.pipe(v.array(galleryRecordSchema), v.maxLength(12)) }),
  maxBytes: 1024 * 1024,
  rate: { ratePerSecond: 10, burst: 40 },
});
