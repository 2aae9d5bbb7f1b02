import * as v from 'valibot';
import { adjectives, animals, uniqueNamesGenerator } from 'unique-names-generator';
// Imported from their files, not the layers' indexes: this module is loaded before the widget's first
// render, and the indexes would bring the whole mesh (and the signaling code) with it.
import type { MeshOptions } from '../mesh';
import { STRATEGIES, type Strategy } from '../mesh/strategy-names';
import { MAX_NAME_LENGTH } from '../wire/message-schemas';

/** The attributes shared by all widgets, as Stencil hands them over (unset = undefined). */
export interface SharedAttributes {
  /** `room`: the room name (default: the page's origin + path). */
  room?: string;
  /** `app-id`: namespaces rooms on the relays (default: the page's host). */
  appId?: string;
  /** `password`: encrypts the signaling so only pages with it can join. */
  password?: string;
  /** `strategy`: `nostr` (default), `mqtt` or `torrent`. */
  strategy?: string;
  /** `relay-urls`: comma-separated relay URLs matching the strategy (default: Trystero's public relays). */
  relayUrls?: string;
  /** `ice-servers`: a JSON array of RTCIceServer (STUN/TURN). */
  iceServers?: string;
  /** `ice-transport-policy`: `all` (default) or `relay` (TURN only). */
  iceTransportPolicy?: string;
  /** `partial-mesh`: absent, empty or `on` for 6 neighbours; 2–8 for that many; `off` for a full mesh. */
  partialMesh?: string;
  /** `user-name`: the visitor's display name (default: a generated one, remembered per site). */
  userName?: string;
}

