/**
 * records: what every kind of signed record shares (chat messages, gallery pictures, music tracks):
 * the canonical signed bytes, signing, verification and the record key, defined once per kind; the
 * record book (acceptance window, dedup and conflicts, bounds, signature, owner-only rules, ephemeral
 * records, amendments that mark their target, batches) over a pluggable index (in memory, or IndexedDB
 * lookups) and the ask-the-holder exchange.
 */
export { defineRecordKind, recordKey, targetKey, targetsEarlierRecord } from './signed-record';
export type { DistributiveOmit, RecordKind, SignedRecordBase, Unsigned } from './signed-record';
export { openRoomStorage, openStorage } from './room-storage';
export type { OpenedStorage, RoomStorage } from './room-storage';
export { RecordBook } from './record-book';
export type { AcceptanceWindow, Accepted, RecordBookEvents, RecordBookOptions, RecordOutcome, RecordRefusal, RecordRules } from './record-book';
export { DexieRecordIndex, MemoryRecordIndex } from './record-index';
export type { HeldRecord, KeyTuple, RecordIndex, RecordShape, RecordTable } from './record-index';
export { batches, startRecordExchange } from './record-exchange';
export type { RecordExchange, RecordExchangeOptions } from './record-exchange';
export { RecordFeature } from './record-feature';
export type { RecordFeatureEvents, RecordFeatureSetup } from './record-feature';
