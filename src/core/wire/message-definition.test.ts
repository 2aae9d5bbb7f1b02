import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { DropCounters } from './drop-counters';
import { defineMessage, encodeMessage, InboundValidator, MAX_JSON_VALUES, MessageSpec, PROTOCOL_VERSION } from './message-definition';
import { chatRecordMessage } from './chat-record-schemas';
import { galleryWallMessage } from './gallery-schemas';
import { presenceMessage } from './message-schemas';

/** A well-formed chat record as JSON (the wire checks patterns, not signatures). */
const recordJson = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, record: { kind: 'msg', author: 'A'.repeat(87), seq: 1, ts: 1, name: 'A', text: 'x', sig: 'S'.repeat(86), ...fields } });

/** A small spec: `{ v: 1, s: string }`, at most 32 bytes, 1/s with a burst of 3. */
const tiny = defineMessage({
  channel: 'tiny',
  schema: v.strictObject({ v: v.literal(PROTOCOL_VERSION), s: v.string() }),
  maxBytes: 32,
  rate: { ratePerSecond: 1, burst: 3 },
});

/** `{"v":1,"s":""}` is 14 bytes, leaving 18 bytes for `s`. */
const tinyJson = (s: string) => JSON.stringify({ v: 1, s });
const utf8Bytes = (s: string) => new TextEncoder().encode(s).byteLength;

function setup(spec: MessageSpec<v.GenericSchema> = tiny) {
  let t = 5_000_000;
  const counters = new DropCounters();
  const validator = new InboundValidator(spec, counters, () => t);
  return { counters, validator, advance: (ms: number) => (t += ms) };
}

describe('PROTOCOL_VERSION', () => {
  it('is 1', () => {
    expect(PROTOCOL_VERSION).toBe(1);
  });
});

describe('defineMessage', () => {
  it('returns the spec unchanged', () => {
    const spec = { channel: 'x', schema: v.string(), maxBytes: 10, rate: { ratePerSecond: 1, burst: 1 } };
    expect(defineMessage(spec)).toBe(spec);
  });

  it('accepts a 32-byte channel name and refuses a 33-byte one, counting UTF-8 bytes', () => {
    const make = (channel: string) => defineMessage({ channel, schema: v.string(), maxBytes: 10, rate: { ratePerSecond: 1, burst: 1 } });
    expect(() => make('c'.repeat(32))).not.toThrow();
    expect(() => make('c'.repeat(33))).toThrow(/channel name too long/);
    // 11 characters but 33 bytes
    expect(() => make('€'.repeat(11))).toThrow(/channel name too long/);
  });
});

