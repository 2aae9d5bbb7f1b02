import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { DropReason } from '../wire';
import { BulkLink, RtcBulkLink } from './bulk-link';
import { OwnedTimers } from './owned-timers';

/** Events of a {@link BulkNetwork}. */
export interface BulkNetworkEvents {
  /** A link to a peer is ready (both sides have seen each other's hello): features may send on it. */
  open: (link: BulkLink) => void;
  /** The link to a peer went down (the peer left, or its connection was replaced; a new `open` may follow). */
  close: (peerId: string) => void;
  /** Control text from a peer, already charged to its flood budget; the feature validates it. */
  control: (text: unknown, peerId: string) => void;
  /** A frame from a peer's data channel; the feature validates it and penalises what it did not ask for. */
  data: (frame: unknown, peerId: string) => void;
  /** Partial mesh only: a page of the room asked who holds `cid` (a holder answers with {@link BulkNetwork.announceHolding}). */
  want: (cid: string) => void;
  /** Partial mesh only: a page this one has no link to said it holds `cid` (see {@link BulkNetwork.holderHints}). */
  hint: (cid: string) => void;
}

/**
 * The narrow interface a bulk-transfer feature (the swarm) uses: one {@link BulkLink} per peer,
 * owned, opened, re-opened and closed by the mesh, plus the one penalty path. Implemented by
 * {@link MeshBulkLinks} over WebRTC and by `core/testing`'s in-memory network in unit tests.
 */
export interface BulkNetwork {
  /** This page's peer id. */
  readonly selfId: string;
  /** The ready link to `peerId`, if any. */
  link(peerId: string): BulkLink | undefined;
  /** Every ready link. */
  links(): BulkLink[];
  /** Subscribes to an event (see {@link BulkNetworkEvents}); returns the unsubscribe function. */
  on<E extends keyof BulkNetworkEvents>(event: E, handler: BulkNetworkEvents[E]): Unsubscribe;
  /**
   * Counts a dropped inbound message under `channel:reason` and charges `cost` units of the peer's
   * flood budget (one unit = one 16 KiB chunk's worth; see `FLOOD_LIMIT` in mesh-room.ts). A peer
   * over its budget is disconnected for the session and `peer-flood` is reported.
   */
  penalise(peerId: string, channel: string, reason: DropReason, cost?: number): void;
  /** Counts a message a feature accepted after its own validation. */
  countAccepted(): void;
  /**
   * Partial mesh only: looks for holders of `cid` this page has no link to (the room's
   * `swarm-holders` hints, else a `want` to the room) and opens a temporary link to one or two of
   * them. Resolves when a link to a holder is open or the search gave up (about 8 s); the swarm then
   * learns what the new peer holds from its `index` as usual. Absent in a full mesh.
   */
  findHolders?(cid: string): Promise<void>;
  /** Partial mesh only: tells the room this page now holds these files (so pages not linked to it can find it); `answer`: in answer to a `want`. Absent in a full mesh. */
  announceHolding?(cids: string[], answer?: boolean): void;
  /** Partial mesh only: pages that said they hold `cid` (most recent first), linked or not. Absent in a full mesh. */
  holderHints?(cid: string): string[];
  /** Partial mesh only: asks the room who holds these files (answers arrive as `hint` events); each file at most once a minute. Absent in a full mesh. */
  askHolders?(cids: string[]): void;
}

