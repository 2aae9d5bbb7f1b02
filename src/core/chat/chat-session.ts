import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { MeshRoom, PeerInfo } from '../mesh';
import { linkSegments, Segment } from './link-segments';
import { chatMessage, codePointLength, encodeMessage, MAX_CHAT_TEXT_LENGTH, PROTOCOL_VERSION } from '../wire';

/** A chat line as the widget shows it and as `p2pMessage` carries it. */
export interface ChatMessage {
  kind: 'message';
  /** Message id (random, 8–64 chars of [A-Za-z0-9_-]). */
  id: string;
  /** Sender's peer id; equals the room's `selfId` for own messages. */
  peerId: string;
  userName: string;
  text: string;
  /** `text` split into text and safe links, computed once when the message is added. */
  segments: Segment[];
  /** Send time, ms since epoch (sender's clock, clamped to the receiver's clock ± `MAX_CLOCK_SKEW_MS`). */
  timestamp: number;
  own: boolean;
}

/** A join/leave line. */
export interface ChatNotice {
  kind: 'notice';
  id: string;
  event: 'join' | 'leave';
  peerId: string;
  userName: string | null;
  timestamp: number;
}

export type ChatItem = ChatMessage | ChatNotice;

/** Why `send` refused a text. */
export class ChatSendError extends Error {
  constructor(
    readonly code: 'empty' | 'too-long',
    message: string,
  ) {
    super(message);
  }
}

export interface ChatSessionOptions {
  /** Longest message accepted on send and on receive, in characters; default 4000, capped at 16 000. */
  maxLength?: number;
  /** Most items kept in memory for the live view; older ones are dropped. Default 1000. */
  maxItems?: number;
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

export interface ChatSessionEvents {
  /** The item list changed. */
  change: (items: readonly ChatItem[]) => void;
  /** A message was added (own or a peer's). */
  message: (message: ChatMessage) => void;
}

/** Greatest accepted difference between a peer's timestamp and ours, ms (5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** What the chat needs from a mesh room. */
export type ChatMesh = Pick<MeshRoom, 'channel' | 'on' | 'peers' | 'selfId'>;

/**
 * Live chat over a mesh room: sends and receives `chat` wire messages, applies
 * the length limit on both sides, drops duplicate ids, and interleaves
 * join/leave notices. Emits `change` and `message`.
 */
export class ChatSession {
  readonly maxLength: number;
  /** Received messages refused by the length rule (the wire already counted schema/size/rate drops). */
  rejectedTooLong = 0;
  private items: ChatItem[] = [];
  private readonly seen = new Set<string>();
  private readonly emitter = createNanoEvents<ChatSessionEvents>();
  private readonly unsubscribers: Unsubscribe[] = [];
  private readonly now: () => number;
  private readonly maxItems: number;

  constructor(
    private readonly mesh: ChatMesh,
    private userName: string,
    options: ChatSessionOptions = {},
  ) {
    this.maxLength = Math.max(1, Math.min(options.maxLength ?? 4000, MAX_CHAT_TEXT_LENGTH));
    this.maxItems = Math.max(1, options.maxItems ?? 1000);
    this.now = options.now ?? (() => Date.now());
    this.unsubscribers.push(
      mesh.channel(chatMessage).onMessage((msg, peerId) => this.receive(msg, peerId)),
      mesh.on('peerJoin', peer => this.notice('join', peer)),
      mesh.on('peerLeave', peer => this.notice('leave', peer)),
      mesh.on('roster', peers => this.nameNotices(peers)),
    );
  }

  on<E extends keyof ChatSessionEvents>(event: E, handler: ChatSessionEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  list(): readonly ChatItem[] {
    return this.items;
  }

  setUserName(name: string): void {
    this.userName = name;
  }

  /**
   * Sends `text` to every peer and shows it locally. Leading/trailing blank lines are trimmed.
   * @returns the message as shown
   * @throws ChatSendError `empty` for blank text, `too-long` over `maxLength` characters
   */
  async send(text: string): Promise<ChatMessage> {
    const body = text.replace(/^\s*\n|\n\s*$/g, '');
    if (!body.trim()) throw new ChatSendError('empty', 'message is empty');
    const length = codePointLength(body);
    if (length > this.maxLength) throw new ChatSendError('too-long', `message has ${length} characters; the limit is ${this.maxLength}`);
    const message: ChatMessage = {
      kind: 'message',
      id: randomId(),
      peerId: this.mesh.selfId,
      userName: this.userName,
      text: body,
      segments: linkSegments(body),
      timestamp: this.now(),
      own: true,
    };
    const wire = { v: PROTOCOL_VERSION, id: message.id, name: this.userName, text: body, ts: message.timestamp } as const;
    try {
      encodeMessage(chatMessage, wire);
    } catch {
      throw new ChatSendError('too-long', `message is larger than ${chatMessage.maxBytes} bytes once encoded`);
    }
    this.add(message);
    await this.mesh.channel(chatMessage).send(wire);
    return message;
  }

  /** Stops listening to the mesh. */
  destroy(): void {
    this.unsubscribers.splice(0).forEach(off => off());
    this.emitter.events = {};
  }

  private receive(msg: { id: string; name: string; text: string; ts: number }, peerId: string): void {
    if (codePointLength(msg.text) > this.maxLength) {
      this.rejectedTooLong++;
      return;
    }
    const now = this.now();
    const timestamp = Math.abs(msg.ts - now) > MAX_CLOCK_SKEW_MS ? now : msg.ts;
    this.add({ kind: 'message', id: msg.id, peerId, userName: msg.name, text: msg.text, segments: linkSegments(msg.text), timestamp, own: false });
  }

  private notice(event: 'join' | 'leave', peer: PeerInfo): void {
    const current = this.mesh.peers.get(peer.id);
    this.add({ kind: 'notice', id: `${event}-${peer.id}-${this.now()}`, event, peerId: peer.id, userName: current?.name ?? peer.name, timestamp: this.now() });
  }

  /** A join notice made before the peer announced its name gets the name when it arrives. */
  private nameNotices(peers: PeerInfo[]): void {
    const names = new Map(peers.filter(p => p.name).map(p => [p.id, p.name]));
    let changed = false;
    this.items = this.items.map(item => {
      if (item.kind !== 'notice' || item.userName !== null || !names.has(item.peerId)) return item;
      changed = true;
      return { ...item, userName: names.get(item.peerId) ?? null };
    });
    if (changed) this.emitter.emit('change', this.items);
  }

  private add(item: ChatItem): void {
    const key = item.kind === 'message' ? `${item.peerId}/${item.id}` : item.id;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items = [...this.items, item].slice(-this.maxItems);
    if (this.seen.size > this.maxItems * 4) this.seen.delete(this.seen.values().next().value as string);
    if (item.kind === 'message') this.emitter.emit('message', item);
    this.emitter.emit('change', this.items);
  }
}

/** 128 random bits as 22 base64url characters (WebCrypto `getRandomValues`). */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
