/** The widget bundle the bench pages load (www/build), built when missing, and its age. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../test/harness/processes.mjs';

/** Absolute path of the ESM entry of the Stencil build, www/build/p2p-widgets.esm.js. */
export const BUNDLE = path.join(ROOT, 'www/build/p2p-widgets.esm.js');

/**
 * Builds the widgets (`npx stencil build --ci`, output inherited) when `BUNDLE` is missing,
 * saying so first; throws 'stencil build failed' when the build fails or makes no bundle.
 * Synchronous; returns nothing.
 */
export function ensureBundle() {
  if (!existsSync(BUNDLE)) {
    console.log('bench: www/build/p2p-widgets.esm.js is missing, building (npx stencil build --ci)…');
    const build = spawnSync('npx', ['stencil', 'build', '--ci'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0 || !existsSync(BUNDLE)) throw new Error('stencil build failed');
  }
}

/**
 * Whether the bundle is older than the sources: `bundleTime` = `BUNDLE`'s mtime (epoch ms);
 * `newer` = the files under src/ (repo-relative paths) ending in .ts, .tsx or .css, except
 * *.test.ts, modified after it; `note` = the sentence for the report's notes when `newer` is
 * not empty, else null. `BUNDLE` must exist.
 * @returns {{ bundleTime: number, newer: string[], note: string | null }}
 */
export function bundleFreshness() {
  const bundleTime = statSync(BUNDLE).mtimeMs;
  const newer = [];
  const walk = dir => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|tsx|css)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && statSync(p).mtimeMs > bundleTime) newer.push(path.relative(ROOT, p));
    }
  };
  walk(path.join(ROOT, 'src'));
  const note = newer.length ? `the bundle (www/build, ${new Date(bundleTime).toISOString()}) is older than ${newer.length} source file(s), e.g. ${newer.slice(0, 3).join(', ')}: run \`npm run build\` first to measure the current code` : null;
  return { bundleTime, newer, note };
}
