import type { DeviceIdentity } from '../identity';
import { verifySignature } from '../identity';
import type { GalleryRecordWire } from '../wire';

/** Domain-separation tag of the signed bytes. */
export const GALLERY_SIGNING_TAG = 'p2p-widgets/gallery-record/1';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
/** A gallery record before it is signed (every field but `sig`). */
export type UnsignedGalleryRecord = DistributiveOmit<GalleryRecordWire, 'sig'>;

/**
 * The bytes an author signs: UTF-8 JSON of
 * `[tag, room, author, seq, ts, kind, name, cid, size, mime, width, height, alt, thumb, target]` (absent as null).
 */
export function gallerySigningBytes(room: string, r: UnsignedGalleryRecord): Uint8Array {
  const pic = r.kind === 'pic' ? r : null;
  const alt = r.kind === 'pic' || r.kind === 'alt' ? r.alt : null;
  const target = r.kind === 'pic' ? null : r.target;
  return new TextEncoder().encode(
    JSON.stringify([GALLERY_SIGNING_TAG, room, r.author, r.seq, r.ts, r.kind, pic?.name ?? null, pic?.cid ?? null, pic?.size ?? null, pic?.mime ?? null, pic?.width ?? null, pic?.height ?? null, alt, pic?.thumb ?? null, target]),
  );
}

/**
 * Signs a record of this device (ECDSA P-256 over {@link gallerySigningBytes}).
 * @throws Error when `r.author` is not this device's key
 */
export async function signGalleryRecord(room: string, identity: DeviceIdentity, r: UnsignedGalleryRecord): Promise<GalleryRecordWire> {
  if (r.author !== identity.publicKey) throw new Error('a device can only sign its own records');
  return { ...r, sig: await identity.sign(gallerySigningBytes(room, r)) } as GalleryRecordWire;
}

/** Whether the record is signed by its author for `room`. Never throws. */
export function verifyGalleryRecord(room: string, record: GalleryRecordWire): Promise<boolean> {
  const { sig, ...unsigned } = record;
  return verifySignature(record.author, gallerySigningBytes(room, unsigned as UnsignedGalleryRecord), sig);
}
