import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { DropCounters } from './drop-counters';
import { encodeMessage, InboundValidator } from './message-definition';
import { chatRecordMessage, chatSyncBatchMessage, chatSyncRequestMessage, MAX_BATCH_RECORDS } from './chat-record-schemas';
import { MAX_CHAT_TEXT_LENGTH, MAX_NAME_LENGTH, presenceMessage } from './message-schemas';

const presence = (value: unknown) => v.safeParse(presenceMessage.schema, value);
const chat = (value: unknown) => v.safeParse(chatRecordMessage.schema, value);
const AUTHOR = 'Ab0_-'.repeat(17) + 'xy'; // 87 base64url characters (a P-256 public key)
const SIG = 'S1g-_'.repeat(17) + 'z'; // 86 base64url characters (a P-256 signature)
const goodRecord = { kind: 'msg', author: AUTHOR, seq: 1, ts: 1_700_000_000_000, name: 'Ann', text: 'hello', sig: SIG };
const goodChat = { v: 1, record: goodRecord };
/** The chat message with `fields` changed in its record. */
const withRecord = (fields: Record<string, unknown>) => ({ v: 1, record: { ...goodRecord, ...fields } });

describe('limits', () => {
  it('are the documented ones', () => {
    expect(MAX_NAME_LENGTH).toBe(64);
    expect(MAX_CHAT_TEXT_LENGTH).toBe(16_000);
    expect(presenceMessage).toMatchObject({ channel: 'presence', maxBytes: 512, rate: { ratePerSecond: 2, burst: 5 } });
    expect(chatRecordMessage).toMatchObject({ channel: 'chat', maxBytes: 72 * 1024, rate: { ratePerSecond: 5, burst: 20 } });
    expect(chatSyncRequestMessage).toMatchObject({ channel: 'chat-sync-req', maxBytes: 256 * 1024, rate: { ratePerSecond: 1, burst: 5 } });
    expect(chatSyncBatchMessage).toMatchObject({ channel: 'chat-sync-batch', maxBytes: 512 * 1024, rate: { ratePerSecond: 40, burst: 100 } });
    expect(MAX_BATCH_RECORDS).toBe(250);
  });
});

describe('presence schema', () => {
  it('accepts { v: 1, name } and trims the name', () => {
    const r = presence({ v: 1, name: '  Ann Lee \n' });
    expect(r.success).toBe(true);
    expect(r.output).toEqual({ v: 1, name: 'Ann Lee' });
  });

  it.each([
    ['an empty name', { v: 1, name: '' }],
    ['a blank name (empty after trimming)', { v: 1, name: ' \t\n ' }],
    ['a name of 65 characters', { v: 1, name: 'n'.repeat(65) }],
    ['a non-string name', { v: 1, name: 42 }],
    ['a missing name', { v: 1 }],
    ['a wrong version', { v: 2, name: 'Ann' }],
    ['an extra key', { v: 1, name: 'Ann', avatar: 'x' }],
  ])('refuses %s', (_label, value) => {
    expect(presence(value).success).toBe(false);
  });

  it('accepts exactly 64 characters, counted after trimming', () => {
    expect(presence({ v: 1, name: 'n'.repeat(64) }).success).toBe(true);
    const padded = presence({ v: 1, name: `   ${'n'.repeat(64)}   ` });
    expect(padded.success).toBe(true);
    expect((padded.output as { name: string }).name).toBe('n'.repeat(64));
  });

  it('fits the longest name of worst-case characters within its byte limit', () => {
    expect(() => encodeMessage(presenceMessage, { v: 1, name: '中'.repeat(64) })).not.toThrow();
    expect(() => encodeMessage(presenceMessage, { v: 1, name: '\u0001'.repeat(64) })).not.toThrow();
  });
});

