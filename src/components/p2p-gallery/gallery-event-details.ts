/** The details of `<p2p-gallery>`'s events and the results of its methods, as the host page receives them. */
import type { GalleryPicture } from '../../core/gallery/gallery-loader';
import type { WireStats } from '../../core/runtime';

/** Detail of `p2pImageAdd`. */
export interface P2pImageDetail {
  /** `author:seq` of the picture's record. */
  id: string;
  /** Content id (SHA-256 root hash) of the full picture. */
  cid: string;
  /** The sharer's per-room public key (base64url). */
  author: string;
  /** The sharer's display name. */
  userName: string;
  /** The picture's MIME type (`image/jpeg`, `image/png`, `image/webp`, `image/gif` or `image/avif`). */
  mime: string;
  /** Width, px. */
  width: number;
  /** Height, px. */
  height: number;
  /** Size of the full picture, bytes. */
  size: number;
  /** Shared from this widget's device. */
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pGalleryErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`, `not-an-image`, `too-large`, `undecodable`, `unavailable`, `storage-unavailable`, `storage-full`, `storage-failed`, `worker-unavailable`. */
  code: string;
  /** What happened, in English (for the host page's logs; the widget shows its own words). */
  message: string;
}

/** Result of `getStats()`: refused gallery records, wire drops, swarm figures. */
export interface P2pGalleryStats {
  /** Records refused from peers, by reason (`duplicate`, `too-many`, `bad-signature`, `bad-target`, `conflict`, `check-failed`, `bad-thumbnail`). */
  refused: Record<string, number>;
  /** Inbound messages accepted and dropped by the room's wire checks; null before joining. */
  wire: WireStats | null;
  /** Transfer counters (`bytesUploaded`, `bytesDownloaded`, `badChunks`, `chunksServed`, `chunksReceived`, `sentElsewhere`: requests this page, as a seeder, sent to a downloader that holds the chunk; `lateBytes`: bytes of requests this page had cancelled, dropped on arrival); null before joining. */
  swarm: Record<string, number> | null;
}

/** The event detail of a picture (what the host page receives). */
export function toDetail(p: GalleryPicture): P2pImageDetail {
  return { id: p.key, cid: p.cid, author: p.author, userName: p.userName, mime: p.mime, width: p.width, height: p.height, size: p.size, own: p.own };
}
