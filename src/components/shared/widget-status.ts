import type { Strings } from '../../core/i18n';
import type { MeshStatus } from '../../core/mesh';

/** The connection state in plain words (shared by every widget's header). */
export function statusText(status: MeshStatus, t: Strings): string {
  switch (status.state) {
    case 'connecting':
      return t.statusConnecting;
    case 'waiting':
      return t.statusWaiting;
    case 'connected':
      return t.statusConnected(status.peers);
    case 'failed':
      return t.statusFailed(status.reason);
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
