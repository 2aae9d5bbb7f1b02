#!/usr/bin/env node
/**
 * Static file server on 127.0.0.1 (sirv) for tests, the bench and screenshots.
 * Usage: node test/harness/static-server.mjs --root DIR [--port 0] [--cors]
 * `--cors` adds `Access-Control-Allow-Origin: *` so another origin can load
 * the bundle as a module script, as a third-party site would from a CDN.
 * Prints `static server listening on http://127.0.0.1:PORT` when ready.
 */
import http from 'node:http';
import sirv from 'sirv';

const arg = name => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const root = arg('root') ?? '.';
const cors = process.argv.includes('--cors');
const serve = sirv(root, { dev: true, etag: false });
const server = http.createServer((req, res) => {
  if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
  serve(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  });
});
server.listen(Number(arg('port') ?? 0), '127.0.0.1', () => {
  console.log(`static server listening on http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
