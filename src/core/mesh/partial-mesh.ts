import { Broadcast, Delivered } from '../overlay/broadcast';
import { Membership, MembershipOptions } from '../overlay/membership';
import type { BroadcastMessage, MembershipMessage } from '../wire/overlay-schemas';

/** What the partial mesh needs from the {@link MeshRoom} it runs in. */
export interface PartialMeshHost {
  /** This page's peer id. */
  selfId: string;
  /** Asks Trystero for a connection to one peer now (patched `room.connectTo`); false when no relay could carry it. */
  connectTo(peerId: string, hint: 'join' | 'high' | 'low' | 'temp'): Promise<boolean>;
  /** Whether a connection to `peerId` is up (in the roster). */
  isLinked(peerId: string): boolean;
  /** Ends the connection to a peer as a goodbye on both sides (its `peerLeave` follows; nobody announces again for it). */
  closePeer(peerId: string): void;
  /** Sends an `overlay-view` message to a linked peer (dropped when there is no link). */
  sendView(peerId: string, message: MembershipMessage): void;
  /** Sends an `overlay-push` message to a linked peer (dropped when there is no link). */
  sendPush(peerId: string, message: BroadcastMessage): void;
  /** The mesh's one penalty path (a neighbour forwarded something its checks refused). */
  penalise(peerId: string, reason: 'invalid-forward' | 'bad-hops'): void;
  /** Checks a pushed body of `topic` at this hop (the channel's wire rules, keyed by the message's origin for rate). */
  check(topic: string, body: string, origin: string, from: string): boolean | Promise<boolean>;
  /** A pushed message passed its checks: hand it to the channel's handlers as from `origin`. */
  deliver(message: Delivered): void;
  /** Whether cached messages of `topic` are announced to a new neighbour (false for a channel whose feature syncs new peers itself; see `MessageSpec.syncedOnConnect`). */
  replayOnConnect?(topic: string): boolean;
}

/** Options of the partial mesh: membership sizes (defaults: active view 6, between 4 and 8; 12 links per page). */
export type PartialMeshOptions = Partial<Pick<MembershipOptions, 'activeTarget' | 'activeMin' | 'activeMax' | 'maxLinks' | 'shuffleIntervalMs'>>;

/** How long a peer heard announcing counts as in the room, ms (two of Trystero's 60 s announce intervals, and some). */
const KNOWN_FOR_MS = 150_000;
/** How long a peer admitted once stays admitted (its offer follows its nudge), ms. */
const ADMITTED_FOR_MS = 30_000;
/**
 * A peer admitted here holds a place under the link cap until its link opens, for at most this
 * long, ms: a link on one relay opens in about a second, so 10 s covers a slow one, and a peer
 * admitted that never connects does not hold the place for the whole {@link ADMITTED_FOR_MS}.
 */
const RESERVED_FOR_MS = 10_000;
/** How many pages of a room admit a newcomer that announces (its contacts; it joins through the first link that opens). */
const CONTACTS_PER_NEWCOMER = 2;
/** A peer whose link went down is not admitted by the contact rule again for this long, ms (no reconnect at every announce). */
const SUPPRESS_AFTER_LINK_MS = 300_000;
/** A temporary link (to a holder for a transfer) with nothing received on its bulk channels for this long is closed, ms. */
export const TEMP_IDLE_MS = 20_000;
/** A temporary link asked for that has not opened within this is given up, ms. */
const TEMP_OPEN_MS = 15_000;

/**
 * The partial mesh in the browser: {@link Membership} (HyParView) over Trystero connections and
 * {@link Broadcast} (Plumtree) over the neighbours' data channels. Trystero asks {@link admit}
 * before it answers an announcement or an offer (patched `config.admitPeer`), so a page connects to
 * its neighbours and its joiners only, not to every peer that announces:
 * - a room that fits in one active view (at most `activeTarget + 1` pages known) is a full mesh;
 * - a peer this page asked for, or one that asks with a `join` or `high` hint, is admitted; a
 *   `low` one while the active view has room;
 * - a page announcing unasked is admitted by its {@link CONTACTS_PER_NEWCOMER} contacts, the pages
 *   whose FNV-1a hash of (announcer, page) is lowest among the pages known, and admits them in turn
 *   (both sides compute the same pair from what they heard, so an offer is not sent to a page that
 *   will ignore it); this is how a newcomer gets in: its contacts answer its first announcement.
 *   A page heard before is admitted this way only while this page is short of neighbours.
 *   A pair whose link went down is not reconnected this way for {@link SUPPRESS_AFTER_LINK_MS};
 * - never beyond `maxLinks` connections.
 */
