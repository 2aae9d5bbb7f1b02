/** The details of `<p2p-music>`'s events and the results of its methods, as the host page receives them. */
import type { WireStats, TransferProgress } from '../../core/runtime';

/** Detail of `p2pTrackAdd`, `p2pTrackPlay` and `p2pTrackEnd`. */
export interface P2pTrackDetail {
  /** Content id (SHA-256 root hash) of the track. */
  cid: string;
  /** Title tag (or the file name). */
  title: string;
  /** Artist tag ('' when none). */
  artist: string;
  /** Peer ids holding it when the event fired. */
  holders: string[];
  /** Shared from this widget's device. */
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pMusicErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `room-conflict`, `not-audio`, `too-large`, `playback`, `unavailable`, `bad-ban-entry`, `storage-*`. */
  code: string;
  /** What happened, in English (for the host page's logs; the widget shows its own words). */
  message: string;
}

/** Result of `getPlayerState()`. */
export interface P2pPlayerState {
  /** Content id of the current track; null when none is loaded. */
  cid: string | null;
  /** Title of the current track; null when none is loaded. */
  title: string | null;
  /** Play position, seconds. */
  currentTime: number;
  /** Whether it plays (false when paused, stopped or ended). */
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
  /** Records refused from peers, by reason (`duplicate`, `too-many`, `bad-signature`, `bad-target`, `conflict`, `check-failed`, `bad-cover`). */
  refused: Record<string, number>;
  /** Inbound messages accepted and dropped by the room's wire checks; null before joining. */
  wire: WireStats | null;
  /** Transfer counters (`bytesUploaded`, `bytesDownloaded`, `badChunks`, `chunksServed`, `chunksReceived`, `sentElsewhere`: requests this page, as a seeder, sent to a downloader that holds the chunk; `lateBytes`: bytes of requests this page had cancelled, dropped on arrival); null before joining. */
  swarm: Record<string, number> | null;
}
