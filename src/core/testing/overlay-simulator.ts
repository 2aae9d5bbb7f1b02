import { Broadcast, BroadcastOptions } from '../overlay/broadcast';
import { Membership, MembershipOptions } from '../overlay/membership';
import type { OverlayTimers } from '../overlay/overlay-timers';
import { sampleRandom } from '../overlay/overlay-timers';
import { broadcastMessage, BroadcastMessage, membershipMessage, MembershipMessage } from '../wire/overlay-schemas';
import { DropCounters, encodeMessage, InboundValidator } from '../wire';
import { seededRandom } from './memory-network';

/** How the simulated network behaves; every random draw comes from one seeded generator. */
export interface OverlaySimulationOptions {
  /** Seed: the same seed and the same calls give the same run. Default 1. */
  seed: number;
  /** One-way latency of each pair of peers, ms, fixed per pair, drawn uniformly from this range. Default [20, 150]. */
  latencyMs: [number, number];
  /** Probability that a message is lost. Default 0.01. */
  loss: number;
  /** Each peer's upload rate, bytes per ms: its messages leave one after another (an upload queue). Default 250 (2 Mbit/s). */
  uplinkBytesPerMs: number;
  /** Time to open a link (signaling and ICE), ms, drawn uniformly per attempt. Default [300, 900]. */
  connectMs: [number, number];
  /** Hard cap of links per peer: a link to a peer at its cap fails. Default 12. */
  maxLinks: number;
  /** How long the neighbours of a peer that crashed take to notice, ms (the heartbeat). Default [1000, 5000]. */
  detectMs: [number, number];
  /** Peer ids a newcomer learns from the relay when it opens (random present peers). Default 3. */
  contacts: number;
  /** Membership options of every peer (on top of the seeded random, virtual timers, `maxLinks` and discovery). */
  membership: Partial<MembershipOptions>;
  /** Broadcast options of every peer (on top of the virtual timers). */
  broadcast: Partial<BroadcastOptions>;
}

const DEFAULTS: OverlaySimulationOptions = {
  seed: 1,
  latencyMs: [20, 150],
  loss: 0.01,
  uplinkBytesPerMs: 250,
  connectMs: [300, 900],
  maxLinks: 12,
  detectMs: [1000, 5000],
  contacts: 3,
  membership: {},
  broadcast: {},
};

/** One simulated page: the real {@link Membership} and {@link Broadcast}, fed through the real wire validators. */
export interface SimPeer {
  /** The page's peer id (`p0000`, `p0001`, … in base 36). */
  id: string;
  /** When it was added, ms of virtual time. */
  joinedAt: number;
  /** Its HyParView membership. */
  membership: Membership;
  /** Its Plumtree broadcast. */
  broadcast: Broadcast;
  /** False once removed (closed or crashed). */
  alive: boolean;
  /** Link ends this peer holds (including ones whose far side crashed and was not yet noticed). */
  links: Set<string>;
  /** When its upload queue is empty, ms of virtual time. */
  uplinkFreeAt: number;
  /** The receiving wire checks of its two overlay channels (`overlay-view`, `overlay-push`). */
  validators: { view: InboundValidator<typeof membershipMessage.schema>; push: InboundValidator<typeof broadcastMessage.schema> };
  /** What those checks dropped, by reason. */
  drops: DropCounters;
}

/** What {@link OverlaySimulation.watchViews} counted: checks of one page each, and violations. */
export interface ViewWatch {
  /** Checks made (one per live page per interval). */
  checks: number;
  /** Checks that found an active view above its maximum. */
  overMax: number;
  /** Checks that found more links than the cap. */
  overLinks: number;
  /** Checks that found a page below the minimum for longer than the grace period. */
  longBelowMin: number;
  /** Longest stretch any page spent below the minimum, ms. */
  longestBelowMinMs: number;
}

/** One published message and where it got to. */
export interface TrackedMessage {
  /** The message id (`origin:n`). */
  id: string;
  /** The publishing peer's id. */
  origin: string;
  /** When it was published, ms of virtual time. */
  at: number;
  /** Peers present (joined at least `settledMs` before) when it was published. */
  present: Set<string>;
  /** Per receiving peer: delivery time (ms after publishing), hops, copies received. */
  deliveries: Map<string, { ms: number; hops: number; copies: number }>;
}

type Event = { at: number; seq: number; fn: () => void };

