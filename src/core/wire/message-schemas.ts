import * as v from 'valibot';
import { defineMessage, PROTOCOL_VERSION } from './message-definition';

/** Longest display name accepted from a peer, in code points. */
export const MAX_NAME_LENGTH = 64;
/** Hard cap on chat text accepted on the wire, in code points (the widget's `max-length` is at most this); 16 000 × 4 bytes fits `maxBytes`. */
export const MAX_CHAT_TEXT_LENGTH = 16_000;

const version = v.literal(PROTOCOL_VERSION);
/** Length in Unicode code points (what a user counts as characters; an emoji is one, not two UTF-16 units). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** A display name on the wire: trimmed, 1–{@link MAX_NAME_LENGTH} code points. */
export const displayName = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1),
  v.check(name => codePointLength(name) <= MAX_NAME_LENGTH),
);

/**
 * The author's display name inside a signed record (a picture, a track): 1–{@link MAX_NAME_LENGTH}
 * code points, as the widgets cut names, so a name of emoji is accepted like any other. Not trimmed
 * or changed here: it is part of the signed bytes.
 */
export const recordAuthorName = v.pipe(
  v.string(),
  v.minLength(1),
  v.check(name => codePointLength(name) <= MAX_NAME_LENGTH),
);

/**
 * `presence`: a peer's display name. Sent to each peer when it joins and to
 * everyone when the name changes. Shape: `{ v: 1, name: string(1..64) }`.
 * Limits: 512 bytes, 2/s with a burst of 5 per peer.
 */
export const presenceMessage = defineMessage({
  channel: 'presence',
  schema: v.strictObject({ v: version, name: displayName }),
  maxBytes: 512,
  rate: { ratePerSecond: 2, burst: 5 },
});

/** A `presence` message. */
export type PresenceMessage = v.InferOutput<typeof presenceMessage.schema>;

/**
 * `heartbeat`: "I am still here", sent to every peer every 0.5 s over the data channel, so a
 * peer whose tab died without closing its connections (crash, sleep) leaves the others' lists
 * within seconds instead of WebRTC's 11–13 s consent timeout. Shape: `{ v: 1 }`.
 * Limits: 32 bytes, 4/s with a burst of 8 per peer.
 */
export const heartbeatMessage = defineMessage({
  channel: 'heartbeat',
  schema: v.strictObject({ v: version }),
  maxBytes: 32,
  rate: { ratePerSecond: 4, burst: 8 },
});
