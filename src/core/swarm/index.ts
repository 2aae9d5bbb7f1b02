/** swarm: content-addressed, verified, multi-peer chunk transfer shared by music and gallery. */
export { Swarm } from './swarm';
export type { SwarmEvents, SwarmOptions } from './swarm';
export { Download } from './download';
export type { TransferProgress, DownloadHost, RequestFailure } from './download';
export { ResourceIndex, MAX_REMOTE_FILES } from './resource-index';
export type { LocalFile, RemoteFile } from './resource-index';
export { ChunkRequester } from './chunk-requester';
export type { PendingRequest, FrameOutcome } from './chunk-requester';
export { ChunkServer } from './chunk-server';
export type { ChunkServerHost } from './chunk-server';
export { buildManifest, verifyManifest, rootHash, chunkHash, chunkCount, chunkLength, DEFAULT_CHUNK_SIZE } from './manifest';
export type { Manifest } from './manifest';
export { HaveMap } from './have-map';
export { ChunkScheduler } from './chunk-scheduler';
export type { SchedulerOptions, Assignment } from './chunk-scheduler';
export { DexieChunkStore, MemoryChunkStore } from './chunk-store';
export type { ChunkStore } from './chunk-store';
export { UploadLimiter } from './upload-limiter';
