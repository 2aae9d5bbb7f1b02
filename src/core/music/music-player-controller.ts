import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { TransferProgress } from '../swarm';
import { BanList, loadPatternEngine } from './ban-list';
import { parseLrc, truncateUtf8, type LyricLine } from './lyrics';
import type { MusicLibrary, MusicTrack } from './music-library';
import { audioKind } from './pcm-decoders';
import { StreamingPlayer } from './streaming-player';
import { coverFromBytes, TrackRefusedError } from './track-prepare';

/** Where the visitor's own ban list is kept (localStorage key). */
export const BAN_STORAGE_KEY = 'p2p-widgets:music-ban';

/** What the music widget shows of the player; every change is emitted whole as `state`. */
export interface MusicPlayerState {
  /** The track loaded (playing or paused), or null. */
  current: MusicTrack | null;
  /** Whether it plays (false when paused, stopped or ended). */
  playing: boolean;
  /** Playing but waiting for bytes. */
  waiting: boolean;
  /** Play position, seconds. */
  position: number;
  /** Download progress of the current track (null when it was already here). */
  progress: TransferProgress | null;
  /** 0–1. */
  volume: number;
  /** The current track's parsed LRC lyrics, by time (empty when it has none). */
  lyrics: LyricLine[];
  /** Chunks held when the first audio played (streaming: fewer than all). */
  startedWith: { chunks: number; totalChunks: number } | null;
  /** The visitor's own ban list (text), kept in localStorage. */
  userBan: string;
  /** The rest of the current track is not reachable: nobody online holds it. */
  restUnavailable: boolean;
}

/**
 * A problem for the widget to show in the visitor's language and emit as `p2pError`:
 * `refused` (a file not shared: `TrackRefusedError` code, with the file), `not-playable` (a type the
 * player cannot decode), `not-a-picture` (an attached cover that cannot be read), `playback` and
 * `storage-failed` (with the underlying message), `bad-ban-entry` (a ban list line), `not-connected`
 * (an action that needs the room before the widget is in it).
 */
export type MusicProblem =
  | { code: 'refused'; error: TrackRefusedError; file: File }
  | { code: 'not-playable' }
  | { code: 'not-a-picture'; file: File }
  | { code: 'playback' | 'storage-failed' | 'bad-ban-entry'; message: string }
  | { code: 'not-connected' };

/** Events of a {@link MusicPlayerController}. */
export interface MusicPlayerEvents {
  /** The state changed (the whole new state). */
  state: (state: MusicPlayerState) => void;
  /** A track started playing. */
  play: (track: MusicTrack) => void;
  /** A track played to its end (the next one starts). */
  end: (track: MusicTrack) => void;
  /** Something went wrong: show it and emit `p2pError`. */
  problem: (problem: MusicProblem) => void;
}

/** What the controller needs from its page: the library once open, the ban attribute, storage and audio. */
export interface MusicPlayerHost {
  /** The open library, or null while joining. */
  library(): MusicLibrary | null;
  /** Waits for the library (files picked while joining); null when the widget could not join. */
  ready(): Promise<MusicLibrary | null>;
  /** The site owner's `ban` attribute. */
  banAttribute(): string;
  /** localStorage (null when the browser blocks it). */
  storage(): Storage | null;
  /** A player for one track (a StreamingPlayer over the page's AudioContext). */
  createPlayer(): StreamingPlayer;
}

/**
 * The music widget's player and playlist, outside the component: which track plays, next/previous
 * and autoplay over the tracks the ban list does not hide, one load per track at a time, lyrics of
 * the current track, the download behind it, `.lrc` files paired with the track of the same base
 * name, covers and lyrics attached to own tracks, and the visitor's ban list (kept in localStorage).
 * The component renders {@link MusicPlayerState} and calls these methods; nothing here touches the DOM.
 */
export class MusicPlayerController {
  /** What the player shows now (current track, position in s, playing, progress); replaced on every change (`state` event). */
  state: MusicPlayerState;
  private readonly emitter = createNanoEvents<MusicPlayerEvents>();
  private player: StreamingPlayer | null = null;
  private playerOffs: Unsubscribe[] = [];
  private progressOff: Unsubscribe | null = null;
  private loadingCid: string | null = null;
  private autoplayed = false;
  private tracks: readonly MusicTrack[] = [];

