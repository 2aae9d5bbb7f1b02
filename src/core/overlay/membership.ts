import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { MembershipMessage } from '../wire/overlay-schemas';
import { MAX_SHUFFLE_PEERS, MAX_WALK_TTL } from '../wire/overlay-schemas';
import { OverlayTimers, pickRandom, realTimers, sampleRandom } from './overlay-timers';

/**
 * What membership needs from the links under it (the mesh in the browser, the simulator in Node).
 * A link is a connection to one peer that carries `overlay-view` messages; opening one may take a
 * signaling round trip.
 */
export interface MembershipLinks {
  /** Opens a link to `peerId`; the outcome is reported back as `linkUp(peerId)` or `linkFailed(peerId)`. */
  connect(peerId: string): void;
  /** Closes the link to `peerId` (the other side sees it go down). Idempotent. */
  close(peerId: string): void;
  /** Sends a membership message over the open link to `peerId`; dropped when there is none. */
  send(peerId: string, message: MembershipMessage): void;
}

/** Sizes and periods of the views; defaults from the issue "Rooms of a hundred" and the HyParView paper. */
export interface MembershipOptions {
  /** Active view size a page fills up to by itself (6). */
  activeTarget: number;
  /** Below this (4) a page asks with `high` priority, which a peer accepts even when full. */
  activeMin: number;
  /** Most peers in the active view (8); an accepted peer beyond it evicts a random one. */
  activeMax: number;
  /** Most peer ids in the passive view (30). */
  passiveMax: number;
  /** Active random walk length of `forward-join` (HyParView's ARWL, 6). */
  activeWalk: number;
  /** Passive random walk length: where a `forward-join` also lands in the passive view (HyParView's PRWL, 3). */
  passiveWalk: number;
  /** Period of the shuffle with a random active peer, ms (10 000, ±20 % jitter). */
  shuffleIntervalMs: number;
  /** Active ids sent in a shuffle (HyParView's ka, 3), with the passive ones and our own. */
  shuffleActive: number;
  /** Passive ids sent in a shuffle (HyParView's kp, 4). */
  shufflePassive: number;
  /** Period of the check that refills the active view from the passive view, ms (1 000). */
  maintenanceIntervalMs: number;
  /**
   * At or above `activeMin`, the active view is topped up to `activeTarget` by at most one request per
   * this many ms (20 000): every request is a signaling exchange on the relay, and a page that is
   * merely below its target is not in danger. Below `activeMin` requests go out at once.
   */
  fillIntervalMs: number;
  /** A link that carried no membership message and is not in the active view is closed after this, ms (10 000). */
  idleLinkMs: number;
  /** A `join` or `neighbor` request not answered within this is given up (the link closed, another peer tried), ms (3 000). */
  replyTimeoutMs: number;
  /** A link asked for that did not open within this counts as failed, ms (10 000: a signaling round trip and ICE). */
  connectTimeoutMs: number;
  /**
   * Links this page did not ask for are taken as neighbour requests of ours: the page sends `join`
   * on its first link and `neighbor` on later ones (the browser, where the relay and the admission
   * rule, not membership, open a newcomer's first links). Default false (the simulator).
   */
  adoptLinks: boolean;
  /** Most links this page opens for the overlay at once, pending ones included (12, the page's hard cap). */
  maxLinks: number;
  /** Random numbers in [0, 1) (seeded in the simulator). */
  random: () => number;
  /** Clock and timers (the page's, or the simulator's virtual ones). */
  timers: OverlayTimers;
  /**
   * Called when the active view is below `activeMin` and the passive view is empty: returns peer
   * ids to try (the relay's announcements in the browser).
   */
  discover?: () => string[];
  /** Links this page holds outside the overlay (temporary transfer links in the browser), counted in `maxLinks`. */
  otherLinks?: () => number;
}

/** The defaults (the values in each option's comment). */
export const DEFAULT_MEMBERSHIP_OPTIONS: Omit<MembershipOptions, 'discover' | 'otherLinks'> = {
  activeTarget: 6,
  activeMin: 4,
  activeMax: 8,
  passiveMax: 30,
  activeWalk: 6,
  passiveWalk: 3,
  shuffleIntervalMs: 10_000,
  shuffleActive: 3,
  shufflePassive: 4,
  maintenanceIntervalMs: 1000,
  fillIntervalMs: 20_000,
  idleLinkMs: 10_000,
  replyTimeoutMs: 3000,
  connectTimeoutMs: 10_000,
  adoptLinks: false,
  maxLinks: 12,
  random: Math.random,
  timers: realTimers,
};

