/**
 * runtime: what a widget needs to live in a room, once for all widgets: the connect/disconnect
 * sequence over the page's shared mesh room and swarm, and the error codes widgets report.
 */
export { RoomConnection } from './room-connection';
export type { Feature, FeatureContext, RoomConnectionHandlers } from './room-connection';
export type { P2pErrorCode } from './error-codes';
// The shapes widgets render, re-exported so that components depend on the runtime alone.
export type { ConnectionStats, MeshRoom, MeshStatus, PeerInfo, PeerLeaveReason } from '../mesh';
export type { TransferProgress } from '../swarm';
export type { WireStats } from '../wire';
