import { Component, Element, Event, EventEmitter, h, Host, Method, Prop, State } from '@stencil/core';
import { parseByteSize } from '../../core/config';
import { RoomConnection } from '../../core/runtime';
import { formatBytes } from '../../core/i18n';
import { MusicPlayerController, openMusicLibrary, StreamingPlayer, type MusicLibrary, type MusicPlayerState, type MusicProblem, type MusicTrack } from '../../core/music/music-loader';
import { safeLocalStorage } from '../shared/widget-status';
import { ConnectionPanel, HeaderStatus, RelayNotice } from '../shared/connection-panel';
import { P2pWidget } from '../shared/p2p-widget';
import type { P2pTrackDetail, P2pMusicErrorDetail, P2pPlayerState, P2pMusicStats } from './music-event-details';
import { AddFilesButton } from '../shared/add-files-button';
import { LyricsBox, PlayerBar, TrackItem } from './music-views';

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
export class P2pMusic extends P2pWidget<MusicLibrary> {
  @Element() el!: HTMLElement;

  /** The site owner's ban list: words and `/patterns/`, separated by commas or new lines. Matching tracks are hidden and skipped. */
  @Prop() ban = '';
  /** Cap on cached copies of others' tracks (bytes, or e.g. `500MB`); least recently played go first. Own tracks never count. */
  @Prop() maxCache = '500MB';
  /** Start playing the first track when the list fills (off by default). */
  @Prop() autoplay = false;

  /** The room's tracks, once per content id. */
  @State() tracks: readonly MusicTrack[] = [];
  /** The player's state (see core/music's MusicPlayerController). */
  @State() ps!: MusicPlayerState;
  /** The ban list editor is open. */
  @State() showSettings = false;
  /** Tracks the ban list hides are listed too. */
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
  protected readonly link = new RoomConnection<MusicLibrary>(
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
  private attachInput?: HTMLInputElement;
  /** The own track whose lyrics or cover the attach picker is choosing. */
  private attachTarget: MusicTrack | null = null;
  /** Object URLs of the covers shown, by track key, with the bytes each was made from. */
  private coverUrls = new Map<string, { cover: Uint8Array; url: string }>();

  /** Once, before the first render: the player's state and events (connecting is the shared widget's `connectedCallback`). */
  componentWillLoad() {
    this.ps = this.player.state;
    this.player.on('state', state => {
      if (state.restUnavailable && !this.ps.restUnavailable) this.error = this.t.restUnavailable;
      this.ps = state;
    });
    this.player.on('play', track => this.p2pTrackPlay.emit(this.detail(track)));
    this.player.on('end', track => this.p2pTrackEnd.emit(this.detail(track)));
    this.player.on('problem', problem => this.onProblem(problem));
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

  private get library(): MusicLibrary | null {
    return this.link.feature;
  }

  /** `max-cache` in bytes; throws AttributeError when it does not look like a size. */
  private cacheBytes(): number {
    return parseByteSize(this.maxCache ?? '500MB', 'max-cache', '500MB');
  }

  /** `max-cache` must be a byte size and every `ban` entry readable. */
  protected checkAttributes(): void {
    this.cacheBytes();
    this.player.checkBanList();
  }
  /** Removed from the page: leaves the room (the shared widget's) and releases the audio output. */
  disconnectedCallback() {
    super.disconnectedCallback();
    void this.audioContext?.close().catch(() => undefined);
    this.audioContext = null;
  }

  protected async disconnect() {
    this.player.stop();
    await super.disconnect();
    this.coverUrls.forEach(({ url }) => URL.revokeObjectURL(url));
    this.coverUrls.clear();
  }

  private onTracks(tracks: readonly MusicTrack[]) {
    this.tracks = tracks;
    this.player.tracksChanged(tracks, this.autoplay);
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
    const cover = track.cover;
    const held = this.coverUrls.get(track.key);
    // The list is rebuilt with new byte arrays: same bytes, same URL; a new cover (even of the same size), a new URL.
    if (held && (held.cover === cover || (held.cover.byteLength === cover.byteLength && held.cover.every((b, i) => b === cover[i])))) {
      held.cover = cover;
      return held.url;
    }
    if (held) URL.revokeObjectURL(held.url);
    const url = URL.createObjectURL(new Blob([cover as BlobPart], { type: 'image/webp' }));
    this.coverUrls.set(track.key, { cover, url });
    return url;
  }

  /** Header (status, ban list button, add button), panels, the ban list editor, the error line, the player bar, lyrics and the lists by sharer. */
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
            <AddFilesButton label={t.addTracks} accept="audio/*,.lrc" disabled={!this.library} onFiles={files => void this.player.add(files)} />
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
