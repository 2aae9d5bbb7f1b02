// file-type (~80 KB) is loaded on the first sniff, not with the widget.
import { imageSize } from 'image-size';
import { IMAGE_TYPES, type ImageType } from './gallery-schemas';

/**
 * The picture type of `bytes`, sniffed from their content with file-type (never from a
 * file name or a claimed MIME type), or null when they are not a picture the gallery shares.
 */
export async function sniffImageType(bytes: Uint8Array): Promise<ImageType | null> {
  try {
    const { fileTypeFromBuffer } = await import('file-type/core');
    const type = await fileTypeFromBuffer(bytes);
    return type && (IMAGE_TYPES as readonly string[]).includes(type.mime) ? (type.mime as ImageType) : null;
  } catch {
    return null;
  }
}

/**
 * Width and height from an image header (image-size), without decoding it, so a
 * hostile "thumbnail" that claims huge dimensions is refused before any decode.
 * Returns null for anything it cannot read.
 */
export function headerDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  try {
    const { width, height } = imageSize(bytes);
    return width && height ? { width, height } : null;
  } catch {
    return null;
  }
}

/** Largest thumbnail side accepted from a peer, px. */
export const MAX_THUMB_SIDE = 640;

/** Whether thumbnail bytes are a WebP/JPEG/PNG of at most {@link MAX_THUMB_SIDE} px a side (checked on the header). */
export async function isAcceptableThumbnail(bytes: Uint8Array): Promise<boolean> {
  const type = await sniffImageType(bytes);
  if (!type || type === 'image/gif' || type === 'image/avif') return false;
  const dims = headerDimensions(bytes);
  return !!dims && dims.width <= MAX_THUMB_SIDE && dims.height <= MAX_THUMB_SIDE;
}
