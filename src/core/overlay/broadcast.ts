import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { BroadcastMessage } from '../wire/overlay-schemas';
import { MAX_BROADCAST_HOPS, MAX_IDS_PER_MESSAGE } from '../wire/overlay-schemas';
import { OverlayTimers, realTimers } from './overlay-timers';

/** What broadcast needs from the links under it: sending to a neighbour, and the mesh's penalty path. */
export interface BroadcastLinks {
  /** Sends over the open link to neighbour `peerId`; dropped when there is none. */
  send(peerId: string, message: BroadcastMessage): void;
  /**
   * `peerId` pushed a message its topic's checks refused (schema, size, signature) or one that
   * claims an impossible hop count: charged like a peer that sends bad data itself.
   */
  penalise(peerId: string, reason: 'invalid-forward' | 'bad-hops'): void;
}

/**
 * Checks a pushed body before it is delivered or forwarded (every hop checks: a forwarder is
 * trusted no more than the author). `from`: the neighbour it came from; `origin`: the page that
 * published it (what a rate limit per sender should count). `true`: valid. May be async (signature
 * checks). A throw counts as `false`.
 */
export type BroadcastValidator = (topic: string, body: string, from: string, origin: string) => boolean | Promise<boolean>;

/** Timers, periods (ms) and bounds of a {@link Broadcast}; defaults in {@link DEFAULT_BROADCAST_OPTIONS}. */
export interface BroadcastOptions {
  /** Clock and timers (the page's, or the simulator's virtual ones). */
  timers: OverlayTimers;
  /** Lazy push period: "I have" announcements wait and go out together, ms (250). */
  lazyFlushMs: number;
  /**
   * How long a message announced but not received waits before it is pulled (`graft`), ms
   * (Plumtree's timeout 1; 150: announcements already wait up to `lazyFlushMs`, so an eager copy
   * that is merely slower rarely loses; 400 put the simulator's p95 at 0.97 s, 150 at 0.71 s).
   */
  graftTimeoutMs: number;
  /** Wait before pulling from the next announcer when the first did not deliver, ms (Plumtree's timeout 2; 200). */
  graftRetryMs: number;
  /** Messages are kept for grafts and for neighbours that connect later (announced on connect) this long, ms (120 000). */
  cacheMs: number;
  /** Most messages kept (10 000); the oldest go first. */
  maxCached: number;
  /** Ids of delivered messages are remembered this long against late duplicates, ms (600 000). */
  seenMs: number;
  /**
   * A path shorter by more than this many hops than the tree's replaces it (Plumtree's optimisation
   * threshold; 0: any shorter path wins; with 2 the simulator's p95 path at 1,000 peers was 8 hops, with 0 it is 6).
   */
  optimizationThreshold: number;
  /** Most messages announced but not yet received that are tracked at once (5 000): bounds a hostile flood of `ihave`. */
  maxMissing: number;
  /** The check every pushed body passes before it is delivered or forwarded (default: accept all). */
  validate: BroadcastValidator;
  /**
   * Whether cached messages of `topic` are announced to a neighbour that connects (default: every
   * topic). False for a topic whose feature syncs a new peer itself and must not have old messages
   * replayed to a newcomer (a burn-after-reading chat line, a message retracted since).
   */
  replayOnConnect: (topic: string) => boolean;
}

/** The defaults (the values in each option's comment; some tuned with the overlay simulator, src/core/testing/overlay-simulator.ts). */
export const DEFAULT_BROADCAST_OPTIONS: BroadcastOptions = {
  timers: realTimers,
  lazyFlushMs: 250,
  graftTimeoutMs: 150,
  graftRetryMs: 200,
  cacheMs: 120_000,
  maxCached: 10_000,
  seenMs: 600_000,
  optimizationThreshold: 0,
  maxMissing: 5000,
  validate: () => true,
  replayOnConnect: () => true,
};

