import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { MeshRoom, PeerInfo } from '../mesh';
import { P2pDatabase, StorageError, StoredChatRecord, toStorageError } from '../store';
import { chatRecordMessage, codePointLength, encodeMessage, MAX_CHAT_TEXT_LENGTH, PROTOCOL_VERSION, type ChatRecordWire } from '../wire';
import { ChatLog, type AcceptedRecord } from './chat-log';
import { ChatSync } from './chat-sync';
import { linkSegments, Segment } from './link-segments';
import { DexieRecordStore, MemoryRecordStore, PageCursor, RecordStore } from './record-store';
import { DEFAULT_RETENTION_MS } from './retention';
import { ChatSendError } from './chat-errors';
import { openRoomStorage, recordKey, targetKey } from '../records';

/** Quiet time (ms) after a storage error during which the same error is not reported again (counted instead). */
export const STORAGE_ERROR_QUIET_MS = 5_000;
/**
 * While records land in bursts (a sync batch carries up to 250), the list is updated at most once per
 * this many ms, ms: each update redraws the widget's list, and a newcomer's backfill redrew it once
 * per batch (86 redraws, 1.2 s of its main thread for 10,000 records; bench/chat-history.mjs traced).
 */
export const BURST_FLUSH_MS = 250;
/** A flush of at least this many items counts as a burst (see {@link BURST_FLUSH_MS}). */
const BURST_MIN_ITEMS = 20;

/** A chat message as the widget shows it and as `p2pMessage` carries it. */
export interface ChatMessage {
  /** Discriminant of {@link ChatItem}. */
  kind: 'message';
  /** `author:seq`: unique in the room. */
  key: string;
  /** Same as `key` (the id in `p2pMessage`). */
  id: string;
  /** Author's per-room public key (base64url). */
  author: string;
  /** The author's sequence number. */
  seq: number;
  /** Peer id it came from live; '' when it came from storage or sync. */
  peerId: string;
  /** The author's display name, as signed into the record. */
  userName: string;
  /** The message text (at most `maxLength` characters). */
  text: string;
  /** `text` split into text and safe links, computed once. */
  segments: Segment[];
  /** Author's timestamp, ms since epoch. */
  timestamp: number;
  /** Sent from this device (its key is the author). */
  own: boolean;
  /** The author retracted it; the body is kept on this device but never sent again. */
  retracted: boolean;
  /** Marked on this device: kept beyond the retention window. */
  marked: boolean;
  /** Sent in burn-after-reading mode: memory only, removed after it was read. */
  burn: boolean;
}

/** A join/leave line (memory only). */
export interface ChatNotice {
  /** Discriminant of {@link ChatItem}. */
  kind: 'notice';
  /** `join-` or `leave-`, then the peer id and the time in ms (`join-<peerId>-<ms>`). */
  key: string;
  /** Whether the page entered or left the room. */
  event: 'join' | 'leave';
  /** The page's peer id. */
  peerId: string;
  /** Its display name; null until known (filled in when it arrives). */
  userName: string | null;
  /** When this device saw it happen, ms since epoch. */
  timestamp: number;
}

/** The room's burn-after-reading switch was changed. */
export interface ChatModeChange {
  /** Discriminant of {@link ChatItem}. */
  kind: 'mode';
  /** `author:seq` of the `mode` record. */
  key: string;
  /** The switch's new state: burn after reading on or off. */
  burn: boolean;
  /** Switched from this device. */
  own: boolean;
  /** The author's timestamp, ms since epoch. */
  timestamp: number;
}

/** A retraction of a message this device never held. */
export interface ChatTombstone {
  /** Discriminant of {@link ChatItem}. */
  kind: 'tombstone';
  /** `tomb:` and the `author:seq` of the tombstone. */
  key: string;
  /** The retracting author's public key. */
  author: string;
  /** The sequence number of the retracted message. */
  target: number;
  /** The tombstone's timestamp, ms since epoch. */
  timestamp: number;
}

