import type { ImageType } from '../wire';
import { sniffImageType } from '../wire/image-check';
import { ImageRefusedError } from './image-errors';
import { holdsOnlyImage } from './image-metadata';
import { renderPictureOffThread, type RenderResult } from './image-worker';

/** A picture ready to share. */
export interface PreparedImage {
  /** The bytes to share (metadata removed unless kept). */
  blob: Blob;
  /** The type of `blob` (AVIF becomes WebP and a GIF with metadata PNG when re-encoded). */
  mime: ImageType;
  /** Width, px. */
  width: number;
  /** Height, px. */
  height: number;
  /** WebP thumbnail, at most `THUMB_SIDE` px on its longer side. */
  thumb: Uint8Array;
  /** Whether location/camera metadata was removed (false when kept on request or when there was none to remove). */
  metadataRemoved: boolean;
}

/** Longer side of thumbnails, px. */
export const THUMB_SIDE = 320;

export { ImageRefusedError };

/**
 * Metadata keys that only describe the image's structure (exifr's output for a PNG's IHDR chunk).
 */
const STRUCTURE_ONLY = new Set(['ImageWidth', 'ImageHeight', 'BitDepth', 'ColorType', 'Compression', 'Filter', 'Interlace']);

/**
 * Whether exifr finds location or camera metadata in `file` (EXIF, GPS, XMP, IPTC), or cannot read
 * its format: what the widget tells the visitor it removed. Not what decides re-encoding (see
 * {@link holdsOnlyImage}).
 */
async function exifrFindsMetadata(file: Blob): Promise<boolean> {
  // exifr is loaded on the first picture re-encoded, not with the widget.
  const exifr = (await import('exifr')).default;
  return exifr.parse(file, { tiff: true, xmp: true, gps: true, icc: false, iptc: true }).then(
    m => !!m && Object.keys(m).some(key => !STRUCTURE_ONLY.has(key)),
    () => true,
  );
}

/**
 * Prepares a file for the gallery: checks its type by content (file-type) and its size. Unless
 * `keepMetadata`, a file whose container holds anything besides its image ({@link holdsOnlyImage}:
 * EXIF, XMP, GPS, IPTC, ICC, text or comment chunks, bytes after its end, or a format not walked,
 * AVIF) is re-encoded from its pixels, which drops all of it; a file made of its image alone is
 * shared byte for byte (an animated GIF keeps its animation). Re-encoding keeps the type, except
 * AVIF (to WebP) and GIF (to PNG), which browsers cannot encode. Decoding, re-encoding and the
 * thumbnail happen in a worker where the page allows one (see `image-worker.ts`).
 * @throws ImageRefusedError in plain words
 */
export async function prepareImage(file: Blob, options: { keepMetadata?: boolean; maxBytes: number }): Promise<PreparedImage> {
  if (file.size > options.maxBytes) throw new ImageRefusedError('too-large', `This picture is ${formatMB(file.size)}; the limit here is ${formatMB(options.maxBytes)}.`);
  const head = new Uint8Array(await file.slice(0, 4100).arrayBuffer());
  const mime = await sniffImageType(head);
  if (!mime) throw new ImageRefusedError('not-an-image', 'This file is not a picture (JPEG, PNG, WebP, GIF or AVIF).');
  const reencode = !options.keepMetadata && !holdsOnlyImage(new Uint8Array(await file.arrayBuffer()), mime);
  const target: ImageType = mime === 'image/avif' ? 'image/webp' : mime === 'image/gif' ? 'image/png' : mime;
  let rendered: RenderResult;
  try {
    rendered = await renderPictureOffThread({ blob: file, encodeAs: reencode ? target : null, quality: 0.92, thumbSide: THUMB_SIDE, thumbMaxBytes: 48 * 1024 });
  } catch (err) {
    throw new ImageRefusedError('undecodable', (err as Error).name === 'undecodable' ? (err as Error).message : 'This picture cannot be read; it may be damaged.');
  }
  const { width, height, encoded } = rendered;
  return {
    blob: encoded ?? new Blob([file], { type: mime }),
    mime: encoded ? ((encoded.type as ImageType) || target) : mime,
    width,
    height,
    thumb: new Uint8Array(rendered.thumb),
    metadataRemoved: reencode && (await exifrFindsMetadata(file)),
  };
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