/** A message as delivered to the feature above. */
export interface Delivered {
  /** The feature channel (`MessageSpec.channel`) whose rules checked the body. */
  topic: string;
  /** The message's id, unique per message (chosen by the publisher; the partial mesh uses `origin:n`). */
  id: string;
  /** The inner message's JSON text, as published. */
  body: string;
  /** Peer id of the page that published it. */
  origin: string;
  /** Links it crossed to reach this page (1 = from its origin directly). */
  hops: number;
  /** The neighbour it came from. */
  from: string;
}

/** Events of a {@link Broadcast}. */
export interface BroadcastEvents {
  /** A new message passed its checks (once per id). */
  deliver(message: Delivered): void;
  /** A copy of a message already held arrived (`from` is then told to push lazily). */
  duplicate(id: string, from: string): void;
}

interface Tree {
  eager: Set<string>;
  lazy: Set<string>;
  /** The neighbour the last new message of this origin came from. */
  parent?: string;
  usedAt: number;
}

interface Cached {
  topic: string;
  origin: string;
  hops: number;
  body: string;
  at: number;
}

/** Most origins with a tree of their own; the least recently used is forgotten (it falls back to the shared tree). */
const MAX_TREES = 512;

/**
 * Plumtree broadcast (Leitão, Pereira, Rodrigues, "Epidemic broadcast trees", SRDS 2007) over the
 * membership's active view: a message is pushed eagerly along a spanning tree and announced lazily
 * (`ihave`, batched every {@link BroadcastOptions.lazyFlushMs}) on every other link; a duplicate
 * prunes the link it came over out of the tree, a missing message is pulled (`graft`) from an
 * announcer, which also puts that link back into the tree, so the tree repairs itself.
 *
 * One tree per origin (the paper's "one tree per source"), so every author's messages take
 * near-shortest paths: a new origin's first message is pushed eagerly on every link (a flood: its
 * copies reach each page first along the fastest path, and every later copy prunes a link), so its
 * tree is the fastest-path tree from the start; the optimisation (a lazy path shorter by more than
 * the threshold replaces the eager one) keeps it so as links change.
 * Every message is checked by `validate` before it is delivered or forwarded; ids are remembered
 * for {@link BroadcastOptions.seenMs} so a late copy is a duplicate; the hop count is bounded by
 * {@link MAX_BROADCAST_HOPS}. A neighbour that connects is told (lazily) what is in the cache, so a
 * page that was cut off catches up on connect.
 */
export class Broadcast {
  /** Counters for tests, the bench and the connection panel. */
  readonly stats = { published: 0, delivered: 0, duplicates: 0, invalid: 0, grafts: 0, prunes: 0, pulled: 0, optimised: 0 };

  private readonly options: BroadcastOptions;
  private readonly emitter = createNanoEvents<BroadcastEvents>();
  private readonly neighbors = new Set<string>();
  private readonly trees = new Map<string, Tree>();
  private readonly cache = new Map<string, Cached>();
  private readonly seen = new Map<string, number>();
  private readonly missing = new Map<string, { origin: string; announcers: { peer: string; hops: number }[]; timer: unknown }>();
  private readonly lazyQueue = new Map<string, [string, string, number][]>();
  /** Copies that arrived while the first copy of the same id was being checked. */
  private readonly checking = new Map<string, { msg: Extract<BroadcastMessage, { t: 'gossip' }>; from: string }[]>();
  private flushTimer: unknown = null;
  private sweepTimer: unknown = null;
  private stopped = false;

  constructor(
    /** This page's peer id (the `origin` of what it publishes). */
    readonly selfId: string,
    private readonly net: BroadcastLinks,
    options: Partial<BroadcastOptions> = {},
  ) {
    this.options = { ...DEFAULT_BROADCAST_OPTIONS, ...options };
    this.sweepLater();
  }

