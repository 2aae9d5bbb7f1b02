/**
 * Vitest globalSetup of the `storybook` project (the story play functions run as tests):
 * starts a local Nostr relay, a silent relay (accepts, never answers) and the scripted
 * sample peer in the story rooms, hands their URLs to the stories through `provide`, and
 * stops them by PID afterwards.
 */
import { startNodeProcess, startRelay } from './processes.mjs';
import { startSilentRelay } from '../../stories/sample-peer/silent-relay.mjs';

/** @param {import('vitest/node').TestProject} project */
export default async function setup(project) {
  const relay = await startRelay();
  const silent = await startSilentRelay();
  const peer = await startNodeProcess('stories/sample-peer/sample-peer.mjs', ['--relay', relay.url], /(sample peer ready)/, 120_000);
  project.provide('storyRelayUrl', relay.url);
  project.provide('storySilentRelayUrl', silent.url);
  return async () => {
    await peer.stop();
    await Promise.all([relay.stop(), silent.close()]);
  };
}
