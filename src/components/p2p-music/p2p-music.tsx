import { Component, forceUpdate, Element, Event, EventEmitter, h, Host, Method, Prop, State, Watch } from '@stencil/core';
import { parseByteSize } from '../../core/config';
import { RoomConnection, type P2pErrorCode, type ConnectionStats, type MeshStatus, type TransferProgress, type WireStats } from '../../core/runtime';
import { formatBytes, Lang, resolveLang, stringsFor, Strings } from '../../core/i18n';
import { MusicPlayerController, openMusicLibrary, StreamingPlayer, type MusicLibrary, type MusicPlayerState, type MusicProblem, type MusicTrack } from '../../core/music/music-loader';
import { errorText, pageContext, safeLocalStorage, sharedAttributes } from '../shared/widget-status';
import { ConnectionPanel, ConnectionPanelController, HeaderStatus, RelayNotice } from '../shared/connection-panel';
import { LyricsBox, PlayerBar, TrackItem } from './music-views';

/** Detail of `p2pTrackAdd`, `p2pTrackPlay` and `p2pTrackEnd`. */
export interface P2pTrackDetail {
  /** Content id (SHA-256 root hash) of the track. */
  cid: string;
  title: string;
  artist: string;
  /** Peer ids holding it when the event fired. */
  holders: string[];
  own: boolean;
}

/** Detail of `p2pError`. */
export interface P2pMusicErrorDetail {
  /** `bad-attribute`, `join-error`, `relay-unreachable`, `room-conflict`, `not-audio`, `too-large`, `playback`, `unavailable`, `bad-ban-entry`, `storage-*`. */
  code: string;
  message: string;
}

/** Result of `getPlayerState()`. */
export interface P2pPlayerState {
  cid: string | null;
  title: string | null;
  /** Play position, seconds. */
  currentTime: number;
  playing: boolean;
  /** Playing but waiting for bytes. */
  waiting: boolean;
  /** Download progress of the current track (null when it was already here). */
  progress: TransferProgress | null;
  /** Chunks held when the first audio played (streaming: fewer than all). */
  startedWith: { chunks: number; totalChunks: number } | null;
}

/** Result of `getStats()`: refused music records, wire drops, swarm figures. */
export interface P2pMusicStats {
  refused: Record<string, number>;
  wire: WireStats | null;
  swarm: Record<string, number> | null;
}


/**
 * A music room: every visitor shares their tracks and plays anyone's, streamed from
 * the peers that hold it while the rest downloads in the background, every chunk
 * verified. Tags, covers and synced LRC lyrics travel with the track.
 *
 * @part header - the top bar with the connection state and the add button
 * @part status - the connection state text
 * @part connection-toggle - the header button that opens the connection panel
 * @part connection-panel - the connection panel: peers (path, round trip, bytes, rate, age) and relays
 * @part relay-notice - the line shown while every signaling relay is lost
 * @part track-list - the room's lists, grouped by who shares them
 * @part track - one track
 * @part player - the player bar
 * @part controls - the player's buttons and sliders
 * @part lyrics - the synced lyrics
 * @part settings - the ban list editor
 * @part error - the error line
 */
@Component({ tag: 'p2p-music', styleUrls: ['../shared/theme.css', 'p2p-music.css'], shadow: true })
export class P2pMusic {
  @Element() el!: HTMLElement;

  /** Room name; everyone on the same room (and app id, password, strategy) meets. Default: the page's origin + path. */
  @Prop() room?: string;
  /** Application id that namespaces rooms on the relays. Default: the page's host. */
  @Prop() appId?: string;
  /** Room password: encrypts the handshake so only people with the password can join. */
  @Prop() password?: string;
  /** Signaling strategy: `nostr` (default), `mqtt` or `torrent`. */
  @Prop() strategy?: string;
  /** Comma-separated relay URLs. Default: Trystero's public relays. */
  @Prop() relayUrls?: string;
  /** JSON array of RTCIceServer (STUN/TURN). */
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
  /** Color theme: `light`, `dark` or `auto`. */
  @Prop({ reflect: true }) theme: 'light' | 'dark' | 'auto' = 'auto';
  /** The site owner's ban list: words and `/patterns/`, separated by commas or new lines. Matching tracks are hidden and skipped. */
  @Prop() ban = '';
  /** Cap on cached copies of others' tracks (bytes, or e.g. `500MB`); least recently played go first. Own tracks never count. */
  @Prop() maxCache = '500MB';
  /** Start playing the first track when the list fills (off by default). */
  @Prop() autoplay = false;