  /** Subscribes to an event (see {@link BroadcastEvents}); returns the unsubscribe function. */
  on<E extends keyof BroadcastEvents>(event: E, handler: BroadcastEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Whether the message `id` was published here or delivered. */
  has(id: string): boolean {
    return this.seen.has(id);
  }

  /** The neighbours this page pushes `origin`'s messages to eagerly (for tests and the panel). */
  eagerPeers(origin: string = this.selfId): string[] {
    return [...(this.trees.get(origin)?.eager ?? this.neighbors)];
  }

  /** Stops the timers; later calls do nothing. */
  stop(): void {
    this.stopped = true;
    const t = this.options.timers;
    if (this.flushTimer) t.clearTimeout(this.flushTimer);
    if (this.sweepTimer) t.clearTimeout(this.sweepTimer);
    for (const m of this.missing.values()) t.clearTimeout(m.timer);
    this.missing.clear();
  }

  /**
   * Sends a message of ours to the whole overlay. `id` must be unique to this message (a record
   * key); a second publish of a known id does nothing. `body` is the inner message's JSON text,
   * checked at every hop by the `topic`'s own rules. `urgent`: pushed eagerly to every neighbour,
   * not only along this page's tree (a page's last words: a lazy announcement, batched for 250 ms,
   * would not leave a page that is closing).
   */
  publish(topic: string, id: string, body: string, urgent = false): void {
    if (this.stopped || this.seen.has(id)) return;
    const now = this.options.timers.now();
    this.seen.set(id, now);
    this.cache.set(id, { topic, origin: this.selfId, hops: 0, body, at: now });
    this.stats.published++;
    const msg = { v: 1 as const, t: 'gossip' as const, topic, id, origin: this.selfId, hops: 0, body };
    if (urgent) for (const peer of this.neighbors) this.net.send(peer, { ...msg, hops: 1 });
    else this.push(msg, null);
  }

  /** `peerId` entered the active view: pushed to eagerly from now on, and told what the cache holds (the topics `replayOnConnect` allows). */
  neighborUp(peerId: string): void {
    if (this.neighbors.has(peerId)) return;
    this.neighbors.add(peerId);
    for (const tree of this.trees.values()) {
      tree.eager.add(peerId);
      tree.lazy.delete(peerId);
    }
    for (const [id, c] of this.cache) if (this.options.replayOnConnect(c.topic)) this.announce(peerId, id, c.origin, c.hops);
  }

  /** `peerId` left the active view: removed from every tree, its announcements forgotten. */
  neighborDown(peerId: string): void {
    if (!this.neighbors.delete(peerId)) return;
    for (const tree of this.trees.values()) {
      tree.eager.delete(peerId);
      tree.lazy.delete(peerId);
      if (tree.parent === peerId) tree.parent = undefined;
    }
    this.lazyQueue.delete(peerId);
    for (const m of this.missing.values()) m.announcers = m.announcers.filter(a => a.peer !== peerId);
  }

  /** A broadcast message from neighbour `peerId` (validated by the wire). */
  receive(peerId: string, msg: BroadcastMessage): void {
    if (this.stopped || !this.neighbors.has(peerId)) return;
    switch (msg.t) {
      case 'gossip':
        return this.onGossip(msg, peerId);
      case 'ihave':
        for (const [id, origin, hops] of msg.ids) this.onIHave(peerId, id, origin, hops);
        return;
      case 'graft': {
        this.stats.grafts++;
        this.makeEager(this.tree(msg.origin), peerId);
        for (const id of msg.ids) {
          const c = this.cache.get(id);
          if (c) this.net.send(peerId, { v: 1, t: 'gossip', topic: c.topic, id, origin: c.origin, hops: c.hops + 1, body: c.body });
        }
        return;
      }
      case 'prune':
        this.stats.prunes++;
        this.makeLazy(this.tree(msg.origin), peerId);
        return;
    }
  }

  private onGossip(msg: Extract<BroadcastMessage, { t: 'gossip' }>, from: string): void {
    if (msg.hops < 1) {
      // Hop 0 is the origin's own count: no neighbour may send it.
      this.stats.invalid++;
      this.net.penalise(from, 'bad-hops');
      return;
    }
    if (this.seen.has(msg.id)) return this.duplicate(msg, from);
    const waiting = this.checking.get(msg.id);
    if (waiting) {
      waiting.push({ msg, from });
      return;
    }
    this.checking.set(msg.id, []);
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = this.options.validate(msg.topic, msg.body, from, msg.origin);
    } catch {
      verdict = false;
    }
    if (verdict === true || verdict === false) this.checked(msg, from, verdict);
    else verdict.then(ok => this.checked(msg, from, ok === true), () => this.checked(msg, from, false));
  }

