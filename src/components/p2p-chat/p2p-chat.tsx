import { Component, forceUpdate, Element, Event, EventEmitter, h, Host, Method, Prop, State, Watch } from '@stencil/core';
import { ChatSendError, openChatSession, parseRetention, type ChatItem, type ChatMessage, type ChatSession } from '../../core/chat/chat-loader';
import { AttributeError, resolveUserName } from '../../core/config';
import { RoomConnection, type P2pErrorCode, type ConnectionStats, type MeshStatus, type PeerInfo, type PeerLeaveReason, type WireStats } from '../../core/runtime';
import { Lang, resolveLang, stringsFor, Strings } from '../../core/i18n';
import { errorText, pageContext, safeLocalStorage, sharedAttributes } from '../shared/widget-status';
import { ConnectionPanel, ConnectionPanelController, HeaderStatus, RelayNotice } from '../shared/connection-panel';
import { ChatSettings, MarkedList, MessageInput, MessageLog, PeerList, type MessageActions } from './chat-views';
import { VirtualLog } from '../shared/virtual-log';

/** Detail of `p2pPeerJoin` / `p2pPeerLeave`. */
export interface P2pPeerDetail {
  /** Trystero peer id (random per page session). */
  peerId: string;
  /** Display name, or null if the peer has not announced one yet. */
  userName: string | null;
  /**
   * `p2pPeerLeave` only: why the peer left (`goodbye`, `silent`, `connection-lost` or `flood`; see
   * `PeerLeaveReason` in `core/mesh`). After all but `goodbye` and `flood` it may come back within seconds.
   */
  reason?: PeerLeaveReason;
}

