import type * as v from 'valibot';
import { createNanoEvents, Emitter, Unsubscribe } from 'nanoevents';
import type { BulkLink, BulkNetwork, BulkNetworkEvents, FeatureMesh, MeshChannel, MeshEvents, PeerInfo, PeerLeaveReason } from '../mesh';
import { FLOOD_UNIT_BYTES } from '../mesh/bulk-links';
import { DropCounters, DropReason, encodeMessage, InboundValidator, MessageSpec, PeerRateLimiter, presenceMessage, PROTOCOL_VERSION } from '../wire';
import type { ChatMesh } from '../chat/chat-session';

/** How a {@link TestNetwork} carries payloads between its peers. */
export interface MemoryNetworkOptions {
  /** Clock for rate limits and `joinedAt`, ms; pass the same clock as the sessions. Default `Date.now`. */
  now?: () => number;
  /** Seed of the network's pseudo-random generator (latency, loss): the same seed, the same run. Default 1. */
  seed?: number;
  /**
   * One-way latency per payload, ms, drawn uniformly from `[min, max]`; payloads between two peers
   * still arrive in the order sent (a data channel is ordered). Default `[0, 0]`: a microtask later.
   */
  latencyMs?: [number, number];
  /**
   * Probability (0–1) that a payload is lost. A data channel is reliable, so keep 0 to model one;
   * set it to model what a link going down mid-transfer loses. Default 0.
   */
  loss?: number;
  /**
   * Bandwidth of each direction of each link, bytes per ms: a payload is handed over only after
   * the ones before it on the same link and its own size / bandwidth (so a transfer takes time, as
   * on a real link). Default unlimited.
   */
  bytesPerMs?: number;
}

/**
 * Test helper for Node unit tests (not shipped in the bundles): an in-process mesh of
 * {@link TestPeer}s that implements the mesh's narrow interface ({@link ChatMesh}: `channel`,
 * `on`, `peers`, `selfId`). Every payload travels as the JSON text `encodeMessage` produces and
 * goes through the real {@link InboundValidator} of the receiving peer, exactly like `MeshRoom`
 * does with Trystero, so the wire rules (size, rate, nesting, JSON, schema) apply to every channel.
 *
 * Delivery is asynchronous like a data channel: a microtask later by default, or after a seeded
 * random latency, in order per pair of peers; payloads in flight to a peer that left are lost.
 * `send` resolves once the payload is handed over, not once it was handled. Use
 * {@link TestNetwork.settle} (or `vi.waitFor`) before asserting on receivers;
 * {@link TestNetwork.deliver} injects a raw payload synchronously.
 */
export class TestNetwork {
  private readonly members = new Map<string, TestPeer>();
  private readonly links = new Set<string>();
  /** Payloads handed to a receiver so far (for {@link settle}). */
  delivered = 0;
  /** Payloads sent but not yet handed to their receiver. */
  inFlight = 0;

  /** Payloads lost on purpose (`loss`) or because their link went down while they were in flight. */
  lost = 0;
  private readonly now: () => number;
  private readonly latency: [number, number];
  private readonly loss: number;
  private readonly bytesPerMs: number;
  private random: () => number;
  /** Per ordered pair of peers (`from>to`): payloads waiting for their latency, in the order sent. */
  private readonly queues = new Map<string, { due: number; arrive: () => void }[]>();
  /** Per ordered pair of peers (`from>to`): nothing is handed over before this time, ms (see {@link stall}). */
  private readonly stalledUntil = new Map<string, number>();
  /** Bandwidth of one direction set with {@link TestNetwork.shape}, bytes per ms. */
  private readonly shaped = new Map<string, number>();

  /** @param options - a clock (kept as the first argument's type for older call sites), or {@link MemoryNetworkOptions} */
  constructor(options: MemoryNetworkOptions | (() => number) = {}) {
    const o = typeof options === 'function' ? { now: options } : options;
    this.now = o.now ?? (() => Date.now());
    this.latency = o.latencyMs ?? [0, 0];
    this.loss = o.loss ?? 0;
    this.bytesPerMs = o.bytesPerMs ?? Infinity;
    this.random = seededRandom(o.seed ?? 1);
  }

