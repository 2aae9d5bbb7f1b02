import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { holdsOnlyImage } from './image-metadata';

const fixture = (name: string) => new Uint8Array(readFileSync(path.join(__dirname, '../../../test/fixtures/images', name)));
const bytes = (...parts: (number[] | string | Uint8Array)[]) => {
  const arrays = parts.map(p => (typeof p === 'string' ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
};
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** A PNG chunk (the CRC is not checked by the walk; zeros). */
const pngChunk = (type: string, data: number[] = []) => bytes(u32(data.length), type, data, [0, 0, 0, 0]);
const png = (...chunks: Uint8Array[]) => bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ...chunks);
const IHDR = pngChunk('IHDR', [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);

/** A 1×1 GIF89a, with `extra` blocks before the image. */
const gif = (...extra: (number[] | string)[]) =>
  bytes('GIF89a', [1, 0, 1, 0, 0x80, 0, 0], [0, 0, 0, 255, 255, 255], ...extra, [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0], [2, 2, 0x44, 0x01, 0], [0x3b]);
const NETSCAPE = [0x21, 0xff, 11, ...new TextEncoder().encode('NETSCAPE2.0'), 3, 1, 0, 0, 0];
const GRAPHIC_CONTROL = [0x21, 0xf9, 4, 0, 10, 0, 0, 0];

describe('holdsOnlyImage (allow-list walk of the container)', () => {
  it('passes the PNG fixture made of its image alone, and refuses the WebP with an ICC profile and the JPEG with GPS and camera EXIF', () => {
    expect(holdsOnlyImage(fixture('lake.png'), 'image/png')).toBe(true);
    expect(holdsOnlyImage(fixture('forest.webp'), 'image/webp')).toBe(false);
    expect(holdsOnlyImage(fixture('sunset-gps.jpg'), 'image/jpeg')).toBe(false);
  });

  it('refuses a PNG with a text, EXIF, time or ICC chunk anywhere (after the pixels too), or with bytes after IEND', () => {
    const IDAT = pngChunk('IDAT', [1, 2, 3]);
    const IEND = pngChunk('IEND');
    expect(holdsOnlyImage(png(IHDR, IDAT, IEND), 'image/png')).toBe(true);
    for (const type of ['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME', 'iCCP', 'abCD']) {
      expect(holdsOnlyImage(png(IHDR, IDAT, pngChunk(type, [65, 0, 66]), IEND), 'image/png')).toBe(false);
    }
    expect(holdsOnlyImage(bytes(png(IHDR, IDAT, IEND), 'GPS 48.85N'), 'image/png')).toBe(false);
    expect(holdsOnlyImage(png(IHDR, IDAT), 'image/png')).toBe(false); // truncated
  });

  it('passes a JPEG with JFIF and tables only, and refuses one with a comment, an APP segment or bytes after EOI', () => {
    const jfif = [0xff, 0xe0, 0, 16, ...new TextEncoder().encode('JFIF\0'), 1, 2, 0, 0, 1, 0, 1, 0, 0];
    const dqt = [0xff, 0xdb, 0, 4, 0, 1];
    const sof = [0xff, 0xc0, 0, 5, 8, 0, 1];
    const sos = [0xff, 0xda, 0, 3, 1];
    const scan = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]; // stuffed FF and a restart marker inside the scan
    const eoi = [0xff, 0xd9];
    const jpeg = (...segments: number[][]) => bytes([0xff, 0xd8], ...segments);
    expect(holdsOnlyImage(jpeg(jfif, dqt, sof, sos, scan, eoi), 'image/jpeg')).toBe(true);
    expect(holdsOnlyImage(jpeg(jfif, [0xff, 0xfe, 0, 5, 104, 105, 33], dqt, sof, sos, scan, eoi), 'image/jpeg')).toBe(false); // COM
    expect(holdsOnlyImage(jpeg([0xff, 0xe1, 0, 8, ...new TextEncoder().encode('Exif\0\0')], dqt, sof, sos, scan, eoi), 'image/jpeg')).toBe(false);
    expect(holdsOnlyImage(jpeg([0xff, 0xe2, 0, 4, 0, 0], dqt, sof, sos, scan, eoi), 'image/jpeg')).toBe(false); // ICC
    expect(holdsOnlyImage(bytes(jpeg(jfif, dqt, sof, sos, scan, eoi), 'trailer'), 'image/jpeg')).toBe(false);
    expect(holdsOnlyImage(jpeg(jfif, dqt, sof, sos, scan), 'image/jpeg')).toBe(false); // no EOI
    // A JFIF thumbnail is a picture of the picture: not allowed.
    const jfifThumb = [0xff, 0xe0, 0, 19, ...new TextEncoder().encode('JFIF\0'), 1, 2, 0, 0, 1, 0, 1, 1, 1, 9, 9, 9];
    expect(holdsOnlyImage(jpeg(jfifThumb, dqt, sof, sos, scan, eoi), 'image/jpeg')).toBe(false);
  });

  it('passes an animated GIF (looping and frame timing only), and refuses one with a comment, plain text or XMP', () => {
    expect(holdsOnlyImage(gif(), 'image/gif')).toBe(true);
    expect(holdsOnlyImage(gif(NETSCAPE, GRAPHIC_CONTROL), 'image/gif')).toBe(true);
    expect(holdsOnlyImage(gif([0x21, 0xfe, 3, 97, 98, 99, 0]), 'image/gif')).toBe(false);
    expect(holdsOnlyImage(gif([0x21, 0x01, 12, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 104, 0]), 'image/gif')).toBe(false);
    expect(holdsOnlyImage(gif([0x21, 0xff, 11, ...new TextEncoder().encode('XMP DataXMP'), 2, 60, 62, 0]), 'image/gif')).toBe(false);
    expect(holdsOnlyImage(bytes(gif(), [0]), 'image/gif')).toBe(false);
  });

  it('refuses a WebP with EXIF or XMP chunks or flags, AVIF always, and garbage of any type without throwing', () => {
    const riff = (...chunks: Uint8Array[]) => {
      const body = bytes('WEBP', ...chunks);
      const size = body.length;
      return bytes('RIFF', [size & 255, (size >>> 8) & 255, (size >>> 16) & 255, size >>> 24], body);
    };
    const chunk = (type: string, data: number[]) => bytes(type, [data.length, 0, 0, 0], data, data.length & 1 ? [0] : []);
    const vp8l = chunk('VP8L', [0x2f, 0, 0, 0, 0]);
    expect(holdsOnlyImage(riff(vp8l), 'image/webp')).toBe(true);
    expect(holdsOnlyImage(riff(chunk('VP8X', [0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0]), vp8l, chunk('EXIF', [1, 2])), 'image/webp')).toBe(false);
    expect(holdsOnlyImage(riff(vp8l, chunk('XMP ', [1, 2])), 'image/webp')).toBe(false);
    expect(holdsOnlyImage(riff(chunk('VP8X', [0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0]), vp8l), 'image/webp')).toBe(false);
    expect(holdsOnlyImage(fixture('lake.png'), 'image/avif')).toBe(false);
    for (const mime of ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const) {
      for (const junk of [new Uint8Array(0), Uint8Array.from([0xff, 0xd8, 0xff]), fixture('not-a-picture.jpg'), fixture('lake.png').subarray(0, 100)]) {
        expect(holdsOnlyImage(junk, mime)).toBe(false);
      }
    }
  });
});