/** Where a widget runs: the page location and a storage for the generated name. */
export interface PageContext {
  /** The page's location: the default room is `origin + pathname`, the default app id `host`. */
  location: { origin: string; pathname: string; host: string };
  /** Where the generated user name is kept (localStorage); null or absent when storage is forbidden. */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/** A configuration problem, shown in the widget and emitted as `p2pError` with code `bad-attribute`. */
export class AttributeError extends Error {
  /**
   * @param attribute - the attribute at fault, as written in HTML (`relay-urls`, `ice-servers`,
   *   `partial-mesh`, `retention`, `max-size`, …)
   * @param message - what is wrong with its value, in English (the widget shows its own words)
   */
  constructor(
    /** The attribute at fault, as written in HTML (`relay-urls`, `ice-servers`, `partial-mesh`, …). */
    readonly attribute: string,
    message: string,
  ) {
    super(message);
  }
}

const iceServersSchema = v.array(
  v.object({
    urls: v.union([v.string(), v.array(v.string())]),
    username: v.optional(v.string()),
    credential: v.optional(v.string()),
  }),
);

/** localStorage key of the generated display name, one per site (origin). */
export const USER_NAME_KEY = 'p2p-widgets:user-name';

/**
 * Resolves the shared attributes into {@link MeshOptions}.
 * Defaults: `room` = origin + path, `app-id` = host, `strategy` = nostr,
 * `user-name` = a friendly name generated once per site (unique-names-generator) and kept in localStorage.
 * @throws AttributeError for an unknown strategy, an invalid relay URL, invalid `ice-servers` JSON,
 *   an `ice-transport-policy` other than `all` / `relay`, or a `partial-mesh` that is not empty,
 *   `on` or a whole number of neighbours from 2 to 8.
 */
export function resolveMeshOptions(attrs: SharedAttributes, page: PageContext): MeshOptions {
  const strategy = (attrs.strategy?.trim() || 'nostr') as Strategy;
  if (!STRATEGIES.includes(strategy)) {
    throw new AttributeError('strategy', `strategy must be one of ${STRATEGIES.join(', ')}, not "${attrs.strategy}"`);
  }
  const relayUrls = parseRelayUrls(attrs.relayUrls);
  const options: MeshOptions = {
    appId: attrs.appId?.trim() || page.location.host || 'p2p-widgets',
    room: attrs.room?.trim() || page.location.origin + page.location.pathname,
    strategy,
    userName: resolveUserName(attrs.userName, page.storage),
  };
  if (attrs.password) options.password = attrs.password;
  if (relayUrls.length) options.relayUrls = relayUrls;
  if (attrs.iceServers?.trim()) options.iceServers = parseIceServers(attrs.iceServers);
  const policy = attrs.iceTransportPolicy?.trim();
  if (policy) {
    if (policy !== 'all' && policy !== 'relay') throw new AttributeError('ice-transport-policy', `ice-transport-policy must be "all" or "relay", not "${policy}"`);
    options.iceTransportPolicy = policy;
  }
  const partial = parsePartialMesh(attrs.partialMesh ?? '');
  if (partial) options.partialMesh = partial;
  return options;
}

/**
 * `partial-mesh`: absent, empty or `on`, the widget connects to 6 neighbours (between 4 and 8, at
 * most 12 connections), so a room of up to 7 pages is a full mesh and a larger one is reached
 * through forwarding; a number n from 2 to 8, to n neighbours (at least round(2n/3), at most
 * n + round(n/3), at most 2n connections); `off` or `false`: to every peer of the room (a full
 * mesh at any size, as before the partial mesh).
 * @returns the mesh's partial-mesh options, or null for a full mesh
 * @throws AttributeError for anything else
 */
export function parsePartialMesh(value: string): MeshOptions['partialMesh'] | null {
  const text = value.trim().toLowerCase();
  if (text === 'off' || text === 'false') return null;
  if (text === '' || text === 'on' || text === 'true') return {};
  const n = Number(text);
  if (!Number.isInteger(n) || n < 2 || n > 8) throw new AttributeError('partial-mesh', `partial-mesh must be empty, "on", "off" or a number of neighbours from 2 to 8, not "${value}"`);
  return { activeTarget: n, activeMin: Math.max(1, Math.round((2 * n) / 3)), activeMax: n + Math.max(1, Math.round(n / 3)), maxLinks: 2 * n };
}

/** Splits `relay-urls` on commas; each must be a ws:, wss:, mqtt(s): or http(s): URL. */
export function parseRelayUrls(value: string | undefined): string[] {
  const urls = (value ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  for (const url of urls) {
    let scheme: string;
    try {
      scheme = new URL(url).protocol;
    } catch {
      throw new AttributeError('relay-urls', `"${url}" is not a URL`);
    }
    if (!['ws:', 'wss:', 'http:', 'https:', 'mqtt:', 'mqtts:'].includes(scheme)) {
      throw new AttributeError('relay-urls', `"${url}" must be a wss://, ws://, https://, http://, mqtts:// or mqtt:// URL`);
    }
  }
  return urls;
}

/** Parses `ice-servers`: a JSON array of RTCIceServer (`urls`, optional `username`/`credential`). */
export function parseIceServers(value: string): RTCIceServer[] {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new AttributeError('ice-servers', 'ice-servers must be a JSON array, e.g. [{"urls":"stun:stun.example.org"}]');
  }
  const parsed = v.safeParse(iceServersSchema, json);
  if (!parsed.success) throw new AttributeError('ice-servers', 'ice-servers must be an array of {"urls": …, "username"?, "credential"?}');
  return parsed.output;
}

/** The given name (trimmed, ≤ 64 chars), or the site's generated one (created and stored on first use). */
export function resolveUserName(given: string | undefined, storage: PageContext['storage']): string {
  const trimmed = given?.trim();
  if (trimmed) return clipName(trimmed);
  let stored: string | null = null;
  try {
    stored = storage?.getItem(USER_NAME_KEY) ?? null;
  } catch {
    /* storage forbidden (private mode, sandboxed iframe) */
  }
  if (stored?.trim()) return clipName(stored.trim());
  const name = uniqueNamesGenerator({ dictionaries: [adjectives, animals], separator: ' ', style: 'capital', length: 2 });
  try {
    storage?.setItem(USER_NAME_KEY, name);
  } catch {
    /* keep it for this page only */
  }
  return name;
}

/** Cuts a name to {@link MAX_NAME_LENGTH} code points (what peers accept), never inside a surrogate pair. */
export function clipName(name: string): string {
  return [...name].slice(0, MAX_NAME_LENGTH).join('');
}

/**
 * Parses a byte-size attribute (`max-size`, `max-cache`): a number of bytes, or a decimal number
 * with `KB`, `MB` or `GB` (powers of 1000, as file managers show), case-insensitive.
 * @param example - a valid value quoted in the error, e.g. `20MB`
 * @returns bytes, capped at `max`
 * @throws AttributeError naming `attribute` when the value does not look like a size
 */
export function parseByteSize(value: string, attribute: string, example: string, max = Number.MAX_SAFE_INTEGER): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) throw new AttributeError(attribute, `${attribute} must look like ${example} or ${parseByteSize(example, attribute, '0')}, not "${value}"`);
  const factor = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.min(max, Math.round(Number(m[1]) * factor));
}
