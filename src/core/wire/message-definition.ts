import * as v from 'valibot';
import { DropCounters, DropReason } from './drop-counters';
import { PeerRateLimiter, RateLimit } from './rate-limiter';

/** Version of the p2p-widgets wire protocol; every message carries it as `v`. */
export const PROTOCOL_VERSION = 1;

/**
 * One message type on the wire: its channel name, its valibot schema and its limits.
 * Messages travel as JSON text; the byte size is checked before parsing.
 */
export interface MessageSpec<TSchema extends v.GenericSchema> {
  /** Channel (Trystero action) name, ≤ 32 bytes. */
  channel: string;
  /** Schema of the decoded JSON value; must require `v: PROTOCOL_VERSION`. */
  schema: TSchema;
  /** Largest accepted payload, in bytes of UTF-8 JSON. */
  maxBytes: number;
  /** Per-peer rate limit for this channel. */
  rate: RateLimit;
  /**
   * A message every page of the room should get (a chat line, a record announcement): in a partial
   * mesh, one sent without a target is published on the overlay and forwarded (checked again at
   * every hop, rate-limited per publishing page). Default false: to direct peers only.
   */
  flood?: boolean;
  /**
   * With `flood`: the feature brings every newly linked peer up to date itself (chat's state-vector
   * sync, the record exchange of gallery and music), and decides what a newcomer may get (no
   * burn-after-reading message, a retracted message as its tombstone only). The overlay then does
   * not hand a new neighbour this channel's cached messages (it does for other flood channels, see
   * `Broadcast.neighborUp`). Default false.
   */
  syncedOnConnect?: boolean;
}

/** The decoded message type of a {@link MessageSpec}. */
export type MessageOf<S> = S extends MessageSpec<infer T> ? v.InferOutput<T> : never;

/** Declares a message spec (helper for type inference). */
export function defineMessage<TSchema extends v.GenericSchema>(spec: MessageSpec<TSchema>): MessageSpec<TSchema> {
  if (new TextEncoder().encode(spec.channel).byteLength > 32) throw new Error(`channel name too long: ${spec.channel}`);
  return spec;
}

/**
 * Deepest JSON nesting (arrays and objects) accepted from a peer. Our deepest message is a sync
 * request: `{ vector: { author: [[from, to]] } }`, 4 levels; 16 leaves room for growth.
 */
export const MAX_JSON_DEPTH = 16;

/**
 * Most JSON values (counted as separators `,` and `:` outside strings, plus one) accepted in one
 * message. `JSON.parse` costs about 150 ns per value on a 2-core test machine, so this bounds
 * parsing near 7 ms whatever the byte limit; our largest honest message, a swarm index at its
 * 5 000-file cap, holds about 40 000 (a 250-record sync batch about 5 000).
 */
export const MAX_JSON_VALUES = 50_000;

/** Payloads shorter than this cannot be costly to parse: they skip the scan (UTF-16 code units). */
const JSON_SCAN_FROM = 1024;

/**
 * Whether `text`, read as JSON, opens more than `maxDepth` arrays or objects at once or holds more
 * than `maxValues` values. One linear pass over the characters, skipping string contents; never
 * throws, whatever the text (it does not check that the text is JSON: `JSON.parse` does that next).
 */
export function exceedsJsonShape(text: string, maxDepth: number, maxValues: number): boolean {
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if ((c === 0x2c || c === 0x3a) && ++values > maxValues) return true;
  }
  return false;
}

/** Result of checking one inbound payload. */
export type Inbound<T> = { ok: true; value: T } | { ok: false; reason: DropReason };

/**
 * The only door for peer bytes: checks type, size, rate, JSON shape (depth, value count), JSON and schema, in
 * that order (cheapest first, and rate before parsing so a flood costs little).
 * Never throws; every refusal is counted in `counters`.
 */
export class InboundValidator<TSchema extends v.GenericSchema> {
  private readonly limiter: PeerRateLimiter;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly spec: MessageSpec<TSchema>,
    private readonly counters: DropCounters,
    now?: () => number,
  ) {
    this.limiter = new PeerRateLimiter(spec.rate, now);
  }

  /** Checks one inbound payload from `peerId` (size, rate, then schema); never throws: a refusal carries its drop reason. */
  check(payload: unknown, peerId: string): Inbound<v.InferOutput<TSchema>> {
    const result = this.inspect(payload, peerId);
    if (result.ok) this.counters.accept();
    else this.counters.drop(this.spec.channel, result.reason);
    return result;
  }

  /** Drops the peer's rate-limit state (it left). */
  forgetPeer(peerId: string): void {
    this.limiter.forget(peerId);
  }

  private inspect(payload: unknown, peerId: string): Inbound<v.InferOutput<TSchema>> {
    if (typeof payload !== 'string') return { ok: false, reason: 'not-text' };
    // A UTF-16 code unit encodes to at most 3 UTF-8 bytes: skip the encode when clearly small or clearly huge.
    if (payload.length > this.spec.maxBytes) return { ok: false, reason: 'oversize' };
    if (payload.length * 3 > this.spec.maxBytes && this.encoder.encode(payload).byteLength > this.spec.maxBytes) {
      return { ok: false, reason: 'oversize' };
    }
    if (!this.limiter.take(peerId)) return { ok: false, reason: 'rate' };
    if (payload.length >= JSON_SCAN_FROM && exceedsJsonShape(payload, MAX_JSON_DEPTH, MAX_JSON_VALUES)) return { ok: false, reason: 'too-complex' };
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      return { ok: false, reason: 'malformed-json' };
    }
    // abortEarly: stop at the first issue. Without it valibot builds one issue object per bad array
    // item: 130 000 of them for a 512 KiB `records: [0,0,…]`, 400 ms of main thread.
    const parsed = v.safeParse(this.spec.schema, json, { abortEarly: true });
    if (!parsed.success) return { ok: false, reason: 'schema' };
    return { ok: true, value: parsed.output };
  }
}

/** Encodes an outbound message; throws if it would exceed the spec's own size limit (a bug on our side). */
export function encodeMessage<TSchema extends v.GenericSchema>(spec: MessageSpec<TSchema>, message: v.InferInput<TSchema>): string {
  const text = JSON.stringify(message);
  if (new TextEncoder().encode(text).byteLength > spec.maxBytes) {
    throw new RangeError(`${spec.channel} message of ${text.length} chars exceeds ${spec.maxBytes} bytes`);
  }
  return text;
}
