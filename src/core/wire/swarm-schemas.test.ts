import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { buildManifest } from '../swarm/manifest';
import { DropCounters, DropReason } from './drop-counters';
import { encodeMessage, InboundValidator } from './message-definition';
import {
  DATA_FRAME,
  encodeDataFrame,
  FRAME_HEADER_BYTES,
  manifestSchema,
  MAX_CHUNK_SIZE,
  MAX_FILE_SIZE,
  MAX_FRAME_PAYLOAD,
  MIN_CHUNK_SIZE,
  parseDataFrame,
  swarmControlMessage,
} from './swarm-schemas';

const CID = 'Ab0_-'.repeat(8) + 'xyz'; // 43 base64url characters
const HASH = 'h4sH_'.repeat(8) + 'abc';
const KIB = 1024;

/** Checks one payload through a fresh validator; returns the result and the counters. */
function check(payload: unknown) {
  const counters = new DropCounters();
  const validator = new InboundValidator(swarmControlMessage, counters, () => 0);
  const result = validator.check(payload, 'peer');
  return { result, stats: counters.snapshot() };
}
const checkJson = (value: unknown) => check(JSON.stringify(value));

function expectAccepted(value: unknown) {
  const { result, stats } = checkJson(value);
  expect(result, JSON.stringify(value).slice(0, 200)).toEqual({ ok: true, value });
  expect(stats.accepted).toBe(1);
}

function expectDropped(payload: unknown, reason: DropReason, raw = false) {
  const { result, stats } = raw ? check(payload) : checkJson(payload);
  expect(result).toEqual({ ok: false, reason });
  expect(stats.accepted).toBe(0);
  expect(stats.dropped[reason]).toBe(1);
  expect(stats.droppedByChannel[`swarm-ctl:${reason}`]).toBe(1);
}

const goodManifest = { cid: CID, size: 40 * KIB, chunkSize: 16 * KIB, mime: 'audio/mpeg', hashes: [HASH, HASH, HASH] };

const valid: [string, Record<string, unknown>][] = [
  ['hello', { t: 'hello', v: 1 }],
  ['index-q', { t: 'index-q', v: 1 }],
  ['index (empty)', { t: 'index', v: 1, files: [] }],
  ['index', { t: 'index', v: 1, files: [{ cid: CID, size: 40 * KIB, chunkSize: 16 * KIB, have: 'wA' }] }],
  ['index (empty have-map)', { t: 'index', v: 1, files: [{ cid: CID, size: 1, chunkSize: MIN_CHUNK_SIZE, have: '' }] }],
  ['have', { t: 'have', v: 1, cid: CID, size: 40 * KIB, chunkSize: 16 * KIB, add: [0, 2] }],
  ['have (nothing added)', { t: 'have', v: 1, cid: CID, size: 40 * KIB, chunkSize: 16 * KIB, add: [] }],
  ['gone', { t: 'gone', v: 1, cid: CID }],
  ['manifest-q', { t: 'manifest-q', v: 1, cid: CID }],
  ['manifest', { t: 'manifest', v: 1, manifest: goodManifest }],
  ['manifest (no MIME type)', { t: 'manifest', v: 1, manifest: { ...goodManifest, mime: '' } }],
  ['req', { t: 'req', v: 1, id: 1, cid: CID, index: 0 }],
  ['req (largest id and index)', { t: 'req', v: 1, id: 0xffffffff, cid: CID, index: 1_000_000 }],
  ['cancel', { t: 'cancel', v: 1, id: 7 }],
  ['nak of a request', { t: 'nak', v: 1, id: 7, reason: 'busy' }],
  ['nak of a manifest query', { t: 'nak', v: 1, cid: CID, reason: 'missing' }],
  ['nak with neither', { t: 'nak', v: 1, reason: 'missing' }],
];