export class PartialMesh {
  /** HyParView membership: the active view (neighbours) and the passive view. */
  readonly membership: Membership;
  /** Plumtree broadcast over the neighbours. */
  readonly broadcast: Broadcast;
  /** Peers heard (announcing, asking, linked) and when, ms. */
  private readonly known = new Map<string, number>();
  private readonly admittedUntil = new Map<string, number>();
  /** Peers admitted whose link has not opened yet, and since when, ms: counted in the cap (see {@link RESERVED_FOR_MS}). */
  private readonly reservedSince = new Map<string, number>();
  private readonly suppressedUntil = new Map<string, number>();
  private readonly options: Required<PartialMeshOptions>;
  /** Messages this page has published, for their ids (`selfId:n`). */
  private published = 0;
  /** Temporary links (a transfer with a page that is not a neighbour): peer → last use, ms. Outside the overlay, inside the cap. */
  private readonly temp = new Map<string, number>();
  private readonly tempTimer: ReturnType<typeof setInterval>;

  constructor(
    private readonly host: PartialMeshHost,
    options: PartialMeshOptions = {},
  ) {
    this.membership = new Membership(
      host.selfId,
      {
        connect: peerId => {
          // A temporary link the overlay now wants as a neighbour: it is one from now on.
          if (this.temp.delete(peerId) && host.isLinked(peerId)) return this.membership.linkUp(peerId);
          void host.connectTo(peerId, this.membership.pendingHint(peerId) ?? 'low').then(sent => {
            if (!sent) this.membership.linkFailed(peerId);
          });
        },
        close: peerId => host.closePeer(peerId),
        send: (peerId, message) => host.sendView(peerId, message),
      },
      // connectTimeoutMs 6 s: a link between two pages on one relay opens in about a second; a passive id of a page that closed is given up sooner.
      { connectTimeoutMs: 6000, ...options, adoptLinks: true, otherLinks: () => this.temp.size + this.reservedCount(), discover: () => this.knownPeers().filter(id => !this.membership.active.has(id)) },
    );
    this.options = {
      activeTarget: options.activeTarget ?? 6,
      activeMin: options.activeMin ?? 4,
      activeMax: options.activeMax ?? 8,
      maxLinks: options.maxLinks ?? 12,
      shuffleIntervalMs: options.shuffleIntervalMs ?? 10_000,
    };
    this.broadcast = new Broadcast(host.selfId, { send: (peerId, m) => host.sendPush(peerId, m), penalise: (peerId, reason) => host.penalise(peerId, reason) }, {
      validate: (topic, body, from, origin) => host.check(topic, body, origin, from),
      replayOnConnect: topic => host.replayOnConnect?.(topic) ?? true,
    });
    this.membership.on('neighborUp', id => this.broadcast.neighborUp(id));
    this.membership.on('neighborDown', id => this.broadcast.neighborDown(id));
    this.broadcast.on('deliver', m => host.deliver(m));
    this.membership.start([]);
    this.tempTimer = setInterval(() => this.closeIdleTemporaryLinks(), 5000);
  }

  /** Trystero's question (patched `config.admitPeer`): may this announcement or offer start a connection? */
  admit(peerId: string, hint: string | undefined, _kind: 'announce' | 'offer'): boolean {
    const now = Date.now();
    const m = this.membership;
    // A temporary link for a transfer (the asker holds or wants a file): outside the overlay, inside the cap.
    if (hint === 'temp' && !m.active.has(peerId) && !m.isPending(peerId)) {
      if (!this.temp.has(peerId) && this.linkCount() >= this.options.maxLinks) return false;
      this.temp.set(peerId, now);
      return true;
    }
    const firstHeard = !this.known.has(peerId);
    this.known.set(peerId, now);
    if (m.isPending(peerId) || this.temp.has(peerId) || (this.admittedUntil.get(peerId) ?? 0) > now) return true;
    if (this.linkCount() >= this.options.maxLinks) return false;
    let ok: boolean;
    if (hint === 'join' || hint === 'high') ok = true;
    else if (hint === 'low') ok = m.active.size < this.options.activeMax;
    else if (this.knownPeers().length + 1 <= this.options.activeTarget + 1) ok = true;
    else if ((this.suppressedUntil.get(peerId) ?? 0) > now) ok = false;
    // A page heard before (its periodic announcement) is not a newcomer: the contact rule is for newcomers, or for a page short of neighbours.
    else if (!firstHeard && m.active.size >= this.options.activeTarget) ok = false;
    else ok = this.isContactFor(peerId) || this.isContactOf(peerId);
    if (ok) {
      this.admittedUntil.set(peerId, now + ADMITTED_FOR_MS);
      if (!this.host.isLinked(peerId)) this.reservedSince.set(peerId, now);
    }
    return ok;
  }

  /** A Trystero connection to `peerId` is up (roster join). */
  linkUp(peerId: string): void {
    this.reservedSince.delete(peerId);
    // A temporary link is for a transfer: it does not make the page a neighbour candidate by itself.
    if (this.temp.has(peerId)) {
      this.temp.set(peerId, Date.now());
      return;
    }
    this.known.set(peerId, Date.now());
    this.membership.linkUp(peerId);
  }

  /** The connection to `peerId` is gone (roster leave). */
  linkDown(peerId: string): void {
    this.reservedSince.delete(peerId);
    if (this.temp.delete(peerId)) return;
    this.admittedUntil.delete(peerId);
    this.suppressedUntil.set(peerId, Date.now() + SUPPRESS_AFTER_LINK_MS);
    this.membership.linkDown(peerId);
  }