  /** Adds a peer to the network (connected to nobody yet). */
  peer(selfId: string, userName: string): TestPeer {
    if (this.members.has(selfId)) throw new Error(`peer ${selfId} already exists`);
    const peer = new TestPeer(selfId, userName, this, this.now);
    this.members.set(selfId, peer);
    return peer;
  }

  /** Connects two peers: both see `peerJoin` (name unknown), then both announce their name by `presence`. */
  connect(a: TestPeer, b: TestPeer): void {
    if (this.connected(a.selfId, b.selfId)) return;
    this.links.add(linkKey(a.selfId, b.selfId));
    a.peerJoined(b.selfId);
    b.peerJoined(a.selfId);
    a.announce(b.selfId);
    b.announce(a.selfId);
    this.openBulk(a, b);
  }

  /** Opens the bulk links between two connected peers that both asked for bulk links (a microtask later, like a data channel opening). */
  openBulk(a: TestPeer, b: TestPeer): void {
    queueMicrotask(() => {
      if (!this.connected(a.selfId, b.selfId)) return;
      a.bulkOpened(b.selfId);
      b.bulkOpened(a.selfId);
    });
  }

  /** Adds peers `ids` (each named `name-<id>`) and connects every pair: a full mesh. */
  fullMesh(ids: string[]): TestPeer[] {
    const peers = ids.map(id => this.peer(id, `name-${id}`));
    for (let i = 0; i < peers.length; i++) for (let j = i + 1; j < peers.length; j++) this.connect(peers[i], peers[j]);
    return peers;
  }

  /** The peer of this network with id `selfId`. */
  member(selfId: string): TestPeer | undefined {
    return this.members.get(selfId);
  }

  /**
   * Disconnects two peers: both see `peerLeave` (reason `connection-lost`, or `goodbye` when `a`
   * leaves the network); payloads still in flight between them are lost.
   */
  disconnect(a: TestPeer, b: TestPeer, reason: PeerLeaveReason = 'connection-lost'): void {
    if (!this.links.delete(linkKey(a.selfId, b.selfId))) return;
    a.bulkClosed(b.selfId);
    b.bulkClosed(a.selfId);
    a.peerLeft(b.selfId, reason);
    b.peerLeft(a.selfId, reason);
  }

  /** Whether peers `a` and `b` are linked now. */
  connected(a: string, b: string): boolean {
    return this.links.has(linkKey(a, b));
  }

  /** Hands a raw payload (any value, as Trystero could deliver it) from `from` to `to` on `channel`, now. */
  deliver(from: string, to: string, channel: string, payload: unknown): void {
    if (!this.connected(from, to)) return;
    this.delivered++;
    this.members.get(to)?.receive(from, channel, payload);
  }

  /** Removes a peer from the network: every link of it goes down (its peers see `peerLeave`). */
  leave(peer: TestPeer): void {
    for (const other of this.members.values()) if (other !== peer) this.disconnect(peer, other, 'goodbye');
    this.members.delete(peer.selfId);
  }

  /**
   * Sends a payload as a data channel would: handed over after the configured latency (a microtask
   * by default), in order per pair; lost with probability `loss`, or when the link is down on arrival.
   */
  post(from: string, to: string, channel: string, payload: unknown): void {
    if (this.loss > 0 && this.random() < this.loss) {
      this.lost++;
      return;
    }
    this.inFlight++;
    const arrive = () => {
      this.inFlight--;
      if (!this.connected(from, to)) this.lost++;
      else this.deliver(from, to, channel, payload);
    };
    const [min, max] = this.latency;
    const key = `${from}>${to}`;
    const stalledUntil = this.stalledUntil.get(key) ?? 0;
    const bytesPerMs = this.shaped.get(key) ?? this.bytesPerMs;
    if (max <= 0 && bytesPerMs === Infinity && stalledUntil <= Date.now() && !this.queues.has(key)) {
      queueMicrotask(arrive);
      return;
    }
    // One queue and one timer per ordered pair: payloads leave it in the order sent (timers of
    // different delays that expire in the same millisecond may fire in either order).
    const queue = this.queues.get(key) ?? [];
    const size = typeof payload === 'string' ? payload.length : payload instanceof ArrayBuffer ? payload.byteLength : 0;
    const due = Math.max(Date.now() + min + this.random() * (max - min), queue[queue.length - 1]?.due ?? 0, stalledUntil) + size / bytesPerMs;
    queue.push({ due, arrive });
    if (queue.length === 1) {
      this.queues.set(key, queue);
      this.drain(key, queue);
    }
  }

