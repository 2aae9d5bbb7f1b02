/**
 * mesh: one shared Trystero room per (strategy, app id, room, password) per page.
 */
export { joinMesh, LINGER_MS, openMeshCount } from './join-mesh';
export type { MeshHandle } from './join-mesh';
export { MeshRoom } from './mesh-room';
export type { MeshOptions, MeshStatus, PeerInfo, MeshError, MeshEvents, MeshChannel } from './mesh-room';
export { STRATEGIES, loadStrategy, isRelayOpen } from './strategies';
export type { Strategy } from './strategies';