describe('chat record schema (channel chat)', () => {
  it('accepts a well-formed message record and keeps it as sent', () => {
    const r = chat(goodChat);
    expect(r.success).toBe(true);
    expect(r.output).toEqual(goodChat);
  });

  it('accepts a burn-after-reading message, a retraction and a mode switch', () => {
    expect(chat(withRecord({ burn: true })).success).toBe(true);
    expect(chat({ v: 1, record: { kind: 'retract', author: AUTHOR, seq: 2, ts: 1, target: 1, sig: SIG } }).success).toBe(true);
    expect(chat({ v: 1, record: { kind: 'mode', author: AUTHOR, seq: 3, ts: 1, burn: false, sig: SIG } }).success).toBe(true);
    expect(chat({ v: 1, record: { kind: 'mode', author: AUTHOR, seq: 3, ts: 1, burn: true, sig: SIG } }).success).toBe(true);
  });

  it('refuses fields of another kind, unknown kinds and burn: false on a message', () => {
    expect(chat(withRecord({ burn: false })).success).toBe(false);
    expect(chat(withRecord({ target: 1 })).success).toBe(false);
    expect(chat(withRecord({ kind: 'edit' })).success).toBe(false);
    expect(chat({ v: 1, record: { kind: 'retract', author: AUTHOR, seq: 2, ts: 1, target: 1, text: 'x', sig: SIG } }).success).toBe(false);
    expect(chat({ v: 1, record: { kind: 'retract', author: AUTHOR, seq: 2, ts: 1, sig: SIG } }).success).toBe(false);
    expect(chat({ v: 1, record: { kind: 'mode', author: AUTHOR, seq: 3, ts: 1, sig: SIG } }).success).toBe(false);
  });

  it('keeps the text exactly as sent (no trimming)', () => {
    const r = chat(withRecord({ text: '  two\n lines  ' }));
    expect((r.output as { record: unknown }).record).toMatchObject({ text: '  two\n lines  ' });
  });

  describe('author and sig', () => {
    it.each([
      ['86 characters', AUTHOR.slice(1)],
      ['88 characters', AUTHOR + 'a'],
      ['standard base64 characters', AUTHOR.slice(2) + '+/'],
      ['padding', AUTHOR.slice(1) + '='],
      ['markup', '<img src=x onerror=alert(1)>'],
      ['a number', 12345],
    ])('refuses an author with %s', (_label, author) => {
      expect(chat(withRecord({ author })).success).toBe(false);
    });
    it.each([
      ['85 characters', SIG.slice(1)],
      ['87 characters', SIG + 'a'],
      ['a space', SIG.slice(1) + ' '],
      ['an empty string', ''],
    ])('refuses a sig with %s', (_label, sig) => {
      expect(chat(withRecord({ sig })).success).toBe(false);
    });
  });

  describe('seq and target', () => {
    it.each([1, 2, Number.MAX_SAFE_INTEGER])('accepts seq %d', seq => {
      expect(chat(withRecord({ seq })).success).toBe(true);
    });
    it.each([0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, '1', null])('refuses seq %j', seq => {
      expect(chat(withRecord({ seq })).success).toBe(false);
    });
    it.each([0, -1, 1.5, '1'])('refuses retraction target %j', target => {
      expect(chat({ v: 1, record: { kind: 'retract', author: AUTHOR, seq: 2, ts: 1, target, sig: SIG } }).success).toBe(false);
    });
  });

  describe('text', () => {
    it('accepts 1 to 16 000 characters, counting an emoji as one', () => {
      expect(chat(withRecord({ text: 'x' })).success).toBe(true);
      expect(chat(withRecord({ text: 'x'.repeat(MAX_CHAT_TEXT_LENGTH) })).success).toBe(true);
      expect(chat(withRecord({ text: '😀'.repeat(MAX_CHAT_TEXT_LENGTH) })).success).toBe(true);
    });
    it('refuses empty or longer text, or a non-string', () => {
      expect(chat(withRecord({ text: '' })).success).toBe(false);
      expect(chat(withRecord({ text: 'x'.repeat(MAX_CHAT_TEXT_LENGTH + 1) })).success).toBe(false);
      expect(chat(withRecord({ text: '😀'.repeat(MAX_CHAT_TEXT_LENGTH + 1) })).success).toBe(false);
      expect(chat(withRecord({ text: ['x'] })).success).toBe(false);
      expect(chat(withRecord({ text: null })).success).toBe(false);
    });
    it('fits the longest text of 4-byte characters and the longest name within the 72 KiB message limit', () => {
      const text = encodeMessage(chatRecordMessage, { v: 1, record: { ...goodRecord, kind: 'msg', name: '中'.repeat(64), text: '😀'.repeat(MAX_CHAT_TEXT_LENGTH), burn: true } });
      const validator = new InboundValidator(chatRecordMessage, new DropCounters());
      expect(validator.check(text, 'p').ok).toBe(true);
    });
  });

  describe('name', () => {
    it('is 1 to 64 characters and must already be trimmed (it is signed as sent)', () => {
      expect(chat(withRecord({ name: '' })).success).toBe(false);
      expect(chat(withRecord({ name: '   ' })).success).toBe(false);
      expect(chat(withRecord({ name: '  Ann  ' })).success).toBe(false);
      expect(chat(withRecord({ name: 'n'.repeat(65) })).success).toBe(false);
      expect(chat(withRecord({ name: 'n'.repeat(64) })).success).toBe(true);
      expect(chat(withRecord({ name: '😀'.repeat(64) })).success).toBe(true);
    });
  });

  describe('ts', () => {
    it.each([0, 1_700_000_000_000, 8.64e15])('accepts %d', ts => {
      expect(chat(withRecord({ ts })).success).toBe(true);
    });
    it.each([
      ['negative', -1],
      ['fractional', 1.5],
      ['beyond the Date range', 8.64e15 + 1],
      ['Infinity', Infinity],
      ['NaN', NaN],
      ['a string', '1700000000000'],
      ['null', null],
    ])('refuses a %s timestamp', (_label, ts) => {
      expect(chat(withRecord({ ts })).success).toBe(false);
    });
  });

  it('refuses a wrong version, missing keys and extra keys', () => {
    expect(chat({ ...goodChat, v: 2 }).success).toBe(false);
    expect(chat({ v: 1 }).success).toBe(false);
    const { ts: _ts, ...noTs } = goodRecord;
    expect(chat({ v: 1, record: noTs }).success).toBe(false);
    const { sig: _sig, ...unsigned } = goodRecord;
    expect(chat({ v: 1, record: unsigned }).success).toBe(false);
    expect(chat(withRecord({ html: '<b>' })).success).toBe(false);
    expect(chat(withRecord({ retracted: true })).success).toBe(false);
    expect(chat({ ...goodChat, id: 'abcdefgh' }).success).toBe(false);
  });
});