  private checked(msg: Extract<BroadcastMessage, { t: 'gossip' }>, from: string, ok: boolean): void {
    const waiting = this.checking.get(msg.id) ?? [];
    this.checking.delete(msg.id);
    if (this.stopped) return;
    if (!ok) {
      this.stats.invalid++;
      this.net.penalise(from, 'invalid-forward');
      // The next copy may be the genuine one (a forger raced it): check it in turn.
      for (const w of waiting) this.onGossip(w.msg, w.from);
      return;
    }
    this.accept(msg, from);
    for (const w of waiting) this.duplicate(w.msg, w.from);
  }

  private accept(msg: Extract<BroadcastMessage, { t: 'gossip' }>, from: string): void {
    const now = this.options.timers.now();
    this.seen.set(msg.id, now);
    this.cache.set(msg.id, { topic: msg.topic, origin: msg.origin, hops: msg.hops, body: msg.body, at: now });
    const missing = this.missing.get(msg.id);
    if (missing) {
      this.options.timers.clearTimeout(missing.timer);
      this.missing.delete(msg.id);
    }
    const tree = this.tree(msg.origin);
    if (this.neighbors.has(from)) {
      this.makeEager(tree, from);
      tree.parent = from;
    }
    this.stats.delivered++;
    this.emitter.emit('deliver', { topic: msg.topic, id: msg.id, body: msg.body, origin: msg.origin, hops: msg.hops, from });
    if (msg.hops < MAX_BROADCAST_HOPS) this.push(msg, from);
  }

  /** Pushes eagerly along the origin's tree and announces lazily on its other links. */
  private push(msg: Extract<BroadcastMessage, { t: 'gossip' }>, from: string | null): void {
    const tree = this.tree(msg.origin);
    const out = { ...msg, hops: msg.hops + 1 };
    for (const peer of tree.eager) if (peer !== from && peer !== msg.origin) this.net.send(peer, out);
    for (const peer of tree.lazy) if (peer !== from && peer !== msg.origin) this.announce(peer, msg.id, msg.origin, msg.hops);
  }

  private duplicate(msg: Extract<BroadcastMessage, { t: 'gossip' }>, from: string): void {
    this.stats.duplicates++;
    this.emitter.emit('duplicate', msg.id, from);
    if (!this.neighbors.has(from)) return;
    const tree = this.tree(msg.origin);
    if (tree.parent === from) return; // a graft answered late by the parent itself: keep it
    const cached = this.cache.get(msg.id);
    if (cached && tree.parent && msg.hops + this.options.optimizationThreshold < cached.hops) {
      // The copy came the shorter way (in hops) but later: that link becomes the tree's, the parent's is pruned.
      this.stats.optimised++;
      this.net.send(tree.parent, { v: 1, t: 'prune', origin: msg.origin });
      this.makeLazy(tree, tree.parent);
      tree.parent = from;
      return;
    }
    this.makeLazy(tree, from);
    this.net.send(from, { v: 1, t: 'prune', origin: msg.origin });
  }

