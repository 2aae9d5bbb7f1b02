import { Component, Element, Event, EventEmitter, h, Host, Method, Prop, State, Watch } from '@stencil/core';
import { ChatSendError, openChatSession, parseRetention, type ChatItem, type ChatMessage, type ChatSession } from '../../core/chat/chat-loader';
import { AttributeError, resolveUserName } from '../../core/config';
import { RoomConnection, type WireStats } from '../../core/runtime';
import { safeLocalStorage } from '../shared/widget-status';
import { ConnectionPanel, HeaderStatus, RelayNotice } from '../shared/connection-panel';
import { P2pWidget } from '../shared/p2p-widget';
import type { P2pPeerDetail, P2pMessageDetail, P2pErrorDetail } from './chat-event-details';
import { toDetail } from './chat-event-details';
import { announcement, Announcements, BurnBanner, ChatSettings, MarkedList, MessageInput, MessageLog, PeerList, ViewButtons, type ChatView, type MessageActions } from './chat-views';
import { VirtualLog } from '../shared/virtual-log';

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
export class P2pChat extends P2pWidget<ChatSession> {
  @Element() el!: HTMLElement;

  /** Longest message, in characters, accepted on send and on receive (at most 16000). */
  @Prop() maxLength = 4000;
  /** How long this device keeps messages: `30d`, `12h`, `90m`, `2w`, or `0` for forever. A window the user picks in the settings wins. */
  @Prop() retention = '30d';
  /** Burn after reading on when the room has not switched it yet: messages are kept in memory only and vanish after being read. */
  @Prop() burnAfterReading = false;
  /** Seconds a burn-after-reading message stays on screen after it was shown. */
  @Prop() burnSeconds = 30;

  /** The chat log as rendered (messages, notices, mode changes, tombstones), oldest first. */
  @State() items: readonly ChatItem[] = [];
  /** The text being typed. */
  @State() draft = '';
  /** This visitor's display name (shown in the peer list). */
  @State() selfName = '';
  /** The view shown: the chat, its settings, or the marked messages. */
  @State() view: ChatView = 'chat';
  /** The marked messages (read when the marked view opens), newest first. */
  @State() marked: ChatMessage[] = [];
  /** Whether burn after reading is on in the room. */
  @State() burn = false;
  /** This device's retention window, ms (0 = forever). */
  @State() retentionMs = 0;
  /** Messages from others that arrived while the reader was scrolled away from the newest. */
  @State() unseen = 0;
  /** Keys of retracted messages whose text the reader chose to show. */
  @State() revealed: ReadonlySet<string> = new Set();
  /** Bumped when the virtual list's rows change, so the widget renders again. */
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
  protected readonly link = new RoomConnection<ChatSession>(
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
            // Read out live messages only: a backfill by sync (no peer id) would queue thousands, and redraw the widget per batch.
            if (!message.own && message.peerId) this.announcements = [...this.announcements, announcement(message, this.t)].slice(-3);
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

  /** A new `max-length` applies to the session: reopen it. */
  @Watch('maxLength')
  protected maxLengthChanged() {
    void this.reconnect();
  }

  /** The visitor's own messages show the new name at once. */
  protected nameChanged(name: string): void {
    this.selfName = name;
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

  /** `retention` must be a duration. */
  protected checkAttributes(): void {
    this.retentionValue();
  }

  protected async connect() {
    this.selfName = resolveUserName(this.userName, safeLocalStorage());
    await super.connect();
  }
  protected async disconnect() {
    this.log.destroy();
    await super.disconnect();
  }

  componentDidLoad() {
    super.componentDidLoad();
    this.log.sync(true);
  }

  /** After each render: lets the virtual list measure its rows and starts the countdown of burn messages now on screen. */
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
        this.fail('send-failed', err instanceof Error ? err.message : String(err), this.t.sendFailed);
      }
    }
  }

  /** Retracts one of the visitor's messages; a failure is shown and emitted as `p2pError` (`send-failed`). */
  private async retract(key: string) {
    try {
      await this.session?.retract(key);
    } catch (err) {
      this.fail('send-failed', err instanceof Error ? err.message : String(err), this.t.retractFailed);
    }
  }

  private async openView(view: ChatView) {
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
    if (!next.delete(key)) next.add(key);
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
      retract: key => void this.retract(key),
    };
  }

  /** Header (status, views), panels, peer list, the log or a view, the error line and the input. */
  render() {
    const t = this.t;
    const lang = this.uiLang;
    return (
      <Host lang={lang}>
        <div class="chat">
          <header part="header">
            <HeaderStatus status={this.status} panel={this.connection} t={t} />
            <ViewButtons view={this.view} t={t} onOpen={view => void this.openView(view)} />
          </header>
          <RelayNotice status={this.status} t={t} />
          <ConnectionPanel panel={this.connection} t={t} lang={lang} id="connection-panel" />
          {this.burn ? <BurnBanner seconds={this.burnSeconds} t={t} /> : null}
          <PeerList selfName={this.selfName} peers={this.peers} t={t} />
          <Announcements items={this.announcements} />
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
