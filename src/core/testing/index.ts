/**
 * testing: helpers for Node unit tests of src/core (never imported by shipped code): an in-memory
 * network implementing the mesh's narrow interface, fresh IndexedDB databases (with
 * `fake-indexeddb`) that can be made to fail as a full disk does, the overlay simulator (a seeded
 * discrete-event room for the partial mesh) and manual timers.
 */
export { MemoryBulkLinks, seededRandom, TestNetwork, TestPeer } from './memory-network';
export type { MemoryNetworkOptions } from './memory-network';
export { freshDatabase } from './fresh-database';
export { installNodeWebSocket } from './node-websocket';
export { waitUntil } from './wait-until';
export { swarmRoom } from './swarm-room';
export type { SwarmRoomMember } from './swarm-room';
export { OverlaySimulation, overlayReport } from './overlay-simulator';
export type { OverlaySimulationOptions, OverlayReport, SimPeer, TrackedMessage, ViewWatch } from './overlay-simulator';
export { manualTimers } from './manual-timers';