describe('InboundValidator', () => {
  it('returns accepted messages (parsed value) and counts them', () => {
    const { validator, counters } = setup();
    expect(validator.check(tinyJson('hi'), 'p1')).toEqual({ ok: true, value: { v: 1, s: 'hi' } });
    const s = counters.snapshot();
    expect(s.accepted).toBe(1);
    expect(Object.values(s.dropped).every(n => n === 0)).toBe(true);
  });

  it('returns the schema output (after transforms), not the raw JSON', () => {
    const spec = defineMessage({
      channel: 'trim',
      schema: v.strictObject({ v: v.literal(1), name: v.pipe(v.string(), v.trim()) }),
      maxBytes: 100,
      rate: { ratePerSecond: 1, burst: 1 },
    });
    const { validator } = setup(spec);
    expect(validator.check('{"v":1,"name":"  Ann  "}', 'p')).toEqual({ ok: true, value: { v: 1, name: 'Ann' } });
  });

  describe('not-text', () => {
    const notText: [string, unknown][] = [
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['a boolean', true],
      ['a bigint', 10n],
      ['a symbol', Symbol('x')],
      ['a function', () => '{"v":1,"s":"x"}'],
      ['a plain object (raw JSON value around the framing)', { v: 1, s: 'x' }],
      ['an array', ['{"v":1,"s":"x"}']],
      ['a Uint8Array', new Uint8Array([123, 125])],
      ['an ArrayBuffer', new ArrayBuffer(4)],
      ['a String object', new String('{"v":1,"s":"x"}')],
      ['an object whose toString returns valid JSON', { toString: () => '{"v":1,"s":"x"}' }],
    ];
    it.each(notText)('drops %s as not-text', (_label, payload) => {
      const { validator, counters } = setup();
      expect(validator.check(payload, 'p')).toEqual({ ok: false, reason: 'not-text' });
      expect(counters.snapshot().dropped['not-text']).toBe(1);
      expect(counters.snapshot().droppedByChannel).toEqual({ 'tiny:not-text': 1 });
      expect(counters.snapshot().accepted).toBe(0);
    });
  });

  describe('oversize', () => {
    it('accepts a payload of exactly maxBytes and drops one byte more', () => {
      const { validator, counters } = setup();
      const exact = tinyJson('x'.repeat(18));
      expect(utf8Bytes(exact)).toBe(32);
      expect(validator.check(exact, 'p').ok).toBe(true);
      const over = tinyJson('x'.repeat(19));
      expect(validator.check(over, 'p')).toEqual({ ok: false, reason: 'oversize' });
      expect(counters.snapshot().dropped.oversize).toBe(1);
      expect(counters.snapshot().droppedByChannel['tiny:oversize']).toBe(1);
    });

    it('measures UTF-8 bytes, not characters: 2-byte characters', () => {
      const { validator } = setup();
      const atLimit = tinyJson('é'.repeat(9)); // 23 chars, 32 bytes
      expect(atLimit.length).toBeLessThan(32);
      expect(utf8Bytes(atLimit)).toBe(32);
      expect(validator.check(atLimit, 'p').ok).toBe(true);
      const over = tinyJson('é'.repeat(9) + 'x'); // 24 chars, 33 bytes
      expect(over.length).toBeLessThan(32);
      expect(validator.check(over, 'p')).toEqual({ ok: false, reason: 'oversize' });
    });

    it('measures UTF-8 bytes, not characters: 3-byte characters', () => {
      const { validator } = setup();
      const payload = tinyJson('€'.repeat(7)); // 21 chars, 35 bytes
      expect(payload.length).toBeLessThan(32);
      expect(utf8Bytes(payload)).toBeGreaterThan(32);
      expect(validator.check(payload, 'p')).toEqual({ ok: false, reason: 'oversize' });
    });

    it('measures UTF-8 bytes, not characters: surrogate pairs (4 bytes for 2 code units)', () => {
      const { validator } = setup();
      const fits = tinyJson('😀'.repeat(4)); // 22 code units, 30 bytes
      expect(utf8Bytes(fits)).toBe(30);
      expect(validator.check(fits, 'p').ok).toBe(true);
      const over = tinyJson('😀'.repeat(5)); // 24 code units, 34 bytes
      expect(over.length).toBeLessThan(32);
      expect(utf8Bytes(over)).toBe(34);
      expect(validator.check(over, 'p')).toEqual({ ok: false, reason: 'oversize' });
    });

    it('measures the real chat spec in bytes too (72 KiB)', () => {
      const { validator } = setup(chatRecordMessage);
      expect(chatRecordMessage.maxBytes).toBe(72 * 1024);
      // 30 000 characters of 3-byte text: far under 73 728 characters, over 73 728 bytes
      const payload = recordJson({ text: '中'.repeat(30_000) });
      expect(payload.length).toBeLessThan(chatRecordMessage.maxBytes);
      expect(utf8Bytes(payload)).toBeGreaterThan(chatRecordMessage.maxBytes);
      expect(validator.check(payload, 'p')).toEqual({ ok: false, reason: 'oversize' });
    });

    it('drops a huge string without throwing', () => {
      const { validator, counters } = setup(chatRecordMessage);
      expect(validator.check('x'.repeat(20 * 1024 * 1024), 'p')).toEqual({ ok: false, reason: 'oversize' });
      expect(validator.check('中'.repeat(5 * 1024 * 1024), 'p')).toEqual({ ok: false, reason: 'oversize' });
      expect(counters.snapshot().droppedByChannel).toEqual({ 'chat:oversize': 2 });
    });

    it('does not spend the peer’s rate tokens on oversize or non-text payloads', () => {
      const { validator } = setup();
      for (let i = 0; i < 10; i++) {
        validator.check(tinyJson('x'.repeat(100)), 'p');
        validator.check(new Uint8Array(3), 'p');
      }
      for (let i = 0; i < 3; i++) expect(validator.check(tinyJson(`m${i}`), 'p').ok).toBe(true);
    });
  });

  describe('rate', () => {
    it('drops messages over the per-peer burst with reason rate, and accepts again after refill', () => {
      const { validator, counters, advance } = setup();
      for (let i = 0; i < 3; i++) expect(validator.check(tinyJson(`m${i}`), 'p').ok).toBe(true);
      expect(validator.check(tinyJson('m3'), 'p')).toEqual({ ok: false, reason: 'rate' });
      expect(validator.check(tinyJson('m4'), 'p')).toEqual({ ok: false, reason: 'rate' });
      advance(1000);
      expect(validator.check(tinyJson('m5'), 'p').ok).toBe(true);
      expect(validator.check(tinyJson('m6'), 'p')).toEqual({ ok: false, reason: 'rate' });
      const s = counters.snapshot();
      expect(s.accepted).toBe(4);
      expect(s.dropped.rate).toBe(3);
      expect(s.droppedByChannel['tiny:rate']).toBe(3);
    });

    it('limits each peer separately', () => {
      const { validator } = setup();
      for (let i = 0; i < 3; i++) validator.check(tinyJson('a'), 'flooder');
      expect(validator.check(tinyJson('a'), 'flooder').ok).toBe(false);
      expect(validator.check(tinyJson('b'), 'polite').ok).toBe(true);
    });

    it('checks the rate before parsing, so malformed floods also use up tokens', () => {
      const { validator } = setup();
      for (let i = 0; i < 3; i++) expect(validator.check('{nope', 'p')).toEqual({ ok: false, reason: 'malformed-json' });
      expect(validator.check(tinyJson('valid'), 'p')).toEqual({ ok: false, reason: 'rate' });
      expect(validator.check('{nope', 'p')).toEqual({ ok: false, reason: 'rate' });
    });

    it('forgetPeer() resets the peer’s bucket', () => {
      const { validator } = setup();
      for (let i = 0; i < 3; i++) validator.check(tinyJson('a'), 'p');
      expect(validator.check(tinyJson('a'), 'p').ok).toBe(false);
      validator.forgetPeer('p');
      expect(validator.check(tinyJson('a'), 'p').ok).toBe(true);
    });
  });

  describe('malformed-json', () => {
    it.each(['', ' ', '{', '{"v":1,"s":', "{'v':1,'s':'x'}", '{v:1,s:"x"}', 'undefined', 'NaN', '{"v":1,"s":"x"}}', '\u0000'])(
      'drops %j as malformed-json',
      payload => {
        const { validator, counters } = setup();
        expect(validator.check(payload, 'p')).toEqual({ ok: false, reason: 'malformed-json' });
        expect(counters.snapshot().dropped['malformed-json']).toBe(1);
        expect(counters.snapshot().droppedByChannel['tiny:malformed-json']).toBe(1);
      },
    );
  });

  describe('schema', () => {
    const cases: [string, string][] = [
      ['a wrong protocol version', JSON.stringify({ v: 2, s: 'x' })],
      ['version 0', JSON.stringify({ v: 0, s: 'x' })],
      ['the version as a string', JSON.stringify({ v: '1', s: 'x' })],
      ['a missing version', JSON.stringify({ s: 'x' })],
      ['an extra key', JSON.stringify({ v: 1, s: 'x', extra: true })],
      ['an extra __proto__ key', '{"v":1,"s":"","__proto__":1}'],
      ['a wrong field type', JSON.stringify({ v: 1, s: 1 })],
      ['a null field', JSON.stringify({ v: 1, s: null })],
      ['a missing field', JSON.stringify({ v: 1 })],
      ['JSON null', 'null'],
      ['a JSON string', '"x"'],
      ['a JSON number', '1'],
      ['a JSON array', '[1,"x"]'],
    ];
    it.each(cases)('drops %s as schema', (_label, payload) => {
      const { validator, counters } = setup();
      expect(validator.check(payload, 'p')).toEqual({ ok: false, reason: 'schema' });
      expect(counters.snapshot().dropped.schema).toBe(1);
      expect(counters.snapshot().droppedByChannel['tiny:schema']).toBe(1);
    });

    it('does not let a __proto__ key pollute Object.prototype', () => {
      const { validator } = setup(presenceMessage);
      const payload = '{"v":1,"name":"A","__proto__":{"b":1}}';
      expect(validator.check('{"v":1,"name":"A"}', 'p').ok).toBe(true);
      expect(validator.check(payload, 'p')).toEqual({ ok: false, reason: 'schema' });
      expect(({} as Record<string, unknown>).b).toBeUndefined();
    });
  });

  it('never throws, whatever the payload', () => {
    const { validator, counters } = setup(chatRecordMessage);
    const throwingGetter = Object.defineProperty({}, 'length', {
      get() {
        throw new Error('boom');
      },
    });
    const hostileProxy = new Proxy(
      {},
      {
        get() {
          throw new Error('proxy get');
        },
        has() {
          throw new Error('proxy has');
        },
        ownKeys() {
          throw new Error('proxy ownKeys');
        },
        getPrototypeOf() {
          throw new Error('proxy proto');
        },
      },
    );
    const nested = '['.repeat(30_000) + ']'.repeat(30_000);
    const payloads: unknown[] = [
      null,
      undefined,
      new Uint8Array([1, 2, 3]),
      throwingGetter,
      { toString: () => { throw new Error('toString'); }, valueOf: () => { throw new Error('valueOf'); } },
      hostileProxy,
      Object.create(null),
      'x'.repeat(10_000_000),
      nested,
      '\uD800\uDC00\uD800', // lone surrogate
      recordJson({ name: '\uD800' }),
      recordJson({ ts: 1e300 }),
      '1e999999',
    ];
    for (const [i, payload] of payloads.entries()) {
      expect(() => validator.check(payload, `peer-${i}`)).not.toThrow();
    }
    const s = counters.snapshot();
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    expect(s.accepted + dropped).toBe(payloads.length);
    expect(s.dropped['not-text']).toBe(7);
    expect(s.dropped.oversize).toBe(1);
    expect(s.dropped['malformed-json']).toBe(1); // bare lone-surrogate text
    expect(s.dropped['too-complex']).toBe(1); // nested array
    expect(s.dropped.schema).toBe(2); // ts 1e300, Infinity
    expect(s.accepted).toBe(1); // a name holding a lone surrogate is still a string
  });

  it('drops a deeply nested JSON value within the size limit as too-complex, before parsing it', () => {
    const { validator } = setup(chatRecordMessage);
    const nested = '['.repeat(30_000) + ']'.repeat(30_000);
    expect(validator.check(nested, 'p')).toEqual({ ok: false, reason: 'too-complex' });
  });

  it('drops a message of more than MAX_JSON_VALUES values as too-complex, and keeps brackets inside strings out of the count', () => {
    const { validator: wall } = setup(galleryWallMessage);
    expect(wall.check('[' + Array(MAX_JSON_VALUES + 1).fill(0).join(',') + ']', 'p')).toEqual({ ok: false, reason: 'too-complex' });
    const record = JSON.parse(recordJson({ text: '[[[[[[[[[[[[[[[[[[[[[[,,,,' + '['.repeat(2000) + '\\"{{{{' }));
    expect(setup(chatRecordMessage).validator.check(JSON.stringify(record), 'q').ok).toBe(true);
  });
});

