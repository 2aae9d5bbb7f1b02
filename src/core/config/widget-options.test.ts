import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { presenceMessage } from '../wire';
import { AttributeError, parseIceServers, parsePartialMesh, parseRelayUrls, resolveMeshOptions, resolveUserName, USER_NAME_KEY } from './widget-options';

/** An in-memory Storage with a log of writes. */
function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  const writes: [string, string][] = [];
  return {
    data,
    writes,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => {
      writes.push([key, value]);
      data.set(key, String(value));
    },
  };
}

/** A Storage that throws on every access (private mode, sandboxed iframe). */
const throwingStorage = {
  getItem: (): string | null => {
    throw new DOMException('denied', 'SecurityError');
  },
  setItem: (): void => {
    throw new DOMException('quota', 'QuotaExceededError');
  },
};

const location = { origin: 'https://blog.example.org', pathname: '/posts/hello-world', host: 'blog.example.org' };

/** Runs `fn` and returns the AttributeError it throws (fails the test if it throws nothing or something else). */
function attributeError(fn: () => unknown): AttributeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AttributeError);
    expect(err).toBeInstanceOf(Error);
    return err as AttributeError;
  }
  throw new Error('expected an AttributeError, but nothing was thrown');
}

describe('resolveMeshOptions', () => {
  it('defaults room to origin + path, app id to host and strategy to nostr', () => {
    const storage = memoryStorage();
    const options = resolveMeshOptions({}, { location, storage });
    expect(options.room).toBe('https://blog.example.org/posts/hello-world');
    expect(options.appId).toBe('blog.example.org');
    expect(options.strategy).toBe('nostr');
    expect(options.userName).toBe(storage.data.get(USER_NAME_KEY));
    expect(options.userName.length).toBeGreaterThan(0);
    // nothing else is set when the attributes are absent, but the default partial mesh
    expect(Object.keys(options).sort()).toEqual(['appId', 'partialMesh', 'room', 'strategy', 'userName']);
    expect(options.partialMesh).toEqual({});
  });

  it('treats blank attributes as absent', () => {
    const options = resolveMeshOptions(
      { room: '  ', appId: ' ', strategy: '   ', relayUrls: ' , ', iceServers: '  ', userName: ' ', password: '' },
      { location, storage: memoryStorage({ [USER_NAME_KEY]: 'Stored Name' }) },
    );
    expect(options).toEqual({ appId: 'blog.example.org', room: 'https://blog.example.org/posts/hello-world', strategy: 'nostr', userName: 'Stored Name', partialMesh: {} });
  });

  it('falls back to app id "p2p-widgets" when the page has no host (file:)', () => {
    const options = resolveMeshOptions({}, { location: { origin: 'null', pathname: '/tmp/page.html', host: '' }, storage: null });
    expect(options.appId).toBe('p2p-widgets');
  });

  it('uses given attributes, trimmed', () => {
    const options = resolveMeshOptions(
      {
        room: ' music ',
        appId: ' my-app ',
        strategy: ' mqtt ',
        password: 'secret',
        relayUrls: ' wss://relay.one , wss://relay.two/path ',
        iceServers: '[{"urls":"stun:stun.example.org"},{"urls":["turn:turn.example.org"],"username":"u","credential":"c"}]',
        userName: '  Ann  ',
      },
      { location, storage: memoryStorage() },
    );
    expect(options).toEqual({
      room: 'music',
      appId: 'my-app',
      strategy: 'mqtt',
      password: 'secret',
      relayUrls: ['wss://relay.one', 'wss://relay.two/path'],
      iceServers: [{ urls: 'stun:stun.example.org' }, { urls: ['turn:turn.example.org'], username: 'u', credential: 'c' }],
      userName: 'Ann',
      partialMesh: {},
    });
  });

  it.each(['nostr', 'mqtt', 'torrent'])('accepts strategy %s', strategy => {
    expect(resolveMeshOptions({ strategy }, { location, storage: null }).strategy).toBe(strategy);
  });

  it.each(['webrtc', 'firebase', 'ipfs', 'constructor', 'toString'])('refuses strategy %j with attribute "strategy"', strategy => {
    const err = attributeError(() => resolveMeshOptions({ strategy }, { location, storage: null }));
    expect(err.attribute).toBe('strategy');
    expect(err.message).toContain('nostr');
  });

  it.each(['ftp://relay.example', 'javascript:alert(1)', 'file:///etc/passwd', 'relay.example.org', 'not a url', 'wss://ok.example, data:text/plain,hi'])(
    'refuses relay-urls %j with attribute "relay-urls"',
    relayUrls => {
      const err = attributeError(() => resolveMeshOptions({ relayUrls }, { location, storage: null }));
      expect(err.attribute).toBe('relay-urls');
    },
  );

  it.each(['{not json', '{"urls":"stun:x"}', '[{"urls":1}]', '[{"username":"u"}]', 'null', '"stun:x"', '[{"urls":"stun:x","credential":5}]'])(
    'refuses ice-servers %j with attribute "ice-servers"',
    iceServers => {
      const err = attributeError(() => resolveMeshOptions({ iceServers }, { location, storage: null }));
      expect(err.attribute).toBe('ice-servers');
    },
  );

  it('passes ice-transport-policy "relay" and "all" through, and refuses anything else', () => {
    expect(resolveMeshOptions({ iceTransportPolicy: ' relay ' }, { location, storage: null }).iceTransportPolicy).toBe('relay');
    expect(resolveMeshOptions({ iceTransportPolicy: 'all' }, { location, storage: null }).iceTransportPolicy).toBe('all');
    expect(resolveMeshOptions({ iceTransportPolicy: '' }, { location, storage: null }).iceTransportPolicy).toBeUndefined();
    for (const iceTransportPolicy of ['none', 'RELAY', 'turn']) {
      expect(attributeError(() => resolveMeshOptions({ iceTransportPolicy }, { location, storage: null })).attribute).toBe('ice-transport-policy');
    }
  });

  it('does not throw when storage throws, and still gives a name', () => {
    const options = resolveMeshOptions({}, { location, storage: throwingStorage });
    expect(options.userName.trim().length).toBeGreaterThan(0);
  });
});

