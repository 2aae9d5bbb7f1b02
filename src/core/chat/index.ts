/** chat: live chat rules over the mesh (no DOM). */
export { ChatSession, ChatSendError, MAX_CLOCK_SKEW_MS } from './chat-session';
export type { ChatMessage, ChatNotice, ChatItem, ChatSessionOptions, ChatSessionEvents, ChatMesh } from './chat-session';
export { linkSegments, safeHref } from './link-segments';
export type { Segment } from './link-segments';
