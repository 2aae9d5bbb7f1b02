/** store: the one Dexie database, its schema and versions, and storage errors in plain words. */
export { P2pDatabase, openDatabase, StorageError, toStorageError } from './database';
export type { StoredChatRecord, StoredMark, StoredRoomSettings, StoredSwarmFile, StoredSwarmChunk, StoredSignedRecord, RecordFeature, StorageErrorCode } from './database';
export { dexieIdentityStore } from './identity-store';