/** Events of a {@link Membership}. */
export interface MembershipEvents {
  /** `peerId` entered the active view: a neighbour, broadcast may push to it. */
  neighborUp(peerId: string): void;
  /** `peerId` left the active view (dropped, disconnected or its link failed). */
  neighborDown(peerId: string): void;
}

type Intent = ({ kind: 'join' } | { kind: 'neighbor'; priority: 'high' | 'low' }) & {
  /** When the link was asked for (ms), for {@link MembershipOptions.connectTimeoutMs}. */
  since: number;
  /** When the request went out over the open link (ms), for {@link MembershipOptions.replyTimeoutMs}. */
  sentAt?: number;
};

/**
 * HyParView membership (Leitão, Pereira, Rodrigues, DSN 2007) over links that take a signaling
 * round trip to open: a small active view of neighbours with open links, symmetric, kept between
 * `activeMin` and `activeMax`, and a larger passive view of ids kept fresh by shuffles, from which a
 * lost neighbour is replaced at once. Every active peer is chosen at random (from a join's random
 * walks or the passive view), never by latency, so the overlay stays an expander.
 *
 * Differences from the paper: a `forward-join` walk that ends at a full page keeps the newcomer in
 * its passive view instead of evicting a neighbour (eviction cascades cost WebRTC handshakes); the
 * contact answers a `join` with ids it knows (`join-reply`), the newcomer's first passive view; a
 * shuffle is exchanged with one neighbour (no walk), so its answer needs no new link.
 *
 * Messages reach {@link receive} already validated by the wire (`membershipMessage`).
 */
export class Membership {
  /** Neighbours: peers with an open link that both sides agreed to keep. */
  readonly active = new Set<string>();
  /** Known peer ids without a link, to replace lost neighbours. */
  readonly passive = new Set<string>();
  /** Counters for tests and the bench. */
  readonly stats = { connects: 0, failedConnects: 0, evictions: 0, shuffles: 0, joins: 0 };

  private readonly options: MembershipOptions;
  private readonly emitter = createNanoEvents<MembershipEvents>();
  /** Open links this page knows of (active, pending, or inbound not yet explained), with when they opened. */
  private readonly links = new Map<string, number>();
  /** Why we opened (or are opening) a link: answered by `join-reply` / `neighbor-reply`. */
  private readonly pending = new Map<string, Intent>();
  private contacts: string[] = [];
  private timers: unknown[] = [];
  private maintainSoon: unknown = null;
  private stopped = false;
  /** When the last top-up request (at or above the minimum) went out, ms. */
  private lastFillAt = -Infinity;
  /** Whether this page has had a neighbour (it then asks with `neighbor`, not `join`). */
  private joined = false;

  constructor(
    /** This page's peer id. */
    readonly selfId: string,
    private readonly net: MembershipLinks,
    options: Partial<MembershipOptions> = {},
  ) {
    this.options = { ...DEFAULT_MEMBERSHIP_OPTIONS, ...options };
    const o = this.options;
    if (!(o.activeMin <= o.activeTarget && o.activeTarget <= o.activeMax && o.activeMax <= o.maxLinks)) {
      throw new RangeError('membership: need activeMin ≤ activeTarget ≤ activeMax ≤ maxLinks');
    }
  }

