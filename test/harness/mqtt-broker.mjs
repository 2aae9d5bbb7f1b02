#!/usr/bin/env node
/**
 * An MQTT broker (aedes) reachable over WebSocket on 127.0.0.1, for tests of `strategy="mqtt"`.
 * Usage: node test/harness/mqtt-broker.mjs [--port 0]
 * Prints `mqtt broker listening on ws://127.0.0.1:PORT` when ready.
 */
import http from 'node:http';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 0;
const broker = await Aedes.createBroker();
const server = http.createServer();
const wss = new WebSocketServer({ server });
wss.on('connection', ws => broker.handle(createWebSocketStream(ws)));
server.listen(port, '127.0.0.1', () => console.log(`mqtt broker listening on ws://127.0.0.1:${server.address().port}`));
const stop = () => {
  for (const client of wss.clients) client.terminate();
  broker.close(() => server.close(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
