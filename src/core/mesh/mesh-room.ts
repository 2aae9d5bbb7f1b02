import { createNanoEvents, Emitter, Unsubscribe } from 'nanoevents';
import type * as v from 'valibot';
import type { JoinRoomConfig, MessageAction, Room } from '@trystero-p2p/core';
import {
  DropCounters,
  MAX_HOLDS_CIDS,
  swarmHoldersMessage,
  encodeMessage,
  heartbeatMessage,
  InboundValidator,
  MessageSpec,
  PeerRateLimiter,
  presenceMessage,
  PROTOCOL_VERSION,
  WireStats,
} from '../wire';
import { isRelayOpen, loadStrategy, Strategy, StrategyModule } from './strategies';
import { ConnectionStats, PeerConnectionStats, readTransport, RelayConnectionStats } from './connection-stats';
import { HEARTBEAT_INTERVAL_MS, PeerHeartbeat, type PEER_TIMEOUT_MS } from './peer-heartbeat';
import { MeshBulkLinks, type BulkNetwork } from './bulk-links';
import type { DropReason } from '../wire';
import { broadcastMessage, MAX_SNAPSHOT_MEMBERS, membershipMessage, roomMembersMessage, roomPresenceMessage, type RoomPresenceMessage } from '../wire/overlay-schemas';
import type { Delivered } from '../overlay/broadcast';
import { PartialMesh, PartialMeshOptions } from './partial-mesh';
import { EarlyMessages, MAX_EARLY_BYTES } from './early-messages';
import { PRESENCE_INTERVAL_MS, RoomMembers } from './room-members';
import { HolderHints, HOLDER_REPLY_MS, HOLDER_SEARCH_MS, HOLDERS_BATCH_MS, HOLDS_ANSWER_MS, HOLDS_REPEAT_MS, MAX_HINTED_FILES, WANT_REPEAT_MS, waitFor } from './holder-hints';

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
  /**
   * `RTCConfiguration.iceTransportPolicy` of every RTCPeerConnection: `all` (default) or `relay`
   * (only TURN-relayed candidates: no address of the visitor reaches a peer; needs TURN in `iceServers`).
   */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * RTCPeerConnections with a ready offer kept per page (patched Trystero option `offerPoolSize`);
   * default {@link DEFAULT_OFFER_POOL_SIZE}. Each one holds ports (and a TURN allocation when TURN is configured).
   */
  offerPoolSize?: number;
  /** Display name announced to peers (1–64 characters). */
  userName: string;
  /** How long to wait for a first relay connection before reporting `failed`, ms; default 10 000. */
  relayTimeoutMs?: number;
  /** Interval between RTT pings to each peer, ms; default 5 000. */
  pingIntervalMs?: number;
  /** RTCPeerConnection implementation for non-browser runtimes (e.g. node-datachannel's polyfill). */
  rtcPolyfill?: typeof RTCPeerConnection;
  /**
   * Runs the partial mesh (src/core/overlay: HyParView membership, Plumtree broadcast): the page
   * connects to a few neighbours (active view 6 by default, at most 12 connections) instead of to
   * every peer, and messages of `flood` channels sent without a target are forwarded to the whole
   * room. Not on by default yet: sync, the swarm and the roster still assume every peer is a direct one.
   */
  partialMesh?: PartialMeshOptions;
}

/**
 * Offers kept ready per page. Trystero's 20 cost 20 RTCPeerConnections (and 20 TURN allocations
 * with TURN) per visitor; with trickle ICE a fresh offer goes out at once and its candidates follow
 * within ~0.2 s, so one warm offer (for the first peer) is enough: see bench/README.md, "offer pool".
 */
export const DEFAULT_OFFER_POOL_SIZE = 1;

/**
 * Connection state shown by every widget. `relaysDown`: every signaling relay is lost (after one
 * was reached): connected peers stay, but nobody new can join until a relay is back.
 */
export type MeshStatus =
  | { state: 'connecting' }
  | { state: 'waiting'; relaysDown?: boolean }
  /** `peers`: connections; `members`: (partial mesh, when more than the connections) pages in the room this page knows of, connected or not, itself included. */
  | { state: 'connected'; peers: number; members?: number; relaysDown?: boolean }
  /** `code` says why when it is known; `relays`: the relay URLs that could not be reached (comma-separated; absent: Trystero's defaults). */
  | { state: 'failed'; reason: string; code?: 'relay-unreachable'; relays?: string };

/** The codes of the mesh's errors (a subset of the widgets' `P2pErrorCode`, see core/runtime). */
export type MeshErrorCode = 'join-error' | 'relay-unreachable' | 'strategy-load' | 'room-conflict' | 'peer-flood' | 'peer-unreachable';

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
  /**
   * In a member list of a partial mesh: true for a member this page has no connection to, known
   * through the overlay (its flooded `room-presence`); its messages arrive forwarded by other pages,
   * and `rttMs` is null. Absent for a connected peer.
   */
  indirect?: true;
}

