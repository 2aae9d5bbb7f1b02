/**
 * Every `code` a widget's `p2pError` event can carry (the `detail.code`; `detail.message` says the
 * rest in English for the host page's logs; the widget shows its own words in the visitor's language):
 * - `bad-attribute`: an attribute has a value the widget cannot use (the message names it)
 * - `strategy-load`: the signaling code for `strategy` could not be loaded
 * - `relay-unreachable`: no signaling relay could be reached: nobody new can join
 * - `room-conflict`: the room is already open on the page with another `password`
 * - `join-error`: joining the room or opening the widget's data failed otherwise
 * - `peer-unreachable`: one visitor could not be reached directly (retried when they announce)
 * - `peer-flood`: a peer sent too much and was disconnected
 * - `storage-full` / `storage-unavailable` / `storage-failed`: IndexedDB is full, forbidden or failing
 * - `worker-unavailable`: the background worker that stores transfers could not start (a Content
 *   Security Policy without `worker-src blob:`) or stopped: transfers go on, stored by the page itself
 * - `not-connected`: an action needs the room and the widget is not (yet) in it
 * - `send-failed`: a message, a chat retraction or a change to a picture (alt text, removal) could not be sent or was refused
 * - `not-an-image` / `not-audio` / `too-large` / `undecodable`: a file the visitor picked was refused
 * - `unavailable`: a picture or track is held by nobody online
 * - `playback`: the browser could not play a track
 * - `bad-ban-entry`: an entry of the music `banned` attribute could not be read
 */
export type P2pErrorCode =
  | 'bad-attribute'
  | 'strategy-load'
  | 'relay-unreachable'
  | 'room-conflict'
  | 'join-error'
  | 'peer-unreachable'
  | 'peer-flood'
  | 'storage-full'
  | 'storage-unavailable'
  | 'storage-failed'
  | 'worker-unavailable'
  | 'not-connected'
  | 'send-failed'
  | 'not-an-image'
  | 'not-audio'
  | 'too-large'
  | 'undecodable'
  | 'unavailable'
  | 'playback'
  | 'bad-ban-entry';
