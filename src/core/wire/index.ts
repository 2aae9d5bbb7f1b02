/**
 * wire: schemas and limits for every message between peers; the only door for peer bytes.
 */
export { PROTOCOL_VERSION, MAX_JSON_DEPTH, MAX_JSON_VALUES, defineMessage, encodeMessage, exceedsJsonShape, InboundValidator } from './message-definition';
export type { MessageSpec, MessageOf, Inbound } from './message-definition';
export { DropCounters, DROP_REASONS } from './drop-counters';
export type { DropReason, WireStats } from './drop-counters';
export { PeerRateLimiter } from './rate-limiter';
export type { RateLimit } from './rate-limiter';
export { presenceMessage, heartbeatMessage, MAX_NAME_LENGTH, MAX_CHAT_TEXT_LENGTH, codePointLength } from './message-schemas';
export type { PresenceMessage } from './message-schemas';
export {
  chatRecordSchema,
  chatRecordMessage,
  chatSyncRequestMessage,
  chatSyncBatchMessage,
  MAX_BATCH_RECORDS,
  MAX_VECTOR_AUTHORS,
  MAX_RANGES_PER_AUTHOR,
} from './chat-record-schemas';
export type { ChatRecordWire } from './chat-record-schemas';
export {
  swarmControlMessage,
  swarmHoldersMessage,
  MAX_HOLDS_CIDS,
  manifestSchema,
  encodeDataFrame,
  parseDataFrame,
  CONTENT_ID_PATTERN,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  MAX_FILE_SIZE,
  MAX_FRAME_PAYLOAD,
  FRAME_HEADER_BYTES,
  DATA_FRAME,
} from './swarm-schemas';
export type { SwarmControl, SwarmHolders, ManifestWire, DataFrame, FrameDropReason } from './swarm-schemas';
export { galleryRecordSchema, galleryRecordMessage, galleryQueryMessage, galleryWallMessage, IMAGE_TYPES, MAX_IMAGE_BYTES, MAX_THUMB_CHARS, MAX_ALT_LENGTH } from './gallery-schemas';
export type { GalleryRecordWire, ImageType } from './gallery-schemas';
export { musicRecordSchema, musicRecordMessage, musicQueryMessage, musicListMessage, AUDIO_TYPES, MAX_TRACK_BYTES, MAX_COVER_CHARS, MAX_LYRICS_LENGTH } from './music-schemas';
export type { MusicRecordWire, AudioType } from './music-schemas';
export {
  membershipMessage,
  roomPresenceMessage,
  roomMembersMessage,
  MAX_SNAPSHOT_MEMBERS,
  broadcastMessage,
  OVERLAY_PEER_ID_PATTERN,
  MAX_SHUFFLE_PEERS,
  MAX_WALK_TTL,
  MAX_BROADCAST_HOPS,
  MAX_IDS_PER_MESSAGE,
  MAX_BROADCAST_BODY,
} from './overlay-schemas';
export type { MembershipMessage, BroadcastMessage, RoomPresenceMessage, RoomMembersMessage } from './overlay-schemas';
