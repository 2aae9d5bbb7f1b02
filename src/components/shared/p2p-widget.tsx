import { EventEmitter, forceUpdate, Method, Prop, State, Watch } from '@stencil/core';
import { clipName } from '../../core/config';
import { resolveLang, stringsFor, type Lang, type Strings } from '../../core/i18n';
import type { ConnectionStats, Feature, MeshStatus, P2pErrorCode, PeerInfo, RoomConnection } from '../../core/runtime';
import { ConnectionPanelController } from './connection-panel';
import { errorText, pageContext, sharedAttributes } from './widget-status';

/** Longest wait for a widget's first frame before it joins anyway, ms (a tab in the background renders nothing). */
const FIRST_FRAME_WAIT_MS = 100;

/** What the shared widget code asks of a widget's feature (chat session, gallery wall, music library). */
export interface WidgetFeature extends Feature {
  /** The name put in what this visitor shares from now on. */
  setUserName(name: string): void;
}

/**
 * What every p2p widget shares, once (Stencil ≥ 4.37 compiles a component's decorated base class into
 * it: https://stenciljs.com/docs/extends): the room attributes, the status, roster and error states,
 * the connection panel and `getConnectionStats()`, reconnecting when a room attribute changes,
 * passing a new `user-name` on, and the connect/disconnect sequence over the widget's
 * {@link RoomConnection}. A component adds its own attributes, events and methods, opens its feature
 * through `link`, and renders.
 */
export abstract class P2pWidget<F extends WidgetFeature> {
  /** The host element (each component declares it with `@Element()`). */
  abstract el: HTMLElement;
  /** The component's `p2pError` event (each declares it with its own detail documentation). */
  abstract p2pError: EventEmitter<{ code: string; message: string }>;
  /** The room and the widget's feature in it (see core/runtime): joined on connect, left on disconnect. */
  protected abstract readonly link: RoomConnection<F>;

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
  /**
   * How many neighbours a page connects to; the rest of the room is reached by forwarding. Absent,
   * empty or `on`: 6 (a room of up to 7 pages is a full mesh); a number from 2 to 8: that many;
   * `off`: every peer at any room size (a full mesh). Use the same value on every page of a room.
   * See the README, "Rooms of a hundred".
   */
  @Prop() partialMesh?: string;
  /** Display name shown to others. Default: a friendly name generated once per site and remembered. */
  @Prop() userName?: string;
  /**
   * Language of the widget: `en` or `zh-CN`. Default (`''`, as the native `lang` property): the browser's language.
   * Typed `string`, not optional, so the element stays assignable to `HTMLElement`.
   */
  @Prop() lang: string = '';
  /** Color theme: `light`, `dark` or `auto` (follows the system setting). */
  @Prop({ reflect: true }) theme: 'light' | 'dark' | 'auto' = 'auto';

  /** The room's connection state (header status line). */
  @State() status: MeshStatus = { state: 'connecting' };
  /** The peers listed now. */
  @State() peers: PeerInfo[] = [];
  /** The error line, in the visitor's language; null when there is none. */
  @State() error: string | null = null;

  /** The connection panel (header toggle): figures re-read every 2 s while open. */
  protected readonly connection = new ConnectionPanelController(
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

  /** Added to the page: joins the room (after the first frame, see `firstFrame`). */
  connectedCallback() {
    void this.connect();
  }

  /** Removed from the page: closes the connection panel and leaves the room (after `LINGER_MS`, for a widget added back). */
  disconnectedCallback() {
    this.connection.close();
    void this.disconnect();
  }

  /** A room attribute changed: leave the room and join the new one. */
  @Watch('room')
  @Watch('appId')
  @Watch('password')
  @Watch('strategy')
  @Watch('relayUrls')
  @Watch('iceServers')
  @Watch('iceTransportPolicy')
  @Watch('partialMesh')
  protected async reconnect() {
    await this.disconnect();
    await this.connect();
  }

  /** A new `user-name` reaches the peers at once (presence) and names what this visitor shares from now on. */
  @Watch('userName')
  protected userNameChanged() {
    const name = clipName(this.userName?.trim() ?? '');
    if (!name) return;
    this.nameChanged(name);
    this.link.setUserName(name);
    this.link.feature?.setUserName(name);
  }

  /** A component's own reaction to a new name (the chat shows it at once). */
  protected nameChanged(_name: string): void {}

  /** The component's own attribute checks, run after the shared ones: throws `AttributeError` for a bad value. */
  protected checkAttributes(): void {}

  /** Resolves `firstFrame` (see there). */
  private firstFrameShown: () => void = () => undefined;
  /**
   * Resolved once the widget has rendered its first frame, or FIRST_FRAME_WAIT_MS after it was added
   * (Stencil renders in animation frames, which a background tab does not run): the mesh code loads
   * only then, so the visitor sees the widget ("Connecting…") without waiting for it
   * (bench/widget-bytes.mjs counts what loads before that frame).
   */
  private readonly firstFrame = new Promise<void>(resolve => {
    this.firstFrameShown = resolve;
    setTimeout(resolve, FIRST_FRAME_WAIT_MS);
  });

  /** The first frame is on screen (a component that defines `componentDidLoad` calls this through `super`). */
  componentDidLoad() {
    this.firstFrameShown();
  }

  /** Joins the room for the current attributes and opens the feature (errors go to the error line and `p2pError`). */
  protected async connect() {
    this.error = null;
    await this.firstFrame;
    await this.link.connect(sharedAttributes(this), pageContext(), () => this.checkAttributes());
  }

  /** Closes the feature and releases the room (it lingers a moment for a widget added back). */
  protected async disconnect() {
    this.link.disconnect();
  }

  /** The resolved language (`lang` attribute, else the browser's). */
  protected get uiLang(): Lang {
    return resolveLang(this.lang, typeof navigator === 'undefined' ? undefined : navigator.language);
  }

  /** The strings of the resolved language. */
  protected get t(): Strings {
    return stringsFor(this.uiLang);
  }

  /**
   * Shows an error in the visitor's language and emits `p2pError` with the core's code and message.
   * @param shown - the words the visitor sees, when the code alone does not say it (default: from the code, else `message`)
   */
  protected fail(code: P2pErrorCode, message: string, shown?: string) {
    this.error = shown ?? errorText(code, message, this.status, this.t);
    this.p2pError.emit({ code, message });
  }
}
