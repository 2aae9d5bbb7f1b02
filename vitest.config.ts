import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - `unit`: src/core in Node.
 * - `browser`: multi-peer and component tests that drive real headless Chromium
 *   (playwright-core) against a local relay; run one file at a time (2 cores).
 */
export default defineConfig({
  test: {
    // The JSON report is what .ci/run reads for its closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        test: { name: 'unit', environment: 'node', include: ['src/core/**/*.test.ts'], testTimeout: 20_000 },
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
        },
      },
    ],
  },
});