/**
 * A seeded, deterministic discrete-event simulation of a room for the partial mesh, in Node:
 * virtual time, per-pair latency, loss, upload queues, link setup delay, a link cap, crash
 * detection delay, and peers joining and leaving. It runs the real membership and broadcast code
 * (src/core/overlay) and every message goes through `encodeMessage` and the receiver's
 * `InboundValidator`, as on the data channel; only the links are simulated.
 */
export class OverlaySimulation {
  /** Every peer added, by id, alive or not. */
  readonly peers = new Map<string, SimPeer>();
  /** Every message published, in order. */
  readonly messages: TrackedMessage[] = [];
  /** Links created (both ends agreed), over the whole run. */
  linksCreated = 0;
  /** Messages sent / lost in the network / dropped by a receiver's wire validator, and bytes sent. */
  readonly traffic = { sent: 0, lost: 0, bytes: 0, refused: 0 };
  private readonly options: OverlaySimulationOptions;
  private readonly random: () => number;
  private readonly heap: Event[] = [];
  private seq = 0;
  private clock = 0;
  private nextId = 0;
  private readonly latencies = new Map<string, number>();
  private readonly timers: OverlayTimers;

  constructor(options: Partial<OverlaySimulationOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.random = seededRandom(this.options.seed);
    this.timers = {
      now: () => this.clock,
      setTimeout: (fn, ms) => this.schedule(ms, fn),
      clearTimeout: handle => {
        if (handle) (handle as Event).fn = () => undefined;
      },
    };
  }

  /** Virtual time now, ms. */
  get now(): number {
    return this.clock;
  }

  /** Peers alive now. */
  alive(): SimPeer[] {
    return [...this.peers.values()].filter(p => p.alive);
  }

  /** Runs events until virtual time `until` (ms). */
  runUntil(until: number): void {
    while (this.heap.length && this.heap[0].at <= until) {
      const e = this.pop()!;
      this.clock = e.at;
      e.fn();
    }
    this.clock = Math.max(this.clock, until);
  }

  /** Calls `fn` every `ms` of virtual time from now on (a probe: view bounds, counts). */
  every(ms: number, fn: () => void): void {
    const tick = () => {
      fn();
      this.schedule(ms, tick);
    };
    this.schedule(ms, tick);
  }

  /**
   * Checks every `ms` (100) that every live page keeps its views in bounds: active view ≤ `activeMax`
   * and links ≤ the cap at every check, and active view ≥ `activeMin` (while the room has that many
   * other pages) except for at most `graceMs` (5 000) at a stretch, from a page's join or a lost
   * neighbour until it is replaced. Returns the tally so far (updated as the run goes on).
   */
  watchViews(options: { ms?: number; activeMin?: number; activeMax?: number; graceMs?: number } = {}): ViewWatch {
    const { ms = 100, activeMin = 4, activeMax = 8, graceMs = 5000 } = options;
    const watch: ViewWatch = { checks: 0, overMax: 0, overLinks: 0, longBelowMin: 0, longestBelowMinMs: 0 };
    const belowSince = new Map<string, number>();
    this.every(ms, () => {
      const alive = this.alive();
      for (const p of alive) {
        watch.checks++;
        const size = p.membership.active.size;
        if (size > activeMax) watch.overMax++;
        if (p.links.size > this.options.maxLinks) watch.overLinks++;
        if (size < activeMin && alive.length > activeMin) {
          const since = belowSince.get(p.id) ?? this.clock;
          belowSince.set(p.id, since);
          const stretch = this.clock - Math.max(since, p.joinedAt);
          watch.longestBelowMinMs = Math.max(watch.longestBelowMinMs, stretch);
          if (stretch > graceMs) watch.longBelowMin++;
        } else belowSince.delete(p.id);
      }
    });
    return watch;
  }

  /** Runs for `ms` of virtual time. */
  run(ms: number): void {
    this.runUntil(this.clock + ms);
  }

