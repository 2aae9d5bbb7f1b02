/**
 * Whether a picture's file holds nothing but its image: its container is walked from start to end
 * and every part must be on an allow-list of structural parts (pixels, palettes, colour and
 * animation data). Anything else — EXIF, XMP, IPTC, ICC profiles, text and comment chunks, time
 * stamps, unknown parts, bytes after the end — makes it not clean, and the gallery then re-encodes
 * the pixels, which drops all of it. A format not walked here (AVIF) is never clean.
 *
 * An allow-list rather than a metadata reader: readers such as exifr report what they know (EXIF,
 * XMP, GPS) and only in the parts they read, so a PNG text chunk after the pixels or a JPEG comment
 * would pass a reader's check unseen.
 *
 * Layouts: PNG (W3C PNG 3rd edition §5, APNG), JPEG (ITU-T T.81 Annex B; JFIF 1.02; Adobe APP14),
 * GIF89a (§17–§26), WebP (RIFF container, RFC 9649 §2.7).
 */
import type { ImageType } from '../wire';

/** PNG chunks that hold only the image (IHDR…IEND, colour, transparency, APNG animation). */
const PNG_CHUNKS = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'sBIT', 'pHYs', 'bKGD', 'hIST', 'acTL', 'fcTL', 'fdAT', 'cICP', 'mDCv', 'cLLI']);
/** WebP chunks that hold only the image (the bitstreams, alpha, animation and its frames). */
const WEBP_CHUNKS = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF']);
/** GIF application extensions that only control animation. */
const GIF_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0']);

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/**
 * True when the file (its whole bytes) is a PNG, JPEG, GIF or WebP made only of allowed parts and
 * nothing after its end; false for anything else, malformed or truncated files included. Never throws.
 */
export function holdsOnlyImage(bytes: Uint8Array, mime: ImageType): boolean {
  try {
    switch (mime) {
      case 'image/png':
        return pngClean(bytes);
      case 'image/jpeg':
        return jpegClean(bytes);
      case 'image/gif':
        return gifClean(bytes);
      case 'image/webp':
        return webpClean(bytes);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

function pngClean(b: Uint8Array): boolean {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 8; // the signature
  for (;;) {
    if (at + 12 > b.byteLength) return false;
    const length = view.getUint32(at);
    const type = ascii(b, at + 4, 4);
    if (!PNG_CHUNKS.has(type)) return false;
    at += 12 + length;
    if (type === 'IEND') return at === b.byteLength;
  }
}

function jpegClean(b: Uint8Array): boolean {
  if (b[0] !== 0xff || b[1] !== 0xd8) return false;
  let at = 2;
  for (;;) {
    // A marker: 0xFF (fill bytes allowed), then its code.
    if (b[at] !== 0xff) return false;
    while (b[at] === 0xff) at++;
    if (at >= b.byteLength) return false;
    const code = b[at++];
    if (code === 0xd9) return at === b.byteLength; // EOI: nothing may follow
    if (code >= 0xd0 && code <= 0xd7) continue; // RSTn, no length
    if (at + 2 > b.byteLength) return false;
    const length = (b[at] << 8) | b[at + 1];
    if (length < 2 || at + length > b.byteLength) return false;
    if (!jpegSegmentAllowed(code, b, at + 2, length - 2)) return false;
    at += length;
    if (code === 0xda) {
      // SOS: entropy-coded data up to the next marker that is not stuffing (FF00) or a restart (FFD0–D7).
      while (at + 1 < b.byteLength && !(b[at] === 0xff && b[at + 1] !== 0x00 && !(b[at + 1] >= 0xd0 && b[at + 1] <= 0xd7))) at++;
      if (at + 1 >= b.byteLength) return false;
    }
  }
}

function jpegSegmentAllowed(code: number, b: Uint8Array, at: number, n: number): boolean {
  // Frames (SOF0–SOF15 but DHT C4, JPG C8, DAC CC), tables (DHT, DAC, DQT), DRI, DNL, SOS.
  if (code >= 0xc0 && code <= 0xcf) return true;
  if (code === 0xdb || code === 0xdd || code === 0xdc || code === 0xda) return true;
  // APP0 JFIF (density only; a JFIF thumbnail would be an image of the picture: not allowed) and APP14 Adobe (colour transform).
  if (code === 0xe0) return n >= 14 && ascii(b, at, 5) === 'JFIF\0' && b[at + 12] === 0 && b[at + 13] === 0;
  if (code === 0xee) return n >= 12 && ascii(b, at, 5) === 'Adobe';
  return false; // APP1–APP13, APP15 (EXIF, XMP, ICC, IPTC, …), COM, anything else
}

function gifClean(b: Uint8Array): boolean {
  const sig = ascii(b, 0, 6);
  if (sig !== 'GIF87a' && sig !== 'GIF89a') return false;
  let at = 13; // header + logical screen descriptor
  if (b[10] & 0x80) at += 3 * 2 ** ((b[10] & 7) + 1); // global colour table
  const subBlocks = () => {
    for (;;) {
      if (at >= b.byteLength) return false;
      const size = b[at++];
      if (size === 0) return true;
      at += size;
    }
  };
  for (;;) {
    if (at >= b.byteLength) return false;
    const block = b[at++];
    if (block === 0x3b) return at === b.byteLength; // trailer
    if (block === 0x2c) {
      // Image descriptor, local colour table, LZW minimum code size, image data.
      if (at + 9 > b.byteLength) return false;
      const packed = b[at + 8];
      at += 9;
      if (packed & 0x80) at += 3 * 2 ** ((packed & 7) + 1);
      at += 1;
      if (!subBlocks()) return false;
    } else if (block === 0x21) {
      const label = b[at++];
      if (label === 0xff) {
        if (b[at] !== 11 || !GIF_APPLICATIONS.has(ascii(b, at + 1, 11))) return false;
      } else if (label !== 0xf9) return false; // graphic control only: no comment, plain text
      if (!subBlocks()) return false;
    } else return false;
  }
}

function webpClean(b: Uint8Array): boolean {
  if (ascii(b, 0, 4) !== 'RIFF' || ascii(b, 8, 4) !== 'WEBP') return false;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = 8 + view.getUint32(4, true);
  if (end !== b.byteLength) return false;
  let at = 12;
  while (at < end) {
    if (at + 8 > end) return false;
    const type = ascii(b, at, 4);
    const size = view.getUint32(at + 4, true);
    if (!WEBP_CHUNKS.has(type)) return false;
    // VP8X announces ICC (0x20), EXIF (0x08) and XMP (0x04) chunks in its flags.
    if (type === 'VP8X' && b[at + 8] & 0x2c) return false;
    at += 8 + size + (size & 1);
  }
  return at === end;
}
