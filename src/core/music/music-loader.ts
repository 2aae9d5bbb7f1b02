/**
 * What the music widget imports from the music feature: the light parts at once (ban list, whose
 * pattern engine RE2JS loads only for a list with patterns; lyrics,
 * the player, type sniffing helpers), the library on demand. `MusicLibrary` brings the record book,
 * identity and Dexie; loading it in its own chunk while the mesh joins lets the relay socket open
 * sooner (see core/chat/chat-loader.ts).
 */
import type { MusicLibrary, MusicLibraryOptions } from './music-library';
import type { Swarm } from '../swarm';
import type { FeatureMesh } from '../mesh';

export { BanList } from './ban-list';
export { currentLine, parseLrc, truncateUtf8 } from './lyrics';
export type { LyricLine } from './lyrics';
export { StreamingPlayer } from './streaming-player';
export { MusicPlayerController, BAN_STORAGE_KEY } from './music-player-controller';
export type { MusicPlayerState, MusicProblem, MusicPlayerEvents, MusicPlayerHost } from './music-player-controller';
export { audioKind } from './pcm-decoders';
export { coverFromBytes, TrackRefusedError } from './track-prepare';
export type { MusicLibrary, MusicTrack } from './music-library';

/** Loads the music library code (first call only) and opens the library: see `MusicLibrary.open`. */
export async function openMusicLibrary(mesh: FeatureMesh, swarm: Swarm, options: MusicLibraryOptions): Promise<MusicLibrary> {
  const { MusicLibrary } = await import('./music-library');
  return MusicLibrary.open(mesh, swarm, options);
}
