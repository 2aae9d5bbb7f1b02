/** swarm: content-addressed, verified, multi-peer chunk transfer shared by music and gallery. */
export { Swarm, Download } from './swarm';
export type { TransferProgress, RemoteFile, SwarmEvents, SwarmOptions } from './swarm';
export { buildManifest, verifyManifest, rootHash, chunkHash, chunkCount, chunkLength, DEFAULT_CHUNK_SIZE } from './manifest';
export type { Manifest } from './manifest';
export { HaveMap } from './have-map';
export { ChunkScheduler } from './chunk-scheduler';
export type { SchedulerOptions, Assignment } from './chunk-scheduler';
export { PeerLink, CONTROL_CHANNEL_ID, DATA_CHANNEL_ID, HIGH_WATER_BYTES, LOW_WATER_BYTES } from './peer-link';
export { DexieChunkStore, MemoryChunkStore } from './chunk-store';
export type { ChunkStore } from './chunk-store';
