import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { expect, userEvent, waitFor } from 'storybook/test';
import { LIVE_ROOM, SAMPLE_PEER_NAME } from './sample-peer/rooms.mjs';
import { attributeArgTypes, emptyRoom, inWidget, liveArgs, PEER_WAIT, renderWidget, storyRelays, WidgetArgs } from './widget-story';


const meta: Meta<WidgetArgs> = {
  title: 'Widgets/p2p-music',
  component: 'p2p-music',
  tags: ['autodocs'],
  argTypes: attributeArgTypes('p2p-music'),
  args: liveArgs(LIVE_ROOM),
  render: args => renderWidget('p2p-music', args),
  parameters: {
    docs: {
      description: {
        component: `Live stories meet a scripted sample peer ("${SAMPLE_PEER_NAME}") that shares three tracks (mp3 with synced lyrics, wav, flac). Press play: the track streams from it.`,
      },
    },
  },
};
export default meta;
type Story = StoryObj<WidgetArgs>;

const titles = (root: ShadowRoot) => [...root.querySelectorAll('[part="track"] .title')].map(el => el.textContent);

/** Waits for the sample peer's tracks; a failure says what the widget showed (status, list). */
async function waitForTracks(root: ShadowRoot, title = 'Morning Tone') {
  await waitFor(() => {
    const status = root.querySelector('[part="status"]')?.textContent ?? '';
    if (!titles(root).includes(title)) throw new Error(`no "${title}" yet; status "${status}"; tracks ${JSON.stringify(titles(root))}`);
  }, PEER_WAIT);
}

/** The sample peer's tracks, listed under its name; playing one streams it from the peer. */
export const LiveRoom: Story = {
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-music');
    await waitForTracks(root);
    await waitFor(() => expect(titles(root)).toEqual(expect.arrayContaining(['Morning Tone', 'evening-tone', 'Night Tone'])), PEER_WAIT);
    await expect(root.querySelector('[part="track-list"]')?.textContent).toContain(SAMPLE_PEER_NAME);
    await userEvent.click(getByRole('button', { name: 'Play Morning Tone' }));
    const player = getByRole('region', { name: 'Player' });
    await waitFor(() => expect(player.textContent).toContain('Morning Tone'), PEER_WAIT);
    await waitFor(() => expect(root.querySelector('[part="track"][aria-current="true"]')).toBeTruthy(), PEER_WAIT);
  },
};

/** A ban entry (`ban="night"`) hides the matching track behind a count. */
export const BannedTracksHidden: Story = {
  args: { ban: 'night' },
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-music');
    await waitForTracks(root);
    await waitFor(() => expect(getByRole('button', { name: '1 hidden' })).toBeTruthy(), PEER_WAIT);
    await expect(titles(root)).not.toContain('Night Tone');
  },
};

/** Alone in a room: an empty list and the way to add tracks. */
export const AloneInTheRoom: Story = {
  args: { room: emptyRoom('storybook-music-alone') },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-music');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toBe('Waiting for peers…'), PEER_WAIT);
  },
};

/** Dark theme. */
export const Dark: Story = {
  args: { theme: 'dark' },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-music');
    await waitForTracks(root);
  },
};

/** Chinese (`lang="zh-CN"`). */
export const Chinese: Story = {
  args: { lang: 'zh-CN' },
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-music');
    await waitForTracks(root);
    await expect(getByRole('button', { name: '播放 Morning Tone' })).toBeTruthy();
  },
};

/** Connecting: the relay accepts the connection but never answers. */
export const Connecting: Story = {
  args: { room: emptyRoom('storybook-music-connecting'), 'relay-urls': storyRelays().silentRelayUrl },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-music');
    await expect(root.querySelector('[part="status"]')?.textContent).toBe('Connecting to relays…');
  },
};

/** Relays unreachable: after 10 s the widget says so in plain words and emits `p2pError`. */
export const RelaysUnreachable: Story = {
  args: { room: emptyRoom('storybook-music-unreachable'), 'relay-urls': 'ws://127.0.0.1:9' },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-music');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/^Connection failed/), { timeout: 30_000 });
  },
};
