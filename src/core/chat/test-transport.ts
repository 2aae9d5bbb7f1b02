import type * as v from 'valibot';
import { createNanoEvents, Emitter, Unsubscribe } from 'nanoevents';
import type { MeshChannel, MeshEvents, PeerInfo } from '../mesh';
import { DropCounters, encodeMessage, InboundValidator, MessageSpec, presenceMessage, PROTOCOL_VERSION } from '../wire';
import type { ChatMesh } from './chat-session';

/**
 * Test helper (not shipped): an in-process mesh of {@link TestPeer}s that implements
 * {@link ChatMesh}. Every payload travels as the JSON text `encodeMessage` produces and
 * goes through the real {@link InboundValidator} of the receiving peer, exactly like
 * `MeshRoom` does with Trystero, so the wire rules (size, rate, JSON, schema) apply.
 * Delivery is synchronous: when `send` resolves, every receiver has handled the message.
 */
export class TestNetwork {
  private readonly members = new Map<string, TestPeer>();
  private readonly links = new Set<string>();

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

  /** Disconnects two peers: both see `peerLeave`. */
  disconnect(a: TestPeer, b: TestPeer): void {
    if (!this.links.delete(linkKey(a.selfId, b.selfId))) return;
    a.peerLeft(b.selfId);
    b.peerLeft(a.selfId);
  }

  connected(a: string, b: string): boolean {
    return this.links.has(linkKey(a, b));
  }

  /** Hands a raw payload (any value, as Trystero could deliver it) from `from` to `to` on `channel`. */
  deliver(from: string, to: string, channel: string, payload: unknown): void {
    if (!this.connected(from, to)) return;
    this.members.get(to)?.receive(from, channel, payload);
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
      if (peer) peer.name = msg.name;
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
        for (const peerId of to) this.network.deliver(this.selfId, peerId, spec.channel, text);
      },
      onMessage: handler => emitter.on('message', handler),
    };
  }

  on<E extends keyof MeshEvents>(event: E, handler: MeshEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
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
  }

  /** Called by the network; like `MeshRoom`, the peer is removed from the roster before `peerLeave`. */
  peerLeft(peerId: string): void {
    const peer = this.peers.get(peerId);
    this.channels.forEach(c => c.validator.forgetPeer(peerId));
    if (!peer) return;
    this.peers.delete(peerId);
    this.emitter.emit('peerLeave', { ...peer });
  }

  /** Called by the network: sends this peer's `presence` to `peerId`. */
  announce(peerId: string): void {
    void this.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: this.userName }, peerId);
  }
}

function linkKey(a: string, b: string): string {
  return JSON.stringify([a, b].sort());
}