describe('parseRelayUrls', () => {
  it('splits on commas, trims and skips empty items', () => {
    expect(parseRelayUrls(' wss://a.example ,, ws://b.example:7000 ,')).toEqual(['wss://a.example', 'ws://b.example:7000']);
    expect(parseRelayUrls(undefined)).toEqual([]);
    expect(parseRelayUrls('')).toEqual([]);
  });

  it('accepts ws, wss, http(s) and mqtt(s) URLs', () => {
    const urls = ['ws://a', 'wss://b', 'http://c', 'https://d', 'mqtt://e', 'mqtts://f'];
    expect(parseRelayUrls(urls.join(','))).toEqual(urls);
  });
});

describe('parseIceServers', () => {
  it('parses a JSON array of ice servers, including an empty one', () => {
    expect(parseIceServers('[]')).toEqual([]);
    expect(parseIceServers('[{"urls":"stun:s.example"}]')).toEqual([{ urls: 'stun:s.example' }]);
  });
});

describe('resolveUserName', () => {
  it('uses a given name, trimmed and cut to 64 characters, without touching storage', () => {
    const storage = memoryStorage();
    expect(resolveUserName('  Ann  ', storage)).toBe('Ann');
    expect(resolveUserName('x'.repeat(100), storage)).toBe('x'.repeat(64));
    expect(storage.writes).toEqual([]);
  });

  it('generates a name once and reuses it from storage', () => {
    const storage = memoryStorage();
    const first = resolveUserName(undefined, storage);
    expect(first).toMatch(/^\S.*\S$/);
    expect(storage.writes).toEqual([[USER_NAME_KEY, first]]);
    expect(resolveUserName(undefined, storage)).toBe(first);
    expect(resolveUserName('   ', storage)).toBe(first);
    expect(storage.writes).toHaveLength(1);
  });

  it('uses a name already in storage, trimmed and cut to 64 characters', () => {
    expect(resolveUserName(undefined, memoryStorage({ [USER_NAME_KEY]: '  Stored  ' }))).toBe('Stored');
    expect(resolveUserName(undefined, memoryStorage({ [USER_NAME_KEY]: 's'.repeat(80) }))).toBe('s'.repeat(64));
  });

  it('replaces a blank stored name with a generated one', () => {
    const storage = memoryStorage({ [USER_NAME_KEY]: '   ' });
    const name = resolveUserName(undefined, storage);
    expect(name.trim()).not.toBe('');
    expect(storage.data.get(USER_NAME_KEY)).toBe(name);
  });

  it('survives a storage that throws, and without storage', () => {
    expect(() => resolveUserName(undefined, throwingStorage)).not.toThrow();
    expect(resolveUserName(undefined, throwingStorage).trim()).not.toBe('');
    expect(resolveUserName(undefined, null).trim()).not.toBe('');
    expect(resolveUserName(undefined, undefined).trim()).not.toBe('');
  });

  it('generates "Adjective Animal" names that peers accept in presence', () => {
    for (let i = 0; i < 50; i++) {
      const name = resolveUserName(undefined, memoryStorage());
      expect(name).toMatch(/^[A-Z]\S* [A-Z]\S*$/);
      expect(v.safeParse(presenceMessage.schema, { v: 1, name }).success).toBe(true);
    }
  });

  // Regression guard (was a bug): `slice(0, MAX_NAME_LENGTH)` cuts UTF-16 code units, so a name whose 64th code unit is
  // the first half of a surrogate pair (emoji, rare CJK) ends in a lone surrogate, which renders
  // as U+FFFD on every peer. Cut by code points instead, e.g. `[...trimmed].slice(0, 64).join('')`
  // while keeping ≤ 64 code units for the wire schema (drop the last code point if it would straddle).
  it('does not cut a name in the middle of a surrogate pair', () => {
    const name = resolveUserName('a'.repeat(63) + '😀', null);
    expect(name).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(name.startsWith('a'.repeat(63))).toBe(true);
  });
});

