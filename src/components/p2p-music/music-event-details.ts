/** The details of `<p2p-music>`'s events and the results of its methods, as the host page receives them. */
import type { WireStats, TransferProgress } from '../../core/runtime';

/** Detail of `p2pTrackAdd`, `p2pTrackPlay` and `p2pTrackEnd`. */
export interface P2pTrackDetail {
  /** Content id (SHA-256 root hash) of the track. */
  cid: string;
  title: string;
  artist: string;
  /** Peer ids holding it when the event fired. */
  holders: string[];
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pMusicErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `room-conflict`, `not-audio`, `too-large`, `playback`, `unavailable`, `bad-ban-entry`, `storage-*`. */
  code: string;
  message: string;
}

/** Result of `getPlayerState()`. */
export interface P2pPlayerState {
  cid: string | null;
  title: string | null;
  /** Play position, seconds. */
  currentTime: number;
  playing: boolean;
  /** Playing but waiting for bytes. */
  waiting: boolean;
  /** Download progress of the current track (null when it was already here). */
  progress: TransferProgress | null;
  /** Chunks held when the first audio played (streaming: fewer than all). */
  startedWith: { chunks: number; totalChunks: number } | null;
}

/** Result of `getStats()`: refused music records, wire drops, swarm figures. */
export interface P2pMusicStats {
  refused: Record<string, number>;
  wire: WireStats | null;
  swarm: Record<string, number> | null;
}
