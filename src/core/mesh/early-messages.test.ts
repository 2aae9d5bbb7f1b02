import { describe, expect, it } from 'vitest';
import { EARLY_HOLD_MS, EarlyMessages, MAX_EARLY_BYTES, MAX_EARLY_MESSAGES, MAX_EARLY_PEERS } from './early-messages';

function early() {
  const clock = { t: 0 };
  const dropped: string[] = [];
  return { e: new EarlyMessages(c => dropped.push(c), () => clock.t), clock, dropped };
}

describe('EarlyMessages (messages from a peer not listed yet)', () => {
  it('hands a peer’s held messages over, in order, once it is listed', () => {
    const { e, dropped } = early();
    const got: string[] = [];
    expect(e.hold('p', 'gallery-q', 10, () => got.push('q'))).toBe(true);
    expect(e.hold('p', 'presence', 10, () => got.push('hello'))).toBe(true);
    expect(got).toEqual([]);
    e.listed('p');
    expect(got).toEqual(['q', 'hello']);
    e.listed('p'); // once only
    expect(got).toEqual(['q', 'hello']);
    expect(dropped).toEqual([]);
  });

  it('drops and counts what a peer not listed within the hold time sent, and what one that left sent', () => {
    const { e, clock, dropped } = early();
    const got: string[] = [];
    e.hold('late', 'gallery-q', 10, () => got.push('late'));
    e.hold('gone', 'chat', 10, () => got.push('gone'));
    e.forget('gone');
    clock.t = EARLY_HOLD_MS + 1;
    e.sweep();
    e.listed('late');
    expect(got).toEqual([]);
    expect(dropped.sort()).toEqual(['chat', 'gallery-q']);
  });

  it('holds at most MAX_EARLY_BYTES per peer', () => {
    const { e } = early();
    expect(e.hold('p', 'c', MAX_EARLY_BYTES - 10, () => undefined)).toBe(true);
    expect(e.hold('p', 'c', 11, () => undefined)).toBe(false);
    expect(e.hold('p', 'c', 10, () => undefined)).toBe(true);
  });

  it('holds at most MAX_EARLY_MESSAGES per peer and MAX_EARLY_PEERS peers', () => {
    const { e } = early();
    for (let i = 0; i < MAX_EARLY_MESSAGES; i++) expect(e.hold('p', 'c', 10, () => undefined)).toBe(true);
    expect(e.hold('p', 'c', 10, () => undefined)).toBe(false);
    for (let i = 1; i < MAX_EARLY_PEERS; i++) expect(e.hold(`p${i}`, 'c', 10, () => undefined)).toBe(true);
    expect(e.hold('one-too-many', 'c', 10, () => undefined)).toBe(false);
  });
});