  @State() status: MeshStatus = { state: 'connecting' };
  @State() tracks: readonly MusicTrack[] = [];
  @State() error: string | null = null;
  /** The player's state (see core/music's MusicPlayerController). */
  @State() ps!: MusicPlayerState;
  @State() showSettings = false;
  @State() showHidden = false;

  /** A track appeared in the room's lists. Detail: {@link P2pTrackDetail}. */
  @Event() p2pTrackAdd!: EventEmitter<P2pTrackDetail>;
  /** A track started playing. Detail: {@link P2pTrackDetail}. */
  @Event() p2pTrackPlay!: EventEmitter<P2pTrackDetail>;
  /** A track played to its end. Detail: {@link P2pTrackDetail}. */
  @Event() p2pTrackEnd!: EventEmitter<P2pTrackDetail>;
  /** Something went wrong. Detail: {@link P2pMusicErrorDetail}. */
  @Event() p2pError!: EventEmitter<P2pMusicErrorDetail>;

  /** The room and the music library in it (see core/runtime): joined on connect, left on disconnect. */
  private readonly link = new RoomConnection<MusicLibrary>(
    async ({ mesh, options, roomKey, swarm }) => openMusicLibrary(mesh, await swarm({ cacheBytes: this.cacheBytes() }), { room: roomKey, userName: options.userName }),
    {
      status: s => (this.status = s),
      error: (code, message) => this.fail(code, message),
      opened: library => {
        if (library.storageError) this.fail(library.storageError.code, library.storageError.message);
        const offs = [
          library.on('change', tracks => this.onTracks(tracks)),
          library.on('add', track => this.p2pTrackAdd.emit(this.detail(track))),
          library.on('error', e => this.fail(e.code, e.message)),
        ];
        this.onTracks(library.tracks());
        return offs;
      },
    },
  );
  /** Player, playlist, bans and lyrics pairing (core/music). */
  private readonly player = new MusicPlayerController({
    library: () => this.link.feature,
    ready: () => this.link.ready(),
    banAttribute: () => this.ban ?? '',
    storage: () => safeLocalStorage(),
    createPlayer: () => new StreamingPlayer((this.audioContext ??= new AudioContext())),
  });
  private audioContext: AudioContext | null = null;
  private fileInput?: HTMLInputElement;
  private attachInput?: HTMLInputElement;
  /** The own track whose lyrics or cover the attach picker is choosing. */
  private attachTarget: MusicTrack | null = null;
  private coverUrls = new Map<string, string>();

