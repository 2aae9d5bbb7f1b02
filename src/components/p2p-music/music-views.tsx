import { h, type FunctionalComponent } from '@stencil/core';
import { formatClock, type Strings } from '../../core/i18n';
import { currentLine, type MusicPlayerController, type MusicPlayerState, type MusicTrack } from '../../core/music/music-loader';

/** One track of a list: cover, title, artist, holders, and the actions this visitor may take on it. */
export const TrackItem: FunctionalComponent<{
  track: MusicTrack;
  current: boolean;
  cover: string | null;
  t: Strings;
  player: MusicPlayerController;
  onKeep(): void;
  onDropCopy(): void;
  onAttach(): void;
  onRemove(): void;
}> = ({ track, current, cover, t, player, onKeep, onDropCopy, onAttach, onRemove }) => (
  <li part="track" class={{ track: true, current, offline: track.offline }} key={track.cid} data-cid={track.cid} aria-current={current ? 'true' : undefined}>
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
        <button type="button" class="link" onClick={onKeep}>
          {t.keepCopy}
        </button>
      ) : null}
      {!track.own && (track.cached || track.kept) ? (
        <button type="button" class="link" onClick={onDropCopy}>
          {t.removeCopy}
        </button>
      ) : null}
      {track.own ? (
        <button type="button" class="link" onClick={onAttach}>
          {t.attachLyrics}
        </button>
      ) : null}
      {track.own ? (
        <button type="button" class="link" onClick={onRemove}>
          {t.removeTrack}
        </button>
      ) : null}
    </div>
    <button type="button" class="play icon" disabled={track.offline} aria-label={t.playTrack(track.title)} onClick={() => void player.play(track.cid)}>
      {icon('M7 5v14l12-7z')}
    </button>
  </li>
);

/** The player bar: now playing, previous / play-pause / next, seek, volume, download progress. */
export const PlayerBar: FunctionalComponent<{ state: MusicPlayerState; player: MusicPlayerController; t: Strings }> = ({ state, player, t }) => {
  const { current: track, progress, position, playing, volume } = state;
  const duration = player.duration || track?.duration || 0;
  const downloaded = track ? (track.cached ? 1 : progress && progress.size ? progress.bytes / progress.size : 0) : 0;
  return (
    <section part="player" class="player" aria-label={t.playerLabel}>
      <div class="now">
        <span class="title">{track ? track.title : t.nothingPlaying}</span>
        {track?.artist ? <span class="sub"> · {track.artist}</span> : null}
      </div>
      <div class="controls" part="controls">
        <span class="buttons">
          <button type="button" class="icon" aria-label={t.previousTrack} onClick={() => player.step(-1)}>
            {icon('M6 5h2v14H6zM20 5v14L9 12z')}
          </button>
          <button type="button" class="icon" aria-label={playing ? t.pause : t.play} onClick={() => player.togglePlay()}>
            {playing ? icon('M6 5h4v14H6zM14 5h4v14h-4z') : icon('M7 5v14l12-7z')}
          </button>
          <button type="button" class="icon" aria-label={t.nextTrack} onClick={() => player.step(1)}>
            {icon('M16 5h2v14h-2zM4 5v14l11-7z')}
          </button>
        </span>
        <span class="timeline">
          <span class="time" aria-hidden="true">
            {formatClock(position)}
          </span>
          <input
            type="range"
            class="seek"
            aria-label={t.seek}
            aria-valuetext={t.positionOf(formatClock(position), formatClock(duration))}
            min={0}
            max={Math.max(1, Math.round(duration))}
            step={1}
            value={Math.round(position)}
            disabled={!track}
            onChange={e => player.seek(Number((e.target as HTMLInputElement).value))}
          />
          <span class="time" aria-hidden="true">
            {formatClock(duration)}
          </span>
        </span>
        <input type="range" class="volume" aria-label={t.volume} min={0} max={1} step={0.05} value={volume} onInput={e => player.setVolume(Number((e.target as HTMLInputElement).value))} />
      </div>
      <progress class="download" max={1} value={downloaded} aria-label={t.downloaded}></progress>
    </section>
  );
};

/** The current track's lyrics, the line at the play position highlighted and kept in view inside the box. */
export const LyricsBox: FunctionalComponent<{ state: MusicPlayerState; t: Strings }> = ({ state, t }) => {
  const { lyrics, position } = state;
  if (!lyrics.length) return null;
  const index = currentLine(lyrics, position);
  let box: HTMLOListElement | undefined;
  return (
    <ol part="lyrics" class="lyrics" aria-label={t.lyricsLabel} ref={el => (box = el)}>
      {lyrics.map((line, i) => (
        <li class={{ line: true, active: i === index }} aria-current={i === index ? 'true' : undefined} ref={el => el && i === index && scrollLyricTo(box, el)}>
          {line.text}
        </li>
      ))}
    </ol>
  );
};

/** Brings the current lyric line into view inside the lyrics box only (scrollIntoView would scroll the host page too). */
function scrollLyricTo(box: HTMLOListElement | undefined, line: HTMLLIElement) {
  if (!box) return;
  const top = line.offsetTop - box.offsetTop;
  if (top < box.scrollTop || top + line.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = top - (box.clientHeight - line.offsetHeight) / 2;
}

/** An icon from one SVG path in a 24 × 24 view box, drawn at 16 px (no icon font needed; decorative, the button carries the label). */
export function icon(d: string) {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path d={d} fill="currentColor"></path>
    </svg>
  );
}
