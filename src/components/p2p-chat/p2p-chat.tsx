import { Component, Element, Event, EventEmitter, h, Host, Method, Prop, State, Watch } from '@stencil/core';
import { ChatItem, ChatMessage, ChatSendError, ChatSession } from '../../core/chat';
import { AttributeError, resolveMeshOptions } from '../../core/config';
import { resolveLang, stringsFor, Strings } from '../../core/i18n';
import { joinMesh, MeshHandle, MeshStatus, PeerInfo } from '../../core/mesh';
import type { WireStats } from '../../core/wire';

/** Detail of `p2pPeerJoin` / `p2pPeerLeave`. */
export interface P2pPeerDetail {
  /** Trystero peer id (random per page session). */
  peerId: string;
  /** Display name, or null if the peer has not announced one yet. */
  userName: string | null;
}

/** Detail of `p2pMessage`. */
export interface P2pMessageDetail {
  id: string;
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
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `strategy-load`, `room-conflict`, `peer-flood`, `send-failed`. */
  code: string;
  message: string;
}

/**
 * Live peer-to-peer chat. Visitors of the page who name the same room talk
 * browser to browser over WebRTC data channels; signaling goes through public
 * (or self-hosted) relays via Trystero.
 *
 * @part header - the top bar with the connection state
 * @part status - the connection state text
 * @part peer-list - the list of people in the room
 * @part message-list - the list of messages and join/leave notices
 * @part message - one message
 * @part input - the form with the text box and the send button
 * @part error - the error line
 */