/** Detail of `p2pMessage`. */
export interface P2pMessageDetail {
  /** `author:seq`, unique in the room. */
  id: string;
  /** Author's per-room public key (base64url). */
  author: string;
  /** Peer id it came from live; '' when it came by sync. */
  peerId: string;
  userName: string;
  text: string;
  /** ms since epoch */
  timestamp: number;
  /** true for messages sent from this widget */
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`, `send-failed`, `storage-unavailable`, `storage-full`, `storage-failed`. */
  code: string;
  message: string;
}


/**
 * Peer-to-peer chat that remembers. Visitors of the page who name the same room
 * talk browser to browser over WebRTC data channels; signaling goes through public
 * (or self-hosted) relays via Trystero. Every device keeps the history it has seen
 * (IndexedDB) within its own retention window and fills in peers when they meet.
 *
 * @part header - the top bar with the connection state and the view buttons
 * @part status - the connection state text
 * @part connection-toggle - the header button that opens the connection panel
 * @part connection-panel - the connection panel: peers (path, round trip, bytes, rate, age) and relays
 * @part relay-notice - the line shown while every signaling relay is lost
 * @part banner - the burn-after-reading banner
 * @part peer-list - the list of people in the room
 * @part message-list - the (virtualized) list of messages and notices
 * @part message - one message
 * @part jump - the "new messages" button over the list
 * @part settings - the settings panel
 * @part marked-list - the list of marked messages
 * @part input - the form with the text box and the send button
 * @part error - the error line
 */
@Component({ tag: 'p2p-chat', styleUrls: ['../shared/theme.css', 'p2p-chat.css'], shadow: true })
export class P2pChat {
  @Element() el!: HTMLElement;

  /** Room name; everyone on the same room (and app id, password, strategy) meets. Default: the page's origin + path. */
  @Prop() room?: string;
  /** Application id that namespaces rooms on the relays. Default: the page's host. */
  @Prop() appId?: string;
  /** Room password: encrypts the handshake so only people with the password can join. */
  @Prop() password?: string;
  /** Signaling strategy: `nostr` (default), `mqtt` or `torrent`. */
  @Prop() strategy?: string;
  /** Comma-separated relay URLs (Nostr relays, MQTT brokers or WebTorrent trackers, matching `strategy`). Default: Trystero's public relays. */
  @Prop() relayUrls?: string;
  /** JSON array of RTCIceServer (STUN/TURN), e.g. `[{"urls":"turn:turn.example.org","username":"u","credential":"p"}]`. */
  @Prop() iceServers?: string;
  /** `relay` to connect only through the TURN servers of `ice-servers` (hides every visitor's address from peers); default `all`. */
  @Prop() iceTransportPolicy?: string;
  /** Display name shown to others. Default: a friendly name generated once per site and remembered. */
  @Prop() userName?: string;
  /**
   * Language of the widget: `en` or `zh-CN`. Default (`''`, as the native `lang` property): the browser's language.
   * Typed `string`, not optional, so the element stays assignable to `HTMLElement`.
   */
  @Prop() lang: string = '';
  /** Color theme: `light`, `dark` or `auto` (follows the system setting). */
  @Prop({ reflect: true }) theme: 'light' | 'dark' | 'auto' = 'auto';
  /** Longest message, in characters, accepted on send and on receive (at most 16000). */
  @Prop() maxLength = 4000;
  /** How long this device keeps messages: `30d`, `12h`, `90m`, `2w`, or `0` for forever. A window the user picks in the settings wins. */
  @Prop() retention = '30d';
  /** Burn after reading on when the room has not switched it yet: messages are kept in memory only and vanish after being read. */
  @Prop() burnAfterReading = false;
  /** Seconds a burn-after-reading message stays on screen after it was shown. */
  @Prop() burnSeconds = 30;

  @State() status: MeshStatus = { state: 'connecting' };
  @State() peers: PeerInfo[] = [];
  @State() items: readonly ChatItem[] = [];
  @State() draft = '';
  @State() error: string | null = null;
  @State() selfName = '';
  @State() view: 'chat' | 'settings' | 'marked' = 'chat';
  @State() marked: ChatMessage[] = [];
  @State() burn = false;
  @State() retentionMs = 0;
  @State() unseen = 0;
  @State() revealed: ReadonlySet<string> = new Set();
  @State() tick = 0;
  /** The latest messages from others, read out politely by screen readers (newest last, at most 3). */
  @State() announcements: { key: string; text: string }[] = [];

  /** A peer joined the room. Detail: {@link P2pPeerDetail}. */
  @Event() p2pPeerJoin!: EventEmitter<P2pPeerDetail>;
  /** A peer left the room. Detail: {@link P2pPeerDetail}. */
  @Event() p2pPeerLeave!: EventEmitter<P2pPeerDetail>;
  /** A new message was sent or received (live or by sync; not history loaded from this device). Detail: {@link P2pMessageDetail}. */
  @Event() p2pMessage!: EventEmitter<P2pMessageDetail>;
  /** Something went wrong (bad attribute, relays unreachable, storage full, …). Detail: {@link P2pErrorDetail}. */
  @Event() p2pError!: EventEmitter<P2pErrorDetail>;

  /** The room and the chat session in it (see core/runtime): joined on connect, left on disconnect. */
  private readonly link = new RoomConnection<ChatSession>(
    ({ mesh, options, roomKey }) =>
      openChatSession(mesh, {
        room: roomKey,
        userName: options.userName,
        maxLength: this.maxLength,
        retentionMs: this.retentionValue(),
        burnDefault: this.burnAfterReading,
        burnAfterMs: Math.max(1, this.burnSeconds) * 1000,
      }),
    {
      status: status => (this.status = status),
      roster: peers => (this.peers = peers),
      peerJoin: peer => this.p2pPeerJoin.emit({ peerId: peer.id, userName: peer.name }),
      peerLeave: (peer, leave) => this.p2pPeerLeave.emit({ peerId: peer.id, userName: peer.name, reason: leave.reason }),
      error: (code, message) => this.fail(code, message),
      opened: session => {
        this.items = session.list();
        this.burn = session.burn;
        this.retentionMs = session.retentionMs;
        if (session.storageError) this.fail(session.storageError.code, session.storageError.message);
        const offs = [
          session.on('change', items => this.onItems(items)),
          session.on('message', message => {
            this.p2pMessage.emit(toDetail(message));
            if (!message.own && !this.log.isAtEnd(40)) this.unseen++;
            if (!message.own) this.announce(message);
          }),
          session.on('error', e => this.fail(e.code, e.message)),
          session.on('burn', on => (this.burn = on)),
        ];
        this.log.sync(true);
        return offs;
      },
    },
  );
  private scrollEl?: HTMLDivElement;
  /** The virtualized message list (components/shared/virtual-log.ts). */
  private readonly log = new VirtualLog({
    scrollElement: () => this.scrollEl,
    count: () => this.items.length,
    keyOf: i => this.items[i]?.key ?? i,
    changed: () => this.tick++,
    atEnd: () => (this.unseen = 0),
    nearTop: () => {
      if (!this.session?.hasOlder || this.loadingOlder) return;
      this.loadingOlder = true;
      void this.session.loadOlder().finally(() => (this.loadingOlder = false));
    },
  });
  private loadingOlder = false;

  connectedCallback() {
    void this.connect();
  }

  /** The connection panel (header toggle): figures re-read every 2 s while open. */
  private readonly connection = new ConnectionPanelController(
    () => this.link.mesh,
    () => forceUpdate(this.el),
  );

  /**
   * What the connection panel shows, as data (`ConnectionStats`: per peer its path, RTT in ms,
   * bytes, bitrates in bits/s, age and silence in ms; per relay its state; see the README's methods table and
   * "Connections"). Empty lists before the widget joined.
   */
  @Method()
  async getConnectionStats(): Promise<ConnectionStats> {
    return this.connection.read();
  }

  disconnectedCallback() {
    this.connection.close();
    void this.disconnect();
  }

  @Watch('room')
  @Watch('appId')
  @Watch('password')
  @Watch('strategy')
  @Watch('relayUrls')
  @Watch('iceServers')
  @Watch('iceTransportPolicy')
  @Watch('maxLength')
  protected async reconnect() {
    await this.disconnect();
    await this.connect();
  }

  @Watch('userName')
  protected userNameChanged() {
    if (!this.userName?.trim() || !this.link.mesh) return;
    this.selfName = this.userName.trim();
    this.link.setUserName(this.selfName);
    this.session?.setUserName(this.selfName);
  }

  /**
   * Sends a chat message to everyone in the room and shows it in the widget.
   * @returns the message as sent (same shape as the `p2pMessage` detail)
   * @throws Error when the text is empty, longer than `max-length`, or the widget is not connected yet
   */
  @Method()
  async sendMessage(text: string): Promise<P2pMessageDetail> {
    return toDetail(await (await this.ready()).send(text));
  }

  /**
   * Retracts one of this device's messages (a signed tombstone; peers keep it marked retracted and never pass its text on).
   * @param id the message id (`p2pMessage` detail `id`)
   * @throws Error when the message is not this device's own
   */
  @Method()
  async retractMessage(id: string): Promise<void> {
    await (await this.ready()).retract(id);
  }

  /** Switches burn-after-reading for everyone in the room (announced as a signed record). */
  @Method()
  async setBurnAfterReading(on: boolean): Promise<void> {
    await (await this.ready()).setBurn(on);
  }

  /** The chat session once it is open (history loaded); waits up to 10 s after the element is added. */
  private async ready(): Promise<ChatSession> {
    const session = await this.link.ready(10_000);
    if (!session) throw new Error(`not connected: ${this.error ?? 'the chat is still starting'}`);
    return session;
  }

  /** Counters of what peers sent that was refused: wire drops by reason, record refusals, too-long messages. */
  @Method()
  async getWireStats(): Promise<WireStats & { rejectedTooLong: number; refused: Record<string, number> }> {
    const stats = this.link.wireStats() ?? { accepted: 0, dropped: {} as WireStats['dropped'], droppedByChannel: {} };
    const chat = this.session?.stats();
    return { ...stats, rejectedTooLong: chat?.rejectedTooLong ?? 0, refused: chat?.refused ?? {} };
  }

  /** The resolved language (`lang` attribute, else the browser's). */
  private get uiLang(): Lang {
    return resolveLang(this.lang, typeof navigator === 'undefined' ? undefined : navigator.language);
  }

  private get t(): Strings {
    return stringsFor(this.uiLang);
  }

  private get session(): ChatSession | null {
    return this.link.feature;
  }

  /** `retention` in ms; throws AttributeError when it cannot be read. */
  private retentionValue(): number {
    try {
      return parseRetention(this.retention ?? '30d');
    } catch (err) {
      throw new AttributeError('retention', (err as Error).message);
    }
  }

  private async connect() {
    this.error = null;
    this.selfName = resolveUserName(this.userName, safeLocalStorage());
    await this.link.connect(
      sharedAttributes(this),
      pageContext(),
      () => void this.retentionValue(),
    );
  }

  private async disconnect() {
    this.log.destroy();
    this.link.disconnect();
  }

  componentDidLoad() {
    this.log.sync(true);
  }

  componentDidRender() {
    this.log.rendered();
    this.markBurnSeen();
  }

  private onItems(items: readonly ChatItem[]) {
    this.items = items;
    this.log.rowsChanged();
  }

  private jumpToNewest = () => {
    this.log.jumpToNewest();
    this.unseen = 0;
  };

  /** Burn messages start their countdown once they were on screen. */
  private markBurnSeen() {
    const el = this.scrollEl;
    if (!this.session || !this.burn || !el) return;
    const top = el.scrollTop;
    const bottom = top + el.clientHeight;
    for (const vi of this.log.rows()) {
      const item = this.items[vi.index];
      if (item?.kind === 'message' && item.burn && vi.end > top && vi.start < bottom) this.session.seen(item.key);
    }
  }

  /** Queues a peer's new message for the polite live region (long texts are cut; the list holds the whole). */
  private announce(message: ChatMessage) {
    const text = [...message.text].length > 200 ? `${[...message.text].slice(0, 200).join('')}…` : message.text;
    this.announcements = [...this.announcements, { key: message.key, text: this.t.announce(message.userName, text) }].slice(-3);
  }

  private fail(code: P2pErrorCode, message: string) {
    this.error = errorText(code, message, this.status, this.t);
    this.p2pError.emit({ code, message });
  }

  private async submit() {
    if (!this.session || !this.draft.trim()) return;
    const text = this.draft;
    try {
      this.draft = '';
      this.error = null;
      await this.session.send(text);
      this.jumpToNewest();
    } catch (err) {
      if (err instanceof ChatSendError) {
        this.draft = text;
        this.error = err.code === 'too-long' ? this.t.tooLong(this.session.maxLength, [...text].length) : err.message;
      } else {
        this.fail('send-failed', err instanceof Error ? err.message : String(err));
      }
    }
  }

  private async openView(view: 'chat' | 'settings' | 'marked') {
    this.view = this.view === view ? 'chat' : view;
    if (this.view === 'marked' && this.session) this.marked = await this.session.marked();
    if (this.view === 'chat') requestAnimationFrame(() => this.log.sync(true));
  }

  private async changeRetention(ms: number) {
    if (!this.session) return;
    await this.session.setRetention(ms);
    this.retentionMs = ms;
  }

  private toggleReveal(key: string) {
    const next = new Set(this.revealed);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    this.revealed = next;
  }

  private async toggleMark(item: ChatMessage, inMarkedView: boolean) {
    if (!this.session) return;
    await this.session.setMark(item.key, !item.marked);
    if (inMarkedView) this.marked = await this.session.marked();
  }

  /** What every rendered message may do: reveal a retracted text, mark, retract. */
  private get messageActions(): MessageActions {
    return {
      revealed: key => this.revealed.has(key),
      toggleReveal: key => this.toggleReveal(key),
      toggleMark: (item, inMarkedView) => void this.toggleMark(item, inMarkedView),
      retract: key => void this.session?.retract(key),
    };
  }

  render() {
    const t = this.t;
    const lang = this.uiLang;
    return (
      <Host lang={lang}>
        <div class="chat">
          <header part="header">
            <HeaderStatus status={this.status} panel={this.connection} t={t} />
            <span class="views">
              <button type="button" class="link" aria-pressed={this.view === 'marked' ? 'true' : 'false'} onClick={() => void this.openView('marked')}>
                {t.markedView}
              </button>
              <button type="button" class="link" aria-pressed={this.view === 'settings' ? 'true' : 'false'} onClick={() => void this.openView('settings')}>
                {this.view === 'settings' ? t.closeSettings : t.settings}
              </button>
            </span>
          </header>
          <RelayNotice status={this.status} t={t} />
          <ConnectionPanel panel={this.connection} t={t} lang={lang} id="connection-panel" />
          {this.burn ? (
            <p part="banner" class="banner" role="note">
              {t.burnBanner(this.burnSeconds)}
            </p>
          ) : null}
          <PeerList selfName={this.selfName} peers={this.peers} t={t} />
          <div class="visually-hidden" aria-live="polite" aria-relevant="additions">
            {this.announcements.map(a => (
              <p key={a.key}>{a.text}</p>
            ))}
          </div>
          <div class="body">
            {this.view === 'settings' ? (
              <ChatSettings t={t} lang={lang} retentionMs={this.retentionMs} burn={this.burn} session={this.session} onRetention={ms => void this.changeRetention(ms)} />
            ) : this.view === 'marked' ? (
              <MarkedList marked={this.marked} t={t} lang={lang} actions={this.messageActions} />
            ) : (
              <MessageLog
                items={this.items}
                log={this.log}
                unseen={this.unseen}
                lang={lang}
                t={t}
                actions={this.messageActions}
                setScrollElement={el => (this.scrollEl = el)}
                onJumpToNewest={this.jumpToNewest}
              />
            )}
          </div>
          {this.error ? (
            <p part="error" class="error" role="alert">
              {this.error}
            </p>
          ) : null}
          <MessageInput draft={this.draft} maxLength={this.maxLength} canSend={!!this.session} t={t} onDraft={text => (this.draft = text)} onSend={() => void this.submit()} />
        </div>
      </Host>
    );
  }
}

function toDetail(m: ChatMessage): P2pMessageDetail {
  return { id: m.key, author: m.author, peerId: m.peerId, userName: m.userName, text: m.text, timestamp: m.timestamp, own: m.own };
}
