import { fromBase64Url, toBase64Url } from '../identity';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, type ManifestWire } from '../wire';

/** Default chunk size: 256 KiB (as WebTorrent's default piece length for mid-size files). */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

/** A file as the swarm knows it; `cid` (content id) = root hash, see {@link rootHash}. */
export type Manifest = ManifestWire;

const ROOT_TAG = new TextEncoder().encode('p2p-widgets/manifest/1');

/**
 * The root hash: SHA-256 over a domain tag, the file size (u64 BE), the chunk size
 * (u32 BE) and the concatenated 32-byte chunk hashes (a one-level hash list, as a
 * BitTorrent v1 info dictionary commits to its piece hashes). Two peers with the same
 * bytes and chunk size get the same content id; MIME type is metadata, not identity.
 */
export async function rootHash(size: number, chunkSize: number, hashes: string[]): Promise<string> {
  const buf = new Uint8Array(ROOT_TAG.byteLength + 12 + hashes.length * 32);
  buf.set(ROOT_TAG, 0);
  const view = new DataView(buf.buffer);
  view.setBigUint64(ROOT_TAG.byteLength, BigInt(size));
  view.setUint32(ROOT_TAG.byteLength + 8, chunkSize);
  hashes.forEach((h, i) => buf.set(fromBase64Url(h), ROOT_TAG.byteLength + 12 + i * 32));
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)));
}

/** SHA-256 of one chunk, base64url (43 characters). */
export async function chunkHash(bytes: Uint8Array): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource)));
}

/** Number of chunks of a file. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Byte length of chunk `index`. */
export function chunkLength(m: { size: number; chunkSize: number }, index: number): number {
  return Math.min(m.chunkSize, m.size - index * m.chunkSize);
}

/**
 * Builds the manifest of a file, reading it one chunk at a time (memory stays at one chunk).
 * @param onChunk called with each chunk and its index as it is hashed (e.g. to store it)
 * @throws RangeError for an empty file
 */
export async function buildManifest(
  file: Blob,
  options: { mime?: string; chunkSize?: number; onChunk?: (index: number, bytes: Uint8Array) => Promise<void> | void } = {},
): Promise<Manifest> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) throw new RangeError(`chunk size must be ${MIN_CHUNK_SIZE}–${MAX_CHUNK_SIZE} bytes`);
  if (file.size === 0) throw new RangeError('an empty file cannot be shared');
  const hashes: string[] = [];
  for (let i = 0; i * chunkSize < file.size; i++) {
    const bytes = new Uint8Array(await file.slice(i * chunkSize, (i + 1) * chunkSize).arrayBuffer());
    hashes.push(await chunkHash(bytes));
    await options.onChunk?.(i, bytes);
  }
  return { cid: await rootHash(file.size, chunkSize, hashes), size: file.size, chunkSize, mime: options.mime ?? file.type ?? '', hashes };
}

/** Whether a manifest from a peer is self-consistent: hash count matches size and the root hash is its cid. */
export async function verifyManifest(m: Manifest): Promise<boolean> {
  if (m.hashes.length !== chunkCount(m.size, m.chunkSize)) return false;
  return (await rootHash(m.size, m.chunkSize, m.hashes)) === m.cid;
}
