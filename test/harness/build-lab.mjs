#!/usr/bin/env node
/**
 * Bundles test/lab/swarm-lab.ts (the core modules for plain test pages) with Vite
 * into test/lab/build/swarm-lab.js. Used as Vitest's global setup and by the bench.
 */
import path from 'node:path';
import { build } from 'vite';
import { ROOT } from './processes.mjs';

export async function buildLab() {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    build: {
      outDir: path.join(ROOT, 'test/lab/build'),
      emptyOutDir: true,
      minify: false,
      sourcemap: true,
      lib: { entry: path.join(ROOT, 'test/lab/swarm-lab.ts'), formats: ['es'], fileName: () => 'swarm-lab.js' },
    },
  });
}

/** Vitest global setup. */
export default async function setup() {
  await buildLab();
}

if (import.meta.url === `file://${process.argv[1]}`) await buildLab();