describe('swarm control messages', () => {
  it('has the documented limits', () => {
    expect(swarmControlMessage).toMatchObject({ channel: 'swarm-ctl', maxBytes: 512 * KIB, rate: { ratePerSecond: 200, burst: 400 } });
    expect(MIN_CHUNK_SIZE).toBe(16 * KIB);
    expect(MAX_CHUNK_SIZE).toBe(1024 * KIB);
    expect(MAX_FILE_SIZE).toBe(4 * 1024 ** 3);
    expect(MAX_FRAME_PAYLOAD).toBe(64 * KIB);
    expect(FRAME_HEADER_BYTES).toBe(9);
  });

  it.each(valid)('accepts %s', (_label, value) => {
    expectAccepted(value);
  });

  it('covers every variant of the schema', () => {
    const kinds = new Set(valid.map(([, m]) => m.t));
    const variants = (swarmControlMessage.schema as unknown as { options: { entries: { t: { literal: string } } }[] }).options.map(o => o.entries.t.literal);
    expect([...kinds].sort()).toEqual([...variants].sort());
  });

  it('accepts a manifest built by buildManifest', async () => {
    const bytes = new Uint8Array(50 * KIB).map((_, i) => (i * 31) & 0xff);
    const manifest = await buildManifest(new Blob([bytes], { type: 'image/png' }), { chunkSize: 16 * KIB });
    expectAccepted({ t: 'manifest', v: 1, manifest });
    expect(v.safeParse(manifestSchema, manifest).success).toBe(true);
    expect(() => encodeMessage(swarmControlMessage, { t: 'manifest', v: 1, manifest })).not.toThrow();
  });

  describe('bad content ids', () => {
    const bad = [CID.slice(1), CID + 'A', CID.slice(1) + '+', CID.slice(1) + '/', CID.slice(1) + '=', CID.slice(1) + ' ', '', 42];
    it.each(bad.map(c => [JSON.stringify(c)]))('refuses cid %s in every message that carries one', text => {
      const cid = JSON.parse(text);
      expectDropped({ t: 'gone', v: 1, cid }, 'schema');
      expectDropped({ t: 'manifest-q', v: 1, cid }, 'schema');
      expectDropped({ t: 'req', v: 1, id: 1, cid, index: 0 }, 'schema');
      expectDropped({ t: 'have', v: 1, cid, size: 100, chunkSize: 16 * KIB, add: [0] }, 'schema');
      expectDropped({ t: 'index', v: 1, files: [{ cid, size: 100, chunkSize: 16 * KIB, have: '' }] }, 'schema');
      expectDropped({ t: 'nak', v: 1, cid, reason: 'missing' }, 'schema');
      expectDropped({ t: 'manifest', v: 1, manifest: { ...goodManifest, cid } }, 'schema');
    });
  });

  it.each([
    ['a negative index in req', { t: 'req', v: 1, id: 1, cid: CID, index: -1 }],
    ['a fractional index in req', { t: 'req', v: 1, id: 1, cid: CID, index: 1.5 }],
    ['an index above 1 000 000', { t: 'req', v: 1, id: 1, cid: CID, index: 1_000_001 }],
    ['a string index', { t: 'req', v: 1, id: 1, cid: CID, index: '1' }],
    ['a negative index in have', { t: 'have', v: 1, cid: CID, size: 100, chunkSize: 16 * KIB, add: [0, -1] }],
    ['more than 10 000 indices in have', { t: 'have', v: 1, cid: CID, size: 100, chunkSize: 16 * KIB, add: range(10_001) }],
    ['request id 0', { t: 'req', v: 1, id: 0, cid: CID, index: 0 }],
    ['a request id above u32', { t: 'cancel', v: 1, id: 0x1_0000_0000 }],
    ['an unknown nak reason', { t: 'nak', v: 1, id: 1, reason: 'bored' }],
    ['size 0', { t: 'have', v: 1, cid: CID, size: 0, chunkSize: 16 * KIB, add: [] }],
    ['a size above 4 GiB', { t: 'have', v: 1, cid: CID, size: MAX_FILE_SIZE + 1, chunkSize: 16 * KIB, add: [] }],
    ['a chunk size below 16 KiB', { t: 'have', v: 1, cid: CID, size: 100, chunkSize: 16 * KIB - 1, add: [] }],
    ['a chunk size above 1 MiB', { t: 'have', v: 1, cid: CID, size: 100, chunkSize: MAX_CHUNK_SIZE + 1, add: [] }],
    ['a manifest with no hashes', { t: 'manifest', v: 1, manifest: { ...goodManifest, hashes: [] } }],
    ['a manifest with a short hash', { t: 'manifest', v: 1, manifest: { ...goodManifest, hashes: [HASH.slice(1)] } }],
    ['a manifest with a bad MIME type', { t: 'manifest', v: 1, manifest: { ...goodManifest, mime: 'audio mpeg' } }],
    ['a manifest with an extra key', { t: 'manifest', v: 1, manifest: { ...goodManifest, name: 'x.mp3' } }],
    ['a have-map with a character outside base64url', { t: 'index', v: 1, files: [{ cid: CID, size: 100, chunkSize: 16 * KIB, have: 'wA==' }] }],
    ['an unknown t', { t: 'want', v: 1, cid: CID }],
    ['no t', { v: 1, cid: CID }],
    ['a wrong protocol version', { t: 'hello', v: 2 }],
    ['no protocol version', { t: 'hello' }],
    ['an extra key', { t: 'hello', v: 1, x: 1 }],
    ['an array', [{ t: 'hello', v: 1 }]],
    ['null', null],
  ])('refuses %s (schema)', (_label, value) => {
    expectDropped(value, 'schema');
  });

  it('accepts a have-map for 1 000 000 chunks and refuses a longer one (schema)', () => {
    const file = (have: string) => ({ t: 'index', v: 1, files: [{ cid: CID, size: 100, chunkSize: 16 * KIB, have }] });
    expectAccepted(file('A'.repeat(166_668)));
    expectDropped(file('A'.repeat(166_669)), 'schema');
  });

  it('refuses a message over 512 KiB before parsing it (oversize)', () => {
    const files = Array.from({ length: 4 }, () => ({ cid: CID, size: 100, chunkSize: 16 * KIB, have: 'A'.repeat(166_668) }));
    const text = JSON.stringify({ t: 'index', v: 1, files });
    expect(text.length).toBeGreaterThan(512 * KIB);
    expectDropped(text, 'oversize', true);
    expectDropped('{' + ' '.repeat(512 * KIB) + '}', 'oversize', true);
  });

  it('refuses non-text and malformed JSON', () => {
    expectDropped(new Uint8Array([1, 2, 3]), 'not-text', true);
    expectDropped({ t: 'hello', v: 1 }, 'not-text', true);
    expectDropped('{"t":"hello",', 'malformed-json', true);
  });

  it('rate-limits a peer to a burst of 400', () => {
    const counters = new DropCounters();
    const validator = new InboundValidator(swarmControlMessage, counters, () => 0);
    const hello = JSON.stringify({ t: 'hello', v: 1 });
    for (let i = 0; i < 400; i++) expect(validator.check(hello, 'p').ok).toBe(true);
    expect(validator.check(hello, 'p')).toEqual({ ok: false, reason: 'rate' });
    expect(validator.check(hello, 'q').ok).toBe(true);
  });
});

