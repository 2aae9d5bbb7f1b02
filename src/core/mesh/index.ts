/**
 * mesh: one shared Trystero room per (strategy, app id, room, password) per page.
 */
export { joinMesh, LINGER_MS, openMeshCount } from './join-mesh';
export type { MeshHandle } from './join-mesh';
export { MeshRoom, DEFAULT_OFFER_POOL_SIZE } from './mesh-room';
export type { ConnectionStats, PeerConnectionStats, RelayConnectionStats, ConnectionPath } from './connection-stats';
export { HEARTBEAT_INTERVAL_MS, PEER_TIMEOUT_MS } from './peer-heartbeat';
export type { MeshOptions, MeshStatus, PeerInfo, PeerLeave, PeerLeaveReason, MeshError, MeshErrorCode, MeshEvents, MeshChannel, FeatureMesh } from './mesh-room';
export { STRATEGIES, loadStrategy, isRelayOpen } from './strategies';
export type { Strategy } from './strategies';
export { MeshBulkLinks, FLOOD_UNIT_BYTES, LINK_HELLO, LINK_READY_TIMEOUT_MS, LINK_REOPEN_DELAY_MS } from './bulk-links';
export type { BulkNetwork, BulkNetworkEvents, BulkLinkHost } from './bulk-links';
export { RtcBulkLink, CONTROL_CHANNEL_ID, DATA_CHANNEL_ID, HIGH_WATER_BYTES, LOW_WATER_BYTES } from './bulk-link';
export type { BulkLink, BulkLinkEvents } from './bulk-link';
export { OwnedTimers } from './owned-timers';
