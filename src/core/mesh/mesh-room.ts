import { createNanoEvents, Emitter, Unsubscribe } from 'nanoevents';
import type * as v from 'valibot';
import type { JoinRoomConfig, MessageAction, Room } from '@trystero-p2p/core';
import {
  DropCounters,
  encodeMessage,
  InboundValidator,
  MessageSpec,
  PeerRateLimiter,
  presenceMessage,
  PROTOCOL_VERSION,
  WireStats,
} from '../wire';
import { isRelayOpen, loadStrategy, Strategy, StrategyModule } from './strategies';

/** Options of a mesh room; the shared widget attributes map onto these. */
export interface MeshOptions {
  /** Trystero app id: namespaces rooms (default in widgets: the page's host). */
  appId: string;
  /** Room name (default in widgets: the page's origin + path). */
  room: string;
  /** Room password: encrypts the offer/answer exchange so strangers cannot join (Trystero `password`). */
  password?: string;
  /** Signaling strategy; default `nostr`. */
  strategy?: Strategy;
  /** Relay URLs (Nostr relays, MQTT brokers or WebTorrent trackers); default: Trystero's public list. */
  relayUrls?: string[];
  /** ICE servers (STUN/TURN) for the RTCPeerConnections; default: Trystero's public STUN servers. */
  iceServers?: RTCIceServer[];
  /** Display name announced to peers (1–64 characters). */
  userName: string;
  /** How long to wait for a first relay connection before reporting `failed`, ms; default 10 000. */
  relayTimeoutMs?: number;
  /** Interval between RTT pings to each peer, ms; default 5 000. */
  pingIntervalMs?: number;
  /** RTCPeerConnection implementation for non-browser runtimes (e.g. node-datachannel's polyfill). */
  rtcPolyfill?: typeof RTCPeerConnection;
}

/** Connection state shown by every widget. */
export type MeshStatus =
  | { state: 'connecting' }
  | { state: 'waiting' }
  | { state: 'connected'; peers: number }
  /** `code` says why when it is known; `relays`: the relay URLs that could not be reached (comma-separated; absent: Trystero's defaults). */
  | { state: 'failed'; reason: string; code?: 'relay-unreachable'; relays?: string };

/** One remote peer in the roster. */
export interface PeerInfo {
  /** Trystero peer id: random per page session, so a machine cannot be tracked by it. */
  id: string;
  /** Display name from the peer's `presence` message; null until it arrives. */
  name: string | null;
  /** Last measured round-trip time, ms; null before the first ping returns. */
  rttMs: number | null;
  /** When the peer joined, ms since epoch (local clock). */
  joinedAt: number;
}

/** An error a widget should show and re-emit as `p2pError`. */
export interface MeshError {
  /** Stable code: `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`. */
  code: string;
  /** Plain-words explanation. */
  message: string;
}

export interface MeshEvents {
  status: (status: MeshStatus) => void;
  peerJoin: (peer: PeerInfo) => void;
  peerLeave: (peer: PeerInfo) => void;
  /** The roster changed (join, leave, name or RTT update). */
  roster: (peers: PeerInfo[]) => void;
  error: (error: MeshError) => void;
}

/** A typed, validated channel of one message type. */
export interface MeshChannel<TSchema extends v.GenericSchema> {
  /** Sends to every peer, or to `target` peer ids. Resolves when handed to the data channel(s). */
  send(message: v.InferInput<TSchema>, target?: string | string[]): Promise<void>;
  /** Subscribes to validated inbound messages. Invalid ones never reach `handler`. */
  onMessage(handler: (message: v.InferOutput<TSchema>, peerId: string) => void): Unsubscribe;
}

/**
 * Per-peer inbound byte budget over all channels, counted in Trystero chunks
 * (≤ 16 KiB each, see Trystero's action-wire): 64 chunks/s sustained (~1 MiB/s),
 * 256 chunks burst (~4 MiB). A peer over it is disconnected for the session.
 */
const FLOOD_LIMIT = { ratePerSecond: 64, burst: 256 };

/**
 * One Trystero room, shared by every widget on the page that names the same
 * (strategy, app id, room, password). Create through {@link joinMesh}.
 */
export class MeshRoom {
  readonly peers = new Map<string, PeerInfo>();
  status: MeshStatus = { state: 'connecting' };
  selfId = '';

