/**
 * What the chat widget imports from the chat feature: the light parts at once (retention parsing,
 * the send error, types), the session itself on demand. `ChatSession` brings the record store,
 * sync, identity and Dexie (~100 KiB of the widget's code); loading it in its own chunk while the
 * mesh joins lets the relay socket open before that code is even parsed (bench/join-timeline-probe.mjs).
 */
import type { ChatMesh, ChatSession, ChatSessionOptions } from './chat-session';

export { parseRetention } from './retention';
export { ChatSendError } from './chat-errors';
export type { ChatItem, ChatMessage, ChatSession, ChatSessionOptions } from './chat-session';

/**
 * Loads the chat session code (first call only) and opens a session: see `ChatSession.open`.
 * @throws what `ChatSession.open` throws; a chunk that failed to load (network) rejects with the loader's error
 */
export async function openChatSession(mesh: ChatMesh, options: ChatSessionOptions): Promise<ChatSession> {
  const { ChatSession } = await import('./chat-session');
  return ChatSession.open(mesh, options);
}
