import type { ImageType } from '../wire';
import { sniffImageType } from '../wire/image-check';
import { ImageRefusedError } from './image-errors';
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
 * Metadata keys that only describe the image's structure (exifr's output for a PNG's IHDR chunk):
 * a file whose metadata holds nothing else is shared as it is.
 */
const STRUCTURE_ONLY = new Set(['ImageWidth', 'ImageHeight', 'BitDepth', 'ColorType', 'Compression', 'Filter', 'Interlace']);

/**
 * Whether `file` carries metadata worth removing: EXIF (camera, dates), GPS, XMP or IPTC, as exifr
 * reads them (JPEG, PNG, HEIC/AVIF, TIFF). A format exifr cannot read (WebP) counts as carrying some,
 * so it is re-encoded: nothing unread is shared.
 */
async function carriesMetadata(file: Blob): Promise<boolean> {
  // exifr is loaded on the first picture shared, not with the widget.
  const exifr = (await import('exifr')).default;
  return exifr.parse(file, { tiff: true, xmp: true, gps: true, icc: false, iptc: true }).then(
    m => !!m && Object.keys(m).some(key => !STRUCTURE_ONLY.has(key)),
    () => true,
  );
}

/**
 * Prepares a file for the gallery: checks its type by content (file-type) and its size; removes
 * location and camera metadata (EXIF, XMP, GPS, IPTC) by re-encoding the pixels when exifr finds
 * some (or cannot read the format), unless `keepMetadata`; a file without any is shared as it is
 * (byte for byte; a GIF keeps its animation). AVIF is re-encoded as WebP and GIF as PNG (browsers
 * cannot encode them). Decoding, re-encoding and the thumbnail happen in a worker where the page
 * allows one (see `image-worker.ts`).
 * @throws ImageRefusedError in plain words
 */
export async function prepareImage(file: Blob, options: { keepMetadata?: boolean; maxBytes: number }): Promise<PreparedImage> {
  if (file.size > options.maxBytes) throw new ImageRefusedError('too-large', `This picture is ${formatMB(file.size)}; the limit here is ${formatMB(options.maxBytes)}.`);
  const head = new Uint8Array(await file.slice(0, 4100).arrayBuffer());
  const mime = await sniffImageType(head);
  if (!mime) throw new ImageRefusedError('not-an-image', 'This file is not a picture (JPEG, PNG, WebP, GIF or AVIF).');
  const metadata = !options.keepMetadata && (await carriesMetadata(file));
  const target: ImageType = mime === 'image/avif' ? 'image/webp' : mime === 'image/gif' ? 'image/png' : mime;
  let rendered: RenderResult;
  try {
    rendered = await renderPictureOffThread({ blob: file, encodeAs: metadata ? target : null, quality: 0.92, thumbSide: THUMB_SIDE, thumbMaxBytes: 48 * 1024 });
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
    metadataRemoved: metadata,
  };
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