  /**
   * Sends a message of ours on `topic` to the whole room, forwarded along the overlay (`urgent`: to
   * every neighbour at once, see {@link Broadcast.publish}). While the room is a full mesh (every
   * page this one knows is its neighbour, see {@link isFullMesh}) every message goes to every
   * neighbour at once: along a tree, a page that is linked to the author could get it one hop later
   * through another page, and a small room must feel as it did before the partial mesh.
   */
  publish(topic: string, body: string, urgent = false): void {
    this.broadcast.publish(topic, `${this.host.selfId}:${++this.published}`, body, urgent || this.isFullMesh());
  }

  /**
   * Whether this page is linked to every page it knows of, and they are at most `activeTarget + 1`
   * with it (a room that fits in one active view, which the admission rule connects fully).
   */
  isFullMesh(): boolean {
    const known = this.knownPeers();
    return known.length <= this.options.activeTarget && known.every(id => this.membership.active.has(id));
  }

  /**
   * Opens a temporary link to `peerId` (a holder of a file this page wants, or a page that wants one
   * it holds): admitted on both sides with the `temp` hint, kept out of the overlay's views, counted
   * in the link cap, closed after {@link TEMP_IDLE_MS} with nothing received on its bulk channels.
   * @returns false when the cap is reached (nothing asked)
   */
  openTemporary(peerId: string): boolean {
    if (peerId === this.host.selfId || this.membership.active.has(peerId) || this.temp.has(peerId) || this.host.isLinked(peerId)) return true;
    if (this.linkCount() >= this.options.maxLinks) return false;
    this.temp.set(peerId, Date.now());
    void this.host.connectTo(peerId, 'temp').then(sent => {
      if (!sent) this.temp.delete(peerId);
    });
    return true;
  }

  /** Something arrived from `peerId` on its bulk channels: a temporary link to it is in use. */
  linkUsed(peerId: string): void {
    if (this.temp.has(peerId)) this.temp.set(peerId, Date.now());
  }

  /** Temporary links now (for tests and stats). */
  temporaryLinks(): string[] {
    return [...this.temp.keys()];
  }

  /**
   * Links against the cap: the overlay's (open, and opening at our request), temporary ones, and
   * peers admitted here whose link is not up yet. Several announcements or offers admitted within
   * the second before their links opened each saw room under the cap, and a page of the
   * twelve-page test held 6 links with a cap of 5.
   */
  private linkCount(): number {
    return this.membership.committedLinks + this.temp.size + this.reservedCount();
  }

  /** Peers admitted in the last {@link RESERVED_FOR_MS} whose link has not opened (and that are not counted as opening or temporary). */
  private reservedCount(): number {
    const now = Date.now();
    let n = 0;
    for (const [id, since] of this.reservedSince) {
      if (now - since > RESERVED_FOR_MS) this.reservedSince.delete(id);
      else if (!this.membership.isPending(id) && !this.temp.has(id) && !this.host.isLinked(id)) n++;
    }
    return n;
  }

  private closeIdleTemporaryLinks(): void {
    const now = Date.now();
    for (const [peerId, lastUse] of this.temp) {
      const linked = this.host.isLinked(peerId);
      if (linked && now - lastUse > TEMP_IDLE_MS) this.host.closePeer(peerId);
      else if (!linked && now - lastUse > TEMP_OPEN_MS) this.temp.delete(peerId);
    }
  }

  /** Neighbours now (the active view). */
  neighbors(): string[] {
    return [...this.membership.active];
  }

  /** Stops the timers and the overlay (membership closes its links); call once, when the room is left. */
  stop(): void {
    clearInterval(this.tempTimer);
    this.membership.stop();
    this.broadcast.stop();
  }

  /** Peers heard recently or linked, this page excluded. */
  private knownPeers(): string[] {
    const now = Date.now();
    for (const [id, at] of this.known) if (now - at > KNOWN_FOR_MS && !this.membership.active.has(id)) this.known.delete(id);
    return [...new Set([...this.known.keys(), ...this.membership.active, ...this.membership.passive])].filter(id => id !== this.host.selfId);
  }

  /** Whether this page is among the {@link CONTACTS_PER_NEWCOMER} contacts of `announcer`. */
  private isContactFor(announcer: string): boolean {
    return this.ranksAmongContacts(announcer, this.host.selfId);
  }

  /** Whether `peer` is among this page's contacts (so its announcement or offer is the answer to ours). */
  private isContactOf(peer: string): boolean {
    return this.ranksAmongContacts(this.host.selfId, peer);
  }

  /** Whether `candidate` is among the {@link CONTACTS_PER_NEWCOMER} lowest FNV-1a hashes of (`announcer`, page) over the pages known. */
  private ranksAmongContacts(announcer: string, candidate: string): boolean {
    const score = fnv1a(`${announcer}|${candidate}`);
    let lower = 0;
    for (const id of [...this.knownPeers(), this.host.selfId]) if (id !== announcer && id !== candidate && fnv1a(`${announcer}|${id}`) < score) lower++;
    return lower < CONTACTS_PER_NEWCOMER;
  }
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units (Fowler, Noll, Vo). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