  private onIHave(from: string, id: string, origin: string, hops: number): void {
    const cached = this.cache.get(id);
    if (this.seen.has(id)) {
      // Optimisation: the announcer is closer to the origin by more than the threshold: make it the parent.
      const tree = this.tree(origin);
      if (cached && cached.hops > hops + 1 + this.options.optimizationThreshold && tree.parent && tree.parent !== from) {
        this.stats.optimised++;
        this.net.send(from, { v: 1, t: 'graft', origin, ids: [] });
        this.net.send(tree.parent, { v: 1, t: 'prune', origin });
        this.makeLazy(tree, tree.parent);
        this.makeEager(tree, from);
        tree.parent = from;
      }
      return;
    }
    let entry = this.missing.get(id);
    if (!entry) {
      if (this.missing.size >= this.options.maxMissing) return;
      entry = { origin, announcers: [], timer: null };
      entry.timer = this.options.timers.setTimeout(() => this.pull(id), this.options.graftTimeoutMs);
      this.missing.set(id, entry);
    }
    if (!entry.announcers.some(a => a.peer === from)) entry.announcers.push({ peer: from, hops });
  }

  /** Timer of a missing message: ask the next announcer for it (and put that link in the tree). */
  private pull(id: string): void {
    const entry = this.missing.get(id);
    if (!entry || this.stopped) return;
    if (this.seen.has(id)) {
      this.missing.delete(id);
      return;
    }
    const next = entry.announcers.shift();
    if (!next) {
      this.missing.delete(id);
      return;
    }
    this.stats.pulled++;
    this.makeEager(this.tree(entry.origin), next.peer);
    this.net.send(next.peer, { v: 1, t: 'graft', origin: entry.origin, ids: [id] });
    entry.timer = this.options.timers.setTimeout(() => this.pull(id), this.options.graftRetryMs);
  }

  private announce(peer: string, id: string, origin: string, hops: number): void {
    const queue = this.lazyQueue.get(peer) ?? [];
    queue.push([id, origin, hops]);
    this.lazyQueue.set(peer, queue);
    if (!this.flushTimer) this.flushTimer = this.options.timers.setTimeout(() => this.flush(), this.options.lazyFlushMs);
  }

  private flush(): void {
    this.flushTimer = null;
    if (this.stopped) return;
    for (const [peer, queue] of this.lazyQueue) {
      for (let i = 0; i < queue.length; i += MAX_IDS_PER_MESSAGE) this.net.send(peer, { v: 1, t: 'ihave', ids: queue.slice(i, i + MAX_IDS_PER_MESSAGE) });
    }
    this.lazyQueue.clear();
  }

  private tree(origin: string): Tree {
    let tree = this.trees.get(origin);
    if (!tree) {
      tree = { eager: new Set(this.neighbors), lazy: new Set(), usedAt: 0 };
      this.trees.set(origin, tree);
      if (this.trees.size > MAX_TREES) {
        let oldest: string | undefined;
        for (const [o, t] of this.trees) if (oldest === undefined || t.usedAt < this.trees.get(oldest)!.usedAt) oldest = o;
        if (oldest !== undefined && oldest !== origin) this.trees.delete(oldest);
      }
    }
    tree.usedAt = this.options.timers.now();
    return tree;
  }

  private makeEager(tree: Tree, peer: string): void {
    if (!this.neighbors.has(peer)) return;
    tree.eager.add(peer);
    tree.lazy.delete(peer);
  }

  private makeLazy(tree: Tree, peer: string): void {
    if (!this.neighbors.has(peer)) return;
    tree.eager.delete(peer);
    tree.lazy.add(peer);
  }

  /** Forgets cached bodies past the retention window and seen ids past theirs (every 10 s). */
  private sweepLater(): void {
    this.sweepTimer = this.options.timers.setTimeout(() => {
      if (this.stopped) return;
      const now = this.options.timers.now();
      const o = this.options;
      for (const [id, c] of this.cache) if (now - c.at > o.cacheMs || this.cache.size > o.maxCached) this.cache.delete(id);
      for (const [id, at] of this.seen) if (now - at > o.seenMs) this.seen.delete(id);
      this.sweepLater();
    }, 10_000);
  }
}
