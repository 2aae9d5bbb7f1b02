#!/usr/bin/env node
/**
 * `npm run storybook`: builds the widgets if needed, starts the local Nostr relay on
 * ws://127.0.0.1:7777 (the stories' default), a silent relay on 7778 (the Connecting story)
 * and the scripted sample peer (stories/sample-peer) that fills the story rooms, then
 * Storybook's dev server on http://localhost:6006. Ctrl+C stops all of them.
 * Extra arguments go to `storybook dev` (e.g. `npm run storybook -- -p 6007`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startNostrRelay } from '../test/harness/nostr-relay.mjs';
import { ROOT, startNodeProcess } from '../test/harness/processes.mjs';
import { DEFAULT_RELAY_URL } from '../stories/sample-peer/rooms.mjs';
import { startSilentRelay } from '../stories/sample-peer/silent-relay.mjs';

if (!existsSync(path.join(ROOT, 'dist/components/p2p-chat.js')) || !existsSync(path.join(ROOT, 'www/build/p2p-widgets.esm.js'))) {
  console.log('building the widgets first (npm run build)…');
  if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) process.exit(1);
}

/** Starts a server on a fixed port; if the port is taken (`npm start` runs its relay there too), uses what is there. */
async function startOrReuse(start, url) {
  try {
    return await start();
  } catch (err) {
    if (err?.code !== 'EADDRINUSE') throw err;
    console.log(`${url} is already taken (npm start?): using it`);
    return { url, close: async () => undefined };
  }
}
const port = Number(new URL(DEFAULT_RELAY_URL).port);
const relay = await startOrReuse(() => startNostrRelay({ port }), DEFAULT_RELAY_URL);
const silent = await startOrReuse(() => startSilentRelay(port + 1), `ws://127.0.0.1:${port + 1}`);
console.log(`nostr relay on ${relay.url}; silent relay on ${silent.url}`);
const peer = await startNodeProcess('stories/sample-peer/sample-peer.mjs', ['--relay', relay.url], /(sample peer ready)/, 120_000);
console.log('sample peer ready in the story rooms');

const storybook = spawn('npx', ['storybook', 'dev', '-p', '6006', '--ci', '--no-open', '--no-version-updates', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
let stopping = false;
const stop = async code => {
  if (stopping) return;
  stopping = true;
  storybook.kill('SIGTERM');
  await peer.stop();
  await Promise.all([relay.close(), silent.close()]);
  process.exit(code ?? 0);
};
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
storybook.on('exit', code => stop(code ?? 0));
