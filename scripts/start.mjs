#!/usr/bin/env node
/**
 * `npm start`: the offline demo. Starts the local Nostr relay on ws://127.0.0.1:7777
 * and the Stencil dev server (http://localhost:3333, opens the demo page in a browser),
 * and stops both on Ctrl+C.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNostrRelay } from '../test/harness/nostr-relay.mjs';

const relay = await startNostrRelay({ port: Number(process.env.RELAY_PORT ?? 7777) });
console.log(`nostr relay listening on ${relay.url}`);

// Stencil's CLI run by this Node directly (not through npx, which does not pass SIGTERM on), so
// stopping this script by its PID stops the dev server too.
const stencilCli = fileURLToPath(new URL('../node_modules/@stencil/core/bin/stencil', import.meta.url));
const stencil = spawn(process.execPath, [stencilCli, 'build', '--dev', '--watch', '--serve', '--ci'], { stdio: 'inherit' });
const stop = async () => {
  stencil.kill('SIGTERM');
  await relay.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
stencil.on('exit', async code => {
  await relay.close();
  process.exit(code ?? 0);
});
