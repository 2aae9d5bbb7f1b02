/**
 * Setup of the `storybook` Vitest project (runs in the test browser before the story files):
 * points the stories at the relays that test/harness/storybook-world.mjs started.
 */
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    storyRelayUrl: string;
    storySilentRelayUrl: string;
  }
}

(globalThis as { __P2P_STORYBOOK__?: { relayUrl: string; silentRelayUrl: string } }).__P2P_STORYBOOK__ = {
  relayUrl: inject('storyRelayUrl'),
  silentRelayUrl: inject('storySilentRelayUrl'),
};