/** What {@link MeshBulkLinks} needs from its mesh room. */
export interface BulkLinkHost {
  /** This page's peer id. */
  readonly selfId: string;
  /** Peers in the roster now. */
  peerIds(): string[];
  /** The RTCPeerConnection to a peer, if Trystero lists one. */
  peerConnection(peerId: string): RTCPeerConnection | undefined;
  /** Subscribes to roster joins; returns the unsubscribe function. */
  onPeerJoin(handler: (peerId: string) => void): Unsubscribe;
  /** Subscribes to roster leaves; returns the unsubscribe function. */
  onPeerLeave(handler: (peerId: string) => void): Unsubscribe;
  /** Charges `cost` flood units to a peer; false when it is over budget (and now disconnected). */
  charge(peerId: string, channel: string, cost: number): boolean;
  /** The mesh's one penalty path (see {@link BulkNetwork.penalise}). */
  penalise(peerId: string, channel: string, reason: DropReason, cost?: number): void;
  /** Counts a message a feature accepted (the mesh's wire stats). */
  countAccepted(): void;
  /** Something arrived from the peer: a sign of life for its heartbeat (and use of a temporary link). */
  touch(peerId: string): void;
  /** Partial mesh only (see {@link BulkNetwork.findHolders}). */
  findHolders?(cid: string): Promise<void>;
  /** Partial mesh only (see {@link BulkNetwork.announceHolding}). */
  announceHolding?(cids: string[], answer?: boolean): void;
  /** Partial mesh only (see {@link BulkNetwork.holderHints}). */
  holderHints?(cid: string): string[];
  /** Partial mesh only (see {@link BulkNetwork.askHolders}). */
  askHolders?(cids: string[]): void;
}

/** Bytes per flood unit: Trystero's chunk size, so that every channel is charged alike. */
export const FLOOD_UNIT_BYTES = 16 * 1024;
/** The hello each side repeats on a new link's control channel until it hears the other's (swarm schema `hello`). */
export const LINK_HELLO = JSON.stringify({ t: 'hello', v: 1 });
/**
 * How often a link that is not ready checks its connection, ms: when Trystero replaced the peer's
 * connection, the link is closed and opened again on the current one. On the same connection it
 * keeps waiting: the peer may have no bulk side yet (a chat-only page, or a widget still loading),
 * and closing a negotiated channel closes the peer's side too, so closing and re-creating it could
 * close the channels the peer opens in the meantime.
 */
export const LINK_READY_TIMEOUT_MS = 6000;
/** Delay before re-opening a link that closed while its peer is still in the room, ms. */
export const LINK_REOPEN_DELAY_MS = 500;
/** Measures control text in UTF-8 bytes for the flood budget. */
const utf8Encoder = new TextEncoder();
/** Retries (every 200 ms) while a peer who just joined has no RTCPeerConnection listed yet. */
const CONNECTION_LOOKUP_ATTEMPTS = 100;

/**
 * The mesh's bulk links: one {@link RtcBulkLink} per peer in the room, opened when the peer joins
 * (after the room is asked for bulk links at all: a chat-only page opens none), re-opened when it
 * closes while the peer stays (Trystero replaced the connection), closed when the peer leaves.
 * Every control message is charged to the sender's flood budget by size before a feature sees it;
 * data frames are charged by the feature through `penalise` when it did not ask for them (asked-for
 * frames are bounded by the asker's own requests). Every timer is owned here and stopped by `destroy`.
 */
export class MeshBulkLinks implements BulkNetwork {
  private readonly emitter = createNanoEvents<BulkNetworkEvents>();
  /** Every link, ready or not, by peer id. */
  private readonly all = new Map<string, RtcBulkLink>();
  private readonly timers = new OwnedTimers();
  private readonly offs: Unsubscribe[];
  private destroyed = false;

  constructor(private readonly host: BulkLinkHost) {
    this.offs = [host.onPeerJoin(peerId => this.open(peerId)), host.onPeerLeave(peerId => this.drop(peerId))];
    for (const peerId of host.peerIds()) this.open(peerId);
  }

  get selfId(): string {
    return this.host.selfId;
  }

  link(peerId: string): BulkLink | undefined {
    const link = this.all.get(peerId);
    return link?.ready ? link : undefined;
  }

  links(): BulkLink[] {
    return [...this.all.values()].filter(link => link.ready);
  }