  private readonly emitter: Emitter<MeshEvents> = createNanoEvents<MeshEvents>();
  private readonly counters = new DropCounters();
  private readonly floodLimiter = new PeerRateLimiter(FLOOD_LIMIT);
  private readonly blockedPeers = new Set<string>();
  private readonly channels = new Map<string, { action: MessageAction<string>; emitter: Emitter; validator: InboundValidator<v.GenericSchema> }>();
  private room: Room | null = null;
  private strategyModule: StrategyModule | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private relaySeen = false;
  private readonly startedAt = Date.now();
  private left = false;
  private userName: string;

  constructor(private readonly options: MeshOptions) {
    this.userName = options.userName;
  }

  /** Loads the strategy and joins the Trystero room. Never throws: failures become `status: failed` + `error`. */
  async start(): Promise<void> {
    const { options } = this;
    try {
      this.strategyModule = await loadStrategy(options.strategy ?? 'nostr');
    } catch (err) {
      this.fail('strategy-load', `could not load the ${options.strategy} signaling code: ${errorText(err)}`);
      return;
    }
    if (this.left) return;
    this.selfId = this.strategyModule.selfId;
    const config: JoinRoomConfig = { appId: options.appId };
    if (options.password) config.password = options.password;
    if (options.relayUrls?.length) config.relayConfig = { urls: options.relayUrls, warnOnRelayFailure: false };
    if (options.iceServers) config.rtcConfig = { iceServers: options.iceServers };
    if (options.rtcPolyfill) config.rtcPolyfill = options.rtcPolyfill;
    try {
      this.room = this.strategyModule.joinRoom(config, options.room, {
        onJoinError: ({ error }) => this.emitter.emit('error', { code: 'join-error', message: error }),
      });
    } catch (err) {
      this.fail('join-error', errorText(err));
      return;
    }
    this.room.onPeerJoin = peerId => this.handlePeerJoin(peerId);
    this.room.onPeerLeave = peerId => this.handlePeerLeave(peerId);
    this.channel(presenceMessage).onMessage((msg, peerId) => this.updatePeer(peerId, { name: msg.name }));
    this.timers.push(setInterval(() => this.pollRelays(), 250));
    this.timers.push(setInterval(() => this.pingPeers(), options.pingIntervalMs ?? 5000));
    this.pollRelays();
  }