describe('chat sync schemas', () => {
  const req = (value: unknown) => v.safeParse(chatSyncRequestMessage.schema, value);
  const batch = (value: unknown) => v.safeParse(chatSyncBatchMessage.schema, value);

  it('accept a request with a state vector of ranges and a batch of records', () => {
    expect(req({ v: 1, id: 'abcdefgh', since: 0, vector: { [AUTHOR]: [[1, 3], [5, 5]] } }).success).toBe(true);
    expect(req({ v: 1, id: 'abcdefgh', since: 0, vector: {} }).success).toBe(true);
    expect(batch({ v: 1, id: 'abcdefgh', records: [goodRecord], done: true }).success).toBe(true);
    expect(batch({ v: 1, id: 'abcdefgh', records: [], done: false }).success).toBe(true);
  });

  it('refuse a vector keyed by something that is not a key, bad ranges, or a bad id', () => {
    expect(req({ v: 1, id: 'abcdefgh', since: 0, vector: { 'not-a-key': [[1, 1]] } }).success).toBe(false);
    expect(req({ v: 1, id: 'abcdefgh', since: 0, vector: { [AUTHOR]: [[0, 1]] } }).success).toBe(false);
    expect(req({ v: 1, id: 'abcdefgh', since: 0, vector: { [AUTHOR]: [[1]] } }).success).toBe(false);
    expect(req({ v: 1, id: 'short', since: 0, vector: {} }).success).toBe(false);
    expect(req({ v: 1, id: 'abcdefgh', since: -1, vector: {} }).success).toBe(false);
  });

  it('refuse a batch with more than MAX_BATCH_RECORDS records or an invalid record', () => {
    expect(batch({ v: 1, id: 'abcdefgh', records: Array(MAX_BATCH_RECORDS).fill(goodRecord), done: true }).success).toBe(true);
    expect(batch({ v: 1, id: 'abcdefgh', records: Array(MAX_BATCH_RECORDS + 1).fill(goodRecord), done: true }).success).toBe(false);
    expect(batch({ v: 1, id: 'abcdefgh', records: [{ ...goodRecord, sig: 'x' }], done: true }).success).toBe(false);
  });
});