  /**
   * Stalls the direction `from` → `to` for `ms`: what is in flight and what is sent meanwhile arrives
   * afterwards, in order, nothing lost (as a WebRTC transport that stops delivering for a while).
   */
  stall(from: string, to: string, ms: number): void {
    const key = `${from}>${to}`;
    const until = Date.now() + ms;
    this.stalledUntil.set(key, until);
    for (const item of this.queues.get(key) ?? []) item.due = Math.max(item.due, until);
  }

  /** Sets the bandwidth of the direction `from` → `to`, bytes per ms (instead of the network's `bytesPerMs`), for what is sent from now on. */
  shape(from: string, to: string, bytesPerMs: number): void {
    this.shaped.set(`${from}>${to}`, bytesPerMs);
  }

  /** Hands over the payloads of one pair's queue that are due, in order, then waits for the next. */
  private drain(key: string, queue: { due: number; arrive: () => void }[]): void {
    const head = queue[0];
    if (!head) {
      this.queues.delete(key);
      return;
    }
    setTimeout(() => {
      while (queue.length && queue[0].due <= Date.now()) queue.shift()!.arrive();
      this.drain(key, queue);
    }, Math.max(0, head.due - Date.now()));
  }

  /**
   * Waits until the network is quiet: nothing in flight, nothing delivered, and `probe`
   * (e.g. store counts) unchanged for `quietMs` of real time.
   * @throws Error when it is not quiet within `timeoutMs`
   */
  async settle(options: { quietMs?: number; timeoutMs?: number; probe?: () => unknown } = {}): Promise<void> {
    const { quietMs = 40, timeoutMs = 5000, probe } = options;
    const started = Date.now();
    let lastDelivered = -1;
    let lastProbe: string | undefined;
    let stableSince = Date.now();
    for (;;) {
      await new Promise(resolve => setTimeout(resolve, 5));
      const probed = probe ? JSON.stringify(await probe()) : '';
      if (this.inFlight === 0 && this.delivered === lastDelivered && probed === lastProbe) {
        if (Date.now() - stableSince >= quietMs) return;
      } else {
        lastDelivered = this.delivered;
        lastProbe = probed;
        stableSince = Date.now();
      }
      if (Date.now() - started > timeoutMs) throw new Error('test network did not settle');
    }
  }
}

interface ChannelEntry {
  validator: InboundValidator<v.GenericSchema>;
  emitter: Emitter;
}

/** One peer of a {@link TestNetwork}; usable wherever a {@link FeatureMesh} (or {@link ChatMesh}) is expected. */
export class TestPeer implements FeatureMesh {
  readonly peers = new Map<string, PeerInfo>();
  /** Inbound accept/drop counters of this peer (the real wire counters). */
  readonly counters = new DropCounters();
  /** Every payload this peer sent: channel, encoded text and target peer ids. */
  readonly sent: { channel: string; text: string; to: string[] }[] = [];
  /** Errors thrown by handlers of this peer's channels (`MeshRoom` logs and swallows them; tests assert there are none). */
  readonly handlerErrors: unknown[] = [];
  private readonly emitter = createNanoEvents<MeshEvents>();
  private readonly channels = new Map<string, ChannelEntry>();
  private bulk: MemoryBulkLinks | null = null;

  constructor(
    readonly selfId: string,
    private userName: string,
    private readonly network: TestNetwork,
    private readonly now: () => number,
  ) {
    this.channel(presenceMessage).onMessage((msg, peerId) => {
      const peer = this.peers.get(peerId);
      if (peer) {
        peer.name = msg.name;
        this.emitter.emit('roster', [...this.peers.values()]);
        this.emitter.emit('members', this.memberList());
      }
    });
  }