  /** Subscribes to an event (see {@link MembershipEvents}); returns the unsubscribe function. */
  on<E extends keyof MembershipEvents>(event: E, handler: MembershipEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Whether this page asked for a link to `peerId` (to join through it, or as a neighbour) and waits for it. */
  isPending(peerId: string): boolean {
    return this.pending.has(peerId);
  }

  /** Why this page asks `peerId` for a link, as the hint a connection request carries; undefined when it does not. */
  pendingHint(peerId: string): 'join' | 'high' | 'low' | undefined {
    const intent = this.pending.get(peerId);
    return intent ? (intent.kind === 'join' ? 'join' : intent.priority) : undefined;
  }

  /**
   * Links open now plus those this page is opening (asked for, not up yet): a request counts
   * against `maxLinks` from the moment it is sent, or several sent at once could all open past it.
   */
  get committedLinks(): number {
    let opening = 0;
    for (const id of this.pending.keys()) if (!this.links.has(id)) opening++;
    return this.links.size + opening;
  }

  /** Links of the overlay (open and opening) and links held outside it ({@link MembershipOptions.otherLinks}), against `maxLinks`. */
  private allLinks(): number {
    return this.committedLinks + (this.options.otherLinks?.() ?? 0);
  }

  /** Links open now (active, pending and unexplained inbound ones). */
  get linkCount(): number {
    return this.links.size;
  }

  /**
   * Enters the overlay through `contacts` (peers known from the relay): the first one that can be
   * reached gets our `join`; all of them are kept in the passive view. With no contacts the page
   * is alone and waits to be joined. Starts the maintenance and shuffle timers.
   */
  start(contacts: string[] = []): void {
    this.contacts = contacts.filter(id => id !== this.selfId);
    for (const id of this.contacts) this.addPassive(id);
    this.tryNextContact();
    this.schedule('maintain', this.options.maintenanceIntervalMs);
    this.schedule('shuffle', this.jitter(this.options.shuffleIntervalMs));
  }

  /** Peers learnt elsewhere (the relay, the roster): kept in the passive view; used when neighbours are missing. */
  addKnown(peerIds: Iterable<string>): void {
    for (const id of peerIds) this.addPassive(id);
    if (this.active.size < this.options.activeTarget) this.maintainNow();
  }

  /** Stops the timers and closes every link. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.options.timers.clearTimeout(t);
    if (this.maintainSoon) this.options.timers.clearTimeout(this.maintainSoon);
    for (const id of [...this.links.keys()]) this.net.close(id);
    for (const id of [...this.active]) this.removeActive(id, false);
    this.links.clear();
    this.pending.clear();
  }

  /** A link to `peerId` opened (ours, or one the peer opened to us). */
  linkUp(peerId: string): void {
    if (this.stopped || peerId === this.selfId) return;
    if (!this.links.has(peerId)) this.links.set(peerId, this.options.timers.now());
    let intent = this.pending.get(peerId);
    if (!intent && this.options.adoptLinks && !this.active.has(peerId)) {
      const now = this.options.timers.now();
      intent = this.active.size === 0 && !this.joined ? { kind: 'join', since: now } : { kind: 'neighbor', priority: this.active.size < this.options.activeMin ? 'high' : 'low', since: now };
      this.pending.set(peerId, intent);
    }
    if (!intent || this.active.has(peerId)) return;
    intent.sentAt = this.options.timers.now();
    if (intent.kind === 'join') this.net.send(peerId, { v: 1, t: 'join' });
    else this.net.send(peerId, { v: 1, t: 'neighbor', priority: intent.priority });
  }

  /** Opening a link to `peerId` failed (unreachable, gone, or its page is at its link cap). */
  linkFailed(peerId: string): void {
    const intent = this.pending.get(peerId);
    this.pending.delete(peerId);
    this.links.delete(peerId);
    this.passive.delete(peerId);
    this.stats.failedConnects++;
    if (intent?.kind === 'join') this.tryNextContact();
    this.maintainNow();
  }

  /** The link to `peerId` went down (closed by the peer, or its connection was lost). */
  linkDown(peerId: string): void {
    const intent = this.pending.get(peerId);
    this.links.delete(peerId);
    this.pending.delete(peerId);
    this.passive.delete(peerId);
    if (this.active.has(peerId)) this.removeActive(peerId, false);
    if (intent?.kind === 'join') this.tryNextContact();
    this.maintainNow();
  }

  /** A membership message from `peerId` (validated by the wire). */
  receive(peerId: string, msg: MembershipMessage): void {
    if (this.stopped || !this.links.has(peerId)) return;
    switch (msg.t) {
      case 'join': {
        this.stats.joins++;
        this.pending.delete(peerId);
        const known = sampleRandom([...this.active, ...this.passive].filter(id => id !== peerId), MAX_SHUFFLE_PEERS - 1, this.options.random);
        this.addActive(peerId);
        this.net.send(peerId, { v: 1, t: 'join-reply', peers: known });
        for (const n of this.active) if (n !== peerId) this.net.send(n, { v: 1, t: 'forward-join', peer: peerId, ttl: Math.min(this.options.activeWalk, MAX_WALK_TTL) });
        break;
      }
      case 'join-reply':
        if (this.pending.get(peerId)?.kind !== 'join') return;
        this.pending.delete(peerId);
        this.contacts = [];
        this.addActive(peerId);
        for (const id of msg.peers) this.addPassive(id);
        this.maintainNow();
        break;
      case 'forward-join':
        this.forwardJoin(peerId, msg.peer, msg.ttl);
        break;
      case 'neighbor': {
        const accept = this.active.has(peerId) || this.active.size < this.options.activeMax || msg.priority === 'high';
        this.pending.delete(peerId);
        this.net.send(peerId, { v: 1, t: 'neighbor-reply', accept });
        if (accept) this.addActive(peerId);
        else {
          this.addPassive(peerId);
          this.dropLink(peerId);
        }
        break;
      }
      case 'neighbor-reply':
        if (this.pending.get(peerId)?.kind !== 'neighbor') return;
        this.pending.delete(peerId);
        if (msg.accept) this.addActive(peerId);
        else {
          this.addPassive(peerId);
          this.dropLink(peerId);
          this.maintainNow();
        }
        break;
      case 'disconnect':
        if (this.active.has(peerId)) this.removeActive(peerId, false);
        this.addPassive(peerId);
        this.dropLink(peerId);
        this.maintainNow();
        break;
      case 'shuffle': {
        const reply = sampleRandom([...this.passive].filter(id => id !== peerId), msg.peers.length, this.options.random);
        this.net.send(peerId, { v: 1, t: 'shuffle-reply', peers: reply });
        for (const id of msg.peers) this.addPassive(id);
        break;
      }
      case 'shuffle-reply':
        for (const id of msg.peers) this.addPassive(id);
        break;
    }
  }

  private forwardJoin(from: string, newcomer: string, ttl: number): void {
    if (newcomer === this.selfId) return;
    if (ttl === 0 || this.active.size <= 1) {
      if (this.active.has(newcomer) || this.pending.has(newcomer)) return;
      if (this.active.size < this.options.activeMax && this.allLinks() < this.options.maxLinks) this.open(newcomer, { kind: 'neighbor', priority: 'high', since: this.options.timers.now() });
      else this.addPassive(newcomer);
      return;
    }
    if (ttl === this.options.passiveWalk) this.addPassive(newcomer);
    const next = pickRandom([...this.active].filter(id => id !== from && id !== newcomer), this.options.random);
    if (next === undefined) return this.forwardJoin(from, newcomer, 0);
    this.net.send(next, { v: 1, t: 'forward-join', peer: newcomer, ttl: ttl - 1 });
  }

  private tryNextContact(): void {
    while (this.contacts.length) {
      const contact = this.contacts.shift()!;
      if (this.active.has(contact) || this.pending.has(contact)) continue;
      this.open(contact, { kind: 'join', since: this.options.timers.now() });
      return;
    }
  }

  private open(peerId: string, intent: Intent): void {
    this.pending.set(peerId, intent);
    this.stats.connects++;
    if (this.links.has(peerId)) this.linkUp(peerId);
    else this.net.connect(peerId);
  }

  private addActive(peerId: string): void {
    if (peerId === this.selfId || this.active.has(peerId)) return;
    this.passive.delete(peerId);
    if (this.active.size >= this.options.activeMax) {
      const victim = pickRandom([...this.active], this.options.random)!;
      this.stats.evictions++;
      this.removeActive(victim, true);
    }
    this.active.add(peerId);
    this.joined = true;
    if (!this.links.has(peerId)) this.links.set(peerId, this.options.timers.now());
    this.emitter.emit('neighborUp', peerId);
  }

  /** Drops `peerId` from the active view; `tell`: say `disconnect` and close the link, keeping the id as passive. */
  private removeActive(peerId: string, tell: boolean): void {
    this.active.delete(peerId);
    if (tell) {
      this.net.send(peerId, { v: 1, t: 'disconnect' });
      this.dropLink(peerId);
      this.addPassive(peerId);
    }
    this.emitter.emit('neighborDown', peerId);
  }

  private dropLink(peerId: string): void {
    this.pending.delete(peerId);
    if (this.links.delete(peerId)) this.net.close(peerId);
  }

  private addPassive(peerId: string): void {
    if (peerId === this.selfId || this.active.has(peerId) || this.passive.has(peerId)) return;
    if (this.passive.size >= this.options.passiveMax) this.passive.delete(pickRandom([...this.passive], this.options.random)!);
    this.passive.add(peerId);
  }

  /** Refills the active view from the passive one (random picks), and closes idle unexplained links. */
  private maintain(): void {
    const o = this.options;
    const now = o.timers.now();
    for (const [id, since] of this.links) {
      if (!this.active.has(id) && !this.pending.has(id) && now - since > o.idleLinkMs) this.dropLink(id);
    }
    for (const [id, intent] of [...this.pending]) {
      if (intent.sentAt === undefined) {
        if (now - intent.since > o.connectTimeoutMs) this.linkFailed(id);
        continue;
      }
      if (now - intent.sentAt <= o.replyTimeoutMs) continue;
      // Unanswered (lost, or the peer is gone without its link going down yet): give up on it for now.
      this.dropLink(id);
      if (intent.kind === 'join') this.tryNextContact();
    }
    let asking = [...this.pending.values()].filter(i => i.kind === 'neighbor').length;
    let candidates = [...this.passive].filter(id => !this.links.has(id) && !this.pending.has(id));
    if (this.active.size < o.activeMin && candidates.length === 0 && this.contacts.length === 0 && o.discover) {
      for (const id of o.discover()) this.addPassive(id);
      candidates = [...this.passive].filter(id => !this.links.has(id) && !this.pending.has(id));
    }
    // Short of neighbours and of ids to ask: a shuffle now brings ids (its reply) within a round trip.
    if (this.active.size < o.activeTarget && candidates.length === 0 && this.active.size > 0) this.shuffle();
    // Below the minimum, ask a couple more than needed at once: passive ids of pages that closed stay
    // until tried, and a request to one fails only at the connect timeout.
    const wanted = this.active.size < o.activeMin ? Math.min(o.activeMax, o.activeTarget + 2) : o.activeTarget;
    while (this.active.size + asking < wanted && this.allLinks() < o.maxLinks && candidates.length) {
      const urgent = this.active.size < o.activeMin;
      if (!urgent && now - this.lastFillAt < o.fillIntervalMs) break;
      if (!urgent) this.lastFillAt = now;
      const i = Math.floor(o.random() * candidates.length);
      const [id] = candidates.splice(i, 1);
      this.open(id, { kind: 'neighbor', priority: urgent ? 'high' : 'low', since: now });
      asking++;
    }
  }

  private maintainNow(): void {
    if (this.stopped || this.maintainSoon) return;
    this.maintainSoon = this.options.timers.setTimeout(() => {
      this.maintainSoon = null;
      this.maintain();
    }, 0);
  }

  private shuffle(): void {
    const o = this.options;
    const target = pickRandom(this.active, o.random);
    if (target === undefined) return;
    const peers = [
      this.selfId,
      ...sampleRandom([...this.active].filter(id => id !== target), o.shuffleActive, o.random),
      ...sampleRandom(this.passive, o.shufflePassive, o.random),
    ].slice(0, MAX_SHUFFLE_PEERS);
    this.stats.shuffles++;
    this.net.send(target, { v: 1, t: 'shuffle', peers });
  }

  private schedule(what: 'maintain' | 'shuffle', ms: number): void {
    if (this.stopped) return;
    const handle = this.options.timers.setTimeout(() => {
      this.timers = this.timers.filter(t => t !== handle);
      if (this.stopped) return;
      if (what === 'maintain') {
        this.maintain();
        this.schedule('maintain', this.options.maintenanceIntervalMs);
      } else {
        this.shuffle();
        this.schedule('shuffle', this.jitter(this.options.shuffleIntervalMs));
      }
    }, ms);
    this.timers.push(handle);
  }

  private jitter(ms: number): number {
    return ms * (0.8 + 0.4 * this.options.random());
  }
}
