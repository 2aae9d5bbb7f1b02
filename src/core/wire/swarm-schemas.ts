import * as v from 'valibot';
import { defineMessage, PROTOCOL_VERSION } from './message-definition';

/** A content id: base64url SHA-256 root hash (32 bytes → 43 characters). */
export const CONTENT_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Largest chunk size a manifest may declare, bytes (1 MiB). */
export const MAX_CHUNK_SIZE = 1024 * 1024;
/** Smallest chunk size a manifest may declare, bytes (16 KiB). */
export const MIN_CHUNK_SIZE = 16 * 1024;
/** Largest file the swarm accepts, bytes (4 GiB). */
export const MAX_FILE_SIZE = 4 * 1024 ** 3;
/** Largest data frame on the bulk channel: 64 KiB of payload plus a 9-byte header. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;

const version = v.literal(PROTOCOL_VERSION);
const cid = v.pipe(v.string(), v.regex(CONTENT_ID_PATTERN));
const index = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000));
const requestId = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff));
const size = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_FILE_SIZE));
const chunkSize = v.pipe(v.number(), v.integer(), v.minValue(MIN_CHUNK_SIZE), v.maxValue(MAX_CHUNK_SIZE));
/** A have-map: base64url bitfield, bit i (MSB first) = chunk i held; at most 1 000 000 chunks. */
const haveMap = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{0,166668}$/));
const hash = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/));

/** Most content ids in one `swarm-holders` `want` or `holds`. */
export const MAX_HOLDS_CIDS = 32;

/**
 * `swarm-holders`: who holds a file, across a partial mesh (a `flood` channel: forwarded along the
 * overlay, checked at every hop, rate-limited per origin), so a page can reach a holder that is not
 * its neighbour with a temporary link (core/mesh/partial-mesh.ts):
 * - `want`: "who holds these?" (up to {@link MAX_HOLDS_CIDS}): pages that hold one answer with `holds`
 * - `holds`: "I hold these" (up to {@link MAX_HOLDS_CIDS}), sent when a page adds or completes a
 *   file, and in answer to a `want`; both batched over 200 ms
 * Limits: 2 KiB, 2/s with a burst of 6 per origin. Not used in a full mesh (every holder is a peer).
 */
export const swarmHoldersMessage = defineMessage({
  channel: 'swarm-holders',
  schema: v.variant('t', [
    v.strictObject({ t: v.literal('want'), v: version, cids: v.pipe(v.array(cid), v.minLength(1), v.maxLength(MAX_HOLDS_CIDS)) }),
    v.strictObject({ t: v.literal('holds'), v: version, cids: v.pipe(v.array(cid), v.minLength(1), v.maxLength(MAX_HOLDS_CIDS)) }),
  ]),
  maxBytes: 2048,
  rate: { ratePerSecond: 2, burst: 6 },
  flood: true,
});

/** A `swarm-holders` message (decoded). */
export type SwarmHolders = v.InferOutput<typeof swarmHoldersMessage.schema>;

/**
 * A manifest: the file's size in bytes, MIME type, chunk size, the SHA-256 of every
 * chunk (base64url) and the content id = root hash over them (see src/core/swarm/manifest.ts).
 */
export const manifestSchema = v.strictObject({
  cid,
  size,
  chunkSize,
  mime: v.pipe(v.string(), v.maxLength(255), v.regex(/^[\w.+-]+\/[\w.+-]+$|^$/)),
  hashes: v.pipe(v.array(hash), v.minLength(1), v.maxLength(1_000_000)),
});

const fileEntry = v.strictObject({ cid, size, chunkSize, have: haveMap });

/**
 * Control messages of the swarm, on its own negotiated data channel (JSON text):
 * - `hello`: the channel is open on this side
 * - `index-q` / `index`: ask a peer for its resource index / its answer, to the asker only
 * - `have`: a diff of our index (chunks added to a file, or the whole file), to every peer
 * - `gone`: we no longer hold a file
 * - `manifest-q` / `manifest`: ask for / send a manifest
 * - `req` / `cancel`: request one chunk (answered by data frames with the same `id`) / give it up;
 *   `only: true` says the asker knows no other holder of the chunk (see `elsewhere`)
 * - `nak`: a request or query refused: `missing` (not held), `busy` (too many requests queued), or
 *   `elsewhere` (a seeder's answer when a downloader other than the asker already holds the chunk:
 *   ask that one, so the seeder's upload goes to chunks nobody else has; BitTorrent's super-seeding
 *   idea, BEP 16, applied per request)
 * Limits: 512 KiB per message, 200/s with a burst of 400 per peer.
 */
export const swarmControlMessage = defineMessage({
  channel: 'swarm-ctl',
  schema: v.variant('t', [
    v.strictObject({ t: v.literal('hello'), v: version }),
    v.strictObject({ t: v.literal('index-q'), v: version }),
    v.strictObject({ t: v.literal('index'), v: version, files: v.pipe(v.array(fileEntry), v.maxLength(5000)) }),
    v.strictObject({ t: v.literal('have'), v: version, cid, size, chunkSize, add: v.pipe(v.array(index), v.maxLength(10_000)) }),
    v.strictObject({ t: v.literal('gone'), v: version, cid }),
    v.strictObject({ t: v.literal('manifest-q'), v: version, cid }),
    v.strictObject({ t: v.literal('manifest'), v: version, manifest: manifestSchema }),
    v.strictObject({ t: v.literal('req'), v: version, id: requestId, cid, index, only: v.optional(v.literal(true)) }),
    v.strictObject({ t: v.literal('cancel'), v: version, id: requestId }),
    v.strictObject({ t: v.literal('nak'), v: version, id: v.optional(requestId), cid: v.optional(cid), reason: v.picklist(['missing', 'busy', 'elsewhere']) }),
  ]),
  maxBytes: 512 * 1024,
  rate: { ratePerSecond: 200, burst: 400 },
});

/** A swarm control message. */
export type SwarmControl = v.InferOutput<typeof swarmControlMessage.schema>;
/** A manifest as it travels. */
export type ManifestWire = v.InferOutput<typeof manifestSchema>;

/** Type byte of a data frame on the bulk channel. */
export const DATA_FRAME = 2;
/** Header: type (u8), request id (u32 BE), offset in the chunk (u32 BE). */
export const FRAME_HEADER_BYTES = 9;

/** A parsed data frame: `payload` is a view into the received buffer. */
export interface DataFrame {
  /** Request id the frame answers (u32, never 0). */
  id: number;
  /** Where the payload starts in the chunk, bytes (u32). */
  offset: number;
  /** The chunk's bytes from `offset` on (at most {@link MAX_FRAME_PAYLOAD}). */
  payload: Uint8Array;
}

/** Why a data frame was refused. */
export type FrameDropReason = 'not-binary' | 'bad-frame' | 'oversize';

/** Encodes a data frame. */
export function encodeDataFrame(id: number, offset: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(0, DATA_FRAME);
  view.setUint32(1, id);
  view.setUint32(5, offset);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Parses a data frame from the bulk channel; never throws. */
export function parseDataFrame(data: unknown): DataFrame | FrameDropReason {
  if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return 'not-binary';
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength <= FRAME_HEADER_BYTES) return 'bad-frame';
  if (bytes.byteLength > FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD) return 'oversize';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== DATA_FRAME) return 'bad-frame';
  const id = view.getUint32(1);
  if (id === 0) return 'bad-frame';
  return { id, offset: view.getUint32(5), payload: bytes.subarray(FRAME_HEADER_BYTES) };
}