/**
 * Why a peer left the roster:
 * - `goodbye`: it left the room (closed or reloaded the page, removed the widget) and said so;
 * - `silent`: nothing arrived from it for {@link PEER_TIMEOUT_MS} (a frozen tab, a dead network);
 * - `connection-lost`: its connection or its data channel closed without a goodbye;
 * - `flood`: it sent more than its budget and was disconnected for the session.
 * After any but `goodbye` and `flood` the room announces itself again at once (patched Trystero,
 * README "Trystero patches"), so a peer still there is met again within about a second.
 */
export type PeerLeaveReason = 'goodbye' | 'silent' | 'connection-lost' | 'flood';

/** The `peerLeave` event's second argument. */
export interface PeerLeave {
  /** Why it left. */
  reason: PeerLeaveReason;
  /**
   * For `connection-lost`: the connection's `connectionState` and `iceConnectionState` when it was
   * lost, e.g. `"closed/closed"`, or `"connected/connected"` when only the data channel closed.
   */
  connection?: string;
}

/** An error a widget should show and re-emit as `p2pError`. */
export interface MeshError {
  /**
   * Stable code: `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`,
   * `peer-unreachable` (a connection to one peer failed after the offer/answer exchange; retried
   * when it announces again; usually a network that needs TURN).
   */
  code: MeshErrorCode;
  /** Plain-words explanation. */
  message: string;
}

/** Events of a {@link MeshRoom} (subscribe with `on`; each returns its unsubscribe function). */
export interface MeshEvents {
  /** The connection state changed (also kept as {@link MeshRoom.status}). */
  status: (status: MeshStatus) => void;
  /** A peer connected and passed Trystero's handshake: it is in the roster (its name follows by `presence`). */
  peerJoin: (peer: PeerInfo) => void;
  /** A connected peer left the roster, and why. */
  peerLeave: (peer: PeerInfo, leave: PeerLeave) => void;
  /** The roster changed (join, leave, name or RTT update). */
  roster: (peers: PeerInfo[]) => void;
  /**
   * A page entered the room's member list: in a full mesh the same as `peerJoin`; in a partial mesh
   * also a page reached only through others (`indirect`). What a widget shows as "joined".
   */
  memberJoin: (member: PeerInfo) => void;
  /** A page left the member list (`goodbye`: it said so; `silent`: not heard of for the member time-to-live; or its link was lost). */
  memberLeave: (member: PeerInfo, leave: PeerLeave) => void;
  /** The member list changed (what a widget's peer list shows: connected peers first, then indirect members). */
  members: (members: PeerInfo[]) => void;
  /** An error for the widget to show and re-emit as `p2pError`. */
  error: (error: MeshError) => void;
}

/**
 * The narrow part of a {@link MeshRoom} a feature (gallery, music) uses: typed channels, events, the
 * roster and this page's id. `core/testing`'s in-memory `TestPeer` implements it for Node tests.
 */
export type FeatureMesh = Pick<MeshRoom, 'channel' | 'on' | 'peers' | 'selfId' | 'peerList' | 'memberList'>;

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
 * What each room does when the page unloads, run by one `beforeunload` listener registered when
 * this module loads, so before Trystero's (added when its first room is joined): listeners at the
 * window run in the order they were added (Chromium runs a capture listener there in that order
 * too), and a room's `bye` must be on the data channels before Trystero's goodbye closes them.
 */
const beforeUnloadHooks = new Set<() => void>();
if (typeof window !== 'undefined') window.addEventListener('beforeunload', () => beforeUnloadHooks.forEach(hook => hook()));

/**
 * One Trystero room, shared by every widget on the page that names the same
 * (strategy, app id, room, password). Create through {@link joinMesh}.
 */
export class MeshRoom {
  /** The peers listed now, by peer id (joined, handshake passed, not yet left). */
  readonly peers = new Map<string, PeerInfo>();
  /** The connection state now (also emitted as `status`). */
  status: MeshStatus = { state: 'connecting' };
  /** This page's peer id (Trystero's, random per page session); empty until `start()` loaded the strategy. */
  selfId = '';

