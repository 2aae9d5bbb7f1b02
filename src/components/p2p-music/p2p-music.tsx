import { Component, forceUpdate, Element, Event, EventEmitter, h, Host, Method, Prop, State, Watch } from '@stencil/core';
import { parseByteSize } from '../../core/config';
import { RoomConnection, type P2pErrorCode, type ConnectionStats, type MeshStatus, type TransferProgress, type WireStats } from '../../core/runtime';
import { formatBytes, formatClock, Lang, resolveLang, stringsFor, Strings } from '../../core/i18n';
import { audioKind, BanList, coverFromBytes, currentLine, openMusicLibrary, parseLrc, StreamingPlayer, TrackRefusedError, truncateUtf8, type LyricLine, type MusicLibrary, type MusicTrack } from '../../core/music/music-loader';
import { errorText, safeLocalStorage, statusText } from '../shared/widget-status';
import { ConnectionPanel, ConnectionPanelController, ConnectionToggle, RelayNotice } from '../shared/connection-panel';

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


const BAN_KEY = 'p2p-widgets:music-ban';

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
  @State() current: MusicTrack | null = null;
  @State() playing = false;
  @State() position = 0;
  @State() progress: TransferProgress | null = null;
  @State() volume = 1;
  @State() lyrics: LyricLine[] = [];
  @State() userBan = '';
  @State() showSettings = false;
  @State() showHidden = false;
  @State() waiting = false;

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
        this.tracks = library.tracks();
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
  private player: StreamingPlayer | null = null;
  private audioContext: AudioContext | null = null;
  private playerOffs: (() => void)[] = [];
  private progressOff: (() => void) | null = null;
  private fileInput?: HTMLInputElement;
  private attachInput?: HTMLInputElement;
  /** The own track whose lyrics or cover the attach picker is choosing. */
  private attachTarget: MusicTrack | null = null;
  private lyricsEl?: HTMLOListElement;
  private coverUrls = new Map<string, string>();
  private loadingCid: string | null = null;
  /** Chunks of the current track held when its first audio played (shows streaming: fewer than all). */
  private startedWith: { chunks: number; totalChunks: number } | null = null;
  private autoplayed = false;

  connectedCallback() {
    try {
      this.userBan = safeLocalStorage()?.getItem(BAN_KEY) ?? '';
    } catch {
      this.userBan = '';
    }
    void this.connect();
  }

  /** The connection panel (header toggle): figures re-read every 2 s while open. */
  private readonly connection = new ConnectionPanelController(
    () => this.link.mesh,
    () => forceUpdate(this.el),
  );

  /**
   * What the connection panel shows, as data: per connected peer its `path` (`direct` | `stun` |
   * `turn` | `unknown`, from the selected ICE candidate pair), `rttMs` (ms), `bytesSent` and
   * `bytesReceived` (bytes), `sendBitrate` and `receiveBitrate` (bits/s since the previous call)
   * `connectedForMs` (ms) and `silentForMs` (ms since the peer was last heard; null before its first
   * heartbeat); per signaling relay its `url`, `state` (`connecting` | `connected` |
   * `reconnecting` | `retired`), `reason` (why retired) and `retryAtMs` (ms since epoch); and
   * `relaysDown` (no relay connected: nobody new can join). Empty lists before the widget joined.
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
    return this.add([...files]);
  }

  /** Plays the track with this content id (one load at a time: asking again for the track being loaded does nothing). */
  @Method()
  async playTrack(cid: string): Promise<void> {
    await this.play(cid);
  }

  /** Pauses playback (the download goes on). */
  @Method()
  async pause(): Promise<void> {
    this.player?.pause();
    this.playing = false;
  }

  /** Jumps to `seconds` in the current track (a part not downloaded yet is fetched first). */
  @Method()
  async seek(seconds: number): Promise<void> {
    this.player?.seek(seconds);
  }

  /** The player's state: current track, position (s), whether it plays, download progress. */
  @Method()
  async getPlayerState(): Promise<P2pPlayerState> {
    return {
      cid: this.current?.cid ?? null,
      title: this.current?.title ?? null,
      currentTime: this.player?.currentTime ?? 0,
      playing: this.playing,
      waiting: this.waiting,
      progress: this.progress,
      startedWith: this.startedWith,
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

  private banList(): BanList {
    return BanList.parse(`${this.ban ?? ''}\n${this.userBan}`);
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
      { room: this.room, appId: this.appId, password: this.password, strategy: this.strategy, relayUrls: this.relayUrls, iceServers: this.iceServers, iceTransportPolicy: this.iceTransportPolicy, userName: this.userName },
      { location: window.location, storage: safeLocalStorage() },
      () => {
        this.cacheBytes();
        for (const problem of this.banList().problems) this.fail('bad-ban-entry', problem.message);
      },
    );
  }

  private async disconnect() {
    this.stopPlayer();
    this.link.disconnect();
    this.coverUrls.forEach(url => URL.revokeObjectURL(url));
    this.coverUrls.clear();
  }

  private onTracks(tracks: readonly MusicTrack[]) {
    this.tracks = tracks;
    // Keep the playing track's entry current (holders, cached) without touching playback.
    if (this.current) this.current = tracks.find(t => t.cid === this.current!.cid) ?? this.current;
    if (this.autoplay && !this.autoplayed && !this.current) {
      const first = this.playable()[0];
      if (first) {
        this.autoplayed = true;
        void this.play(first.cid);
      }
    }
  }

  private fail(code: P2pErrorCode, message: string) {
    this.error = errorText(code, message, this.status, this.t);
    this.p2pError.emit({ code, message });
  }

  private detail(track: MusicTrack): P2pTrackDetail {
    return { cid: track.cid, title: track.title, artist: track.artist, holders: this.library?.swarm.holders(track.cid) ?? [], own: track.own };
  }

  private async add(files: File[]): Promise<string[]> {
    // Files picked or dropped while the widget is still joining the room wait for it (up to 30 s).
    const library = await this.link.ready();
    if (!library) {
      this.fail('not-connected', this.t.statusFailed(this.error ?? this.t.statusConnecting));
      return [];
    }
    const cids: string[] = [];
    const lrcs = files.filter(f => /\.lrc$/i.test(f.name));
    for (const file of files.filter(f => !/\.lrc$/i.test(f.name))) {
      try {
        const track = await library.add(file);
        cids.push(track.cid);
        // An .lrc with the same base name travels with the track.
        const lrc = lrcs.find(l => l.name.replace(/\.lrc$/i, '') === file.name.replace(/\.[^.]+$/, ''));
        if (lrc) await library.attach(track.key, { lyrics: truncateUtf8(await lrc.text()) });
      } catch (err) {
        if (err instanceof TrackRefusedError) this.fail(err.code, this.t.fileProblem(file.name, this.refusal(err, file)));
        else this.fail('storage-failed', err instanceof Error ? err.message : String(err));
      }
    }
    return cids;
  }

  /** Why a file was refused, in the widget's language (the core's English message for codes it does not know). */
  private refusal(err: TrackRefusedError, file: File): string {
    if (err.code === 'not-audio') return this.t.notATrack;
    if (err.code === 'too-large') return this.t.trackTooLarge(formatBytes(file.size, this.uiLang));
    return err.message;
  }

  /** Tracks not hidden by the ban list, in list order. */
  private playable(): MusicTrack[] {
    const ban = this.banList();
    return this.tracks.filter(t => !ban.matches(t) && !t.offline);
  }

  private async play(cid: string) {
    const library = this.library;
    const track = this.tracks.find(t => t.cid === cid);
    if (!library || !track) return;
    if (this.banList().matches(track)) return;
    if (this.loadingCid === cid) return; // one load per track at a time
    if (this.current?.cid === cid && this.player) {
      this.player.play();
      this.playing = true;
      return;
    }
    const kind = audioKind(track.mime);
    if (!kind) return this.fail('playback', this.t.notPlayable);
    this.loadingCid = cid;
    try {
      this.stopPlayer();
      this.audioContext ??= new AudioContext();
      const player = new StreamingPlayer(this.audioContext);
      player.setVolume(this.volume);
      this.player = player;
      this.current = track;
      this.lyrics = track.lyrics ? parseLrc(track.lyrics) : [];
      this.position = 0;
      this.progress = null;
      this.startedWith = null;
      const source = library.source(cid);
      const download = library.swarm.isComplete(cid) ? null : library.swarm.download(cid);
      this.progressOff = download ? download.on('progress', p => (this.progress = p)) : null;
      if (!download) this.progress = null;
      this.playerOffs.push(
        player.on('time', t => {
          this.position = t;
          if (t > 0 && !this.startedWith) {
            const held = library.swarm.localFile(cid)?.have;
            this.startedWith = { chunks: held?.size ?? 0, totalChunks: held?.count ?? 0 };
          }
          if (this.waiting && !library.swarm.holders(cid).length && !library.swarm.isComplete(cid)) this.error = this.t.restUnavailable;
        }),
        player.on('waiting', w => (this.waiting = w)),
        player.on('ended', () => {
          this.playing = false;
          this.p2pTrackEnd.emit(this.detail(track));
          this.step(1);
        }),
        player.on('error', e => this.fail('playback', e.message)),
      );
      await player.load(source, kind, track.duration);
      this.playing = true;
      this.p2pTrackPlay.emit(this.detail(track));
    } catch (err) {
      this.fail('playback', err instanceof Error ? err.message : String(err));
    } finally {
      if (this.loadingCid === cid) this.loadingCid = null;
    }
  }

  private stopPlayer() {
    this.playerOffs.splice(0).forEach(off => off());
    this.progressOff?.();
    this.progressOff = null;
    this.player?.destroy();
    this.player = null;
    this.playing = false;
  }

  /** Next/previous, skipping banned tracks. */
  private step(delta: number) {
    const list = this.playable();
    if (!list.length) return;
    const i = list.findIndex(t => t.cid === this.current?.cid);
    const next = list[(i + delta + list.length) % list.length];
    if (next && next.cid !== this.current?.cid) void this.play(next.cid);
  }

  private togglePlay = () => {
    if (!this.player) {
      const first = this.playable()[0];
      if (first) void this.play(first.cid);
      return;
    }
    if (this.playing) {
      this.player.pause();
      this.playing = false;
    } else {
      this.player.play();
      this.playing = true;
    }
  };

  private coverUrl(track: MusicTrack): string | null {
    if (!track.cover) return null;
    let url = this.coverUrls.get(track.key + track.cover.byteLength);
    if (!url) {
      url = URL.createObjectURL(new Blob([track.cover as BlobPart], { type: 'image/webp' }));
      this.coverUrls.set(track.key + track.cover.byteLength, url);
    }
    return url;
  }

  private saveBan(text: string) {
    this.userBan = text;
    try {
      safeLocalStorage()?.setItem(BAN_KEY, text);
    } catch {
      /* not remembered */
    }
  }

  private async attachFile(track: MusicTrack, file: File) {
    if (!this.library) return;
    try {
      if (/\.lrc$/i.test(file.name)) await this.library.attach(track.key, { lyrics: truncateUtf8(await file.text()) });
      else {
        const cover = await coverFromBytes(file);
        if (!cover) return this.fail('not-an-image', this.t.fileProblem(file.name, this.t.pictureUnreadable));
        await this.library.attach(track.key, { cover });
      }
    } catch (err) {
      this.fail('storage-failed', err instanceof Error ? err.message : String(err));
    }
  }

  private renderTrack(track: MusicTrack) {
    const t = this.t;
    const isCurrent = this.current?.cid === track.cid;
    const cover = this.coverUrl(track);
    return (
      <li part="track" class={{ track: true, current: isCurrent, offline: track.offline }} key={track.cid} data-cid={track.cid} aria-current={isCurrent ? 'true' : undefined}>
        {cover ? <img class="cover" src={cover} alt="" width={40} height={40} /> : <span class="cover placeholder" aria-hidden="true">♪</span>}
        <div class="info">
          <span class="title">{track.title}</span>
          <span class="sub">
            {[track.artist, formatClock(track.duration)].filter(Boolean).join(' · ')}
            {track.holders.length ? ` · ${t.heldBy(track.holders.join(', '))}` : ''}
            {track.cached && !track.own ? ` · ${t.savedHere}` : ''}
          </span>
        </div>
        <div class="actions">
          {!track.own && !track.kept && !track.offline ? (
            <button type="button" class="link" onClick={() => void this.library?.keepCopy(track.cid)}>
              {t.keepCopy}
            </button>
          ) : null}
          {!track.own && (track.cached || track.kept) ? (
            <button type="button" class="link" onClick={() => void this.library?.dropCopy(track.cid)}>
              {t.removeCopy}
            </button>
          ) : null}
          {track.own ? (
            <button
              type="button"
              class="link"
              onClick={() => {
                this.attachTarget = track;
                this.attachInput?.click();
              }}
            >
              {t.attachLyrics}
            </button>
          ) : null}
          {track.own ? (
            <button type="button" class="link" onClick={() => void this.library?.untrack(track.key)}>
              {t.removeTrack}
            </button>
          ) : null}
        </div>
        <button type="button" class="play icon" disabled={track.offline} aria-label={t.playTrack(track.title)} onClick={() => void this.play(track.cid)}>
          {icon('M7 5v14l12-7z')}
        </button>
      </li>
    );
  }

  private renderPlayer() {
    const t = this.t;
    const track = this.current;
    const duration = this.player?.duration || track?.duration || 0;
    const downloaded = track ? (track.cached ? 1 : this.progress && this.progress.size ? this.progress.bytes / this.progress.size : 0) : 0;
    return (
      <section part="player" class="player" aria-label={t.playerLabel}>
        <div class="now">
          <span class="title">{track ? track.title : t.nothingPlaying}</span>
          {track?.artist ? <span class="sub"> · {track.artist}</span> : null}
        </div>
        <div class="controls" part="controls">
          <span class="buttons">
            <button type="button" class="icon" aria-label={t.previousTrack} onClick={() => this.step(-1)}>
              {icon('M6 5h2v14H6zM20 5v14L9 12z')}
            </button>
            <button type="button" class="icon" aria-label={this.playing ? t.pause : t.play} onClick={this.togglePlay}>
              {this.playing ? icon('M6 5h4v14H6zM14 5h4v14h-4z') : icon('M7 5v14l12-7z')}
            </button>
            <button type="button" class="icon" aria-label={t.nextTrack} onClick={() => this.step(1)}>
              {icon('M16 5h2v14h-2zM4 5v14l11-7z')}
            </button>
          </span>
          <span class="timeline">
            <span class="time" aria-hidden="true">
              {formatClock(this.position)}
            </span>
            <input
              type="range"
              class="seek"
              aria-label={t.seek}
              aria-valuetext={t.positionOf(formatClock(this.position), formatClock(duration))}
              min={0}
              max={Math.max(1, Math.round(duration))}
              step={1}
              value={Math.round(this.position)}
              disabled={!track}
              onChange={e => this.player?.seek(Number((e.target as HTMLInputElement).value))}
            />
            <span class="time" aria-hidden="true">
              {formatClock(duration)}
            </span>
          </span>
          <input
            type="range"
            class="volume"
            aria-label={t.volume}
            min={0}
            max={1}
            step={0.05}
            value={this.volume}
            onInput={e => {
              this.volume = Number((e.target as HTMLInputElement).value);
              this.player?.setVolume(this.volume);
            }}
          />
        </div>
        <progress class="download" max={1} value={downloaded} aria-label={t.downloaded}></progress>
      </section>
    );
  }

  private renderLyrics() {
    if (!this.lyrics.length) return null;
    const index = currentLine(this.lyrics, this.position);
    return (
      <ol part="lyrics" class="lyrics" aria-label={this.t.lyricsLabel} ref={el => (this.lyricsEl = el)}>
        {this.lyrics.map((line, i) => (
          <li class={{ line: true, active: i === index }} aria-current={i === index ? 'true' : undefined} ref={el => el && i === index && this.scrollLyricTo(el)}>
            {line.text}
          </li>
        ))}
      </ol>
    );
  }

  /** Brings the current lyric line into view inside the lyrics box only (scrollIntoView would scroll the host page too). */
  private scrollLyricTo(line: HTMLLIElement) {
    const box = this.lyricsEl;
    if (!box) return;
    const top = line.offsetTop - box.offsetTop;
    if (top < box.scrollTop || top + line.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = top - (box.clientHeight - line.offsetHeight) / 2;
  }

  render() {
    const t = this.t;
    const ban = this.banList();
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
            if (files.length) void this.add(files);
          }}
        >
          <header part="header">
            <span class={`dot ${this.status.state}`} aria-hidden="true"></span>
            <span part="status" role="status" class="status">
              {statusText(this.status, t)}
            </span>
            <ConnectionToggle panel={this.connection} t={t} controls="connection-panel" />
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
                void this.add([...(input.files ?? [])]);
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
                <textarea rows={3} value={this.userBan} onChange={e => this.saveBan((e.target as HTMLTextAreaElement).value)}></textarea>
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
          {this.renderPlayer()}
          {this.renderLyrics()}
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
                  <ul aria-label={own ? t.yourList : t.listOf(tracks[0].sharedBy)}>{tracks.map(track => this.renderTrack(track))}</ul>
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
              if (file && this.attachTarget) void this.attachFile(this.attachTarget, file);
              input.value = '';
            }}
          />
        </div>
      </Host>
    );
  }
}

/** A 24 × 24 icon from one SVG path (no icon font needed; decorative, the button carries the label). */
function icon(d: string) {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path d={d} fill="currentColor"></path>
    </svg>
  );
}
