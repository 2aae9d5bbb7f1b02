import { Config } from '@stencil/core';

/**
 * Stencil build: namespace `p2p-widgets`.
 * - `dist`: lazy loader for the script tag / CDN (`dist/p2p-widgets/p2p-widgets.esm.js`).
 * - `dist-custom-elements`: one auto-defining module per tag, for bundlers.
 * - `docs-readme` + `docs-custom-elements-manifest`: per-component readme.md and custom-elements.json.
 * - `www`: the demo site (`www/build/p2p-widgets.esm.js` is the script-tag entry).
 */
export const config: Config = {
  namespace: 'p2p-widgets',
  taskQueue: 'async',
  outputTargets: [
    { type: 'dist', esmLoaderPath: '../loader' },
    { type: 'dist-custom-elements', customElementsExportBehavior: 'auto-define-custom-elements', externalRuntime: false },
    { type: 'docs-readme' },
    // custom-elements.json (Custom Elements Manifest schema) for editors, Storybook and framework tooling.
    { type: 'docs-custom-elements-manifest', file: 'custom-elements.json' },
    {
      type: 'www',
      serviceWorker: null,
      // www/*.html are hand-written demo pages kept in git; the build only writes www/build.
      empty: false,
    },
  ],
  testing: { browserHeadless: 'shell' },
};