  channel<TSchema extends v.GenericSchema>(spec: MessageSpec<TSchema>): MeshChannel<TSchema> {
    let entry = this.channels.get(spec.channel);
    if (!entry) {
      entry = {
        validator: new InboundValidator(spec, this.counters, this.now) as unknown as InboundValidator<v.GenericSchema>,
        emitter: createNanoEvents(),
      };
      this.channels.set(spec.channel, entry);
    }
    const { emitter } = entry;
    return {
      send: async (message, target) => {
        const text = encodeMessage(spec, message);
        const to = target === undefined ? [...this.peers.keys()] : ([] as string[]).concat(target);
        this.sent.push({ channel: spec.channel, text, to });
        for (const peerId of to) this.network.post(this.selfId, peerId, spec.channel, text);
      },
      onMessage: handler =>
        emitter.on('message', (message: v.InferOutput<TSchema>, peerId: string) => {
          try {
            handler(message, peerId);
          } catch (err) {
            this.handlerErrors.push(err);
          }
        }),
    };
  }

  on<E extends keyof MeshEvents>(event: E, handler: MeshEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The roster as an array, oldest peer first (like `MeshRoom.peerList`). */
  peerList(): PeerInfo[] {
    return [...this.peers.values()];
  }

  /** The member list: in this full-mesh network the same as the roster (like `MeshRoom.memberList` without a partial mesh). */
  memberList(): PeerInfo[] {
    return this.peerList().map(p => ({ ...p }));
  }

  /** The payloads this peer sent on `channel`, decoded. */
  sentOn(channel: string, to?: string): unknown[] {
    return this.sent.filter(s => s.channel === channel && (to === undefined || s.to.includes(to))).map(s => JSON.parse(s.text) as unknown);
  }

  /** Changes the announced name and tells every connected peer. */
  setUserName(name: string): void {
    this.userName = name;
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name });
  }

  /**
   * This peer's bulk links (the swarm's transport), like `MeshRoom.bulkLinks()`: one link per
   * connected peer that asked for bulk links too, opened a microtask after both have; the same
   * object on every call.
   */
  bulkLinks(): MemoryBulkLinks {
    if (!this.bulk) {
      this.bulk = new MemoryBulkLinks(this.selfId, this.network, this.counters);
      for (const peerId of this.peers.keys()) {
        const other = this.network.member(peerId);
        if (other) this.network.openBulk(this, other);
      }
    }
    return this.bulk;
  }

  /** Called by the network: the bulk link to `peerId` is open (when both sides asked for bulk links). */
  bulkOpened(peerId: string): void {
    if (this.bulk && this.network.member(peerId)?.hasBulk()) this.bulk.opened(peerId);
  }

  /** Called by the network. */
  bulkClosed(peerId: string): void {
    this.bulk?.closed(peerId);
  }

  /** Whether this peer asked for bulk links. */
  hasBulk(): boolean {
    return this.bulk !== null;
  }

  /** Called by the network: a payload arrived from `from`. Unknown channels are ignored. */
  receive(from: string, channel: string, payload: unknown): void {
    if (channel === BULK_CONTROL || channel === BULK_DATA) {
      this.bulk?.receive(from, channel, payload);
      return;
    }
    const entry = this.channels.get(channel);
    if (!entry) return;
    const result = entry.validator.check(payload, from);
    if (result.ok) entry.emitter.emit('message', result.value, from);
  }

  /** Called by the network. */
  peerJoined(peerId: string): void {
    const peer: PeerInfo = { id: peerId, name: null, rttMs: null, joinedAt: this.now() };
    this.peers.set(peerId, peer);
    this.emitter.emit('peerJoin', { ...peer });
    this.emitter.emit('roster', [...this.peers.values()]);
    this.emitter.emit('memberJoin', { ...peer });
    this.emitter.emit('members', this.memberList());
  }

  /** Called by the network; like `MeshRoom`, the peer is removed from the roster before `peerLeave`. */
  peerLeft(peerId: string, reason: PeerLeaveReason): void {
    const peer = this.peers.get(peerId);
    this.channels.forEach(c => c.validator.forgetPeer(peerId));
    if (!peer) return;
    this.peers.delete(peerId);
    this.emitter.emit('peerLeave', { ...peer }, { reason });
    this.emitter.emit('roster', [...this.peers.values()]);
    this.emitter.emit('memberLeave', { ...peer }, { reason });
    this.emitter.emit('members', this.memberList());
  }

  /** Called by the network: sends this peer's `presence` to `peerId`. */
  announce(peerId: string): void {
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: this.userName }, peerId);
  }
}

/** Channel names the network carries bulk-link payloads under (not valid Trystero action names). */
const BULK_CONTROL = '@bulk-control';
const BULK_DATA = '@bulk-data';

