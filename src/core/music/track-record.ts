import { canonicalBytes, type DeviceIdentity, verifySignature } from '../identity';
import type { MusicRecordWire } from '../wire';

/** Domain-separation tag of signed music records. */
export const MUSIC_SIGNING_TAG = 'p2p-widgets/music-record/1';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
/** A music record before it is signed (every field but `sig`). */
export type UnsignedMusicRecord = DistributiveOmit<MusicRecordWire, 'sig'>;

/**
 * Signed bytes: `[tag, room, author, seq, ts, kind, name, cid, size, mime, title, artist, album,
 * fileName, duration, cover, lyrics, target]` (see `canonicalBytes`).
 */
export function musicSigningBytes(room: string, r: UnsignedMusicRecord): Uint8Array {
  const t = r.kind === 'track' ? r : null;
  const meta = r.kind === 'track-meta' ? r : null;
  return canonicalBytes(MUSIC_SIGNING_TAG, room, [
    r.author,
    r.seq,
    r.ts,
    r.kind,
    t?.name,
    t?.cid,
    t?.size,
    t?.mime,
    t?.title,
    t?.artist,
    t?.album,
    t?.fileName,
    t?.duration,
    t?.cover ?? meta?.cover,
    t?.lyrics ?? meta?.lyrics,
    r.kind === 'track' ? null : r.target,
  ]);
}

/**
 * Signs a record of this device (ECDSA P-256 over {@link musicSigningBytes}).
 * @throws Error when `r.author` is not this device's key
 */
export async function signMusicRecord(room: string, identity: DeviceIdentity, r: UnsignedMusicRecord): Promise<MusicRecordWire> {
  if (r.author !== identity.publicKey) throw new Error('a device can only sign its own records');
  return { ...r, sig: await identity.sign(musicSigningBytes(room, r)) } as MusicRecordWire;
}

/** Whether `record.sig` is its author's signature over the record in this room; never throws. */
export function verifyMusicRecord(room: string, record: MusicRecordWire): Promise<boolean> {
  const { sig, ...unsigned } = record;
  return verifySignature(record.author, musicSigningBytes(room, unsigned as UnsignedMusicRecord), sig);
}