  /** Adds a page: it learns `contacts` random present peers (as from the relay) and joins through them. */
  addPeer(): SimPeer {
    const id = `p${(this.nextId++).toString(36).padStart(4, '0')}`;
    const contacts = sampleRandom(this.alive().map(p => p.id), this.options.contacts, this.random);
    const drops = new DropCounters();
    const peer: SimPeer = {
      id,
      joinedAt: this.clock,
      alive: true,
      links: new Set(),
      uplinkFreeAt: 0,
      drops,
      validators: { view: new InboundValidator(membershipMessage, drops, () => this.clock), push: new InboundValidator(broadcastMessage, drops, () => this.clock) },
      membership: undefined as unknown as Membership,
      broadcast: undefined as unknown as Broadcast,
    };
    peer.membership = new Membership(
      id,
      {
        connect: to => this.connect(peer, to),
        close: to => this.close(peer, to),
        send: (to, msg) => this.send(peer, to, membershipMessage.channel, encodeMessage(membershipMessage, msg)),
      },
      { random: this.random, timers: this.timers, maxLinks: this.options.maxLinks, discover: () => sampleRandom(this.alive().filter(p => p !== peer).map(p => p.id), this.options.contacts, this.random), ...this.options.membership },
    );
    peer.broadcast = new Broadcast(
      id,
      {
        send: (to, msg) => this.send(peer, to, broadcastMessage.channel, encodeMessage(broadcastMessage, msg)),
        penalise: () => undefined,
      },
      { timers: this.timers, ...this.options.broadcast },
    );
    peer.membership.on('neighborUp', n => peer.broadcast.neighborUp(n));
    peer.membership.on('neighborDown', n => peer.broadcast.neighborDown(n));
    peer.broadcast.on('deliver', m => this.delivered(peer, m.id, m.hops));
    peer.broadcast.on('duplicate', id => this.duplicated(peer, id));
    this.peers.set(id, peer);
    peer.membership.start(contacts);
    return peer;
  }

  /**
   * Removes a page: `graceful` (tab closed: its neighbours see the links close after one latency)
   * or a crash (they notice after the detection delay; until then what they send it is lost).
   */
  removePeer(peer: SimPeer, graceful: boolean): void {
    if (!peer.alive) return;
    peer.alive = false;
    peer.membership.stop();
    peer.broadcast.stop();
    for (const other of [...peer.links]) {
      const o = this.peers.get(other)!;
      const delay = graceful ? this.latency(peer.id, other) : this.uniform(this.options.detectMs);
      this.schedule(delay, () => this.linkGone(o, peer.id));
    }
    peer.links.clear();
  }

  /** `peer` publishes a new message (body `size` bytes of text) and the simulation tracks where it gets to. */
  publish(peer: SimPeer, size = 200, settledMs = 10_000): TrackedMessage {
    const id = `${peer.id}:${this.messages.length}`;
    const present = new Set(this.alive().filter(p => p !== peer && this.clock - p.joinedAt >= settledMs).map(p => p.id));
    const tracked: TrackedMessage = { id, origin: peer.id, at: this.clock, present, deliveries: new Map() };
    this.messages.push(tracked);
    this.tracked.set(id, tracked);
    peer.broadcast.publish('chat', id, JSON.stringify({ v: 1, text: 'x'.repeat(Math.max(0, size - 20)) }));
    return tracked;
  }

  /** Replaces `fraction` of the pages per minute (half crash, half close), spread at random over `ms` of virtual time. */
  churn(fractionPerMinute: number, ms: number): void {
    const end = this.clock + ms;
    const step = (at: number) => {
      if (at > end) return;
      this.schedule(at - this.clock, () => {
        const victims = this.alive();
        if (victims.length > 1) this.removePeer(victims[Math.floor(this.random() * victims.length)], this.random() < 0.5);
        this.addPeer();
        step(this.clock + this.interval(fractionPerMinute));
      });
    };
    step(this.clock + this.interval(fractionPerMinute));
  }

  /** Mean interval between replacements for `fractionPerMinute` of the current population, ms (exponential). */
  private interval(fractionPerMinute: number): number {
    const perMs = (fractionPerMinute * Math.max(1, this.alive().length)) / 60_000;
    return -Math.log(1 - this.random()) / perMs;
  }

  private readonly tracked = new Map<string, TrackedMessage>();

  private delivered(peer: SimPeer, id: string, hops: number): void {
    const t = this.tracked.get(id);
    if (t) t.deliveries.set(peer.id, { ms: this.clock - t.at, hops, copies: 1 });
  }

  private duplicated(peer: SimPeer, id: string): void {
    const d = this.tracked.get(id)?.deliveries.get(peer.id);
    if (d) d.copies++;
  }

  private connect(from: SimPeer, to: string): void {
    this.schedule(this.uniform(this.options.connectMs), () => {
      if (!from.alive) return;
      const target = this.peers.get(to);
      if (from.links.has(to)) return from.membership.linkUp(to);
      if (!target?.alive || from.links.size >= this.options.maxLinks || target.links.size >= this.options.maxLinks) return from.membership.linkFailed(to);
      from.links.add(to);
      target.links.add(from.id);
      this.linksCreated++;
      target.membership.linkUp(from.id);
      from.membership.linkUp(to);
    });
  }

  private close(from: SimPeer, to: string): void {
    if (!from.links.delete(to)) return;
    const target = this.peers.get(to);
    if (target) this.schedule(this.latency(from.id, to), () => this.linkGone(target, from.id));
  }

