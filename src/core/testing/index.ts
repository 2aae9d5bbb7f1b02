/**
 * testing: helpers for Node unit tests of src/core (never imported by shipped code): an in-memory
 * network implementing the mesh's narrow interface, and fresh IndexedDB databases (with
 * `fake-indexeddb`) that can be made to fail as a full disk does.
 */
export { MemoryBulkLinks, seededRandom, TestNetwork, TestPeer } from './memory-network';
export type { MemoryNetworkOptions } from './memory-network';
export { freshDatabase } from './fresh-database';
export { installNodeWebSocket } from './node-websocket';
export { waitUntil } from './wait-until';
export { swarmRoom } from './swarm-room';
export type { SwarmRoomMember } from './swarm-room';
