import type { StorybookConfig } from '@storybook/web-components-vite';

/**
 * Storybook 10 for the three widgets (web-components-vite). The stories load the
 * auto-defining `dist/components/*.js` build (`npm run build` first) and read the
 * attribute docs from `custom-elements.json`; live stories meet the scripted sample
 * peer (stories/sample-peer) on the local relay that `npm run storybook` starts.
 */
const config: StorybookConfig = {
  stories: ['../stories/**/*.stories.ts'],
  addons: ['@storybook/addon-docs', '@storybook/addon-vitest'],
  framework: { name: '@storybook/web-components-vite', options: {} },
  core: { disableTelemetry: true },
};
export default config;
