#!/usr/bin/env node
/**
 * A WebTorrent (WebSocket) tracker from bittorrent-tracker on 127.0.0.1, for tests of `strategy="torrent"`.
 * Usage: node test/harness/torrent-tracker.mjs [--port 0]
 * Prints `torrent tracker listening on ws://127.0.0.1:PORT` when ready.
 */
import { Server } from 'bittorrent-tracker';

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 0;
const tracker = new Server({ http: false, udp: false, ws: true, stats: false });
tracker.on('error', err => console.error('tracker error', err.message));
tracker.on('warning', () => undefined);
tracker.listen(port, '127.0.0.1', () => console.log(`torrent tracker listening on ws://127.0.0.1:${tracker.ws.address().port}`));
const stop = () => tracker.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
