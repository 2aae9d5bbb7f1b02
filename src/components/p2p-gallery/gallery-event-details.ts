/** The details of `<p2p-gallery>`'s events and the results of its methods, as the host page receives them. */
import type { GalleryPicture } from '../../core/gallery/gallery-loader';
import type { WireStats } from '../../core/runtime';

/** Detail of `p2pImageAdd`. */
export interface P2pImageDetail {
  /** `author:seq` of the picture's record. */
  id: string;
  /** Content id (SHA-256 root hash) of the full picture. */
  cid: string;
  author: string;
  userName: string;
  mime: string;
  width: number;
  height: number;
  /** Size of the full picture, bytes. */
  size: number;
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pGalleryErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`, `not-an-image`, `too-large`, `undecodable`, `unavailable`, `storage-unavailable`, `storage-full`, `storage-failed`. */
  code: string;
  message: string;
}

/** Result of `getStats()`: refused gallery records, wire drops, swarm figures. */
export interface P2pGalleryStats {
  refused: Record<string, number>;
  wire: WireStats | null;
  swarm: Record<string, number> | null;
}

/** The event detail of a picture (what the host page receives). */
export function toDetail(p: GalleryPicture): P2pImageDetail {
  return { id: p.key, cid: p.cid, author: p.author, userName: p.userName, mime: p.mime, width: p.width, height: p.height, size: p.size, own: p.own };
}