  private readonly emitter: Emitter<MeshEvents> = createNanoEvents<MeshEvents>();
  private readonly counters = new DropCounters();
  private readonly floodLimiter = new PeerRateLimiter(FLOOD_LIMIT);
  private readonly blockedPeers = new Set<string>();
  /** Messages from peers not listed yet, handed over when they are (see early-messages.ts). */
  private readonly early = new EarlyMessages(channel => this.counters.drop(channel, 'not-joined'));
  private bulk: MeshBulkLinks | null = null;
  private readonly channels = new Map<string, { action: MessageAction<string>; emitter: Emitter; validator: InboundValidator<v.GenericSchema>; flood: boolean; syncedOnConnect: boolean }>();
  private room: Room | null = null;
  private strategyModule: StrategyModule | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private relaySeen = false;
  private relaysDown = false;
  private readonly heartbeat = new PeerHeartbeat();
  /** Peers silent in a transfer: the transport's bytes received when last seen growing (see checkStalledTransfer). */
  private readonly stalledReadings = new Map<string, { at: number; bytesReceived: number }>();
  private readonly stalledChecks = new Set<string>();
  /** Each listed peer's connection, kept to say in which state it was lost. */
  private readonly connections = new Map<string, RTCPeerConnection>();
  private readonly transferSamples = new Map<string, { at: number; sent: number; received: number }>();
  private removeListeners: (() => void) | null = null;
  private lastTick = Date.now();
  private readonly startedAt = Date.now();
  private left = false;
  private userName: string;
  private partial: PartialMesh | null = null;
  /** Who is in the room (the roster in a full mesh; neighbours and members known through the overlay in a partial mesh). */
  private members: RoomMembers | null = null;
  private presenceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Partial mesh: pages that said they hold a file (`swarm-holders`), by content id. */
  private readonly holderHints = new HolderHints();
  /** Partial mesh: files this page said it holds, with when it last said so (ms). */
  private readonly holding = new Map<string, number>();
  /** Partial mesh: files this page asked the room about, with when (ms). */
  private readonly wantedAt = new Map<string, number>();
  /** Partial mesh: `holds` and `want` waiting for the next batch. */
  private readonly holdsOut = new Set<string>();
  private readonly wantsOut = new Set<string>();
  private holdersTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bodies of forwarded messages that passed their checks, parsed, until delivered (keyed by id). */
  private readonly checkedBodies = new Map<string, unknown>();

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
    this.members = new RoomMembers(this.selfId, {
      join: m => this.emitter.emit('memberJoin', m),
      leave: (m, l) => {
        this.holderHints.forget(m.id);
        this.emitter.emit('memberLeave', m, l);
      },
      change: list => {
        this.emitter.emit('members', list);
        this.refreshStatus();
      },
    });
    const config: JoinRoomConfig & { offerPoolSize: number } = { appId: options.appId, offerPoolSize: options.offerPoolSize ?? DEFAULT_OFFER_POOL_SIZE };
    if (options.password) config.password = options.password;
    if (options.relayUrls?.length) config.relayConfig = { urls: options.relayUrls, warnOnRelayFailure: false };
    const rtcConfig: RTCConfiguration = {};
    if (options.iceServers) rtcConfig.iceServers = options.iceServers;
    if (options.iceTransportPolicy) rtcConfig.iceTransportPolicy = options.iceTransportPolicy;
    if (Object.keys(rtcConfig).length) config.rtcConfig = rtcConfig;
    if (options.rtcPolyfill) config.rtcPolyfill = options.rtcPolyfill;
    // Patched Trystero (README, "Trystero patches"): asked before an announcement or offer starts a connection.
    if (options.partialMesh) (config as { admitPeer?: (id: string, hint: string | undefined, kind: 'announce' | 'offer') => boolean }).admitPeer = (id, hint, kind) => this.partial?.admit(id, hint, kind) ?? true;
    try {
      this.room = this.strategyModule.joinRoom(config, options.room, {
        onJoinError: ({ error }) => this.emitter.emit('error', joinError(error)),
      });
    } catch (err) {
      this.fail('join-error', errorText(err));
      return;
    }
    this.room.onPeerJoin = peerId => this.handlePeerJoin(peerId);
    this.room.onPeerLeave = (peerId, reason?: string) => this.handlePeerLeave(peerId, /left room/.test(reason ?? '') ? 'goodbye' : 'connection-lost');
    // Patched Trystero (README, "Trystero patches"): chunks under an action type no widget on this page
    // registered are reported here, so they count against the sender's flood budget like any other.
    (this.room as Room & { onUnregisteredChunk?: (peerId: string) => void }).onUnregisteredChunk = peerId => this.countChunk(peerId, 'unregistered');
    this.channel(presenceMessage).onMessage((msg, peerId) => this.updatePeer(peerId, { name: msg.name }));
    this.channel(heartbeatMessage).onMessage((_msg, peerId) => this.heartbeat.heard(peerId));
    if (options.partialMesh) this.startPartialMesh(options.partialMesh);
    this.timers.push(setInterval(() => this.pollRelays(), 250));
    this.timers.push(setInterval(() => this.pingPeers(), options.pingIntervalMs ?? 5000));
    this.timers.push(setInterval(() => this.tick(), HEARTBEAT_INTERVAL_MS));
    this.removeListeners = this.watchNetwork();
    this.pollRelays();
  }

  /**
   * Once per {@link HEARTBEAT_INTERVAL_MS}: sends `heartbeat` to every peer, drops peers silent for
   * longer than {@link PEER_TIMEOUT_MS} (closing their connection, so Trystero forgets them and a
   * live peer reconnects), and after the page slept (a tick > 10 s late) reconnects the relays.
   */
  private tick(): void {
    const now = Date.now();
    const slept = now - this.lastTick > 10_000;
    this.lastTick = now;
    if (slept) this.reconnectRelays(true);
    // A peer whose data channel just closed makes Trystero's send reject: that peer leaves on its own.
    if (this.peers.size) this.channel(heartbeatMessage).send({ v: PROTOCOL_VERSION }).catch(() => undefined);
    for (const peerId of this.heartbeat.expired()) this.dropSilent(peerId);
    const stalled = this.heartbeat.stalled();
    for (const peerId of this.stalledReadings.keys()) if (!stalled.includes(peerId)) this.stalledReadings.delete(peerId);
    for (const peerId of stalled) void this.checkStalledTransfer(peerId);
  }

  private dropSilent(peerId: string): void {
    if (!this.peers.has(peerId)) return;
    this.handlePeerLeave(peerId, 'silent');
    this.closePeer(peerId);
  }

  /**
   * A peer silent in the middle of a transfer (see STALLED_TRANSFER_TIMEOUT_MS) is kept while its
   * connection still receives packets: compared with a reading at least 1 s old, the transport's
   * `bytesReceived` (see readTransport) must have grown (our own heartbeats' acknowledgements
   * suffice), or the peer is dropped as silent. A tab that died sends nothing at all.
   */
  private async checkStalledTransfer(peerId: string): Promise<void> {
    const pc = this.connections.get(peerId);
    if (!pc || this.stalledChecks.has(peerId)) return;
    this.stalledChecks.add(peerId);
    try {
      const { bytesReceived } = await readTransport(pc);
      const now = Date.now();
      const previous = this.stalledReadings.get(peerId);
      if (!previous || bytesReceived > previous.bytesReceived) this.stalledReadings.set(peerId, { at: now, bytesReceived });
      else if (now - previous.at >= 1000) {
        this.stalledReadings.delete(peerId);
        this.heartbeat.forget(peerId);
        this.dropSilent(peerId);
      }
    } catch {
      /* the connection closed meanwhile: it leaves through Trystero */
    } finally {
      this.stalledChecks.delete(peerId);
    }
  }

  /**
   * Reconnects the signaling relays at once when the browser says the network is back (`online`),
   * the page resumes from being frozen (`resume`, Page Lifecycle) or comes back from the
   * back/forward cache (`pageshow` persisted). Returns the function that removes the listeners.
   */
  private watchNetwork(): () => void {
    if (typeof window === 'undefined' || typeof document === 'undefined') return () => undefined;
    const onOnline = () => this.reconnectRelays(true);
    const onResume = () => this.reconnectRelays(true);
    const onPageShow = (e: PageTransitionEvent) => e.persisted && this.reconnectRelays(true);
    const onUnload = () => this.sendPresenceBeacon(true);
    window.addEventListener('online', onOnline);
    window.addEventListener('pageshow', onPageShow);
    beforeUnloadHooks.add(onUnload);
    document.addEventListener('resume', onResume);
    return () => {
      window.removeEventListener('online', onOnline);
      window.removeEventListener('pageshow', onPageShow);
      beforeUnloadHooks.delete(onUnload);
      document.removeEventListener('resume', onResume);
    };
  }

  /** Asks the strategy to retry its relay sockets now (`cycle`: reopen open ones too, they may be dead after sleep). */
  private reconnectRelays(cycle: boolean): void {
    try {
      this.strategyModule?.reconnectRelaysNow?.(cycle);
    } catch {
      /* a strategy without it (mqtt.js reconnects by itself) */
    }
  }

  /**
   * Connection statistics: per peer its path, RTT, bytes and bitrate (from `getStats()`), and each
   * of this room's relays with its state. Bitrates are measured since the previous call.
   */
  async connectionStats(): Promise<ConnectionStats> {
    const at = Date.now();
    const peers: PeerConnectionStats[] = [];
    const connections = this.room?.getPeers() ?? {};
    for (const peer of this.peers.values()) {
      const pc = connections[peer.id];
      const reading = pc ? await readTransport(pc).catch(() => null) : null;
      const sent = reading?.bytesSent ?? 0;
      const received = reading?.bytesReceived ?? 0;
      const previous = this.transferSamples.get(peer.id) ?? { at: peer.joinedAt, sent: 0, received: 0 };
      const seconds = Math.max(0.001, (at - previous.at) / 1000);
      this.transferSamples.set(peer.id, { at, sent, received });
      peers.push({
        peerId: peer.id,
        name: peer.name,
        rttMs: reading?.rttMs ?? peer.rttMs,
        path: reading?.path ?? 'unknown',
        bytesSent: sent,
        bytesReceived: received,
        sendBitrate: Math.max(0, Math.round(((sent - previous.sent) * 8) / seconds)),
        receiveBitrate: Math.max(0, Math.round(((received - previous.received) * 8) / seconds)),
        connectedForMs: at - peer.joinedAt,
        silentForMs: this.heartbeat.lastHeardAt(peer.id) === null ? null : Math.max(0, at - (this.heartbeat.lastHeardAt(peer.id) as number)),
      });
    }
    const relays = this.relayStates();
    return { at, peers, relays, relaysDown: relays.length > 0 && !relays.some(r => r.state === 'connected') };
  }

  /** This room's relays and their states (patched Trystero's getRelayStates, else the sockets' readyState). */
  private relayStates(): RelayConnectionStats[] {
    const mine = this.options.relayUrls;
    const isMine = (url: string) => !mine?.length || mine.includes(url);
    const states = this.strategyModule?.getRelayStates?.();
    // Offline, an open socket is one the browser has not closed yet (see browserOffline): not connected.
    const offline = browserOffline();
    if (states) {
      return Object.entries(states)
        .filter(([url]) => isMine(url))
        .map(([url, s]) => ({
          url,
          state: s.state === 'closed' ? 'retired' : offline && s.state === 'connected' ? 'reconnecting' : s.state,
          reason: s.reason ?? null,
          retryAtMs: s.retryAtMs ?? null,
        }));
    }
    return Object.entries(this.strategyModule?.getRelaySockets() ?? {})
      .filter(([url]) => isMine(url))
      .map(([url, socket]) => ({ url, state: !offline && isRelayOpen(socket) ? 'connected' : this.relaySeen ? 'reconnecting' : 'connecting', reason: null, retryAtMs: null }));
  }

  /** Subscribes to mesh events; returns the unsubscribe function. */
  on<E extends keyof MeshEvents>(event: E, handler: MeshEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The roster as an array, oldest peer first: the peers this page is connected to. */
  peerList(): PeerInfo[] {
    return [...this.peers.values()];
  }

  /**
   * Everyone in the room as far as this page knows: connected peers first, then (partial mesh only)
   * members reached through other pages, marked `indirect`. In a full mesh the same as {@link peerList}.
   */
  memberList(): PeerInfo[] {
    return this.members?.list() ?? [];
  }

  /** The RTCPeerConnection to a peer (for connection stats and bench anchors), if connected. */
  peerConnection(peerId: string): RTCPeerConnection | undefined {
    return this.room?.getPeers()[peerId];
  }

  /**
   * The room's bulk links (one pair of negotiated data channels per peer, for the swarm), opened on
   * first call and closed when the room is left. The same object on every call.
   * @throws Error when the room was not started (or was left)
   */
  bulkLinks(): BulkNetwork {
    if (!this.room) throw new Error('mesh room not started');
    this.bulk ??= new MeshBulkLinks({
      selfId: this.selfId,
      peerIds: () => [...this.peers.keys()],
      peerConnection: peerId => this.peerConnection(peerId),
      onPeerJoin: handler => this.on('peerJoin', peer => handler(peer.id)),
      onPeerLeave: handler => this.on('peerLeave', peer => handler(peer.id)),
      charge: (peerId, channel, cost) => this.charge(peerId, channel, cost),
      penalise: (peerId, channel, reason, cost) => this.penalise(peerId, channel, reason, cost),
      countAccepted: () => this.countAccepted(),
      touch: peerId => {
        this.heartbeat.bulk(peerId);
        this.partial?.linkUsed(peerId);
      },
      ...(this.partial
        ? {
            findHolders: (cid: string) => this.findHolders(cid),
            announceHolding: (cids: string[], answer?: boolean) => this.announceHolding(cids, answer === true),
            holderHints: (cid: string) => this.holderHints.get(cid).filter(id => id !== this.selfId),
            askHolders: (cids: string[]) => this.askHolders(cids),
          }
        : {}),
    });
    return this.bulk;
  }

  /** Counts a message dropped by a feature's own validation under `channel:reason`, without a penalty. */
  countDrop(channel: string, reason: DropReason): void {
    this.counters.drop(channel, reason);
  }

  /**
   * The one penalty path: counts a dropped inbound message under `channel:reason` and charges
   * `cost` units (default 1; one unit = one 16 KiB Trystero chunk) to the peer's flood budget
   * ({@link FLOOD_LIMIT}); a peer over it is disconnected for the session (`error` `peer-flood`).
   */
  penalise(peerId: string, channel: string, reason: DropReason, cost = 1): void {
    this.counters.drop(channel, reason);
    if (cost > 0) this.charge(peerId, channel, cost);
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
    this.sendPresenceBeacon();
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
      const onMessage = (payload: string, peerId: string): void => {
        if (this.blockedPeers.has(peerId)) {
          this.counters.drop(spec.channel, 'flood');
          return;
        }
        // Only Trystero's join (its data channel open on this side) lists a peer. A message from one
        // not listed is held a few seconds: the peer may have seen the channel open first and sent at
        // once; it is handled when the peer is listed, else dropped (a peer dropped for silence, or a
        // connection still delivering after its peer left).
        if (!this.peers.has(peerId)) {
          if (this.left || !this.early.hold(peerId, spec.channel, typeof payload === 'string' ? payload.length : MAX_EARLY_BYTES, () => onMessage(payload, peerId))) this.counters.drop(spec.channel, 'not-joined');
          return;
        }
        const result = validator.check(payload, peerId);
        if (!result.ok) return;
        this.heartbeat.touch(peerId);
        emitter.emit('message', result.value, peerId);
      };
      action.onMessage = (payload, { peerId }) => onMessage(payload, peerId);
      entry = { action, emitter, validator, flood: spec.flood === true, syncedOnConnect: spec.syncedOnConnect === true };
      this.channels.set(spec.channel, entry);
    }
    const { action, emitter } = entry;
    return {
      send: async (message, target) => {
        if (!this.room) return;
        const text = encodeMessage(spec, message);
        if (this.partial && spec.flood && target === undefined) return this.partial.publish(spec.channel, text);
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

  /** The partial mesh's neighbours and counters, or null when the room is a full mesh (for tests and the panel). */
  overlayState(): { neighbors: string[]; passive: number; links: number; broadcast: Record<string, number> } | null {
    const p = this.partial;
    return p ? { neighbors: p.neighbors(), passive: p.membership.passive.size, links: p.membership.linkCount, broadcast: { ...p.broadcast.stats } } : null;
  }

  private startPartialMesh(options: PartialMeshOptions): void {
    const room = this.room as Room & { connectTo?: (peerId: string, hint?: string) => Promise<boolean>; disconnectPeer?: (peerId: string) => Promise<void> };
    this.partial = new PartialMesh(
      {
        selfId: this.selfId,
        connectTo: (peerId, hint) => room.connectTo?.(peerId, hint) ?? Promise.resolve(false),
        isLinked: peerId => this.peers.has(peerId),
        // A goodbye on both sides (patched room.disconnectPeer): neither announces again for a link the overlay dropped.
        closePeer: peerId => (room.disconnectPeer ? void room.disconnectPeer(peerId).catch(() => undefined) : this.closePeer(peerId)),
        sendView: (peerId, message) => void this.channel(membershipMessage).send(message, peerId).catch(() => undefined),
        sendPush: (peerId, message) => void this.channel(broadcastMessage).send(message, peerId).catch(() => undefined),
        penalise: (peerId, reason) => this.penalise(peerId, broadcastMessage.channel, reason),
        replayOnConnect: topic => this.channels.get(topic)?.syncedOnConnect !== true,
        check: (topic, body, origin) => {
          const entry = this.channels.get(topic);
          if (!entry?.flood) return false;
          const result = entry.validator.check(body, origin);
          if (!result.ok) return false;
          this.checkedBodies.set(`${topic}\n${origin}\n${body}`, result.value);
          return true;
        },
        deliver: m => {
          const key = `${m.topic}\n${m.origin}\n${m.body}`;
          const value = this.checkedBodies.get(key);
          this.checkedBodies.delete(key);
          if (value === undefined) return;
          if (m.topic === roomPresenceMessage.channel) return this.presenceHeard(value as RoomPresenceMessage, m);
          this.members?.heardFrom(m.origin);
          this.channels.get(m.topic)?.emitter.emit('message', value, m.origin);
        },
      },
      options,
    );
    this.channel(membershipMessage).onMessage((msg, peerId) => this.partial?.membership.receive(peerId, msg));
    this.channel(broadcastMessage).onMessage((msg, peerId) => this.partial?.broadcast.receive(peerId, msg));
    // Who is in the room beyond the neighbours: flooded beacons, and a neighbour's list on link-up.
    // room-presence is handled where forwarded messages are delivered (it needs the message id: the beacon's number).
    this.channel(roomPresenceMessage);
    this.channel(swarmHoldersMessage).onMessage((msg, origin) => {
      if (msg.t === 'holds')
        for (const cid of msg.cids) {
          this.holderHints.add(cid, origin);
          this.bulk?.hinted(cid);
        }
      else for (const cid of msg.cids) this.bulk?.wanted(cid);
    });
    this.channel(roomMembersMessage).onMessage(msg => {
      this.members?.addSnapshot(msg.members);
      this.refreshStatus();
    });
    this.sendPresenceBeacon();
    const beacon = () => {
      this.presenceTimer = setTimeout(() => {
        this.sendPresenceBeacon();
        this.members?.sweep();
        this.refreshStatus();
        beacon();
      }, PRESENCE_INTERVAL_MS * (0.9 + Math.random() * 0.2));
    };
    beacon();
    // Members expire between beacons too (a page that crashed leaves within the time-to-live plus 5 s).
    this.timers.push(setInterval(() => this.members?.sweep(), 5000));
  }

  /**
   * Partial mesh: opens a temporary link to one or two pages known to hold `cid` (from the room's
   * `swarm-holders` messages) that this page is not linked to; with none known, asks the room
   * (`want`) and waits up to {@link HOLDER_REPLY_MS} for an answer. Resolves once a link to a holder
   * is up, or after {@link HOLDER_SEARCH_MS}.
   */
  private async findHolders(cid: string): Promise<void> {
    const partial = this.partial;
    if (!partial) return;
    const deadline = Date.now() + HOLDER_SEARCH_MS;
    let hints = this.holderHints.get(cid).filter(id => id !== this.selfId);
    if (!hints.some(id => !this.peers.has(id))) {
      this.askHolders([cid], true);
      await waitFor(() => this.holderHints.get(cid).some(id => id !== this.selfId && !this.peers.has(id)), HOLDER_REPLY_MS);
      hints = this.holderHints.get(cid).filter(id => id !== this.selfId);
    }
    const targets = hints.filter(id => !this.peers.has(id)).slice(0, 2);
    for (const id of targets) partial.openTemporary(id);
    await waitFor(() => targets.some(id => this.bulk?.link(id)), Math.max(0, deadline - Date.now()));
  }

  /**
   * Partial mesh: floods that this page holds `cids`, at most once per file per
   * {@link HOLDS_REPEAT_MS} (`answer`, to a `want`: per {@link HOLDS_ANSWER_MS}), batched over
   * {@link HOLDERS_BATCH_MS}.
   */
  private announceHolding(cids: string[], answer = false): void {
    const now = Date.now();
    const window = answer ? HOLDS_ANSWER_MS : HOLDS_REPEAT_MS;
    const fresh = cids.filter(cid => now - (this.holding.get(cid) ?? -Infinity) >= window);
    for (const cid of fresh) {
      this.holding.delete(cid);
      this.holding.set(cid, now);
      this.holdsOut.add(cid);
    }
    if (this.holding.size > MAX_HINTED_FILES) for (const cid of [...this.holding.keys()].slice(0, this.holding.size - MAX_HINTED_FILES)) this.holding.delete(cid);
    this.scheduleHoldersFlush();
  }

  /**
   * Partial mesh: asks the room who holds `cids` (`want`), each file at most once per
   * {@link WANT_REPEAT_MS}, batched over {@link HOLDERS_BATCH_MS} (`now`: sent at once).
   */
  private askHolders(cids: string[], now = false): void {
    const at = Date.now();
    for (const cid of cids) {
      if (at - (this.wantedAt.get(cid) ?? -Infinity) < WANT_REPEAT_MS) continue;
      this.wantedAt.delete(cid);
      this.wantedAt.set(cid, at);
      this.wantsOut.add(cid);
    }
    if (this.wantedAt.size > MAX_HINTED_FILES) for (const cid of [...this.wantedAt.keys()].slice(0, this.wantedAt.size - MAX_HINTED_FILES)) this.wantedAt.delete(cid);
    if (now) this.flushHolders();
    else this.scheduleHoldersFlush();
  }

  private scheduleHoldersFlush(): void {
    this.holdersTimer ??= setTimeout(() => this.flushHolders(), HOLDERS_BATCH_MS);
  }

  /** Sends what {@link announceHolding} and {@link askHolders} queued, at most {@link MAX_HOLDS_CIDS} files per message. */
  private flushHolders(): void {
    clearTimeout(this.holdersTimer);
    this.holdersTimer = undefined;
    const channel = this.channel(swarmHoldersMessage);
    for (const [t, queued] of [['holds', this.holdsOut], ['want', this.wantsOut]] as const) {
      const cids = [...queued];
      queued.clear();
      for (let i = 0; i < cids.length; i += MAX_HOLDS_CIDS) void channel.send({ t, v: PROTOCOL_VERSION, cids: cids.slice(i, i + MAX_HOLDS_CIDS) }).catch(() => undefined);
    }
  }

  /** A `room-presence` delivered by the overlay; its number is the publisher's counter in the id (`origin:n`, see PartialMesh.publish). */
  private presenceHeard(msg: RoomPresenceMessage, m: Delivered): void {
    const seq = m.id.startsWith(`${m.origin}:`) ? Number(m.id.slice(m.origin.length + 1)) : NaN;
    if (!Number.isSafeInteger(seq)) return;
    this.members?.heard(m.origin, msg.name, msg.bye === true, seq, m.from === m.origin);
  }

  /** Floods this page's `room-presence` (partial mesh): its name, or `bye` when it leaves. */
  private sendPresenceBeacon(bye = false): void {
    if (!this.partial) return;
    // Synchronously on the data channels: a bye is sent while the page unloads.
    const body = encodeMessage(roomPresenceMessage, bye ? { v: PROTOCOL_VERSION, name: this.userName, bye: true } : { v: PROTOCOL_VERSION, name: this.userName });
    this.partial.publish(roomPresenceMessage.channel, body, bye);
  }

  /** Leaves the Trystero room and stops timers. Called by the last {@link MeshHandle.release}. */
  async leave(): Promise<void> {
    if (this.partial && !this.left && this.peers.size) {
      // Say so to the whole room before the links close (pages that are not neighbours hear it forwarded).
      this.sendPresenceBeacon(true);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    this.left = true;
    clearTimeout(this.presenceTimer);
    clearTimeout(this.holdersTimer);
    this.members?.clear();
    this.partial?.stop();
    this.partial = null;
    this.bulk?.destroy();
    this.bulk = null;
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.removeListeners?.();
    this.removeListeners = null;
    const room = this.room;
    this.room = null;
    this.peers.clear();
    this.connections.clear();
    if (room) await room.leave();
    this.emitter.events = {};
  }

  private countChunk(peerId: string, channel: string): void {
    // A long message in progress is a sign of life.
    if (this.charge(peerId, channel, 1)) this.heartbeat.touch(peerId);
  }

  /**
   * Charges `cost` units to a peer's flood budget (every inbound byte on every channel is charged:
   * Trystero chunks here, bulk control messages by size in MeshBulkLinks, unrequested bulk frames
   * through `penalise`). Over budget: the peer is blocked, disconnected and `peer-flood` reported.
   * @returns false when the peer is (now) blocked
   */
  private charge(peerId: string, channel: string, cost: number): boolean {
    if (this.blockedPeers.has(peerId)) return false;
    if (this.floodLimiter.take(peerId, cost)) return true;
    this.blockedPeers.add(peerId);
    this.early.forget(peerId);
    this.counters.drop(channel, 'flood');
    this.emitter.emit('error', { code: 'peer-flood', message: `a peer sent too much data and was disconnected` });
    this.handlePeerLeave(peerId, 'flood');
    this.closePeer(peerId);
    return false;
  }

  /**
   * Closes the connection to a peer and lets Trystero forget it at once. `RTCPeerConnection.close()`
   * fires no state-change event (W3C webrtc-pc, "close the connection"), so Trystero would keep the
   * dead peer in its room until the peer announced again; dispatching `connectionstatechange` makes
   * its handler read `connectionState` (now `closed`) and run its own leave path.
   */
  private closePeer(peerId: string): void {
    const pc = this.room?.getPeers()[peerId];
    if (!pc) return;
    try {
      pc.close();
      pc.dispatchEvent(new Event('connectionstatechange'));
    } catch {
      /* already closed */
    }
  }

  private handlePeerJoin(peerId: string): void {
    if (this.peers.has(peerId) || this.blockedPeers.has(peerId) || this.left) return;
    const peer: PeerInfo = { id: peerId, name: null, rttMs: null, joinedAt: Date.now() };
    this.peers.set(peerId, peer);
    const pc = this.peerConnection(peerId);
    if (pc) this.connections.set(peerId, pc);
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: this.userName }, peerId);
    this.emitter.emit('peerJoin', { ...peer });
    this.emitRoster();
    this.members?.linked(peer);
    this.refreshStatus();
    this.partial?.linkUp(peerId);
    if (this.partial) void this.channel(roomMembersMessage).send({ v: PROTOCOL_VERSION, members: this.members?.snapshot(peerId, MAX_SNAPSHOT_MEMBERS) ?? [] }, peerId).catch(() => undefined);
    this.early.listed(peerId);
  }

  private handlePeerLeave(peerId: string, reason: PeerLeaveReason): void {
    const peer = this.peers.get(peerId);
    const pc = this.connections.get(peerId);
    this.connections.delete(peerId);
    this.channels.forEach(c => c.validator.forgetPeer(peerId));
    this.heartbeat.forget(peerId);
    this.stalledReadings.delete(peerId);
    this.transferSamples.delete(peerId);
    this.partial?.linkDown(peerId);
    if (!peer) {
      this.early.forget(peerId);
      return;
    }
    this.peers.delete(peerId);
    const leave: PeerLeave = { reason };
    if (reason === 'connection-lost' && pc) leave.connection = `${pc.connectionState}/${pc.iceConnectionState}`;
    this.emitter.emit('peerLeave', { ...peer }, leave);
    this.emitRoster();
    this.members?.unlinked(peerId, leave, this.partial !== null);
    this.refreshStatus();
  }

  private updatePeer(peerId: string, change: Partial<PeerInfo>): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    Object.assign(peer, change);
    this.emitRoster();
    this.members?.linked(peer);
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
    const open = !browserOffline() && sockets.some(isRelayOpen);
    if (open) this.relaySeen = true;
    this.relaysDown = this.relaySeen && !open;
    this.refreshStatus();
  }

  private refreshStatus(): void {
    if (this.left) return;
    let next: MeshStatus;
    const down = this.relaysDown ? { relaysDown: true } : {};
    const members = this.members?.size ?? 0;
    if (this.peers.size > 0) next = { state: 'connected', peers: this.peers.size, ...(this.partial && members > this.peers.size ? { members: members + 1 } : {}), ...down };
    else if (this.relaySeen) next = { state: 'waiting', ...down };
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

  private fail(code: MeshErrorCode, message: string): void {
    this.status = { state: 'failed', reason: message };
    this.emitter.emit('status', this.status);
    this.emitter.emit('error', { code, message });
  }
}

/**
 * Trystero's join errors in plain words: its "could not connect to peer X after exchanging SDP;
 * configure TURN servers…" (a developer's hint) becomes `peer-unreachable`.
 */
function joinError(error: string): MeshError {
  if (/after exchanging SDP/.test(error)) {
    return { code: 'peer-unreachable', message: 'could not connect directly to one visitor; trying again when they announce themselves' };
  }
  return { code: 'join-error', message: error };
}

/**
 * Whether the browser says it has no network (`navigator.onLine` false, the `offline` event). A relay
 * socket may then still read as open for a long time: a TCP connection whose path is gone is not
 * closed until something is sent and times out. Seen with Chromium's offline emulation too, where the
 * socket usually closes at once but, 1 time in 4 to 16, stayed open with its TCP peer gone (the
 * mesh-recovery test "reconnects to the relay when the browser comes back online").
 */
function browserOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