  /** Subscribes to mesh events; returns the unsubscribe function. */
  on<E extends keyof MeshEvents>(event: E, handler: MeshEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The roster as an array, oldest peer first. */
  peerList(): PeerInfo[] {
    return [...this.peers.values()];
  }

  /** The RTCPeerConnection to a peer (for extra data channels such as the swarm's), if connected. */
  peerConnection(peerId: string): RTCPeerConnection | undefined {
    return this.room?.getPeers()[peerId];
  }

  /** Counts a message dropped by a feature's own validation (e.g. binary frames) under `channel:reason`. */
  countDrop(channel: string, reason: import('../wire').DropReason): void {
    this.counters.drop(channel, reason);
  }

  /** Counts a message accepted by a feature's own validation. */
  countAccepted(): void {
    this.counters.accept();
  }

  /** Counters of accepted and dropped inbound messages (by reason). */
  wireStats(): WireStats {
    return this.counters.snapshot();
  }

  /** Changes the display name announced to peers. */
  setUserName(name: string): void {
    if (name === this.userName) return;
    this.userName = name;
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name });
  }

  /**
   * A typed channel for one message spec; the same spec always returns the same
   * channel. Inbound payloads pass the spec's size, rate, JSON and schema checks
   * before any handler runs.
   */
  channel<TSchema extends v.GenericSchema>(spec: MessageSpec<TSchema>): MeshChannel<TSchema> {
    let entry = this.channels.get(spec.channel);
    if (!entry) {
      if (!this.room) throw new Error('mesh room not started');
      const action = this.room.makeAction<string>(spec.channel);
      const emitter = createNanoEvents();
      const validator = new InboundValidator(spec, this.counters) as unknown as InboundValidator<v.GenericSchema>;
      action.onReceiveProgress = (_progress, { peerId }) => this.countChunk(peerId, spec.channel);
      action.onMessage = (payload, { peerId }) => {
        if (this.blockedPeers.has(peerId)) {
          this.counters.drop(spec.channel, 'flood');
          return;
        }
        const result = validator.check(payload, peerId);
        if (!result.ok) return;
        if (!this.peers.has(peerId)) this.handlePeerJoin(peerId);
        emitter.emit('message', result.value, peerId);
      };
      entry = { action, emitter, validator };
      this.channels.set(spec.channel, entry);
    }
    const { action, emitter } = entry;
    return {
      send: async (message, target) => {
        if (!this.room) return;
        const text = encodeMessage(spec, message);
        await action.send(text, target === undefined ? {} : { target });
      },
      onMessage: handler =>
        emitter.on('message', (message: v.InferOutput<TSchema>, peerId: string) => {
          try {
            handler(message, peerId);
          } catch (err) {
            console.error('p2p-widgets: handler error on', spec.channel, err);
          }
        }),
    };
  }

  /** Leaves the Trystero room and stops timers. Called by the last {@link MeshHandle.release}. */
  async leave(): Promise<void> {
    this.left = true;
    this.timers.forEach(clearInterval);
    this.timers = [];
    const room = this.room;
    this.room = null;
    this.peers.clear();
    if (room) await room.leave();
    this.emitter.events = {};
  }

  private countChunk(peerId: string, channel: string): void {
    if (this.blockedPeers.has(peerId) || this.floodLimiter.take(peerId)) return;
    this.blockedPeers.add(peerId);
    this.counters.drop(channel, 'flood');
    this.emitter.emit('error', { code: 'peer-flood', message: `a peer sent too much data and was disconnected` });
    try {
      this.room?.getPeers()[peerId]?.close();
    } catch {
      /* already closed */
    }
    this.handlePeerLeave(peerId);
  }

  private handlePeerJoin(peerId: string): void {
    if (this.peers.has(peerId) || this.blockedPeers.has(peerId) || this.left) return;
    const peer: PeerInfo = { id: peerId, name: null, rttMs: null, joinedAt: Date.now() };
    this.peers.set(peerId, peer);
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: this.userName }, peerId);
    this.emitter.emit('peerJoin', { ...peer });
    this.emitRoster();
    this.refreshStatus();
  }

  private handlePeerLeave(peerId: string): void {
    const peer = this.peers.get(peerId);
    this.channels.forEach(c => c.validator.forgetPeer(peerId));
    if (!peer) return;
    this.peers.delete(peerId);
    this.emitter.emit('peerLeave', { ...peer });
    this.emitRoster();
    this.refreshStatus();
  }

  private updatePeer(peerId: string, change: Partial<PeerInfo>): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    Object.assign(peer, change);
    this.emitRoster();
  }

  private emitRoster(): void {
    this.emitter.emit('roster', this.peerList());
  }

  private pollRelays(): void {
    // Trystero keeps one socket per relay URL for the whole page: count only this room's relays.
    const mine = this.options.relayUrls;
    const sockets = Object.entries(this.strategyModule?.getRelaySockets() ?? {})
      .filter(([url]) => !mine?.length || mine.includes(url))
      .map(([, socket]) => socket);
    if (sockets.some(isRelayOpen)) this.relaySeen = true;
    this.refreshStatus();
  }

  private refreshStatus(): void {
    if (this.left) return;
    let next: MeshStatus;
    if (this.peers.size > 0) next = { state: 'connected', peers: this.peers.size };
    else if (this.relaySeen) next = { state: 'waiting' };
    else if (Date.now() - this.startedAt > (this.options.relayTimeoutMs ?? 10_000)) {
      const relays = this.options.relayUrls?.join(', ') || undefined;
      next = { state: 'failed', reason: `could not reach any relay (${relays ?? 'the default public relays'})`, code: 'relay-unreachable', ...(relays ? { relays } : {}) };
    } else next = { state: 'connecting' };
    if (JSON.stringify(next) === JSON.stringify(this.status)) return;
    const wasFailed = this.status.state === 'failed';
    this.status = next;
    this.emitter.emit('status', next);
    if (next.state === 'failed' && !wasFailed) this.emitter.emit('error', { code: 'relay-unreachable', message: next.reason });
  }

  private pingPeers(): void {
    const room = this.room;
    if (!room) return;
    for (const peerId of this.peers.keys()) {
      room
        .ping(peerId)
        .then(rttMs => this.updatePeer(peerId, { rttMs: Math.round(rttMs) }))
        .catch(() => undefined);
    }
  }

  private fail(code: string, message: string): void {
    this.status = { state: 'failed', reason: message };
    this.emitter.emit('status', this.status);
    this.emitter.emit('error', { code, message });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
