import type { Preview } from '@storybook/web-components-vite';
import { setCustomElementsManifest } from '@storybook/web-components-vite';
import manifest from '../custom-elements.json';
// The auto-defining custom-elements build (the bundler entry of the package).
import '../dist/components/p2p-chat.js';
import '../dist/components/p2p-music.js';
import '../dist/components/p2p-gallery.js';

setCustomElementsManifest(manifest);

const preview: Preview = {
  parameters: {
    controls: { expanded: true, sort: 'requiredFirst' },
    docs: { toc: true },
    layout: 'padded',
  },
  // A dark story gets a dark page behind it, as a host site with a dark theme would have.
  decorators: [
    (story, context) => {
      const dark = context.args.theme === 'dark';
      document.body.style.background = dark ? '#010409' : '';
      document.body.style.colorScheme = dark ? 'dark' : '';
      return story();
    },
  ],
};
export default preview;
