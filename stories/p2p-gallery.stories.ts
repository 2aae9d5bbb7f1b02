import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { expect, userEvent, waitFor } from 'storybook/test';
import { LIVE_ROOM, SAMPLE_PEER_NAME } from './sample-peer/rooms.mjs';
import { attributeArgTypes, emptyRoom, inWidget, liveArgs, PEER_WAIT, renderWidget, storyRelays, WidgetArgs } from './widget-story';


const meta: Meta<WidgetArgs> = {
  title: 'Widgets/p2p-gallery',
  component: 'p2p-gallery',
  tags: ['autodocs'],
  argTypes: attributeArgTypes('p2p-gallery'),
  args: liveArgs(LIVE_ROOM),
  render: args => renderWidget('p2p-gallery', args),
  parameters: {
    docs: {
      description: {
        component: `Live stories meet a scripted sample peer ("${SAMPLE_PEER_NAME}") that shares three pictures. Thumbnails arrive with the entries; the full picture comes from the swarm when opened.`,
      },
    },
  },
};
export default meta;
type Story = StoryObj<WidgetArgs>;

const tiles = (root: ShadowRoot) => root.querySelectorAll('[part="tile"]');

/** The sample peer's pictures on the wall, thumbnails first. */
export const LiveWall: Story = {
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-gallery');
    await waitFor(() => expect(tiles(root).length).toBeGreaterThanOrEqual(3), PEER_WAIT);
    await expect(getByRole('region', { name: 'Pictures' }).textContent).toContain(SAMPLE_PEER_NAME);
  },
};

/** A picture open in the lightbox: the full image fetched from the peer, verified chunk by chunk; Escape closes it. */
export const LightboxOpen: Story = {
  play: async ({ canvasElement }) => {
    const { root, getAllByRole, findByRole } = await inWidget(canvasElement, 'p2p-gallery');
    await waitFor(() => expect(tiles(root).length).toBeGreaterThanOrEqual(3), PEER_WAIT);
    await userEvent.click(getAllByRole('button', { name: new RegExp(`^Open picture by ${SAMPLE_PEER_NAME.replace(/[()]/g, '\\$&')}`) })[0]);
    const dialog = await findByRole('dialog', { name: /^Picture by/ }, PEER_WAIT);
    await waitFor(() => expect(dialog.querySelector('img.full')).toBeTruthy(), PEER_WAIT);
    await waitFor(() => expect((dialog.querySelector('img.full') as HTMLImageElement).naturalWidth).toBeGreaterThan(0), PEER_WAIT);
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(root.querySelector('[role="dialog"]')).toBeNull());
  },
};

/** Alone in a room: an empty wall with the way to add pictures. */
export const AloneInTheRoom: Story = {
  args: { room: emptyRoom('storybook-gallery-alone') },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-gallery');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toBe('Waiting for peers…'), PEER_WAIT);
  },
};

/** Dark theme with two columns. */
export const DarkTwoColumns: Story = {
  args: { theme: 'dark', columns: 2 },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-gallery');
    await waitFor(() => expect(tiles(root).length).toBeGreaterThanOrEqual(3), PEER_WAIT);
  },
};

/** Chinese (`lang="zh-CN"`). */
export const Chinese: Story = {
  args: { lang: 'zh-CN' },
  play: async ({ canvasElement }) => {
    const { root, getByRole } = await inWidget(canvasElement, 'p2p-gallery');
    await waitFor(() => expect(tiles(root).length).toBeGreaterThanOrEqual(3), PEER_WAIT);
    await expect(getByRole('region', { name: '图片' })).toBeTruthy();
  },
};

/** Connecting: the relay accepts the connection but never answers. */
export const Connecting: Story = {
  args: { room: emptyRoom('storybook-gallery-connecting'), 'relay-urls': storyRelays().silentRelayUrl },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-gallery');
    await expect(root.querySelector('[part="status"]')?.textContent).toBe('Connecting to relays…');
  },
};

/** Relays unreachable: after 10 s the widget says so in plain words and emits `p2pError`. */
export const RelaysUnreachable: Story = {
  args: { room: emptyRoom('storybook-gallery-unreachable'), 'relay-urls': 'ws://127.0.0.1:9' },
  play: async ({ canvasElement }) => {
    const { root } = await inWidget(canvasElement, 'p2p-gallery');
    await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/^Connection failed/), { timeout: 30_000 });
  },
};
