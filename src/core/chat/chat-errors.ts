/** Why `ChatSession.send` refused a text: `empty` (nothing but spaces) or `too-long` (over the room's `max-length`, in characters). */
export class ChatSendError extends Error {
  constructor(
    /** Which rule refused the text. */
    readonly code: 'empty' | 'too-long',
    message: string,
  ) {
    super(message);
  }
}
