/**
 * Where the local relay logs the events it receives (RELAY_LOG: one JSON line per event,
 * `{ t, conn, kind, tag, peerId, type }`, see test/harness/nostr-relay.mjs).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Points RELAY_LOG at relay.jsonl in a fresh temporary directory (`<tmpdir>/<prefix>XXXXXX/`)
 * so that the relay startWorld() spawns later logs every event it receives there. Call it
 * before starting the relay. Returns the log's absolute path (the file appears once the relay
 * writes to it).
 * @param {string} prefix directory name prefix, e.g. 'mesh-join-'
 * @returns {string}
 */
export function logRelayEventsToTempFile(prefix) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), prefix)), 'relay.jsonl');
  process.env.RELAY_LOG = file;
  return file;
}