/** One row of the chat log as the widget renders it: a message, a join/leave notice, a burn-mode change or a retracted message. */
export type ChatItem = ChatMessage | ChatNotice | ChatModeChange | ChatTombstone;

export { ChatSendError } from './chat-errors';

/** How a chat session is opened: the room key, the visitor's name, the room's limits (`maxLength` in characters, `retentionMs` and `burnAfterMs` in ms), paging, database and clock. */
export interface ChatSessionOptions {
  /** Room name (signed into every record). */
  room: string;
  /** The visitor's display name, put in each message this device signs. */
  userName: string;
  /** Longest message accepted on send and on receive, in characters; default 4000, at most 16 000. */
  maxLength?: number;
  /** Retention window from the `retention` attribute, ms; a window chosen in the widget (stored per room) wins. Default 30 days. */
  retentionMs?: number;
  /** Burn-after-reading on when the room has no switch record yet (attribute `burn-after-reading`). */
  burnDefault?: boolean;
  /** How long a burn message stays after it was read, ms; default 30 000. */
  burnAfterMs?: number;
  /** Records shown at open and per "load older" step; default 100. */
  pageSize?: number;
  /** The database; default: the page's shared one. `null` forces memory-only. */
  database?: P2pDatabase | null;
  /** Clock, ms since epoch; default `Date.now`. */
  now?: () => number;
}

/** Events of a {@link ChatSession}. */
export interface ChatSessionEvents {
  /** The item list changed. */
  change: (items: readonly ChatItem[]) => void;
  /** A new message arrived or was sent (not for history loaded from storage). */
  message: (message: ChatMessage) => void;
  /** Storage failed (unavailable, full); the chat keeps working live. */
  error: (error: StorageError) => void;
  /** Burn-after-reading was switched. */
  burn: (on: boolean) => void;
}

/** What the chat needs from a mesh room. */
export type ChatMesh = Pick<MeshRoom, 'channel' | 'on' | 'peers' | 'selfId'>;

/**
 * A room's chat on this device: signed records kept in IndexedDB within the
 * retention window, synced with peers on join, live messages, retraction,
 * burn-after-reading, marks. Use {@link ChatSession.open}.
 */
export class ChatSession {
  /** Longest message accepted, in characters. */
  readonly maxLength: number;
  /** Received messages refused by the length rule. */
  rejectedTooLong = 0;
  /** The storage problem met at open, if any (the session then keeps records in memory). */
  storageError: StorageError | null = null;
  /** Whether burn-after-reading is on in this room (from the newest `mode` record seen). */
  burn = false;
  /** Whether older records may exist in storage beyond what is loaded. */
  hasOlder = true;

