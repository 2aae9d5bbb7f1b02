import { defineConfig } from 'vite';

// Nothing special is needed: `p2p-widgets/components/*.js` are plain ES modules.
export default defineConfig({});