describe('data frames', () => {
  const payloadOf = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff);

  it('encodes type, id and offset big-endian before the payload', () => {
    const frame = encodeDataFrame(0x01020304, 0x0a0b0c0d, new Uint8Array([0xee, 0xff]));
    expect([...frame]).toEqual([DATA_FRAME, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0xee, 0xff]);
  });

  it.each([
    [1, 0, 1],
    [42, 16 * KIB, 1000],
    [0xffffffff, 0xffffffff, MAX_FRAME_PAYLOAD],
  ])('round-trips id %i, offset %i, %i payload bytes', (id, offset, n) => {
    const payload = payloadOf(n);
    const frame = encodeDataFrame(id, offset, payload);
    expect(frame.byteLength).toBe(FRAME_HEADER_BYTES + n);
    for (const input of [frame, frame.buffer, new DataView(frame.buffer)]) {
      const parsed = parseDataFrame(input);
      expect(typeof parsed).toBe('object');
      const f = parsed as Exclude<typeof parsed, string>;
      expect(f.id).toBe(id);
      expect(f.offset).toBe(offset);
      expect(f.payload.byteLength).toBe(n);
      expect(sameBytes(f.payload, payload)).toBe(true);
    }
  });

  it('parses a frame that is a view into a larger buffer', () => {
    const frame = encodeDataFrame(9, 100, payloadOf(50));
    const big = new Uint8Array(200).fill(0xaa);
    big.set(frame, 30);
    const parsed = parseDataFrame(big.subarray(30, 30 + frame.byteLength));
    expect(parsed).toEqual({ id: 9, offset: 100, payload: payloadOf(50) });
  });

  it.each([['a string', 'hello'], ['an empty string', ''], ['null', null], ['undefined', undefined], ['a number', 42], ['an object', { id: 1 }], ['an array', [2, 0, 0, 0, 1]], ['a Blob', new Blob([new Uint8Array(20)])]])(
    "returns 'not-binary' for %s",
    (_label, data) => {
      expect(parseDataFrame(data)).toBe('not-binary');
    },
  );

  it("returns 'bad-frame' for a header-only, short or empty frame", () => {
    const headerOnly = encodeDataFrame(1, 0, new Uint8Array(0));
    expect(headerOnly.byteLength).toBe(FRAME_HEADER_BYTES);
    expect(parseDataFrame(headerOnly)).toBe('bad-frame');
    expect(parseDataFrame(headerOnly.subarray(0, 5))).toBe('bad-frame');
    expect(parseDataFrame(new Uint8Array(0))).toBe('bad-frame');
    expect(parseDataFrame(new ArrayBuffer(0))).toBe('bad-frame');
  });

  it("returns 'bad-frame' for a wrong type byte", () => {
    for (const type of [0, 1, 3, 0xff]) {
      const frame = encodeDataFrame(1, 0, payloadOf(10));
      frame[0] = type;
      expect(parseDataFrame(frame)).toBe('bad-frame');
    }
  });

  it("returns 'bad-frame' for request id 0", () => {
    expect(parseDataFrame(encodeDataFrame(0, 0, payloadOf(10)))).toBe('bad-frame');
  });

  it("returns 'oversize' above 64 KiB of payload, and accepts exactly 64 KiB", () => {
    expect(typeof parseDataFrame(encodeDataFrame(1, 0, payloadOf(MAX_FRAME_PAYLOAD)))).toBe('object');
    expect(parseDataFrame(encodeDataFrame(1, 0, payloadOf(MAX_FRAME_PAYLOAD + 1)))).toBe('oversize');
    expect(parseDataFrame(new Uint8Array(1024 * KIB))).toBe('oversize');
  });

  it('never throws on random bytes', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    for (let k = 0; k < 500; k++) {
      const bytes = new Uint8Array(Math.floor(rand() * 40)).map(() => Math.floor(rand() * 256));
      if (bytes.length) bytes[0] = rand() < 0.7 ? DATA_FRAME : bytes[0];
      expect(() => parseDataFrame(bytes)).not.toThrow();
    }
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Byte-wise equality (fast for large arrays, unlike a deep toEqual). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
