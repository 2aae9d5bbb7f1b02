import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [
    vue({
      // <p2p-chat>, <p2p-gallery>, <p2p-music> are custom elements, not Vue components.
      template: { compilerOptions: { isCustomElement: tag => tag.startsWith('p2p-') } },
    }),
  ],
});
