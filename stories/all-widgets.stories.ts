import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { expect, waitFor } from 'storybook/test';
import { LIVE_ROOM } from './sample-peer/rooms.mjs';
import { inWidget, liveArgs, PEER_WAIT, renderWidget, WidgetArgs } from './widget-story';


/**
 * All three widgets on one page in one room, as a site owner would lay them out: they share
 * one set of peer connections (the mesh is reference-counted per room on a page).
 */
const meta: Meta<WidgetArgs> = {
  title: 'Pages/All three in one room',
  args: { ...liveArgs(LIVE_ROOM), theme: 'light', lang: 'en' },
  argTypes: {
    theme: { control: { type: 'select' }, options: ['auto', 'light', 'dark'] },
    lang: { control: { type: 'select' }, options: ['en', 'zh-CN'] },
  },
  render: args => {
    const page = document.createElement('div');
    page.style.cssText = 'display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));align-items:start';
    for (const tag of ['p2p-chat', 'p2p-music', 'p2p-gallery'] as const) page.append(renderWidget(tag, args));
    return page;
  },
};
export default meta;

export const SharedRoom: StoryObj<WidgetArgs> = {
  play: async ({ canvasElement }) => {
    for (const tag of ['p2p-chat', 'p2p-music', 'p2p-gallery'] as const) {
      const { root } = await inWidget(canvasElement, tag);
      await waitFor(() => expect(root.querySelector('[part="status"]')?.textContent).toMatch(/Connected to \d+ peer/), PEER_WAIT);
    }
  },
};
