import { describe, expect, it } from 'vitest';
import { resolveLang, stringsFor } from './strings';

describe('resolveLang', () => {
  it.each(['zh', 'zh-Hans', 'zh-CN', 'zh-cn', 'ZH-CN', 'zh-Hans-CN'])('maps %j to zh-CN', tag => {
    expect(resolveLang(tag, undefined)).toBe('zh-CN');
  });

  it.each(['en', 'en-US', 'fr', 'de-DE', 'ja', 'x-unknown'])('maps %j to en', tag => {
    expect(resolveLang(tag, undefined)).toBe('en');
  });

  it('prefers the requested language over the browser’s', () => {
    expect(resolveLang('en', 'zh-CN')).toBe('en');
    expect(resolveLang('zh', 'en-US')).toBe('zh-CN');
  });

  it('falls back to the browser language, then to en', () => {
    expect(resolveLang(null, 'zh-CN')).toBe('zh-CN');
    expect(resolveLang(undefined, 'zh')).toBe('zh-CN');
    expect(resolveLang('', 'zh-Hans')).toBe('zh-CN');
    expect(resolveLang(null, 'fr-FR')).toBe('en');
    expect(resolveLang(null, undefined)).toBe('en');
  });
});

describe('string tables', () => {
  const en = stringsFor('en');
  const zh = stringsFor('zh-CN');

  it('have the same keys in en and zh-CN', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    expect(Object.keys(en).length).toBeGreaterThan(10);
  });

  it('have the same kind of value (text or function of the same arity) for every key', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(typeof zh[key], key).toBe(typeof en[key]);
      if (typeof en[key] === 'function') expect((zh[key] as () => string).length, key).toBe((en[key] as () => string).length);
    }
  });

  it('have a non-empty translation for every text key, different from English', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const e = en[key];
      const z = zh[key];
      if (typeof e === 'string' && typeof z === 'string') {
        expect(z.trim(), key).not.toBe('');
        expect(z, key).not.toBe(e);
      }
    }
  });

  it('put the arguments into the formatted strings', () => {
    expect(en.statusConnected(1)).toBe('Connected to 1 peer');
    expect(en.statusConnected(3)).toBe('Connected to 3 peers');
    expect(zh.statusConnected(3)).toContain('3');
    expect(en.joined('Ann')).toBe('Ann joined');
    expect(zh.joined('Ann')).toContain('Ann');
    expect(en.left('Ann')).toBe('Ann left');
    expect(zh.left('Ann')).toContain('Ann');
    expect(en.tooLong(10, 12)).toContain('10');
    expect(en.tooLong(10, 12)).toContain('12');
    expect(zh.tooLong(10, 12)).toContain('10');
    expect(zh.tooLong(10, 12)).toContain('12');
    expect(en.statusFailed('no relay')).toContain('no relay');
    expect(zh.statusFailed('no relay')).toContain('no relay');
    expect(en.charsLeft(5)).toContain('5');
    expect(zh.rtt(42)).toContain('42');
  });
});
