/** The details of `<p2p-chat>`'s events and the results of its methods, as the host page receives them. */
import type { ChatMessage } from '../../core/chat/chat-loader';
import type { PeerLeaveReason } from '../../core/runtime';

/** Detail of `p2pPeerJoin` / `p2pPeerLeave`. */
export interface P2pPeerDetail {
  /** Trystero peer id (random per page session). */
  peerId: string;
  /** Display name, or null if the peer has not announced one yet. */
  userName: string | null;
  /**
   * `p2pPeerLeave` only: why the peer left (`goodbye`, `silent`, `connection-lost` or `flood`; see
   * `PeerLeaveReason` in `core/mesh`). After all but `goodbye` and `flood` it may come back within seconds.
   */
  reason?: PeerLeaveReason;
}

/** Detail of `p2pMessage`. */
export interface P2pMessageDetail {
  /** `author:seq`, unique in the room. */
  id: string;
  /** Author's per-room public key (base64url). */
  author: string;
  /** Peer id it came from live; '' when it came by sync. */
  peerId: string;
  /** The author's display name, as signed into the message. */
  userName: string;
  /** The message text. */
  text: string;
  /** ms since epoch */
  timestamp: number;
  /** true for messages sent from this widget */
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`, `send-failed`, `storage-unavailable`, `storage-full`, `storage-failed`. */
  code: string;
  /** What happened, in English (for the host page's logs; the widget shows its own words). */
  message: string;
}

/** The event detail of a message (what the host page receives). */
export function toDetail(m: ChatMessage): P2pMessageDetail {
  return { id: m.key, author: m.author, peerId: m.peerId, userName: m.userName, text: m.text, timestamp: m.timestamp, own: m.own };
}