describe('partial-mesh attribute', () => {
  const page = { location: { origin: 'https://blog.example', pathname: '/post', host: 'blog.example' } };
  it('is a full mesh when off or false', () => {
    expect(resolveMeshOptions({ partialMesh: 'off' }, page).partialMesh).toBeUndefined();
    expect(parsePartialMesh('false')).toBeNull();
  });
  it('is the default partial mesh (6 neighbours, 4–8, 12 connections) when absent, empty or on', () => {
    expect(resolveMeshOptions({}, page).partialMesh).toEqual({});
    expect(resolveMeshOptions({ partialMesh: null as unknown as string }, page).partialMesh).toEqual({});
    expect(resolveMeshOptions({ partialMesh: '' }, page).partialMesh).toEqual({});
    expect(parsePartialMesh(' on ')).toEqual({});
  });
  it('takes a number of neighbours from 2 to 8 and derives the bounds', () => {
    expect(parsePartialMesh('3')).toEqual({ activeTarget: 3, activeMin: 2, activeMax: 4, maxLinks: 6 });
    expect(parsePartialMesh('6')).toEqual({ activeTarget: 6, activeMin: 4, activeMax: 8, maxLinks: 12 });
    expect(parsePartialMesh('2')).toEqual({ activeTarget: 2, activeMin: 1, activeMax: 3, maxLinks: 4 });
  });
  it('refuses anything else with a clear error', () => {
    for (const bad of ['1', '9', '3.5', 'many', '-4']) expect(() => parsePartialMesh(bad)).toThrowError(/partial-mesh must be/);
  });
});
