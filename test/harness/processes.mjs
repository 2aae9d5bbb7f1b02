/**
 * Child processes for tests, the bench and screenshots: the local Nostr relay and
 * static servers. Each is started by the caller and stopped by PID.
 */
import { spawn } from 'node:child_process';
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
        stop: () =>
          new Promise(done => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            process.kill(child.pid, 'SIGTERM');
            setTimeout(() => {
              if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
            }, 3000).unref();
          }),
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

/** Starts the local Nostr relay on a free port. */
export function startRelay() {
  return startNodeProcess('test/harness/nostr-relay.mjs', ['--port', '0'], /nostr relay listening on (ws:\/\/\S+)/);
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
