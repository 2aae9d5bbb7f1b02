/**
 * records: what every kind of signed record shares (chat messages, gallery pictures, music tracks):
 * the canonical signed bytes, signing, verification and the record key, defined once per kind.
 */
export { defineRecordKind, recordKey, targetKey } from './signed-record';
export type { DistributiveOmit, RecordKind, SignedRecordBase, Unsigned } from './signed-record';
export { openRoomStorage, openStorage } from './room-storage';
export type { OpenedStorage, RoomStorage } from './room-storage';
