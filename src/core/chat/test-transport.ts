import type * as v from 'valibot';
import { createNanoEvents, Emitter, Unsubscribe } from 'nanoevents';
import type { MeshChannel, MeshEvents, PeerInfo } from '../mesh';
import { P2pDatabase } from '../store';
import { DropCounters, encodeMessage, InboundValidator, MessageSpec, presenceMessage, PROTOCOL_VERSION } from '../wire';
import type { ChatMesh } from './chat-session';

/**
 * Test helper (not shipped): an in-process mesh of {@link TestPeer}s that implements
 * {@link ChatMesh} (and so the `SyncMesh` of chat sync). Every payload travels as the JSON
 * text `encodeMessage` produces and goes through the real {@link InboundValidator} of the
 * receiving peer, exactly like `MeshRoom` does with Trystero, so the wire rules (size, rate,
 * JSON, schema) apply to every channel (`presence`, `chat`, `chat-sync-req`, `chat-sync-batch`, …).
 *
 * Delivery of `send` is asynchronous like a data channel (a microtask later, in order per
 * sender): `send` resolves once the payload is handed over, not once it was handled.
 * Use {@link TestNetwork.settle} (or `vi.waitFor`) before asserting on receivers.
 * {@link TestNetwork.deliver} injects a raw payload synchronously.
 */
export class TestNetwork {
  private readonly members = new Map<string, TestPeer>();
  private readonly links = new Set<string>();
  /** Payloads handed to a receiver so far (for {@link settle}). */
  delivered = 0;
  /** Payloads sent but not yet handed to their receiver. */
  inFlight = 0;

  /**
   * @param now - clock used for rate limits and `joinedAt`; pass the same clock as the sessions
   */
  constructor(private readonly now: () => number = () => Date.now()) {}

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
  }

  /** Disconnects two peers: both see `peerLeave`; payloads still in flight between them are lost. */
  disconnect(a: TestPeer, b: TestPeer): void {
    if (!this.links.delete(linkKey(a.selfId, b.selfId))) return;
    a.peerLeft(b.selfId);
    b.peerLeft(a.selfId);
  }

  connected(a: string, b: string): boolean {
    return this.links.has(linkKey(a, b));
  }

  /** Hands a raw payload (any value, as Trystero could deliver it) from `from` to `to` on `channel`, now. */
  deliver(from: string, to: string, channel: string, payload: unknown): void {
    if (!this.connected(from, to)) return;
    this.delivered++;
    this.members.get(to)?.receive(from, channel, payload);
  }

  /** Sends a payload as a data channel would: handed over a microtask later, in order. */
  post(from: string, to: string, channel: string, payload: string): void {
    this.inFlight++;
    queueMicrotask(() => {
      this.inFlight--;
      this.deliver(from, to, channel, payload);
    });
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

/** One peer of a {@link TestNetwork}; usable wherever a {@link ChatMesh} is expected. */
export class TestPeer implements ChatMesh {
  readonly peers = new Map<string, PeerInfo>();
  /** Inbound accept/drop counters of this peer (the real wire counters). */
  readonly counters = new DropCounters();
  /** Every payload this peer sent: channel, encoded text and target peer ids. */
  readonly sent: { channel: string; text: string; to: string[] }[] = [];
  /** Errors thrown by handlers of this peer's channels (`MeshRoom` logs and swallows them; tests assert there are none). */
  readonly handlerErrors: unknown[] = [];
  private readonly emitter = createNanoEvents<MeshEvents>();
  private readonly channels = new Map<string, ChannelEntry>();

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

  /** The payloads this peer sent on `channel`, decoded. */
  sentOn(channel: string, to?: string): unknown[] {
    return this.sent.filter(s => s.channel === channel && (to === undefined || s.to.includes(to))).map(s => JSON.parse(s.text) as unknown);
  }

  /** Changes the announced name and tells every connected peer. */
  setUserName(name: string): void {
    this.userName = name;
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name });
  }

  /** Called by the network: a payload arrived from `from`. Unknown channels are ignored. */
  receive(from: string, channel: string, payload: unknown): void {
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
  }

  /** Called by the network; like `MeshRoom`, the peer is removed from the roster before `peerLeave`. */
  peerLeft(peerId: string): void {
    const peer = this.peers.get(peerId);
    this.channels.forEach(c => c.validator.forgetPeer(peerId));
    if (!peer) return;
    this.peers.delete(peerId);
    this.emitter.emit('peerLeave', { ...peer });
    this.emitter.emit('roster', [...this.peers.values()]);
  }

  /** Called by the network: sends this peer's `presence` to `peerId`. */
  announce(peerId: string): void {
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: this.userName }, peerId);
  }
}

function linkKey(a: string, b: string): string {
  return JSON.stringify([a, b].sort());
}

let databases = 0;

/**
 * A new, empty {@link P2pDatabase} with a unique name (needs an IndexedDB: in Node, import
 * `fake-indexeddb/auto` first in the test file). `failWrites()` makes every later write of a
 * chat record fail as the browser does when the quota is exhausted (`QuotaExceededError`),
 * through a Dexie middleware, so the real store code sees a real Dexie rejection.
 */
export function freshDatabase(label = 'test'): P2pDatabase & { failWrites(on?: boolean, when?: 'before' | 'after-write'): void } {
  const db = new P2pDatabase(`${label}-${++databases}-${Math.random().toString(36).slice(2)}`);
  let failing = false;
  let after = false;
  const quota = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  db.use({
    stack: 'dbcore',
    name: 'test-quota',
    create: down => ({
      ...down,
      table: name => {
        const table = down.table(name);
        return {
          ...table,
          mutate: req =>
            failing && name === 'chatRecords' && req.type !== 'delete' ? (after ? table.mutate(req).then(quota) : quota()) : table.mutate(req),
        };
      },
    }),
  });
  // `after-write`: the write reaches IndexedDB inside its transaction, then fails (the transaction must roll it back).
  return Object.assign(db, { failWrites: (on = true, when: 'before' | 'after-write' = 'before') => void ((failing = on), (after = when === 'after-write')) });
}