describe('encodeMessage', () => {
  it('encodes a message as JSON text that the validator accepts', () => {
    const text = encodeMessage(tiny, { v: 1, s: 'héllo' });
    expect(JSON.parse(text)).toEqual({ v: 1, s: 'héllo' });
    const { validator } = setup();
    expect(validator.check(text, 'p')).toEqual({ ok: true, value: { v: 1, s: 'héllo' } });
  });

  it('allows exactly maxBytes', () => {
    expect(() => encodeMessage(tiny, { v: 1, s: 'x'.repeat(18) })).not.toThrow();
    expect(() => encodeMessage(tiny, { v: 1, s: 'é'.repeat(9) })).not.toThrow();
  });

  it('throws RangeError over maxBytes', () => {
    expect(() => encodeMessage(tiny, { v: 1, s: 'x'.repeat(19) })).toThrow(RangeError);
  });

  it('throws RangeError when the characters fit but the UTF-8 bytes do not', () => {
    const message = { v: 1 as const, s: '€'.repeat(7) };
    expect(JSON.stringify(message).length).toBeLessThanOrEqual(tiny.maxBytes);
    expect(() => encodeMessage(tiny, message)).toThrow(RangeError);
    expect(() => encodeMessage(tiny, message)).toThrow(/tiny/);
  });

  it('counts JSON escaping towards the size (control characters become \\uXXXX)', () => {
    // 3 characters, but 18 bytes once escaped: 14 + 18 = 32 fits, one more does not
    expect(() => encodeMessage(tiny, { v: 1, s: '\u0001\u0002\u0003' })).not.toThrow();
    expect(() => encodeMessage(tiny, { v: 1, s: '\u0001\u0002\u0003x' })).toThrow(RangeError);
  });
});
