import { defineConfig } from 'vitest/config';
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS } from './test/harness/browser.mjs';

/**
 * Three projects, run one after another (`sequence.groupOrder`) so browser-heavy suites
 * never share the 2 CPU cores:
 * - `unit`: src/core in Node.
 * - `browser`: multi-peer and component tests that drive real headless Chromium
 *   (playwright-core) against a local relay; run one file at a time.
 * - `storybook`: every story in stories/ rendered in headless Chromium with its play
 *   function as the test (@storybook/addon-vitest), live stories meeting the scripted
 *   sample peer on a local relay (test/harness/storybook-world.mjs).
 */
export default defineConfig({
  test: {
    // The JSON report is what .ci/run reads for its closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        test: { name: 'unit', environment: 'node', include: ['src/core/**/*.test.ts'], testTimeout: 20_000, sequence: { groupOrder: 0 } },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/**/*.e2e.ts', 'src/components/**/*.e2e.ts'],
          // Bundles test/lab (the core for plain test pages) before the browser tests.
          globalSetup: ['test/harness/build-lab.mjs'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        plugins: [storybookTest({ configDir: '.storybook' })],
        test: {
          name: 'storybook',
          globalSetup: ['test/harness/storybook-world.mjs'],
          setupFiles: ['.storybook/vitest.setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 2 },
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
