/**
 * Why an inbound peer message was dropped before reaching feature code.
 * - `not-text`: the payload was not a string (binary or a raw JSON value sent around our framing)
 * - `oversize`: the encoded payload exceeded the message's `maxBytes`
 * - `malformed-json`: the payload was not valid JSON
 * - `too-complex`: JSON nested deeper than `MAX_JSON_DEPTH` or holding more than `MAX_JSON_VALUES`
 *   values, refused before parsing: a megabyte of `[[[[…` or of `[0,0,0,…` costs V8's `JSON.parse`
 *   80–160 ms on a 2-core machine, and no message of ours comes near either limit
 * - `schema`: valid JSON that does not match the message schema (including a wrong protocol version)
 * - `rate`: the peer exceeded the message's per-peer rate limit
 * - `flood`: the peer exceeded the per-peer byte budget of the room and was disconnected
 * - `not-binary` / `bad-frame`: a data frame on a bulk channel was not binary / had a bad header
 * - `unsolicited`: data for a request we did not make (or already gave up)
 * - `bad-hash`: a chunk whose bytes do not match its manifest hash (SHA-256): not stored, asked elsewhere
 * - `invalid-forward`: a neighbour of the partial mesh forwarded a message its topic's checks refuse
 * - `bad-hops`: a forwarded message claimed a hop count no neighbour may send (0)
 * - `not-joined`: from a peer this page does not list (dropped for silence, or a connection still
 *   delivering after its peer left): never a way into the roster
 */
export type DropReason =
  | 'not-text'
  | 'oversize'
  | 'malformed-json'
  | 'too-complex'
  | 'schema'
  | 'rate'
  | 'flood'
  | 'not-binary'
  | 'bad-frame'
  | 'unsolicited'
  | 'bad-hash'
  | 'invalid-forward'
  | 'bad-hops'
  | 'not-joined';

/** Every {@link DropReason}, in a fixed order (the keys of `WireStats.dropped`). */
export const DROP_REASONS: readonly DropReason[] = ['not-text', 'oversize', 'malformed-json', 'too-complex', 'schema', 'rate', 'flood', 'not-binary', 'bad-frame', 'unsolicited', 'bad-hash', 'invalid-forward', 'bad-hops', 'not-joined'];

/** Counts of dropped inbound messages, by reason and by channel. */
export interface WireStats {
  /** Messages accepted and handed to feature code. */
  accepted: number;
  /** Dropped messages per reason. */
  dropped: Record<DropReason, number>;
  /** Dropped messages per `channel:reason`. */
  droppedByChannel: Record<string, number>;
}

/** Counts accepted and dropped inbound messages, by reason and by channel (what `getWireStats()` shows). */
export class DropCounters {
  private accepted = 0;
  private readonly dropped = Object.fromEntries(DROP_REASONS.map(r => [r, 0])) as Record<DropReason, number>;
  private readonly byChannel: Record<string, number> = {};

  /** Counts one message that passed its checks. */
  accept(): void {
    this.accepted++;
  }

  /** Counts one message dropped on `channel` for `reason`. */
  drop(channel: string, reason: DropReason): void {
    this.dropped[reason]++;
    const key = `${channel}:${reason}`;
    this.byChannel[key] = (this.byChannel[key] ?? 0) + 1;
  }

  /** A copy of the counters (safe to hand to a host page). */
  snapshot(): WireStats {
    return { accepted: this.accepted, dropped: { ...this.dropped }, droppedByChannel: { ...this.byChannel } };
  }
}
