import type { ImageType } from '../wire';
import { sniffImageType } from '../wire/image-check';
import { ImageRefusedError } from './image-errors';

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
 * Prepares a file for the gallery, in the browser (createImageBitmap, OffscreenCanvas):
 * checks its type by content (file-type), its size, that it decodes; removes
 * location and camera metadata (EXIF, XMP, GPS) by re-encoding the pixels, unless
 * `keepMetadata`. A GIF is re-encoded only if exifr finds metadata in it (keeping
 * animation otherwise); AVIF is re-encoded as WebP (browsers cannot encode AVIF).
 * @throws ImageRefusedError in plain words
 */
export async function prepareImage(file: Blob, options: { keepMetadata?: boolean; maxBytes: number }): Promise<PreparedImage> {
  if (file.size > options.maxBytes) throw new ImageRefusedError('too-large', `This picture is ${formatMB(file.size)}; the limit here is ${formatMB(options.maxBytes)}.`);
  const head = new Uint8Array(await file.slice(0, 4100).arrayBuffer());
  const mime = await sniffImageType(head);
  if (!mime) throw new ImageRefusedError('not-an-image', 'This file is not a picture (JPEG, PNG, WebP, GIF or AVIF).');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new ImageRefusedError('undecodable', 'This picture cannot be read; it may be damaged.');
  }
  try {
    const { width, height } = bitmap;
    let blob: Blob = new Blob([file], { type: mime });
    let outMime: ImageType = mime;
    let metadataRemoved = false;
    if (!options.keepMetadata) {
      // exifr is loaded on the first GIF shared, not with the widget.
      const exifr = (await import('exifr')).default;
      const hasMetadata = await exifr.parse(file, { tiff: true, xmp: true, gps: true, icc: false, iptc: true }).then(
        m => !!m && Object.keys(m).length > 0,
        () => true,
      );
      if (mime !== 'image/gif' || hasMetadata) {
        const target: ImageType = mime === 'image/avif' ? 'image/webp' : mime === 'image/gif' ? 'image/png' : mime;
        blob = await encode(bitmap, width, height, target, 0.92);
        outMime = (blob.type as ImageType) || target;
        metadataRemoved = hasMetadata;
      }
    }
    const scale = Math.min(1, THUMB_SIDE / Math.max(width, height));
    const thumbBlob = await encode(bitmap, Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), 'image/webp', 0.8);
    let thumb = new Uint8Array(await thumbBlob.arrayBuffer());
    if (thumb.byteLength > 48 * 1024) thumb = new Uint8Array(await (await encode(bitmap, Math.round(width * scale * 0.6), Math.round(height * scale * 0.6), 'image/webp', 0.6)).arrayBuffer());
    return { blob, mime: outMime, width, height, thumb, metadataRemoved };
  } finally {
    bitmap.close();
  }
}

async function encode(bitmap: ImageBitmap, width: number, height: number, type: string, quality: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ImageRefusedError('undecodable', 'This browser cannot process pictures.');
  ctx.drawImage(bitmap, 0, 0, width, height);
  return canvas.convertToBlob({ type, quality });
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
