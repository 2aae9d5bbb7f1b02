import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { expect, userEvent, waitFor } from 'storybook/test';
import { HISTORY_ROOM, LIVE_ROOM, LONG_HISTORY, REPLY_PREFIX, SAMPLE_PEER_NAME } from './sample-peer/rooms.mjs';
import { attributeArgTypes, emptyRoom, inWidget, liveArgs, PEER_WAIT, renderWidget, storyRelays, WidgetArgs } from './widget-story';


const meta: Meta<WidgetArgs> = {
  title: 'Widgets/p2p-chat',
  component: 'p2p-chat',
  tags: ['autodocs'],
  argTypes: attributeArgTypes('p2p-chat'),
  args: liveArgs(LIVE_ROOM),
  render: args => renderWidget('p2p-chat', args),
  parameters: {
    docs: {
      description: {
        component:
          'Live stories meet a scripted sample peer ("' +
          SAMPLE_PEER_NAME +
          '", a headless browser started by `npm run storybook`) on a local relay. It answers every message you send.',
      },
    },
  },
};
export default meta;
type Story = StoryObj<WidgetArgs>;

/** In a room with the sample peer: its messages arrive, and it answers yours. */
export const LiveWithPeers: Story = {
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-chat');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/Connected to \d+ peer/), PEER_WAIT);
    await waitFor(() => expect(root.querySelector('[part="peer-list"]')?.textContent).toContain(SAMPLE_PEER_NAME), PEER_WAIT);
    await waitFor(() => expect(root.querySelector('[part="message-list"]')?.textContent).toContain('scripted sample peer'), PEER_WAIT);
    const text = `Hello from the story ${Math.random().toString(36).slice(2, 7)}`;
    await userEvent.type(getByRole('textbox', { name: 'Message' }), `${text}{Enter}`);
    await waitFor(() => expect(root.querySelector('[part="message-list"]')?.textContent).toContain(`${REPLY_PREFIX} “${text}”`), PEER_WAIT);
  },
};

/** Alone in a room: the widget says it waits for peers; a message written now is kept and shown. */
export const AloneInTheRoom: Story = {
  args: { room: emptyRoom('storybook-alone') },
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-chat');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toBe('Waiting for peers…'), PEER_WAIT);
    await userEvent.type(getByRole('textbox', { name: 'Message' }), 'Anyone here?{Enter}');
    await waitFor(() => expect(root.querySelector('[part="message-list"]')?.textContent).toContain('Anyone here?'));
  },
};

/** Connecting: the relay accepts the connection but never answers (a slow or overloaded relay). */
export const Connecting: Story = {
  args: { room: emptyRoom('storybook-connecting'), 'relay-urls': storyRelays().silentRelayUrl },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-chat');
    await expect(root.querySelector('[part="status"]')?.textContent).toBe('Connecting to relays…');
  },
};

/** Relays unreachable: after 10 s the widget says so in plain words and emits `p2pError`. */
export const RelaysUnreachable: Story = {
  args: { room: emptyRoom('storybook-unreachable'), 'relay-urls': 'ws://127.0.0.1:9' },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-chat');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/^Connection failed/), { timeout: 30_000 });
  },
};

/** A bad attribute: `ice-servers` that is not JSON is explained, not thrown. */
export const BadAttribute: Story = {
  args: { room: emptyRoom('storybook-bad'), 'ice-servers': 'stun:example.org' },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-chat');
    await waitFor(() => expect(root.querySelector('[part="error"]')?.textContent).toMatch(/ice-servers/));
  },
};

/** A long history: the sample peer holds hundreds of messages; they sync in on join and the list stays virtualized. */
export const LongHistory: Story = {
  args: { room: HISTORY_ROOM },
  play: async ({ canvasElement }) => {
    const started = performance.now();
    const seen: string[] = [];
    for (const type of ['p2pPeerJoin', 'p2pPeerLeave', 'p2pError']) {
      canvasElement.addEventListener(type, e => seen.push(`${Math.round(performance.now() - started)} ms ${type} ${JSON.stringify((e as CustomEvent).detail)}`));
    }
    const { root } = await inWidget(canvasElement, 'p2p-chat');
    // The whole history arrives and the reader is left at its newest message.
    try {
      await waitFor(() => expect(root.querySelector('[part="message-list"]')?.textContent).toContain(`Message ${LONG_HISTORY} of ${LONG_HISTORY}`), PEER_WAIT);
    } catch (err) {
      // What the widget saw, for a failure in CI: its status and what it refused from peers.
      const chat = canvasElement.querySelector('p2p-chat') as HTMLElement & { getWireStats(): Promise<unknown> };
      const stats = await chat.getWireStats().catch((e: Error) => e.message);
      throw new Error(`${(err as Error).message}\nstatus: ${root.querySelector('[part="status"]')?.textContent}\nwire: ${JSON.stringify(stats)}\nevents: ${seen.join('; ')}`);
    }
    // Virtualized: far fewer rows in the DOM than messages held.
    await expect(root.querySelectorAll('[part="message"]').length).toBeLessThan(80);
  },
};

/** Dark theme, on a dark host page. */
export const Dark: Story = {
  args: { theme: 'dark' },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-chat');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/Connected to \d+ peer/), PEER_WAIT);
  },
};

/** Chinese (`lang="zh-CN"`): every string of the widget in Chinese. */
export const Chinese: Story = {
  args: { lang: 'zh-CN' },
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-chat');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/已连接 \d+ 位成员/), PEER_WAIT);
    await expect(getByRole('button', { name: '发送' })).toBeTruthy();
  },
};
