import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { DropCounters } from './drop-counters';
import { encodeMessage, InboundValidator } from './message-definition';
import { chatMessage, MAX_CHAT_TEXT_LENGTH, MAX_NAME_LENGTH, presenceMessage } from './message-schemas';

const presence = (value: unknown) => v.safeParse(presenceMessage.schema, value);
const chat = (value: unknown) => v.safeParse(chatMessage.schema, value);
const goodChat = { v: 1, id: 'abcDEF12_-', name: 'Ann', text: 'hello', ts: 1_700_000_000_000 };

describe('limits', () => {
  it('are the documented ones', () => {
    expect(MAX_NAME_LENGTH).toBe(64);
    expect(MAX_CHAT_TEXT_LENGTH).toBe(16_000);
    expect(presenceMessage).toMatchObject({ channel: 'presence', maxBytes: 512, rate: { ratePerSecond: 2, burst: 5 } });
    expect(chatMessage).toMatchObject({ channel: 'chat', maxBytes: 64 * 1024, rate: { ratePerSecond: 5, burst: 20 } });
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
    expect(padded.output?.name).toBe('n'.repeat(64));
  });

  it('fits the longest name of worst-case characters within its byte limit', () => {
    expect(() => encodeMessage(presenceMessage, { v: 1, name: '中'.repeat(64) })).not.toThrow();
    expect(() => encodeMessage(presenceMessage, { v: 1, name: '\u0001'.repeat(64) })).not.toThrow();
  });
});

describe('chat schema', () => {
  it('accepts a well-formed message and trims the name', () => {
    const r = chat({ ...goodChat, name: '  Ann  ' });
    expect(r.success).toBe(true);
    expect(r.output).toEqual({ ...goodChat, name: 'Ann' });
  });

  it('keeps the text exactly as sent (no trimming)', () => {
    const r = chat({ ...goodChat, text: '  two\n lines  ' });
    expect(r.output?.text).toBe('  two\n lines  ');
  });

  describe('id', () => {
    it.each(['abcdefgh', 'A'.repeat(64), 'a_b-c_d-', '0123456789', 'Zz09_-Zz'])('accepts %j', id => {
      expect(chat({ ...goodChat, id }).success).toBe(true);
    });
    it.each([
      ['7 characters', 'abcdefg'],
      ['65 characters', 'a'.repeat(65)],
      ['a space', 'abcd efgh'],
      ['a dot', 'abcd.efgh'],
      ['a slash', 'abcd/efgh'],
      ['markup', '<img src=x onerror=alert(1)>'],
      ['a non-ASCII letter', 'abcdéfgh'],
      ['a trailing newline', 'abcdefgh\n'],
      ['a leading newline', '\nabcdefgh'],
      ['an empty string', ''],
    ])('refuses an id with %s', (_label, id) => {
      expect(chat({ ...goodChat, id }).success).toBe(false);
    });
    it('refuses a non-string id', () => {
      expect(chat({ ...goodChat, id: 12345678 }).success).toBe(false);
    });
  });

  describe('text', () => {
    it('accepts 1 to 16 000 characters', () => {
      expect(chat({ ...goodChat, text: 'x' }).success).toBe(true);
      expect(chat({ ...goodChat, text: 'x'.repeat(MAX_CHAT_TEXT_LENGTH) }).success).toBe(true);
    });
    it('refuses empty or longer text, or a non-string', () => {
      expect(chat({ ...goodChat, text: '' }).success).toBe(false);
      expect(chat({ ...goodChat, text: 'x'.repeat(MAX_CHAT_TEXT_LENGTH + 1) }).success).toBe(false);
      expect(chat({ ...goodChat, text: ['x'] }).success).toBe(false);
      expect(chat({ ...goodChat, text: null }).success).toBe(false);
    });
    it('fits the longest text of 3-byte characters within the 64 KiB message limit', () => {
      const text = encodeMessage(chatMessage, { ...goodChat, v: 1, name: '中'.repeat(64), text: '中'.repeat(MAX_CHAT_TEXT_LENGTH) });
      const validator = new InboundValidator(chatMessage, new DropCounters());
      expect(validator.check(text, 'p').ok).toBe(true);
    });
  });

  describe('name', () => {
    it('has the same rules as in presence', () => {
      expect(chat({ ...goodChat, name: '' }).success).toBe(false);
      expect(chat({ ...goodChat, name: '   ' }).success).toBe(false);
      expect(chat({ ...goodChat, name: 'n'.repeat(65) }).success).toBe(false);
      expect(chat({ ...goodChat, name: 'n'.repeat(64) }).success).toBe(true);
    });
  });

  describe('ts', () => {
    it.each([0, 1_700_000_000_000, 8.64e15])('accepts %d', ts => {
      expect(chat({ ...goodChat, ts }).success).toBe(true);
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
      expect(chat({ ...goodChat, ts }).success).toBe(false);
    });
  });

  it('refuses a wrong version, missing keys and extra keys', () => {
    expect(chat({ ...goodChat, v: 2 }).success).toBe(false);
    const { ts: _ts, ...noTs } = goodChat;
    expect(chat(noTs).success).toBe(false);
    expect(chat({ ...goodChat, html: '<b>' }).success).toBe(false);
    expect(chat({ ...goodChat, own: true }).success).toBe(false);
  });
});
