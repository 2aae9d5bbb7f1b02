import type { PageContext, SharedAttributes } from '../../core/config';
import type { Strings } from '../../core/i18n';
import type { MeshStatus } from '../../core/runtime';

/** The connection state in plain words (shared by every widget's header). */
export function statusText(status: MeshStatus, t: Strings): string {
  switch (status.state) {
    case 'connecting':
      return t.statusConnecting;
    case 'waiting':
      return t.statusWaiting;
    case 'connected':
      // A partial mesh: connections, and everyone in the room when that is more.
      return status.members ? `${t.statusConnected(status.peers)} · ${t.statusInRoom(status.members)}` : t.statusConnected(status.peers);
    case 'failed':
      return t.statusFailed(status.code === 'relay-unreachable' ? t.relaysUnreachable(status.relays ?? null) : status.reason);
  }
}

/**
 * An error in the visitor's language: the codes the core reports in English (relays unreachable,
 * a flooding peer, storage) come from i18n; anything else is shown as the core worded it.
 * The `p2pError` event keeps the core's English message for the host page's logs.
 */
export function errorText(code: string, message: string, status: MeshStatus, t: Strings): string {
  switch (code) {
    case 'relay-unreachable':
      return t.relaysUnreachable(status.state === 'failed' ? (status.relays ?? null) : null);
    case 'peer-flood':
      return t.peerFlood;
    case 'peer-unreachable':
      return t.peerUnreachable;
    case 'storage-full':
      return t.storageFull;
    case 'storage-unavailable':
      return t.storageUnavailable;
    case 'storage-failed':
      return t.storageFailed;
    case 'worker-unavailable':
      return t.workerUnavailable;
    default:
      return message;
  }
}

/** `localStorage`, or null where the browser forbids it. */
export function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * The attributes every widget shares, picked from its props (same names), for `RoomConnection.connect`.
 * @param widget - the component (its `room`, `appId`, `password`, `strategy`, `relayUrls`, `iceServers`, `iceTransportPolicy`, `partialMesh`, `userName` props)
 */
export function sharedAttributes(widget: SharedAttributes): SharedAttributes {
  const { room, appId, password, strategy, relayUrls, iceServers, iceTransportPolicy, partialMesh, userName } = widget;
  return { room, appId, password, strategy, relayUrls, iceServers, iceTransportPolicy, partialMesh, userName };
}

/** This page's location and local storage (null when the browser refuses it), for `RoomConnection.connect`. */
export function pageContext(): PageContext {
  return { location: window.location, storage: safeLocalStorage() };
}