  private items: ChatItem[] = [];
  private readonly index = new Map<string, ChatItem>();
  /** When each storage error code was last reported (ms, session clock). */
  private readonly storageErrorAt = new Map<string, number>();
  /** Storage errors not reported because the same one was reported less than STORAGE_ERROR_QUIET_MS before. */
  suppressedStorageErrors = 0;
  private readonly emitter = createNanoEvents<ChatSessionEvents>();
  private readonly offs: Unsubscribe[] = [];
  private readonly livePeer = new Map<string, string>();
  private readonly burnTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private burnTs = -1;
  private pendingItems: ChatItem[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** Inside {@link ChatSession.onBatch}: inserts and replacements wait for one flush. */
  private batching = false;
  /** Items were replaced while batching and no `change` was emitted for it yet. */
  private dirty = false;
  /** Where the next "load older" page starts in storage (independent of what sync inserted). */
  private pageCursor: PageCursor | null = null;
  private pruneTimer: ReturnType<typeof setInterval> | null = null;
  private sync: ChatSync | null = null;
  private readonly now: () => number;
  private readonly pageSize: number;
  private readonly burnAfterMs: number;
  private userName: string;

  private constructor(
    private readonly mesh: ChatMesh,
    /** The room's history on this device and its rules. */
    readonly log: ChatLog,
    options: ChatSessionOptions,
  ) {
    this.maxLength = Math.max(1, Math.min(options.maxLength ?? 4000, MAX_CHAT_TEXT_LENGTH));
    this.now = options.now ?? (() => Date.now());
    this.pageSize = options.pageSize ?? 100;
    this.burnAfterMs = options.burnAfterMs ?? 30_000;
    this.userName = options.userName;
    this.burn = options.burnDefault ?? false;
  }

  /** Opens the room's history (or a memory-only one if storage is unavailable), loads the newest page and starts sync. */
  static async open(mesh: ChatMesh, options: ChatSessionOptions): Promise<ChatSession> {
    const opened = await openRoomStorage(options.room, options.database);
    const { db, identity } = opened;
    let storageError = opened.storageError;
    const store: RecordStore = db ? new DexieRecordStore(db, options.room) : new MemoryRecordStore(options.room);
    let retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    let settings;
    try {
      settings = await store.settings();
      if (settings.retentionMs !== undefined) retentionMs = settings.retentionMs;
    } catch (err) {
      storageError ??= toStorageError(err);
    }
    const log = new ChatLog(options.room, store, identity, { retentionMs, now: options.now });
    await log.init();
    const session = new ChatSession(mesh, log, options);
    session.storageError = storageError;
    if (settings?.burn) {
      session.burn = settings.burn.on;
      session.burnTs = settings.burn.ts;
    }
    await log.prune();
    await session.loadOlder();
    session.start();
    return session;
  }

  /** Subscribes to an event (see {@link ChatSessionEvents}); returns the unsubscribe function. */
  on<E extends keyof ChatSessionEvents>(event: E, handler: ChatSessionEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The chat log as rendered now, oldest first. */
  list(): readonly ChatItem[] {
    if (this.pendingItems.length) this.flushItems();
    return this.items;
  }

  /** The room's retention window on this device, ms (0 = forever). */
  get retentionMs(): number {
    return this.log.retentionMs;
  }

  /** This device's public key in the room (base64url, P-256): the `author` of its records. */
  get publicKey(): string {
    return this.log.identity.publicKey;
  }

  /** The name put in what this visitor shares from now on (peers hear it through the mesh's `presence`). */
  setUserName(name: string): void {
    this.userName = name;
  }

  /**
   * Sends `text` to every peer, stores it (unless burn-after-reading is on) and shows it.
   * @throws ChatSendError `empty` for blank text, `too-long` over `maxLength` characters
   */
  async send(text: string): Promise<ChatMessage> {
    const body = text.replace(/^\s*\n|\n\s*$/g, '');
    if (!body.trim()) throw new ChatSendError('empty', 'message is empty');
    const length = codePointLength(body);
    if (length > this.maxLength) throw new ChatSendError('too-long', `message has ${length} characters; the limit is ${this.maxLength}`);
    const probe = { v: PROTOCOL_VERSION, record: { kind: 'msg', author: this.publicKey, seq: 1, ts: this.now(), name: this.userName, text: body, burn: true, sig: 'x'.repeat(86) } } as const;
    try {
      encodeMessage(chatRecordMessage, probe);
    } catch {
      throw new ChatSendError('too-long', `message is larger than ${chatRecordMessage.maxBytes} bytes once encoded`);
    }
    const { wire } = await this.log.author({ kind: 'msg', name: this.userName, text: body, ...(this.burn ? { burn: true as const } : {}) }, w => this.broadcast(w));
    return this.index.get(recordKey(wire)) as ChatMessage;
  }

  /**
   * Retracts one of this device's messages: a signed tombstone that syncs instead of the body.
   * @throws Error when the message is not this device's own
   */
  async retract(key: string): Promise<void> {
    const item = this.index.get(key);
    if (item?.kind !== 'message' || !item.own) throw new Error('only the author can retract a message');
    if (item.retracted) return;
    await this.log.author({ kind: 'retract', target: item.seq }, w => this.broadcast(w));
  }

  /** Switches burn-after-reading for the whole room (a signed record every peer applies). */
  async setBurn(on: boolean): Promise<void> {
    await this.log.author({ kind: 'mode', burn: on }, w => this.broadcast(w));
  }

  /** Marks or unmarks a message on this device. */
  async setMark(key: string, marked: boolean): Promise<void> {
    const item = this.index.get(key);
    if (item?.kind !== 'message') return;
    await this.log.setMark(item, marked);
    this.replace({ ...item, marked });
  }

  /** The marked messages held on this device, newest first. */
  async marked(): Promise<ChatMessage[]> {
    return (await this.log.marked()).filter(r => r.kind === 'msg').map(r => this.toMessage(r, ''));
  }

  /** Changes this device's retention window (ms, 0 = forever), remembers it for the room and prunes. */
  async setRetention(ms: number): Promise<void> {
    this.log.retentionMs = ms;
    try {
      const settings = await this.log.store.settings();
      await this.log.store.putSettings({ ...settings, retentionMs: ms });
    } catch (err) {
      this.emitter.emit('error', toStorageError(err));
    }
    await this.prune();
  }

  /** Tells the session a burn message was on screen; it is removed `burnAfterMs` later. */
  seen(key: string): void {
    const item = this.index.get(key);
    if (item?.kind !== 'message' || !item.burn || this.burnTimers.has(key)) return;
    this.burnTimers.set(
      key,
      setTimeout(() => {
        this.burnTimers.delete(key);
        this.remove(key);
      }, this.burnAfterMs),
    );
  }

  /** Loads the next page of older records from storage into the list. */
  async loadOlder(): Promise<number> {
    if (!this.hasOlder) return 0;
    let records: StoredChatRecord[] = [];
    try {
      records = await this.log.newest(this.pageCursor, this.pageSize);
    } catch (err) {
      this.emitter.emit('error', toStorageError(err));
      return 0;
    }
    this.hasOlder = records.length === this.pageSize;
    const last = records[records.length - 1];
    if (last) this.pageCursor = [last.ts, last.author, last.seq];
    const fresh = records.filter(r => !this.index.has(recordKey(r)) && !this.index.has(`tomb:${recordKey(r)}`));
    // Messages first, so a tombstone whose message is in the same page does not become an item of its own.
    const inPage = new Set(fresh.filter(r => r.kind === 'msg').map(recordKey));
    const added = fresh
      .filter(r => !(r.kind === 'retract' && inPage.has(targetKey(r))))
      .map(r => this.itemFor(r, ''))
      .filter((i): i is ChatItem => i !== null);
    if (added.length) {
      added.forEach(i => this.index.set(i.key, i));
      this.items = mergeSorted(this.items, added.sort(compareItems));
      this.emitter.emit('change', this.items);
    }
    return added.length;
  }

  /** Stops listening, syncing and timers. */
  destroy(): void {
    this.offs.splice(0).forEach(off => off());
    this.sync?.destroy();
    this.burnTimers.forEach(clearTimeout);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.emitter.events = {};
  }

  /** Counters for diagnostics: refusals by reason, sync figures. */
  stats() {
    return { refused: { ...this.log.refused }, rejectedTooLong: this.rejectedTooLong, syncSent: this.sync?.sent ?? 0, unsolicited: this.sync?.unsolicited ?? 0 };
  }

  /**
   * Emits a storage error unless the same code was emitted in the last {@link STORAGE_ERROR_QUIET_MS}:
   * a full disk fails every record of a sync batch (up to 250), and the host page should hear it once.
   */
  private reportStorageError(err: StorageError): void {
    const now = this.now();
    const last = this.storageErrorAt.get(err.code);
    if (last !== undefined && now - last < STORAGE_ERROR_QUIET_MS) {
      this.suppressedStorageErrors++;
      return;
    }
    this.storageErrorAt.set(err.code, now);
    this.emitter.emit('error', err);
  }

  private start(): void {
    const mesh = this.mesh;
    this.offs.push(
      this.log.on('record', (record, target) => this.onRecord(record, target)),
      this.log.on('batch', accepted => this.onBatch(accepted)),
      this.log.on('storageError', err => this.reportStorageError(err)),
      mesh.channel(chatRecordMessage).onMessage(({ record }, peerId) => void this.receive(record, peerId)),
      // Members, not links: in a partial mesh a page the overlay stops linking to is still in the room.
      mesh.on('memberJoin', peer => this.notice('join', peer)),
      mesh.on('memberLeave', peer => this.notice('leave', peer)),
      mesh.on('members', peers => this.nameNotices(peers)),
    );
    this.sync = new ChatSync(mesh, this.log);
    this.pruneTimer = setInterval(() => void this.prune(), 60_000);
  }

  private async broadcast(wire: ChatRecordWire): Promise<void> {
    await this.mesh.channel(chatRecordMessage).send({ v: PROTOCOL_VERSION, record: wire });
  }

  private async receive(record: ChatRecordWire, peerId: string): Promise<void> {
    if (record.kind === 'msg' && codePointLength(record.text) > this.maxLength) {
      this.rejectedTooLong++;
      return;
    }
    const key = recordKey(record);
    this.livePeer.set(key, peerId);
    const result = await this.log.ingest(record);
    this.livePeer.delete(key);
    // Another tab of this device stored it already (same database): show it here too.
    if (result.status === 'refused' && result.reason === 'duplicate' && result.existing && !this.index.has(key)) this.onRecord(result.existing);
  }

  /**
   * A sync batch accepted at once: its items reach the list together, with one `change`
   * (at once, or with the frame's flush when a burst is already being shown).
   */
  private onBatch(accepted: AcceptedRecord[]): void {
    this.batching = true;
    try {
      for (const { record, retractedTarget } of accepted) this.onRecord(record, retractedTarget);
    } finally {
      this.batching = false;
    }
    if (!this.flushTimer) this.flushItems();
  }

  private onRecord(record: StoredChatRecord, retractedTarget?: StoredChatRecord): void {
    const key = recordKey(record);
    if (record.kind === 'mode') {
      if (record.ts > this.burnTs) {
        this.burnTs = record.ts;
        this.burn = record.burn ?? false;
        void this.log.store
          .settings()
          .then(s => this.log.store.putSettings({ ...s, burn: { on: this.burn, ts: record.ts } }))
          .catch(() => undefined);
        this.emitter.emit('burn', this.burn);
      }
    }
    if (record.kind === 'retract') {
      const held = this.index.get(targetKey(record));
      if (held?.kind === 'message') {
        this.replace({ ...held, retracted: true });
        return;
      }
      if (retractedTarget) return; // stored but outside the loaded page
    }
    if (record.kind === 'msg' && codePointLength(record.text ?? '') > this.maxLength) return;
    const item = this.itemFor(record, this.livePeer.get(key) ?? '');
    if (!item || this.index.has(item.key)) return;
    this.insert(item);
    if (item.kind === 'message') this.emitter.emit('message', item);
  }

  private itemFor(r: StoredChatRecord, peerId: string): ChatItem | null {
    if (r.kind === 'msg') return this.toMessage(r, peerId);
    if (r.kind === 'mode') return { kind: 'mode', key: recordKey(r), burn: r.burn ?? false, own: r.author === this.publicKey, timestamp: r.ts };
    const held = this.index.get(targetKey(r));
    if (held) return null;
    return { kind: 'tombstone', key: `tomb:${recordKey(r)}`, author: r.author, target: r.target!, timestamp: r.ts };
  }

  private toMessage(r: StoredChatRecord, peerId: string): ChatMessage {
    const key = recordKey(r);
    return {
      kind: 'message',
      key,
      id: key,
      author: r.author,
      seq: r.seq,
      peerId: r.author === this.publicKey ? this.mesh.selfId : peerId,
      userName: r.name ?? '',
      text: r.text ?? '',
      segments: linkSegments(r.text ?? ''),
      timestamp: r.ts,
      own: r.author === this.publicKey,
      retracted: r.retracted === true,
      marked: this.log.isMarked(r),
      burn: r.burn === true,
    };
  }

  private notice(event: 'join' | 'leave', peer: PeerInfo): void {
    const now = this.now();
    this.insert({ kind: 'notice', key: `${event}-${peer.id}-${now}`, event, peerId: peer.id, userName: peer.name, timestamp: now });
  }

  /** A join notice made before the peer announced its name gets the name when it arrives. */
  private nameNotices(peers: PeerInfo[]): void {
    if (this.pendingItems.length) this.flushItems();
    const names = new Map(peers.filter(p => p.name).map(p => [p.id, p.name]));
    let changed = false;
    this.items = this.items.map(item => {
      if (item.kind !== 'notice' || item.userName !== null || !names.has(item.peerId)) return item;
      changed = true;
      const named = { ...item, userName: names.get(item.peerId) ?? null };
      this.index.set(named.key, named);
      return named;
    });
    if (changed) this.emitter.emit('change', this.items);
  }

  private async prune(): Promise<void> {
    await this.log.prune();
    if (this.pendingItems.length) this.flushItems();
    const start = this.log.windowStart();
    const before = this.items.length;
    this.items = this.items.filter(i => {
      const keep = i.kind === 'notice' || i.timestamp >= start || (i.kind === 'message' && (i.marked || i.burn));
      if (!keep) this.index.delete(i.key);
      return keep;
    });
    if (this.items.length !== before) this.emitter.emit('change', this.items);
  }

  /**
   * Adds an item. Items that arrive in a burst (a sync delivers thousands) are merged into
   * the list together, once per frame, instead of copying the list once per item.
   */
  private insert(item: ChatItem): void {
    this.index.set(item.key, item);
    this.pendingItems.push(item);
    if (this.batching) return;
    if (this.pendingItems.length === 1 && !this.flushTimer) {
      // The first item of a burst shows at once (a live message must not wait).
      this.flushItems();
      return;
    }
    this.flushTimer ??= setTimeout(() => this.flushItems(), 16);
  }

  private flushItems(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pendingItems.length) {
      if (this.dirty) {
        this.dirty = false;
        this.emitter.emit('change', this.items);
      }
      return;
    }
    const added = this.pendingItems.splice(0).sort(compareItems);
    this.items = mergeSorted(this.items, added);
    this.dirty = false;
    this.emitter.emit('change', this.items);
    // Keep flushing while the burst lasts: once per frame for live messages, every BURST_FLUSH_MS
    // after a sync batch (each flush redraws the list; a 10,000-record backfill is 40 batches).
    this.flushTimer = setTimeout(
      () => {
        this.flushTimer = null;
        this.flushItems();
      },
      added.length >= BURST_MIN_ITEMS ? BURST_FLUSH_MS : 16,
    );
  }

  private replace(item: ChatItem): void {
    if (this.batching) {
      this.index.set(item.key, item);
      const i = this.pendingItems.findIndex(p => p.key === item.key);
      if (i >= 0) this.pendingItems[i] = item;
      else {
        this.items = this.items.map(p => (p.key === item.key ? item : p));
        this.dirty = true;
      }
      return;
    }
    this.flushItems();
    this.index.set(item.key, item);
    this.items = this.items.map(i => (i.key === item.key ? item : i));
    this.emitter.emit('change', this.items);
  }

  private remove(key: string): void {
    this.flushItems();
    this.index.delete(key);
    this.items = this.items.filter(i => i.key !== key);
    this.emitter.emit('change', this.items);
  }
}

function compareItems(a: ChatItem, b: ChatItem): number {
  return a.timestamp - b.timestamp || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Merges sorted `added` into sorted `items` (new array); appends fast when all are newer. */
function mergeSorted(items: ChatItem[], added: ChatItem[]): ChatItem[] {
  if (!added.length) return items;
  if (!items.length || compareItems(items[items.length - 1], added[0]) <= 0) return [...items, ...added];
  const out: ChatItem[] = [];
  let i = 0;
  let j = 0;
  while (i < items.length || j < added.length) {
    if (j >= added.length || (i < items.length && compareItems(items[i], added[j]) <= 0)) out.push(items[i++]);
    else out.push(added[j++]);
  }
  return out;
}

