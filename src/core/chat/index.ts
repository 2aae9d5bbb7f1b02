/** chat: the chat rules over mesh, wire, store and identity (no DOM). */
export { ChatSession, ChatSendError } from './chat-session';
export type { ChatMessage, ChatNotice, ChatModeChange, ChatTombstone, ChatItem, ChatSessionOptions, ChatSessionEvents, ChatMesh } from './chat-session';
export { ChatLog, MAX_FUTURE_SKEW_MS, toWire } from './chat-log';
export type { IngestResult, RefusalReason, ChatLogEvents, ChatLogOptions, AcceptedRecord } from './chat-log';
export { ChatSync } from './chat-sync';
export { recordSigningBytes, signRecord, verifyRecord, recordKey, RECORD_SIGNING_TAG } from './chat-record';
export { DexieRecordStore, MemoryRecordStore } from './record-store';
export type { RecordStore } from './record-store';
export { parseRetention, formatRetention, windowStart, DEFAULT_RETENTION_MS } from './retention';
export { buildStateVector, covers, toRanges } from './state-vector';
export type { StateVector, Ranges } from './state-vector';
export { linkSegments, safeHref } from './link-segments';
export type { Segment } from './link-segments';
