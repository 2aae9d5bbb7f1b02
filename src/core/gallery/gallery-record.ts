import { defineRecordKind, type Unsigned } from '../records';
import type { GalleryRecordWire } from '../wire';

/** Domain-separation tag of the signed bytes. */
export const GALLERY_SIGNING_TAG = 'p2p-widgets/gallery-record/1';

/** A gallery record before it is signed (every field but `sig`). */
export type UnsignedGalleryRecord = Unsigned<GalleryRecordWire>;

/**
 * Gallery records: signed bytes are UTF-8 JSON of
 * `[tag, room, author, seq, ts, kind, name, cid, size, mime, width, height, alt, thumb, target]` (absent as null; see core/records).
 */
export const galleryRecordKind = defineRecordKind<GalleryRecordWire>(GALLERY_SIGNING_TAG, r => {
  const pic = r.kind === 'pic' ? r : null;
  return [pic?.name, pic?.cid, pic?.size, pic?.mime, pic?.width, pic?.height, r.kind === 'pic' || r.kind === 'alt' ? r.alt : null, pic?.thumb, r.kind === 'pic' ? null : r.target];
});

/** The bytes an author signs (see {@link galleryRecordKind}). */
export const gallerySigningBytes = galleryRecordKind.signingBytes;
/** Signs a record of this device. @throws Error when `r.author` is not this device's key */
export const signGalleryRecord = galleryRecordKind.sign;
/** Whether the record is signed by its author for `room`. Never throws. */
export const verifyGalleryRecord = galleryRecordKind.verify;
