/** Why a file was refused for the wall: `not-an-image` (by content), `too-large` (over MAX_IMAGE_BYTES) or `undecodable`. */
export class ImageRefusedError extends Error {
  constructor(
    /** Which check refused the file. */
    readonly code: 'not-an-image' | 'too-large' | 'undecodable',
    message: string,
  ) {
    super(message);
  }
}
