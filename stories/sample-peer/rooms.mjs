/**
 * Rooms and names shared by the stories and the scripted sample peer
 * (stories/sample-peer/sample-peer.mjs). Plain ES module so both the stories
 * (browser, via Vite) and the peer (Node) import it.
 */

/** App id of every story widget and of the sample peer: Storybook (localhost:6006) and the peer's page have different hosts, so the default app id (the page's host) would keep them apart. */
export const STORY_APP_ID = 'p2p-widgets-storybook';

/** The room where the sample peer chats, shares tracks and shares pictures. */
export const LIVE_ROOM = 'storybook-live';

/** The room where the sample peer holds a long chat history (LONG_HISTORY messages) for newcomers to sync. */
export const HISTORY_ROOM = 'storybook-history';

/** Messages the sample peer holds in HISTORY_ROOM. */
export const LONG_HISTORY = 300;

/** The sample peer's display name. */
export const SAMPLE_PEER_NAME = 'Mia (sample peer)';

/** The sample peer answers every chat message with this prefix followed by the message in quotes. */
export const REPLY_PREFIX = 'Got it:';

/** Default relay of `npm run storybook` (the same port as `npm start`). */
export const DEFAULT_RELAY_URL = 'ws://127.0.0.1:7777';
