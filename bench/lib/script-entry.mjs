/** Running a bench module as a script (`node bench/x.mjs`) as well as importing it. */
import { pathToFileURL } from 'node:url';

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script Node was started
 * with: equal to `pathToFileURL(process.argv[1])`.
 * @param {string} moduleUrl
 * @returns {boolean}
 */
export function isMainModule(moduleUrl) {
  return moduleUrl === pathToFileURL(process.argv[1] ?? '').href;
}

/**
 * A promise rejection handler that prints `message` and the error to stderr and exits with
 * code 1 ("the bench could not run").
 * @param {string} message e.g. 'bench: gallery could not run:'
 * @returns {(err: unknown) => never}
 */
export function exitOnError(message) {
  return err => {
    console.error(message, err);
    process.exit(1);
  };
}