  constructor(private readonly host: MusicPlayerHost) {
    let userBan = '';
    try {
      userBan = host.storage()?.getItem(BAN_STORAGE_KEY) ?? '';
    } catch {
      userBan = '';
    }
    this.state = { current: null, playing: false, waiting: false, position: 0, progress: null, volume: 1, lyrics: [], startedWith: null, userBan, restUnavailable: false };
  }

  /** Subscribes to an event (see {@link MusicPlayerEvents}); returns the unsubscribe function. */
  on<E extends keyof MusicPlayerEvents>(event: E, handler: MusicPlayerEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The track's duration as the player knows it (seconds; 0 before it loaded). */
  get duration(): number {
    return this.player?.duration ?? 0;
  }

  /** The play position now, seconds. */
  get currentTime(): number {
    return this.player?.currentTime ?? 0;
  }

  /**
   * The attribute's and the visitor's ban lists together. A list with patterns is `pending` (it hides
   * every track) until the pattern engine has loaded; loading starts here, and the state is emitted
   * again once it has, so the view asks again.
   */
  banList(): BanList {
    const list = BanList.parse(`${this.host.banAttribute()}\n${this.state.userBan}`);
    if (list.pending) void loadPatternEngine().then(() => this.set({}), () => undefined);
    return list;
  }

  /** Reports each line of the ban lists that could not be read (`bad-ban-entry`), once the patterns could be compiled. */
  checkBanList(): void {
    const list = this.banList();
    if (!list.pending) {
      for (const problem of list.problems) this.problem({ code: 'bad-ban-entry', message: problem.message });
      return;
    }
    loadPatternEngine().then(
      () => this.checkBanList(),
      err => this.problem({ code: 'bad-ban-entry', message: `the ban list's patterns could not be loaded (${err instanceof Error ? err.message : String(err)}); tracks stay hidden` }),
    );
  }

  /** Saves the visitor's own ban list (localStorage; kept in memory when storage is blocked). */
  saveBan(text: string): void {
    this.set({ userBan: text });
    try {
      this.host.storage()?.setItem(BAN_STORAGE_KEY, text);
    } catch {
      /* not remembered */
    }
  }

  /** Tracks not hidden by the ban list and not offline, in list order. */
  playable(): MusicTrack[] {
    const ban = this.banList();
    return this.tracks.filter(t => !ban.matches(t) && !t.offline);
  }

  /** The library's list changed: keeps the current track's entry fresh and starts autoplay once. */
  tracksChanged(tracks: readonly MusicTrack[], autoplay: boolean): void {
    this.tracks = tracks;
    const current = this.state.current;
    // Keep the playing track's entry current (holders, cached) without touching playback.
    if (current) this.set({ current: tracks.find(t => t.cid === current.cid) ?? current });
    if (autoplay && !this.autoplayed && !this.state.current) {
      const first = this.playable()[0];
      if (first) {
        this.autoplayed = true;
        void this.play(first.cid);
      }
    }
  }

  /**
   * Adds files as the visitor picked them: tracks are shared, an `.lrc` file travels with the track
   * of the same base name. Waits for the library while the widget joins.
   * @returns content ids of the tracks added (refusals are reported as `problem`)
   */
  async add(files: File[]): Promise<string[]> {
    const library = await this.host.ready();
    if (!library) {
      this.problem({ code: 'not-connected' });
      return [];
    }
    const cids: string[] = [];
    const lrcs = files.filter(f => /\.lrc$/i.test(f.name));
    for (const file of files.filter(f => !/\.lrc$/i.test(f.name))) {
      try {
        const track = await library.add(file);
        cids.push(track.cid);
        const lrc = lrcs.find(l => l.name.replace(/\.lrc$/i, '') === file.name.replace(/\.[^.]+$/, ''));
        if (lrc) await library.attach(track.key, { lyrics: truncateUtf8(await lrc.text()) });
      } catch (err) {
        if (err instanceof TrackRefusedError) this.problem({ code: 'refused', error: err, file });
        else this.problem({ code: 'storage-failed', message: messageOf(err) });
      }
    }
    return cids;
  }

  /** Attaches lyrics (`.lrc`) or a cover (a picture) to one of this visitor's tracks. */
  async attach(track: MusicTrack, file: File): Promise<void> {
    const library = this.host.library();
    if (!library) return;
    try {
      if (/\.lrc$/i.test(file.name)) await library.attach(track.key, { lyrics: truncateUtf8(await file.text()) });
      else {
        const cover = await coverFromBytes(file);
        if (!cover) return this.problem({ code: 'not-a-picture', file });
        await library.attach(track.key, { cover });
      }
    } catch (err) {
      this.problem({ code: 'storage-failed', message: messageOf(err) });
    }
  }

  /** Plays a track (one load per track at a time; a banned track is not played). */
  async play(cid: string): Promise<void> {
    const library = this.host.library();
    const track = this.tracks.find(t => t.cid === cid);
    if (!library || !track || this.banList().matches(track) || this.loadingCid === cid) return;
    if (this.state.current?.cid === cid && this.player) {
      this.player.play();
      this.set({ playing: true });
      return;
    }
    const kind = audioKind(track.mime);
    if (!kind) return this.problem({ code: 'not-playable' });
    this.loadingCid = cid;
    try {
      this.stop();
      const player = this.host.createPlayer();
      player.setVolume(this.state.volume);
      this.player = player;
      this.set({ current: track, lyrics: track.lyrics ? parseLrc(track.lyrics) : [], position: 0, progress: null, startedWith: null, restUnavailable: false });
      const source = library.source(cid);
      const download = library.swarm.isComplete(cid) ? null : library.swarm.download(cid);
      this.progressOff = download ? download.on('progress', p => this.set({ progress: p })) : null;
      this.playerOffs.push(
        player.on('time', t => {
          const change: Partial<MusicPlayerState> = { position: t };
          if (t > 0 && !this.state.startedWith) {
            const held = library.swarm.localFile(cid)?.have;
            change.startedWith = { chunks: held?.size ?? 0, totalChunks: held?.count ?? 0 };
          }
          if (this.state.waiting && !library.swarm.holders(cid).length && !library.swarm.isComplete(cid)) change.restUnavailable = true;
          this.set(change);
        }),
        player.on('waiting', w => this.set({ waiting: w })),
        player.on('ended', () => {
          this.set({ playing: false });
          this.emitter.emit('end', track);
          this.step(1);
        }),
        player.on('error', e => this.problem({ code: 'playback', message: e.message })),
      );
      await player.load(source, kind, track.duration);
      this.set({ playing: true });
      this.emitter.emit('play', track);
    } catch (err) {
      this.problem({ code: 'playback', message: messageOf(err) });
    } finally {
      if (this.loadingCid === cid) this.loadingCid = null;
    }
  }

  /** Pauses (the download goes on). */
  pause(): void {
    this.player?.pause();
    this.set({ playing: false });
  }

  /** Play/pause; with nothing loaded, plays the first playable track. */
  togglePlay(): void {
    if (!this.player) {
      const first = this.playable()[0];
      if (first) void this.play(first.cid);
      return;
    }
    if (this.state.playing) this.pause();
    else {
      this.player.play();
      this.set({ playing: true });
    }
  }

  /** Jumps to `seconds` (a part not downloaded yet is fetched first). */
  seek(seconds: number): void {
    this.player?.seek(seconds);
  }

  /** Sets the volume, 0–1. */
  setVolume(volume: number): void {
    this.set({ volume });
    this.player?.setVolume(volume);
  }

  /** Next (`1`) or previous (`-1`) playable track, wrapping around. */
  step(delta: number): void {
    const list = this.playable();
    if (!list.length) return;
    const i = list.findIndex(t => t.cid === this.state.current?.cid);
    // Not in the list (nothing playing, or a track no longer playable): next is the first, previous the last.
    const next = i < 0 ? list[delta > 0 ? 0 : list.length - 1] : list[(((i + delta) % list.length) + list.length) % list.length];
    if (next && next.cid !== this.state.current?.cid) void this.play(next.cid);
  }

  /** Stops and releases the player (the current track stays shown). */
  stop(): void {
    this.playerOffs.splice(0).forEach(off => off());
    this.progressOff?.();
    this.progressOff = null;
    this.player?.destroy();
    this.player = null;
    if (this.state.playing) this.set({ playing: false });
  }

  private set(change: Partial<MusicPlayerState>): void {
    this.state = { ...this.state, ...change };
    this.emitter.emit('state', this.state);
  }

  private problem(problem: MusicProblem): void {
    this.emitter.emit('problem', problem);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
