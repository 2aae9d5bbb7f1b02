import type { JoinRoom, JoinRoomConfig } from '@trystero-p2p/core';
// The default strategy is bundled with the mesh, so its code loads in parallel with the widget's
// instead of after it (two more round trips and ~250 ms before the relay socket opens, measured
// with bench/join-timeline-probe.mjs). mqtt and torrent stay separate chunks, loaded on demand.
import * as nostr from 'trystero';

import type { Strategy } from './strategy-names';

export { STRATEGIES, type Strategy } from './strategy-names';

/** What every Trystero strategy package exports that the mesh uses. */
export interface StrategyModule {
  /** Trystero's `joinRoom(config, roomId, callbacks)` of this strategy. */
  joinRoom: JoinRoom<JoinRoomConfig>;
  /** This page's peer id (20 characters, random per page load; shared by every room of the strategy). */
  selfId: string;
  /** Map of relay URL → WebSocket (or MQTT client) the strategy currently holds. */
  getRelaySockets: () => Record<string, unknown>;
  /** Patched Trystero (nostr, torrent): retries every waiting relay socket now; `cycle` reopens open ones too. */
  reconnectRelaysNow?: (cycle?: boolean) => void;
  /** Patched Trystero (nostr, torrent): each relay socket's state, keyed by the configured URL. */
  getRelayStates?: () => Record<string, { state: 'connecting' | 'connected' | 'reconnecting' | 'retired' | 'closed'; reason: string | null; retryAtMs: number | null }>;
}

/**
 * The Trystero strategy package: `trystero` (Nostr, the default, bundled), or
 * `@trystero-p2p/mqtt` / `@trystero-p2p/torrent` loaded on demand, so a page only downloads the
 * optional signaling code it uses.
 */
export async function loadStrategy(strategy: Strategy): Promise<StrategyModule> {
  switch (strategy) {
    case 'mqtt':
      return (await import('@trystero-p2p/mqtt')) as unknown as StrategyModule;
    case 'torrent':
      return (await import('@trystero-p2p/torrent')) as unknown as StrategyModule;
    case 'nostr':
      return nostr as unknown as StrategyModule;
    default:
      throw new Error(`unknown strategy "${strategy as string}" (use nostr, mqtt or torrent)`);
  }
}

/** Whether a relay entry from `getRelaySockets()` is an open connection (WebSocket or MQTT client). */
export function isRelayOpen(relay: unknown): boolean {
  if (!relay || typeof relay !== 'object') return false;
  const r = relay as { readyState?: number; connected?: boolean; socket?: { readyState?: number } };
  if (typeof r.connected === 'boolean') return r.connected; // mqtt.js client
  if (typeof r.readyState === 'number') return r.readyState === 1; // WebSocket.OPEN
  if (r.socket && typeof r.socket.readyState === 'number') return r.socket.readyState === 1;
  return false;
}
