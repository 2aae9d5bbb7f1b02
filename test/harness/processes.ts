import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A child process started by a test; `stop()` kills it by PID. */
export interface ServerProcess {
  pid: number;
  /** The URL the process printed when it became ready. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `node script args…` and resolves once it prints a line matching
 * `ready` (whose first group is the URL). Rejects after `timeoutMs`.
 */
export function startNodeProcess(script: string, args: string[], ready: RegExp, timeoutMs = 15_000): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({
          pid: child.pid!,
          url: match[1],
          stop: () =>
            new Promise<void>(done => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              process.kill(child.pid!, 'SIGTERM');
              setTimeout(() => {
                if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL');
              }, 3000).unref();
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
}

/** Starts the local Nostr relay on a free port. */
export function startRelay(): Promise<ServerProcess> {
  return startNodeProcess('test/harness/nostr-relay.mjs', ['--port', '0'], /nostr relay listening on (ws:\/\/\S+)/);
}

/** Serves `root` (relative to the repo) on a free port; `cors` lets other origins load modules from it. */
export function startStaticServer(root: string, cors = false): Promise<ServerProcess> {
  return startNodeProcess('test/harness/static-server.mjs', ['--root', root, '--port', '0', ...(cors ? ['--cors'] : [])], /static server listening on (http:\/\/\S+)/);
}