/** The flood budget `MeshRoom` applies (FLOOD_LIMIT in mesh-room.ts): 64 units/s, burst 256. */
const FLOOD_LIMIT = { ratePerSecond: 64, burst: 256 };

/** One in-memory bulk link; data frames travel as ArrayBuffer copies, like a data channel with `binaryType = 'arraybuffer'`. */
class MemoryBulkLink implements BulkLink {
  bytesSent = 0;
  bytesReceived = 0;
  closed = false;

  constructor(
    readonly peerId: string,
    private readonly selfId: string,
    private readonly network: TestNetwork,
  ) {}

  sendControl(text: string): void {
    if (!this.closed) this.network.post(this.selfId, this.peerId, BULK_CONTROL, text);
  }

  async sendData(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('link closed');
    this.bytesSent += frame.byteLength;
    this.network.post(this.selfId, this.peerId, BULK_DATA, frame.slice().buffer);
    await Promise.resolve();
  }
}

/**
 * A {@link TestPeer}'s bulk links: the in-memory {@link BulkNetwork}. Control text is charged to the
 * sender's flood budget by size and `penalise` charges it too, with the budget `MeshRoom` uses; a
 * peer over it is disconnected (recorded in {@link blocked}). Every penalty is recorded in
 * {@link penalties} and counted in the peer's wire counters.
 */
export class MemoryBulkLinks implements BulkNetwork {
  /** Penalties given, in order. */
  readonly penalties: { peerId: string; channel: string; reason: DropReason; cost: number }[] = [];
  /** Peers disconnected for going over the flood budget. */
  readonly blocked = new Set<string>();
  private readonly emitter = createNanoEvents<BulkNetworkEvents>();
  private readonly open = new Map<string, MemoryBulkLink>();
  private readonly flood = new PeerRateLimiter(FLOOD_LIMIT);

  constructor(
    readonly selfId: string,
    private readonly network: TestNetwork,
    private readonly counters: DropCounters,
  ) {}

  link(peerId: string): BulkLink | undefined {
    return this.open.get(peerId);
  }

  links(): BulkLink[] {
    return [...this.open.values()];
  }

  on<E extends keyof BulkNetworkEvents>(event: E, handler: BulkNetworkEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  penalise(peerId: string, channel: string, reason: DropReason, cost = 1): void {
    this.counters.drop(channel, reason);
    this.penalties.push({ peerId, channel, reason, cost });
    if (cost > 0) this.charge(peerId, cost);
  }

  countAccepted(): void {
    this.counters.accept();
  }

  /** Called by the peer. */
  opened(peerId: string): void {
    if (this.open.has(peerId) || this.blocked.has(peerId)) return;
    const link = new MemoryBulkLink(peerId, this.selfId, this.network);
    this.open.set(peerId, link);
    this.emitter.emit('open', link);
  }

  /** Called by the peer. */
  closed(peerId: string): void {
    const link = this.open.get(peerId);
    if (!link) return;
    link.closed = true;
    this.open.delete(peerId);
    this.emitter.emit('close', peerId);
  }

  /** Called by the peer: a bulk payload from `from`. */
  receive(from: string, channel: string, payload: unknown): void {
    const link = this.open.get(from);
    if (!link) return;
    if (channel === BULK_DATA) {
      link.bytesReceived += payload instanceof ArrayBuffer ? payload.byteLength : 0;
      this.emitter.emit('data', payload, from);
      return;
    }
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload).byteLength : FLOOD_UNIT_BYTES;
    if (this.charge(from, Math.max(bytes, 1) / FLOOD_UNIT_BYTES)) this.emitter.emit('control', payload, from);
  }

  private charge(peerId: string, cost: number): boolean {
    if (this.blocked.has(peerId)) return false;
    if (this.flood.take(peerId, cost)) return true;
    this.blocked.add(peerId);
    this.counters.drop('bulk', 'flood');
    const self = this.network.member(this.selfId);
    const other = this.network.member(peerId);
    if (self && other) this.network.disconnect(self, other);
    return false;
  }
}

function linkKey(a: string, b: string): string {
  return JSON.stringify([a, b].sort());
}

/** Mulberry32: a small seeded 32-bit PRNG (Tommy Ettinger, public domain); each call returns a number in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