  private linkGone(peer: SimPeer, other: string): void {
    if (!peer.alive || !peer.links.delete(other)) return;
    peer.membership.linkDown(other);
  }

  private send(from: SimPeer, to: string, channel: string, text: string): void {
    if (!from.alive || !from.links.has(to)) return;
    this.traffic.sent++;
    this.traffic.bytes += text.length;
    const leaves = Math.max(this.clock, from.uplinkFreeAt) + text.length / this.options.uplinkBytesPerMs;
    from.uplinkFreeAt = leaves;
    if (this.random() < this.options.loss) {
      this.traffic.lost++;
      return;
    }
    this.schedule(leaves - this.clock + this.latency(from.id, to), () => {
      const target = this.peers.get(to);
      if (!target?.alive || !target.links.has(from.id)) {
        this.traffic.lost++;
        return;
      }
      if (channel === membershipMessage.channel) {
        const r = target.validators.view.check(text, from.id);
        if (r.ok) target.membership.receive(from.id, r.value as MembershipMessage);
        else this.traffic.refused++;
      } else {
        const r = target.validators.push.check(text, from.id);
        if (r.ok) target.broadcast.receive(from.id, r.value as BroadcastMessage);
        else this.traffic.refused++;
      }
    });
  }

  private latency(a: string, b: string): number {
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let ms = this.latencies.get(key);
    if (ms === undefined) {
      ms = this.uniform(this.options.latencyMs);
      this.latencies.set(key, ms);
    }
    return ms;
  }

  private uniform([min, max]: [number, number]): number {
    return min + this.random() * (max - min);
  }

  private schedule(ms: number, fn: () => void): Event {
    const e: Event = { at: this.clock + Math.max(0, ms), seq: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
    return e;
  }

  private pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Figures of a run over the tracked messages (peers present for each message's whole lifetime). */
export interface OverlayReport {
  /** Messages in the report. */
  messages: number;
  /** Share of (message, peer present throughout) pairs delivered at all (0–1); see also `within1s`, `within2s`. */
  reached: number;
  /** Share delivered within 1 s (0–1). */
  within1s: number;
  /** Share delivered within 2 s (0–1). */
  within2s: number;
  /** Delivery time percentiles over delivered pairs: the median, ms. */
  p50Ms: number;
  /** 95th percentile, ms. */
  p95Ms: number;
  /** 99th percentile, ms. */
  p99Ms: number;
  /** 95th percentile of the hop count over delivered pairs. */
  p95Hops: number;
  /** Largest hop count. */
  maxHops: number;
  /** Copies beyond the first per delivered (message, peer) pair: the mean. */
  meanDuplicates: number;
  /** Largest count of extra copies of one message at one peer. */
  maxDuplicates: number;
}

/**
 * Sums up `messages` for the peers present for each message's whole lifetime: present (and
 * settled) when it was published and still alive in `sim` now. Percentiles are nearest-rank; a
 * share is 1 when there is no pair to count, a percentile NaN when nothing was delivered.
 */
export function overlayReport(sim: OverlaySimulation, messages: TrackedMessage[] = sim.messages): OverlayReport {
  const times: number[] = [];
  const hops: number[] = [];
  let pairs = 0;
  let reached = 0;
  let in1 = 0;
  let in2 = 0;
  let dupSum = 0;
  let dupMax = 0;
  for (const m of messages) {
    for (const id of m.present) {
      const p = sim.peers.get(id);
      if (!p?.alive) continue; // left during the message's lifetime
      pairs++;
      const d = m.deliveries.get(id);
      if (!d) continue;
      reached++;
      if (d.ms <= 1000) in1++;
      if (d.ms <= 2000) in2++;
      times.push(d.ms);
      hops.push(d.hops);
      dupSum += d.copies - 1;
      dupMax = Math.max(dupMax, d.copies - 1);
    }
  }
  const pct = (xs: number[], q: number) => {
    if (!xs.length) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)];
  };
  return {
    messages: messages.length,
    reached: pairs ? reached / pairs : 1,
    within1s: pairs ? in1 / pairs : 1,
    within2s: pairs ? in2 / pairs : 1,
    p50Ms: pct(times, 50),
    p95Ms: pct(times, 95),
    p99Ms: pct(times, 99),
    p95Hops: pct(hops, 95),
    maxHops: hops.reduce((a, b) => Math.max(a, b), 0),
    meanDuplicates: reached ? dupSum / reached : 0,
    maxDuplicates: dupMax,
  };
}
