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
}

export type MessageOf<S> = S extends MessageSpec<infer T> ? v.InferOutput<T> : never;

/** Declares a message spec (helper for type inference). */
export function defineMessage<TSchema extends v.GenericSchema>(spec: MessageSpec<TSchema>): MessageSpec<TSchema> {
  if (new TextEncoder().encode(spec.channel).byteLength > 32) throw new Error(`channel name too long: ${spec.channel}`);
  return spec;
}

/** Result of checking one inbound payload. */
export type Inbound<T> = { ok: true; value: T } | { ok: false; reason: DropReason };

/**
 * The only door for peer bytes: checks type, size, rate, JSON and schema, in
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

  check(payload: unknown, peerId: string): Inbound<v.InferOutput<TSchema>> {
    const result = this.inspect(payload, peerId);
    if (result.ok) this.counters.accept();
    else this.counters.drop(this.spec.channel, result.reason);
    return result;
  }

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
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      return { ok: false, reason: 'malformed-json' };
    }
    const parsed = v.safeParse(this.spec.schema, json);
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