@Component({ tag: 'p2p-chat', styleUrl: 'p2p-chat.css', shadow: true })
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
  /** Display name shown to others. Default: a friendly name generated once per site and remembered. */
  @Prop() userName?: string;
  /** Language of the widget: `en` or `zh-CN`. Default: the browser's language. */
  @Prop() lang?: string;
  /** Color theme: `light`, `dark` or `auto` (follows the system setting). */
  @Prop({ reflect: true }) theme: 'light' | 'dark' | 'auto' = 'auto';
  /** Longest message, in characters, accepted on send and on receive (at most 16000). */
  @Prop() maxLength = 4000;

  @State() status: MeshStatus = { state: 'connecting' };
  @State() peers: PeerInfo[] = [];
  @State() items: readonly ChatItem[] = [];
  @State() draft = '';
  @State() error: string | null = null;
  @State() selfName = '';

  /** A peer joined the room. Detail: {@link P2pPeerDetail}. */
  @Event() p2pPeerJoin!: EventEmitter<P2pPeerDetail>;
  /** A peer left the room. Detail: {@link P2pPeerDetail}. */
  @Event() p2pPeerLeave!: EventEmitter<P2pPeerDetail>;
  /** A message was sent or received. Detail: {@link P2pMessageDetail}. */
  @Event() p2pMessage!: EventEmitter<P2pMessageDetail>;
  /** Something went wrong (bad attribute, relays unreachable, …). Detail: {@link P2pErrorDetail}. */
  @Event() p2pError!: EventEmitter<P2pErrorDetail>;

  private handle: MeshHandle | null = null;
  private session: ChatSession | null = null;
  private offs: (() => void)[] = [];
  private listEl?: HTMLElement;
  private generation = 0;

  connectedCallback() {
    void this.connect();
  }

  disconnectedCallback() {
    void this.disconnect();
  }

  @Watch('room')
  @Watch('appId')
  @Watch('password')
  @Watch('strategy')
  @Watch('relayUrls')
  @Watch('iceServers')
  @Watch('maxLength')
  protected async reconnect() {
    await this.disconnect();
    await this.connect();
  }

  @Watch('userName')
  protected userNameChanged() {
    if (!this.userName?.trim() || !this.handle) return;
    this.selfName = this.userName.trim();
    this.handle.room.setUserName(this.selfName);
    this.session?.setUserName(this.selfName);
  }

  /**
   * Sends a chat message to everyone in the room and shows it in the widget.
   * @returns the message as sent (same shape as the `p2pMessage` detail)
   * @throws Error when the text is empty, longer than `max-length`, or the widget is not connected yet
   */
  @Method()
  async sendMessage(text: string): Promise<P2pMessageDetail> {
    if (!this.session) throw new Error('not connected yet');
    return toDetail(await this.session.send(text));
  }

  /** Counters of peer messages accepted and dropped by the wire validator, by reason. */
  @Method()
  async getWireStats(): Promise<WireStats & { rejectedTooLong: number }> {
    const stats = this.handle?.room.wireStats();
    return { accepted: 0, dropped: {} as WireStats['dropped'], droppedByChannel: {}, ...stats, rejectedTooLong: this.session?.rejectedTooLong ?? 0 };
  }

  private get t(): Strings {
    return stringsFor(resolveLang(this.lang, typeof navigator === 'undefined' ? undefined : navigator.language));
  }

  private async connect() {
    const generation = ++this.generation;
    this.error = null;
    let options;
    try {
      options = resolveMeshOptions(
        { room: this.room, appId: this.appId, password: this.password, strategy: this.strategy, relayUrls: this.relayUrls, iceServers: this.iceServers, userName: this.userName },
        { location: window.location, storage: safeLocalStorage() },
      );
    } catch (err) {
      const code = err instanceof AttributeError ? 'bad-attribute' : 'join-error';
      this.fail(code, err instanceof Error ? err.message : String(err));
      this.status = { state: 'failed', reason: this.error ?? '' };
      return;
    }
    this.selfName = options.userName;
    let handle: MeshHandle;
    try {
      handle = await joinMesh(options);
    } catch (err) {
      this.fail('room-conflict', err instanceof Error ? err.message.replace(/^room-conflict: /, '') : String(err));
      return;
    }
    if (generation !== this.generation) {
      void handle.release();
      return;
    }
    this.handle = handle;
    const room = handle.room;
    this.status = room.status;
    this.peers = room.peerList();
    if (room.status.state === 'failed') this.fail('relay-unreachable', room.status.reason);
    if (!room.selfId) return; // strategy failed to load: status already says why
    const session = new ChatSession(room, options.userName, { maxLength: this.maxLength });
    this.session = session;
    this.items = session.list();
    this.offs.push(
      room.on('status', status => (this.status = status)),
      room.on('roster', peers => (this.peers = peers)),
      room.on('peerJoin', peer => this.p2pPeerJoin.emit({ peerId: peer.id, userName: peer.name })),
      room.on('peerLeave', peer => this.p2pPeerLeave.emit({ peerId: peer.id, userName: peer.name })),
      room.on('error', e => this.fail(e.code, e.message)),
      session.on('change', items => {
        this.items = items;
      }),
      session.on('message', message => this.p2pMessage.emit(toDetail(message))),
    );
  }

  private async disconnect() {
    this.generation++;
    this.offs.splice(0).forEach(off => off());
    this.session?.destroy();
    this.session = null;
    const handle = this.handle;
    this.handle = null;
    await handle?.release();
  }

  private fail(code: string, message: string) {
    this.error = message;
    this.p2pError.emit({ code, message });
  }

  private onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void this.submit();
    }
  };

  private onSubmit = (event: Event) => {
    event.preventDefault();
    void this.submit();
  };

  private async submit() {
    if (!this.session || !this.draft.trim()) return;
    const text = this.draft;
    try {
      this.draft = '';
      this.error = null;
      await this.session.send(text);
    } catch (err) {
      if (err instanceof ChatSendError) {
        this.draft = text;
        this.error = err.code === 'too-long' ? this.t.tooLong(this.session.maxLength, [...text].length) : err.message;
      } else {
        this.fail('send-failed', err instanceof Error ? err.message : String(err));
      }
    }
  }

  componentDidRender() {
    const list = this.listEl;
    if (list && list.scrollHeight - list.scrollTop - list.clientHeight < 120) list.scrollTop = list.scrollHeight;
  }

  private statusText(): string {
    const t = this.t;
    switch (this.status.state) {
      case 'connecting':
        return t.statusConnecting;
      case 'waiting':
        return t.statusWaiting;
      case 'connected':
        return t.statusConnected(this.status.peers);
      case 'failed':
        return t.statusFailed(this.status.reason);
    }
  }

  private renderItem(item: ChatItem, lang: string) {
    const t = this.t;
    if (item.kind === 'notice') {
      const name = item.userName ?? t.someone;
      return (
        <li class="notice" key={item.id}>
          {item.event === 'join' ? t.joined(name) : t.left(name)}
        </li>
      );
    }
    return (
      <li class={{ message: true, own: item.own }} part="message" key={item.id} data-peer-id={item.peerId}>
        <div class="meta">
          <span class="author">{item.own ? `${item.userName} (${t.you})` : item.userName}</span>
          <time dateTime={new Date(item.timestamp).toISOString()}>{formatTime(item.timestamp, lang)}</time>
        </div>
        <div class="text">
          {item.segments.map(segment =>
            segment.kind === 'link' ? (
              <a href={segment.href} target="_blank" rel="noopener noreferrer">
                {segment.text}
              </a>
            ) : (
              segment.text
            ),
          )}
        </div>
      </li>
    );
  }

  render() {
    const t = this.t;
    const lang = resolveLang(this.lang, navigator.language);
    const remaining = this.maxLength - [...this.draft].length;
    return (
      <Host lang={lang}>
        <div class="chat">
          <header part="header">
            <span class={`dot ${this.status.state}`} aria-hidden="true"></span>
            <span part="status" role="status" class="status">
              {this.statusText()}
            </span>
          </header>
          <section part="peer-list" class="peers" aria-label={t.peersHeading}>
            <ul aria-label={t.peersHeading}>
              <li class="self">
                {this.selfName} ({t.you})
              </li>
              {this.peers.map(peer => (
                <li key={peer.id} data-peer-id={peer.id} title={peer.rttMs === null ? '' : t.rtt(peer.rttMs)}>
                  {peer.name ?? t.someone}
                  {peer.rttMs !== null ? <span class="rtt"> · {t.rtt(peer.rttMs)}</span> : null}
                </li>
              ))}
            </ul>
          </section>
          <ol part="message-list" class="messages" role="log" aria-live="polite" aria-label={t.messagesLabel} ref={el => (this.listEl = el)}>
            {this.items.length === 0 ? <li class="empty">{t.emptyChat}</li> : this.items.map(item => this.renderItem(item, lang))}
          </ol>
          {this.error ? (
            <p part="error" class="error" role="alert">
              {this.error}
            </p>
          ) : null}
          <form part="input" class="input" onSubmit={this.onSubmit}>
            <textarea
              aria-label={t.messageLabel}
              placeholder={t.messageLabel}
              rows={2}
              value={this.draft}
              onInput={e => (this.draft = (e.target as HTMLTextAreaElement).value)}
              onKeyDown={this.onKeyDown}
              aria-invalid={remaining < 0 ? 'true' : 'false'}
            ></textarea>
            <button type="submit" disabled={!this.session || !this.draft.trim() || remaining < 0}>
              {t.send}
            </button>
            {remaining < 200 ? <span class={{ counter: true, over: remaining < 0 }}>{remaining < 0 ? t.tooLong(this.maxLength, [...this.draft].length) : t.charsLeft(remaining)}</span> : null}
          </form>
        </div>
      </Host>
    );
  }
}

function toDetail(m: ChatMessage): P2pMessageDetail {
  return { id: m.id, peerId: m.peerId, userName: m.userName, text: m.text, timestamp: m.timestamp, own: m.own };
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** hh:mm in the widget's language; formatters are cached (constructing one costs far more than formatting). */
function formatTime(ms: number, lang: string): string {
  let format = timeFormats.get(lang);
  if (!format) timeFormats.set(lang, (format = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' })));
  return format.format(ms);
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
