#!/usr/bin/env node
/**
 * A Nostr relay on 127.0.0.1 for tests and the offline demo (NIP-01 over WebSocket),
 * built from @nostr-relay/core + @nostr-relay/validator behind a `ws` server, with an
 * in-memory event store. Trystero's Nostr strategy only uses ephemeral events
 * (kinds 20000–29999), which the relay broadcasts and never stores.
 *
 * Usage: node test/harness/nostr-relay.mjs [--port 7777] [--host 127.0.0.1] [--log FILE]
 * Prints one line `nostr relay listening on ws://HOST:PORT` when ready (port 0 = any free port).
 * With `--log FILE` (or RELAY_LOG=FILE) every EVENT a client publishes is appended to FILE as one
 * JSON line `{ t, conn, kind, tag, peerId, type }`: `t` ms since epoch, `conn` the connection's
 * number, `peerId` and `type` (announce | offer | answer | candidate) read from Trystero's
 * signaling payload (its `peerId` is plain text; the SDP is encrypted and not logged).
 */
import { EventRepository } from '@nostr-relay/common';
import { NostrRelay } from '@nostr-relay/core';
import { Validator } from '@nostr-relay/validator';
import { appendFileSync } from 'node:fs';
import { WebSocketServer } from 'ws';

/** One log line per published event (see the header); never throws into the relay. */
function eventLogLine(conn, raw) {
  try {
    const [type, event] = JSON.parse(raw);
    if (type !== 'EVENT' || !event || typeof event !== 'object') return null;
    let peerId = null;
    let kind = 'other';
    try {
      const content = JSON.parse(event.content);
      peerId = typeof content.peerId === 'string' ? content.peerId : null;
      kind = ['offer', 'answer', 'candidate'].find(k => typeof content[k] === 'string') ?? (peerId ? 'announce' : 'other');
    } catch {
      /* not Trystero's JSON */
    }
    const tag = (event.tags ?? []).find(t => t[0] === 'x')?.[1] ?? null;
    return JSON.stringify({ t: Date.now(), conn, kind: event.kind, tag, peerId, type: kind }) + '\n';
  } catch {
    return null;
  }
}

/** Keeps regular events in memory (bounded); enough for a test relay. */
class MemoryEventRepository extends EventRepository {
  events = new Map();
  isSearchSupported() {
    return false;
  }
  upsert(event) {
    if (this.events.has(event.id)) return { isDuplicate: true };
    this.events.set(event.id, event);
    if (this.events.size > 10_000) this.events.delete(this.events.keys().next().value);
    return { isDuplicate: false };
  }
  find(filter) {
    const limit = filter.limit ?? 500;
    const out = [];
    for (const e of this.events.values()) {
      if (filter.ids && !filter.ids.includes(e.id)) continue;
      if (filter.kinds && !filter.kinds.includes(e.kind)) continue;
      if (filter.authors && !filter.authors.includes(e.pubkey)) continue;
      if (filter.since && e.created_at < filter.since) continue;
      if (filter.until && e.created_at > filter.until) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }
  async destroy() {
    this.events.clear();
  }
}

/**
 * Starts a relay. Resolves to `{ url, port, close() }`.
 * @param {{ port?: number, host?: string }} [options]
 */
export async function startNostrRelay({ port = 0, host = '127.0.0.1', log = process.env.RELAY_LOG } = {}) {
  let connections = 0;
  const relay = new NostrRelay(new MemoryEventRepository(), { createdAtUpperLimit: 3600, minPowDifficulty: 0 });
  const validator = new Validator();
  const wss = new WebSocketServer({ port, host, maxPayload: 256 * 1024 });
  wss.on('connection', ws => {
    const conn = ++connections;
    relay.handleConnection(ws);
    ws.on('message', async data => {
      if (log) {
        const line = eventLogLine(conn, data.toString());
        if (line) appendFileSync(log, line);
      }
      try {
        const message = await validator.validateIncomingMessage(data);
        await relay.handleMessage(ws, message);
      } catch (err) {
        ws.send(JSON.stringify(['NOTICE', String(err?.message ?? err)]));
      }
    });
    ws.on('close', () => relay.handleDisconnect(ws));
    ws.on('error', () => relay.handleDisconnect(ws));
  });
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const actualPort = wss.address().port;
  return {
    url: `ws://${host}:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise(resolve => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = name => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const relay = await startNostrRelay({ port: Number(arg('port') ?? 7777), host: arg('host') ?? '127.0.0.1', log: arg('log') ?? process.env.RELAY_LOG });
  console.log(`nostr relay listening on ${relay.url}`);
  const stop = async () => {
    await relay.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
