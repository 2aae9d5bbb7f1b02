import { defineConfig } from 'vite';

// A real app would add @vitejs/plugin-react (Fast Refresh); for a build, Vite's own
// TSX transform with React's automatic runtime is enough.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
});
