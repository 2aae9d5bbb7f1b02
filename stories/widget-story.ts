/**
 * What the widget stories share: the relays they meet on, the controls generated from
 * custom-elements.json (one per attribute, with its documentation), rendering a widget
 * from args, and reaching into a widget's shadow root from a play function.
 */
import type { ArgTypes } from '@storybook/web-components-vite';
import { within } from 'storybook/test';
import manifest from '../custom-elements.json';
import { DEFAULT_RELAY_URL, STORY_APP_ID } from './sample-peer/rooms.mjs';

/** How long a story waits for the sample peer: joining through the relay and the WebRTC handshake take a moment (a late join after an idle minute up to ~60 s, see README known limits). */
export const PEER_WAIT = { timeout: 60_000, interval: 200 };

export type WidgetTag = 'p2p-chat' | 'p2p-music' | 'p2p-gallery';

/** Story args: attribute name → value (`undefined`, `''` and `false` leave the attribute out). */
export type WidgetArgs = Record<string, string | number | boolean | undefined>;

/**
 * Relays of the stories. `npm run storybook` starts the Nostr relay on DEFAULT_RELAY_URL
 * (port 7777) and a silent relay (accepts WebSockets, never answers) on the next port; the
 * story tests (vitest, `.storybook/vitest.setup.ts`) start both on free ports and set
 * `globalThis.__P2P_STORYBOOK__`.
 */
export function storyRelays(): { relayUrl: string; silentRelayUrl: string } {
  const fromTests = (globalThis as { __P2P_STORYBOOK__?: { relayUrl: string; silentRelayUrl: string } }).__P2P_STORYBOOK__;
  if (fromTests) return fromTests;
  const port = Number(new URL(DEFAULT_RELAY_URL).port);
  return { relayUrl: DEFAULT_RELAY_URL, silentRelayUrl: `ws://127.0.0.1:${port + 1}` };
}

interface ManifestAttribute {
  name: string;
  description?: string;
  type?: { text: string };
  default?: string;
  fieldName?: string;
}

function declaration(tag: WidgetTag): { attributes?: ManifestAttribute[]; members?: { name: string }[] } {
  for (const module of (manifest as { modules: { declarations?: { tagName?: string }[] }[] }).modules) {
    const found = module.declarations?.find(d => d.tagName === tag);
    if (found) return found as ReturnType<typeof declaration>;
  }
  throw new Error(`${tag} is not in custom-elements.json (run npm run build)`);
}

const CHOICES: Record<string, string[]> = {
  theme: ['auto', 'light', 'dark'],
  lang: ['en', 'zh-CN'],
  strategy: ['nostr', 'mqtt', 'torrent'],
};

/**
 * One control per attribute of `tag`, documented from custom-elements.json (the TSDoc of
 * each `@Prop`); the camelCase property rows that duplicate an attribute are hidden.
 */
export function attributeArgTypes(tag: WidgetTag): Partial<ArgTypes> {
  const { attributes = [], members = [] } = declaration(tag);
  const argTypes: Partial<ArgTypes> = {};
  for (const member of members) argTypes[member.name] = { table: { disable: true } };
  for (const attr of attributes) {
    const type = attr.type?.text ?? 'string';
    const control = CHOICES[attr.name]
      ? { type: 'select' as const }
      : type === 'boolean'
        ? { type: 'boolean' as const }
        : type.startsWith('number')
          ? { type: 'number' as const }
          : { type: 'text' as const };
    argTypes[attr.name] = {
      name: attr.name,
      description: attr.description,
      control,
      options: CHOICES[attr.name],
      table: { category: 'attributes', type: { summary: type }, defaultValue: attr.default ? { summary: attr.default } : undefined },
    };
  }
  return argTypes;
}

/** Creates `<tag>` with the args as attributes (the way a site owner writes it). */
export function renderWidget(tag: WidgetTag, args: WidgetArgs): HTMLElement {
  const el = document.createElement(tag);
  const known = new Set((declaration(tag).attributes ?? []).map(a => a.name));
  for (const [name, value] of Object.entries(args)) {
    if (!known.has(name) || value === undefined || value === '' || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  return el;
}

/** Args of a widget in the live room of the sample peer. */
export function liveArgs(room: string): WidgetArgs {
  const { relayUrl } = storyRelays();
  return { room, 'app-id': STORY_APP_ID, 'relay-urls': relayUrl, 'ice-servers': '[]', 'user-name': 'Story reader', theme: 'light', lang: 'en' };
}

/** A room nobody else is in (a fresh name per render). */
export function emptyRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Testing Library queries inside the shadow root of the story's `<tag>` (queries do not
 * cross shadow boundaries by themselves), once the element has rendered.
 */
export async function inWidget(canvasElement: HTMLElement, tag: WidgetTag) {
  const el = canvasElement.querySelector(tag) as (HTMLElement & { componentOnReady?: () => Promise<unknown> }) | null;
  if (!el) throw new Error(`no <${tag}> in the story`);
  await customElements.whenDefined(tag);
  await el.componentOnReady?.();
  const root = el.shadowRoot as ShadowRoot;
  return { el, root, ...within(root as unknown as HTMLElement) };
}
