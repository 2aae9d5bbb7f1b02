/**
 * records: what every kind of signed record shares (chat messages, gallery pictures, music tracks):
 * the canonical signed bytes, signing, verification and the record key, defined once per kind; the
 * record book (dedup, bounds, signature, owner-only rules, storage) and the ask-the-holder exchange.
 */
export { defineRecordKind, recordKey, targetKey, targetsEarlierRecord } from './signed-record';
export type { DistributiveOmit, RecordKind, SignedRecordBase, Unsigned } from './signed-record';
export { openRoomStorage, openStorage } from './room-storage';
export type { OpenedStorage, RoomStorage } from './room-storage';
export { RecordBook } from './record-book';
export type { RecordBookEvents, RecordBookOptions, RecordRefusal } from './record-book';
export { batches, startRecordExchange } from './record-exchange';
export type { RecordExchange, RecordExchangeOptions } from './record-exchange';
export { RecordFeature } from './record-feature';
export type { RecordFeatureEvents, RecordFeatureSetup } from './record-feature';