  on<E extends keyof BulkNetworkEvents>(event: E, handler: BulkNetworkEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  penalise(peerId: string, channel: string, reason: DropReason, cost = 1): void {
    this.host.penalise(peerId, channel, reason, cost);
  }

  countAccepted(): void {
    this.host.countAccepted();
  }

  /** Set in a partial mesh only (see {@link BulkNetwork.findHolders}). */
  get findHolders(): ((cid: string) => Promise<void>) | undefined {
    const find = this.host.findHolders;
    return find ? cid => find(cid) : undefined;
  }

  /** Set in a partial mesh only (see {@link BulkNetwork.announceHolding}). */
  get announceHolding(): ((cids: string[], answer?: boolean) => void) | undefined {
    const announce = this.host.announceHolding;
    return announce ? (cids, answer) => announce(cids, answer) : undefined;
  }

  /** Set in a partial mesh only (see {@link BulkNetwork.holderHints}). */
  get holderHints(): ((cid: string) => string[]) | undefined {
    const hints = this.host.holderHints;
    return hints ? cid => hints(cid) : undefined;
  }

  /** Set in a partial mesh only (see {@link BulkNetwork.askHolders}). */
  get askHolders(): ((cids: string[]) => void) | undefined {
    const ask = this.host.askHolders;
    return ask ? cids => ask(cids) : undefined;
  }

  /** Called by the mesh: a page said it holds `cid` (emitted as `hint`). */
  hinted(cid: string): void {
    this.emitter.emit('hint', cid);
  }

  /** Called by the mesh: a page of the room asked who holds `cid` (emitted as `want`). */
  wanted(cid: string): void {
    this.emitter.emit('want', cid);
  }

  /** Closes every link and stops every timer. Idempotent. */
  destroy(): void {
    this.destroyed = true;
    this.offs.splice(0).forEach(off => off());
    this.timers.stop();
    for (const peerId of [...this.all.keys()]) this.drop(peerId);
    this.emitter.events = {};
  }

  private open(peerId: string, attempt = 0): void {
    if (this.destroyed || this.all.has(peerId) || !this.host.peerIds().includes(peerId)) return;
    const pc = this.host.peerConnection(peerId);
    if (!pc || pc.connectionState === 'closed') {
      // The connection may not be listed yet right after the join event: look again shortly.
      if (attempt < CONNECTION_LOOKUP_ATTEMPTS) this.timers.later(200, () => this.open(peerId, attempt + 1));
      return;
    }
    let link: RtcBulkLink;
    try {
      link = new RtcBulkLink(peerId, pc, LINK_HELLO);
    } catch {
      return; // the connection closed under us; the peer's leave or a new join follows
    }
    this.all.set(peerId, link);
    link.on('control', text => {
      this.host.touch(peerId);
      // Charged by its UTF-8 size on the wire (a string's length would undercount multi-byte text up to 3×).
      const bytes = typeof text === 'string' ? utf8Encoder.encode(text).byteLength : FLOOD_UNIT_BYTES;
      if (this.host.charge(peerId, 'bulk-ctl', Math.max(bytes, 1) / FLOOD_UNIT_BYTES)) this.emitter.emit('control', text, peerId);
    });
    link.on('data', frame => {
      // Bulk frames are a sign of life: a peer busy sending a file must not be dropped because its
      // heartbeats (on Trystero's channel, over the same connection) came late behind them.
      this.host.touch(peerId);
      this.emitter.emit('data', frame, peerId);
    });
    link.on('ready', () => this.emitter.emit('open', link));
    link.on('closed', () => {
      if (this.all.get(peerId) !== link) return;
      this.all.delete(peerId);
      this.emitter.emit('close', peerId);
      // Trystero may have replaced the connection to a peer that is still in the room: open again.
      this.timers.later(LINK_REOPEN_DELAY_MS, () => this.open(peerId));
    });
    this.timers.later(LINK_READY_TIMEOUT_MS, () => this.checkReady(peerId, link, pc));
  }

  /**
   * A link not ready after {@link LINK_READY_TIMEOUT_MS}: closed when its connection is no longer the
   * peer's current one ('closed' above opens it again on the current connection), else left waiting.
   */
  private checkReady(peerId: string, link: RtcBulkLink, pc: RTCPeerConnection): void {
    if (this.destroyed || this.all.get(peerId) !== link || link.ready) return;
    const replaced = this.host.peerConnection(peerId) !== pc || pc.connectionState === 'closed' || pc.connectionState === 'failed';
    if (replaced) link.close();
    else this.timers.later(LINK_READY_TIMEOUT_MS, () => this.checkReady(peerId, link, pc));
  }

  private drop(peerId: string): void {
    const link = this.all.get(peerId);
    if (!link) return;
    this.all.delete(peerId);
    link.close();
    this.emitter.emit('close', peerId);
  }
}
