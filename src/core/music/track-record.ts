import { defineRecordKind, type Unsigned } from '../records';
import type { MusicRecordWire } from '../wire';

/** Domain-separation tag of signed music records. */
export const MUSIC_SIGNING_TAG = 'p2p-widgets/music-record/1';

/** A music record before it is signed (every field but `sig`). */
export type UnsignedMusicRecord = Unsigned<MusicRecordWire>;

/**
 * Music records: signed bytes are UTF-8 JSON of `[tag, room, author, seq, ts, kind, name, cid, size,
 * mime, title, artist, album, fileName, duration, cover, lyrics, target]` (absent as null; see core/records).
 */
export const musicRecordKind = defineRecordKind<MusicRecordWire>(MUSIC_SIGNING_TAG, r => {
  const t = r.kind === 'track' ? r : null;
  const meta = r.kind === 'track-meta' ? r : null;
  return [t?.name, t?.cid, t?.size, t?.mime, t?.title, t?.artist, t?.album, t?.fileName, t?.duration, t?.cover ?? meta?.cover, t?.lyrics ?? meta?.lyrics, r.kind === 'track' ? null : r.target];
});

/** The bytes an author signs (see {@link musicRecordKind}). */
export const musicSigningBytes = musicRecordKind.signingBytes;
/** Signs a record of this device. @throws Error when `r.author` is not this device's key */
export const signMusicRecord = musicRecordKind.sign;
/** Whether `record.sig` is its author's signature over the record in this room; never throws. */
export const verifyMusicRecord = musicRecordKind.verify;
