/**
 * Child processes for tests, the bench and screenshots: the local Nostr relay and
 * static servers. Each is started by the caller and stopped by PID.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * @typedef {object} ServerProcess A child process started by a test; `stop()` kills it by PID.
 * @property {number} pid
 * @property {string} url the URL the process printed when it became ready
 * @property {() => Promise<void>} stop
 */

/** Stops a child process by PID: SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
function stopChild(child) {
  return new Promise(done => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    process.kill(child.pid, 'SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }, 3000).unref();
  });
}

/**
 * Starts `node script args…` and resolves once it prints a line matching
 * `ready` (whose first group is the URL). Rejects after `timeoutMs`.
 * @param {string} script path relative to the repo root
 * @param {string[]} args
 * @param {RegExp} ready
 * @param {number} [timeoutMs]
 * @returns {Promise<ServerProcess>}
 */
export function startNodeProcess(script, args, ready, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = chunk => {
      output += chunk.toString();
      const match = output.match(ready);
      if (!match || started) return;
      started = true;
      clearTimeout(timer);
      resolve({
        pid: child.pid,
        url: match[1],
        stop: () => stopChild(child),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', chunk => (output += chunk.toString()));
    child.once('exit', code => {
      clearTimeout(timer);
      if (!started) reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Starts the local Nostr relay on a free port, or on `port` (a relay restarted after an outage
 * must come back at the same address). With `log`, every published event is logged there (JSON lines).
 * @param {{ port?: number, log?: string }} [options]
 */
export function startRelay({ port = 0, log } = {}) {
  return startNodeProcess('test/harness/nostr-relay.mjs', ['--port', String(port), ...(log ? ['--log', log] : [])], /nostr relay listening on (ws:\/\/\S+)/);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects after `timeoutMs`. */
async function waitForPort(port, timeoutMs, child) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const open = await new Promise(resolve => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 100));
  }
}

/**
 * Starts a server binary (Debian's coturn or mosquitto) and resolves once it accepts TCP on `port`.
 * Its output goes to `logFile`; `stop()` kills it by PID.
 * @returns {Promise<ServerProcess & { logFile: string, log: () => string }>}
 */
async function startBinary(command, args, port, url, logFile, timeoutMs = 15_000) {
  const { openSync } = await import('node:fs');
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', out, out] });
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', resolve);
  });
  try {
    await waitForPort(port, timeoutMs, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${command} did not start: ${err.message}\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
  }
  return {
    pid: child.pid,
    url,
    logFile,
    log: () => readFileSync(logFile, 'utf8'),
    stop: () => stopChild(child),
  };
}

/**
 * Starts Debian's coturn (`turnserver`, apt package coturn) on 127.0.0.1: long-term credentials
 * `user`/`pass`, relay addresses on 127.0.0.1, loopback peers allowed, no TLS, no CLI, verbose log
 * (each allocation is logged). `url` is the `turn:` URL; `iceServer` the RTCIceServer for it.
 * @returns {Promise<ServerProcess & { iceServer: RTCIceServer, log: () => string, allocations: () => number }>}
 */
export async function startCoturn({ user = 'p2p', pass = 'widgets' } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coturn-'));
  const logFile = path.join(dir, 'turnserver.log');
  const min = 40000 + Math.floor(Math.random() * 2000) * 10;
  const server = await startBinary(
    process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver',
    ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`, `--min-port=${min}`, `--max-port=${min + 400}`,
      '--allow-loopback-peers', '--lt-cred-mech', `--user=${user}:${pass}`, '--realm=p2p-widgets.test', '--no-tls', '--no-dtls', '--no-cli',
      '--verbose', '--log-file=stdout', '--simple-log', '--no-stun-backward-compatibility', `--pidfile=${path.join(dir, 'turnserver.pid')}`],
    port,
    `turn:127.0.0.1:${port}`,
    logFile,
  );
  return {
    ...server,
    iceServer: { urls: `turn:127.0.0.1:${port}?transport=udp`, username: user, credential: pass },
    /**
     * TURN allocations made so far: the distinct coturn sessions with an "ALLOCATE processed,
     * success" line. Not the lines themselves: a client that retransmits its ALLOCATE (no answer
     * within its 500 ms timeout, e.g. on a loaded machine) gets the stored success again, and
     * coturn logs it again for the same session (seen: one session logged twice while idle; 7
     * lines for two visitors in a loaded full-suite run, against 3 allocations).
     */
    allocations: () => new Set([...server.log().matchAll(/session (\d+): [^\n]*ALLOCATE processed, success/g)].map(m => m[1])).size,
  };
}

/**
 * Starts Debian's mosquitto (the broker site owners deploy) with a WebSocket listener on
 * 127.0.0.1 (and the plain listener mosquitto 2.0 requires beside it). `url` is the ws:// URL.
 * @returns {Promise<ServerProcess & { log: () => string }>}
 */
export async function startMosquitto() {
  const [plain, ws] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  chmodSync(dir, 0o777); // run as root, mosquitto drops to its own user before opening the log
  const logFile = path.join(dir, 'mosquitto.log');
  // log_dest file: flushed per line (stdout into a file is block-buffered until exit).
  writeFileSync(conf, [`listener ${plain} 127.0.0.1`, `listener ${ws} 127.0.0.1`, 'protocol websockets', 'allow_anonymous true', 'persistence false', `log_dest file ${logFile}`, 'log_type all', ''].join('\n'));
  const server = await startBinary(process.env.MOSQUITTO_PATH ?? '/usr/sbin/mosquitto', ['-c', conf], ws, `ws://127.0.0.1:${ws}`, path.join(dir, 'stdout.log'));
  return { ...server, logFile, log: () => readFileSync(logFile, 'utf8') };
}

/**
 * Serves `root` (relative to the repo) on a free port.
 * @param {string} root
 * @param {boolean} [cors] let other origins load modules from it
 */
export function startStaticServer(root, cors = false) {
  return startNodeProcess('test/harness/static-server.mjs', ['--root', root, '--port', '0', ...(cors ? ['--cors'] : [])], /static server listening on (http:\/\/\S+)/);
}

/** Starts a local MQTT broker (aedes over WebSocket) on a free port. */
export function startMqttBroker() {
  return startNodeProcess('test/harness/mqtt-broker.mjs', ['--port', '0'], /mqtt broker listening on (ws:\/\/\S+)/);
}

/** Starts a local WebTorrent tracker on a free port. */
export function startTorrentTracker() {
  return startNodeProcess('test/harness/torrent-tracker.mjs', ['--port', '0'], /torrent tracker listening on (ws:\/\/\S+)/);
}
