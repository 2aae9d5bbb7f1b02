import { describe, expect, it } from 'vitest';
import { buildManifest, chunkCount, chunkHash, chunkLength, DEFAULT_CHUNK_SIZE, Manifest, rootHash, verifyManifest } from './manifest';

const KIB = 1024;

/** Deterministic pseudo-random bytes (xorshift32), so every build sees the same content. */
function bytesOf(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const blobOf = (bytes: Uint8Array, type = '') => new Blob([bytes.slice()], { type });

/** A Blob that records how it is read (to check the build reads one chunk at a time). */
class RecordingBlob extends Blob {
  readonly log: string[] = [];
  readonly slices: [number, number][] = [];
  wholeReads = 0;

  override slice(start?: number, end?: number, contentType?: string): Blob {
    this.slices.push([start ?? 0, end ?? this.size]);
    this.log.push(`slice ${start}`);
    return super.slice(start, end, contentType);
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    this.wholeReads++;
    return super.arrayBuffer();
  }
  override stream(): ReturnType<Blob['stream']> {
    this.wholeReads++;
    return super.stream();
  }
  override text(): Promise<string> {
    this.wholeReads++;
    return super.text();
  }
}

describe('chunkCount / chunkLength', () => {
  it.each([
    [1, 16, 1, 1],
    [16, 16, 1, 16],
    [17, 16, 2, 1],
    [32, 16, 2, 16],
    [33, 16, 3, 1],
    [DEFAULT_CHUNK_SIZE * 3, DEFAULT_CHUNK_SIZE, 3, DEFAULT_CHUNK_SIZE],
    [DEFAULT_CHUNK_SIZE * 3 + 5, DEFAULT_CHUNK_SIZE, 4, 5],
  ])('size %i, chunk %i → %i chunks, the last of %i bytes', (size, chunk, count, last) => {
    expect(chunkCount(size, chunk)).toBe(count);
    expect(chunkLength({ size, chunkSize: chunk }, count - 1)).toBe(last);
    for (let i = 0; i < count - 1; i++) expect(chunkLength({ size, chunkSize: chunk }, i)).toBe(chunk);
  });

  it('has a default chunk size of 256 KiB', () => {
    expect(DEFAULT_CHUNK_SIZE).toBe(256 * KIB);
  });
});

describe('buildManifest', () => {
  it('gives the same cid for the same bytes in two independent builds', async () => {
    const bytes = bytesOf(50 * KIB + 123, 7);
    const a = await buildManifest(blobOf(bytes), { chunkSize: 16 * KIB });
    const b = await buildManifest(new Blob([bytes.slice(0, 1000), bytes.slice(1000)]), { chunkSize: 16 * KIB });
    expect(a.cid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.cid).toBe(a.cid);
    expect(b.hashes).toEqual(a.hashes);
  });

  it('does not count the MIME type in the content id', async () => {
    const bytes = bytesOf(20 * KIB, 3);
    const a = await buildManifest(blobOf(bytes, 'audio/mpeg'), { chunkSize: 16 * KIB });
    const b = await buildManifest(blobOf(bytes), { chunkSize: 16 * KIB, mime: 'image/png' });
    expect(a.mime).toBe('audio/mpeg');
    expect(b.mime).toBe('image/png');
    expect(a.cid).toBe(b.cid);
  });

  it('changes the cid and only the changed chunk’s hash when one byte differs', async () => {
    const bytes = bytesOf(5 * 16 * KIB + 100, 11);
    const changed = bytes.slice();
    const at = 2 * 16 * KIB + 77; // inside chunk 2
    changed[at] ^= 0x01;
    const a = await buildManifest(blobOf(bytes), { chunkSize: 16 * KIB });
    const b = await buildManifest(blobOf(changed), { chunkSize: 16 * KIB });
    expect(b.cid).not.toBe(a.cid);
    expect(b.hashes).toHaveLength(a.hashes.length);
    const differing = a.hashes.map((h, i) => (h === b.hashes[i] ? -1 : i)).filter(i => i >= 0);
    expect(differing).toEqual([2]);
  });

  it('changes the cid when the same bytes are cut in another chunk size', async () => {
    const bytes = bytesOf(40 * KIB, 5);
    const a = await buildManifest(blobOf(bytes), { chunkSize: 16 * KIB });
    const b = await buildManifest(blobOf(bytes), { chunkSize: 20 * KIB });
    expect(b.cid).not.toBe(a.cid);
  });

  it.each([
    ['a multiple of the chunk size', 4 * 16 * KIB, 4, 16 * KIB],
    ['not a multiple of the chunk size', 4 * 16 * KIB + 1, 5, 1],
    ['smaller than one chunk', 1000, 1, 1000],
    ['exactly one chunk', 16 * KIB, 1, 16 * KIB],
  ])('for a size %s: one hash per chunk, chunks hashed as cut', async (_label, size, count, last) => {
    const bytes = bytesOf(size, 9);
    const seen: [number, number][] = [];
    const m = await buildManifest(blobOf(bytes), { chunkSize: 16 * KIB, onChunk: (i, b) => void seen.push([i, b.byteLength]) });
    expect(m.size).toBe(size);
    expect(m.chunkSize).toBe(16 * KIB);
    expect(m.hashes).toHaveLength(count);
    expect(chunkCount(m.size, m.chunkSize)).toBe(count);
    expect(chunkLength(m, count - 1)).toBe(last);
    expect(seen.map(([i]) => i)).toEqual([...Array(count).keys()]);
    expect(seen.at(-1)![1]).toBe(last);
    // every hash is the SHA-256 of exactly that slice
    for (let i = 0; i < count; i++) expect(m.hashes[i]).toBe(await chunkHash(bytes.subarray(i * 16 * KIB, (i + 1) * 16 * KIB)));
    expect(m.cid).toBe(await rootHash(size, 16 * KIB, m.hashes));
    expect(await verifyManifest(m)).toBe(true);
  });

  it('uses 256 KiB chunks by default', async () => {
    const m = await buildManifest(blobOf(bytesOf(DEFAULT_CHUNK_SIZE + 1)));
    expect(m.chunkSize).toBe(DEFAULT_CHUNK_SIZE);
    expect(m.hashes).toHaveLength(2);
  });

  it('refuses an empty file with a RangeError', async () => {
    await expect(buildManifest(new Blob([]))).rejects.toBeInstanceOf(RangeError);
    await expect(buildManifest(new Blob([]), { chunkSize: 16 * KIB })).rejects.toBeInstanceOf(RangeError);
  });

  it('reads the file one chunk at a time: onChunk sees chunkSize pieces, never the whole file', async () => {
    const chunk = 16 * KIB;
    const bytes = bytesOf(3 * chunk + 500, 13);
    const blob = new RecordingBlob([bytes.slice()]);
    const sizes: number[] = [];
    const m = await buildManifest(blob, {
      chunkSize: chunk,
      onChunk: (_i, b) => {
        sizes.push(b.byteLength);
      },
    });
    expect(sizes).toEqual([chunk, chunk, chunk, 500]);
    expect(blob.wholeReads).toBe(0);
    expect(blob.slices).toHaveLength(4);
    for (const [start, end] of blob.slices) expect(end - start).toBeLessThanOrEqual(chunk);
    expect(m.hashes).toHaveLength(4);
  });

  it('awaits onChunk before reading the next chunk (at most one chunk in memory)', async () => {
    const chunk = 16 * KIB;
    const blob = new RecordingBlob([bytesOf(3 * chunk, 17)]);
    await buildManifest(blob, {
      chunkSize: chunk,
      onChunk: async i => {
        blob.log.push(`start ${i}`);
        await new Promise(r => setTimeout(r, 5));
        blob.log.push(`end ${i}`);
      },
    });
    expect(blob.log).toEqual([`slice 0`, 'start 0', 'end 0', `slice ${chunk}`, 'start 1', 'end 1', `slice ${2 * chunk}`, 'start 2', 'end 2']);
  });

  it('hands onChunk the chunk bytes themselves', async () => {
    const bytes = bytesOf(2 * 16 * KIB + 3, 21);
    const got: Uint8Array[] = [];
    await buildManifest(blobOf(bytes), { chunkSize: 16 * KIB, onChunk: (_i, b) => void got.push(b) });
    const joined = new Uint8Array(got.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of got) {
      joined.set(b, at);
      at += b.byteLength;
    }
    expect(sameBytes(joined, bytes)).toBe(true);
  });
});

describe('verifyManifest', () => {
  let good: Manifest;
  const build = async () => (good ??= await buildManifest(blobOf(bytesOf(3 * 16 * KIB + 10, 31)), { chunkSize: 16 * KIB, mime: 'audio/ogg' }));
  /** Flips one base64url character of a hash into another valid one. */
  const alter = (h: string, at = 5) => h.slice(0, at) + (h[at] === 'A' ? 'B' : 'A') + h.slice(at + 1);

  it('accepts a manifest it built', async () => {
    expect(await verifyManifest(await build())).toBe(true);
  });

  it('rejects an altered chunk hash', async () => {
    const m = await build();
    for (let i = 0; i < m.hashes.length; i++) {
      const hashes = m.hashes.slice();
      hashes[i] = alter(hashes[i]);
      expect(await verifyManifest({ ...m, hashes })).toBe(false);
    }
  });

  it('rejects an altered cid', async () => {
    const m = await build();
    expect(await verifyManifest({ ...m, cid: alter(m.cid) })).toBe(false);
  });

  it('rejects a wrong hash count (one missing, one extra)', async () => {
    const m = await build();
    expect(await verifyManifest({ ...m, hashes: m.hashes.slice(0, -1) })).toBe(false);
    expect(await verifyManifest({ ...m, hashes: [...m.hashes, m.hashes[0]] })).toBe(false);
  });

  it('rejects a wrong hash count even when the cid is recomputed over it', async () => {
    const m = await build();
    const hashes = m.hashes.slice(0, -1);
    expect(await verifyManifest({ ...m, hashes, cid: await rootHash(m.size, m.chunkSize, hashes) })).toBe(false);
  });

  it('rejects an altered size, even one that keeps the chunk count', async () => {
    const m = await build();
    expect(chunkCount(m.size - 1, m.chunkSize)).toBe(m.hashes.length);
    expect(await verifyManifest({ ...m, size: m.size - 1 })).toBe(false);
    expect(await verifyManifest({ ...m, size: m.size + 1 })).toBe(false);
    expect(await verifyManifest({ ...m, size: m.size + 16 * KIB })).toBe(false);
  });

  it('rejects an altered chunk size, even one that keeps the chunk count', async () => {
    const m = await build();
    expect(chunkCount(m.size, m.chunkSize + 1)).toBe(m.hashes.length);
    expect(await verifyManifest({ ...m, chunkSize: m.chunkSize + 1 })).toBe(false);
    expect(await verifyManifest({ ...m, chunkSize: m.chunkSize * 2 })).toBe(false);
  });

  it('does not depend on the MIME type', async () => {
    const m = await build();
    expect(await verifyManifest({ ...m, mime: 'image/png' })).toBe(true);
  });
});

/** Byte-wise equality (fast for large arrays, unlike a deep toEqual). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
