/** Stopping a bench's servers and browser exactly once: on Ctrl-C / SIGTERM, on a watchdog, or at the end. */

/**
 * Arms the teardown of a bench run. `stop()` calls `stopAll` once and returns the same promise
 * on every later call. SIGINT / SIGTERM (once each) stop and exit with code 130. After
 * `watchdogMs` (ms; the timer does not keep the process alive) it prints
 * '<watchdogLabel> after <watchdogMs / 1000> s, stopping' to stderr, stops and exits with code 2.
 * In the script's `finally`: `clearWatchdog()`, then (if the script removes its signal
 * handlers) `removeSignalHandlers()`, then `await stop()`.
 * @param {() => Promise<unknown>} stopAll stops everything the run started (e.g. `() => world.stop()`)
 * @param {{ watchdogMs: number, watchdogLabel: string }} options watchdogLabel e.g. 'bench: gallery watchdog'
 * @returns {{ stop: () => Promise<unknown>, clearWatchdog: () => void, removeSignalHandlers: () => void }}
 */
export function guardRun(stopAll, { watchdogMs, watchdogLabel }) {
  let stopping = null;
  const stop = () => (stopping ??= stopAll());
  const onSignal = () => stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`${watchdogLabel} after ${watchdogMs / 1000} s, stopping`);
    stop().then(() => process.exit(2));
  }, watchdogMs);
  watchdog.unref();
  return {
    stop,
    clearWatchdog: () => clearTimeout(watchdog),
    removeSignalHandlers: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}
