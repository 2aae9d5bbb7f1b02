/** music: the music room's lists, ban list, lyrics and streaming playback, over mesh, swarm, store and identity. */
export { MusicLibrary } from './music-library';
export type { MusicTrack, MusicLibraryEvents, MusicLibraryOptions } from './music-library';
export { BanList } from './ban-list';
export type { BanListProblem, BannableTrack } from './ban-list';
export { parseLrc, currentLine, truncateUtf8, MAX_LRC_LENGTH } from './lyrics';
export type { LyricLine } from './lyrics';
export { StreamingPlayer } from './streaming-player';
export { MusicPlayerController, BAN_STORAGE_KEY } from './music-player-controller';
export type { MusicPlayerState, MusicProblem, MusicPlayerEvents, MusicPlayerHost } from './music-player-controller';
export type { ByteSource, PlayerEvents } from './streaming-player';
export { audioKind, parseWavHeader, WavDecoder, createDecoder } from './pcm-decoders';
export type { AudioKind, Pcm, PcmDecoder, WavFormat } from './pcm-decoders';
export { prepareTrack, sniffAudioType, coverFromBytes, TrackRefusedError, COVER_SIDE } from './track-prepare';
export type { PreparedTrack } from './track-prepare';
export { musicSigningBytes, signMusicRecord, verifyMusicRecord, MUSIC_SIGNING_TAG } from './track-record';