  connectedCallback() {
    this.ps = this.player.state;
    this.player.on('state', state => {
      if (state.restUnavailable && !this.ps.restUnavailable) this.error = this.t.restUnavailable;
      this.ps = state;
    });
    this.player.on('play', track => this.p2pTrackPlay.emit(this.detail(track)));
    this.player.on('end', track => this.p2pTrackEnd.emit(this.detail(track)));
    this.player.on('problem', problem => this.onProblem(problem));
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

  /** A new `user-name` reaches the peers at once (presence) and names what this visitor shares from now on. */
  @Watch('userName')
  protected userNameChanged() {
    const name = this.userName?.trim();
    if (!name) return;
    this.link.setUserName(name);
    this.library?.setUserName(name);
  }

  @Watch('room')
  @Watch('appId')
  @Watch('password')
  @Watch('strategy')
  @Watch('relayUrls')
  @Watch('iceServers')
  @Watch('iceTransportPolicy')
  protected async reconnect() {
    await this.disconnect();
    await this.connect();
  }

  /**
   * Adds tracks as if the visitor had picked them.
   * @returns content ids of the tracks added (refused files are reported as `p2pError`)
   */
  @Method()
  async addTracks(files: File[] | FileList): Promise<string[]> {
    return this.player.add([...files]);
  }

  /** Plays the track with this content id (one load at a time: asking again for the track being loaded does nothing). */
  @Method()
  async playTrack(cid: string): Promise<void> {
    await this.player.play(cid);
  }

  /** Pauses playback (the download goes on). */
  @Method()
  async pause(): Promise<void> {
    this.player.pause();
  }

  /** Jumps to `seconds` in the current track (a part not downloaded yet is fetched first). */
  @Method()
  async seek(seconds: number): Promise<void> {
    this.player.seek(seconds);
  }

  /** The player's state: current track, position (s), whether it plays, download progress. */
  @Method()
  async getPlayerState(): Promise<P2pPlayerState> {
    const ps = this.player.state;
    return {
      cid: ps.current?.cid ?? null,
      title: ps.current?.title ?? null,
      currentTime: this.player.currentTime,
      playing: ps.playing,
      waiting: ps.waiting,
      progress: ps.progress,
      startedWith: ps.startedWith,
    };
  }

  /** Counters of refused records, wire drops and swarm figures. */
  @Method()
  async getStats(): Promise<P2pMusicStats> {
    return { refused: { ...(this.library?.refused ?? {}) }, wire: this.link.wireStats(), swarm: this.library ? { ...this.library.swarm.stats } : null };
  }

  private get uiLang(): Lang {
    return resolveLang(this.lang, typeof navigator === 'undefined' ? undefined : navigator.language);
  }

  private get t(): Strings {
    return stringsFor(this.uiLang);
  }

  private get library(): MusicLibrary | null {
    return this.link.feature;
  }

  /** `max-cache` in bytes; throws AttributeError when it does not look like a size. */
  private cacheBytes(): number {
    return parseByteSize(this.maxCache ?? '500MB', 'max-cache', '500MB');
  }

  private async connect() {
    this.error = null;
    await this.link.connect(
      sharedAttributes(this),
      pageContext(),
      () => {
        this.cacheBytes();
        this.player.checkBanList();
      },
    );
  }

  private async disconnect() {
    this.player.stop();
    this.link.disconnect();
    this.coverUrls.forEach(url => URL.revokeObjectURL(url));
    this.coverUrls.clear();
  }

  private onTracks(tracks: readonly MusicTrack[]) {
    this.tracks = tracks;
    this.player.tracksChanged(tracks, this.autoplay);
  }

  private fail(code: P2pErrorCode, message: string) {
    this.error = errorText(code, message, this.status, this.t);
    this.p2pError.emit({ code, message });
  }

  /** A player problem, in the widget's language (the core's English message for what it does not know). */
  private onProblem(problem: MusicProblem) {
    const t = this.t;
    switch (problem.code) {
      case 'refused': {
        const { error, file } = problem;
        const why = error.code === 'not-audio' ? t.notATrack : error.code === 'too-large' ? t.trackTooLarge(formatBytes(file.size, this.uiLang)) : error.message;
        return this.fail(error.code, t.fileProblem(file.name, why));
      }
      case 'not-playable':
        return this.fail('playback', t.notPlayable);
      case 'not-a-picture':
        return this.fail('not-an-image', t.fileProblem(problem.file.name, t.pictureUnreadable));
      case 'not-connected':
        return this.fail('not-connected', t.statusFailed(this.error ?? t.statusConnecting));
      default:
        return this.fail(problem.code, problem.message);
    }
  }

  private detail(track: MusicTrack): P2pTrackDetail {
    return { cid: track.cid, title: track.title, artist: track.artist, holders: this.library?.swarm.holders(track.cid) ?? [], own: track.own };
  }

  private coverUrl(track: MusicTrack): string | null {
    if (!track.cover) return null;
    let url = this.coverUrls.get(track.key + track.cover.byteLength);
    if (!url) {
      url = URL.createObjectURL(new Blob([track.cover as BlobPart], { type: 'image/webp' }));
      this.coverUrls.set(track.key + track.cover.byteLength, url);
    }
    return url;
  }

  render() {
    const t = this.t;
    const ban = this.player.banList();
    const visible = this.tracks.filter(track => !ban.matches(track));
    const hidden = this.tracks.length - visible.length;
    const groups = new Map<string, MusicTrack[]>();
    for (const track of this.showHidden ? this.tracks : visible) groups.set(track.author, [...(groups.get(track.author) ?? []), track]);
    return (
      <Host lang={this.uiLang}>
        <div
          class="music"
          onDragOver={e => e.preventDefault()}
          onDrop={e => {
            e.preventDefault();
            const files = [...(e.dataTransfer?.files ?? [])];
            if (files.length) void this.player.add(files);
          }}
        >
          <header part="header">
            <HeaderStatus status={this.status} panel={this.connection} t={t} />
            <button type="button" class="link" aria-pressed={this.showSettings ? 'true' : 'false'} onClick={() => (this.showSettings = !this.showSettings)}>
              {t.settings}
            </button>
            <button type="button" class="add" disabled={!this.library} onClick={() => this.fileInput?.click()}>
              {t.addTracks}
            </button>
            <input
              type="file"
              accept="audio/*,.lrc"
              multiple
              hidden
              ref={el => (this.fileInput = el)}
              onChange={e => {
                const input = e.target as HTMLInputElement;
                void this.player.add([...(input.files ?? [])]);
                input.value = '';
              }}
            />
          </header>
          <RelayNotice status={this.status} t={t} />
          <ConnectionPanel panel={this.connection} t={t} lang={this.uiLang} id="connection-panel" />
          {this.showSettings ? (
            <section part="settings" class="settings" aria-label={t.musicSettings}>
              <label>
                {t.banLabel}
                <textarea rows={3} value={this.ps.userBan} onChange={e => this.player.saveBan((e.target as HTMLTextAreaElement).value)}></textarea>
              </label>
              {ban.problems.length ? (
                <p class="problems" role="alert">
                  {t.banProblems} {ban.problems.map(p => p.message).join(' ')}
                </p>
              ) : null}
            </section>
          ) : null}
          {this.error ? (
            <p part="error" class="error" role="alert">
              {this.error}
            </p>
          ) : null}
          <PlayerBar state={this.ps} player={this.player} t={t} />
          <LyricsBox state={this.ps} t={t} />
          <section part="track-list" class="lists" aria-label={t.tracksLabel}>
            {this.tracks.length === 0 ? <p class="empty">{t.emptyMusic} {t.dropTracks}</p> : null}
            {[...groups.entries()].map(([author, tracks]) => {
              const own = author === this.library?.publicKey;
              const online = tracks.some(tr => !tr.offline);
              return (
                <div class="group">
                  <h3>
                    {own ? t.yourList : t.listOf(tracks[0].sharedBy)}
                    {!online ? <span class="badge"> ({t.offline})</span> : null}
                    {!own ? (
                      <label class="remember">
                        <input type="checkbox" checked={this.library?.isRemembered(author)} onChange={e => void this.library?.rememberList(author, (e.target as HTMLInputElement).checked)} />
                        {t.rememberList}
                      </label>
                    ) : null}
                  </h3>
                  <ul aria-label={own ? t.yourList : t.listOf(tracks[0].sharedBy)}>
                    {tracks.map(track => (
                      <TrackItem
                        track={track}
                        current={this.ps.current?.cid === track.cid}
                        cover={this.coverUrl(track)}
                        t={t}
                        player={this.player}
                        onKeep={() => void this.library?.keepCopy(track.cid)}
                        onDropCopy={() => void this.library?.dropCopy(track.cid)}
                        onAttach={() => {
                          this.attachTarget = track;
                          this.attachInput?.click();
                        }}
                        onRemove={() => void this.library?.untrack(track.key)}
                      />
                    ))}
                  </ul>
                </div>
              );
            })}
            {hidden > 0 ? (
              <button type="button" class="link hidden-count" aria-expanded={this.showHidden ? 'true' : 'false'} onClick={() => (this.showHidden = !this.showHidden)}>
                {t.hiddenTracks(hidden)}
              </button>
            ) : null}
          </section>
          {/* The picker behind each own track's "attach lyrics or cover" button. */}
          <input
            type="file"
            accept=".lrc,image/*"
            hidden
            ref={el => (this.attachInput = el)}
            onChange={e => {
              const input = e.target as HTMLInputElement;
              const file = input.files?.[0];
              if (file && this.attachTarget) void this.player.attach(this.attachTarget, file);
              input.value = '';
            }}
          />
        </div>
      </Host>
    );
  }
}
