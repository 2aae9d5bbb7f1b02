import { P2pDatabase } from '../store';

let databases = 0;

/**
 * A new, empty {@link P2pDatabase} with a unique name (needs an IndexedDB: in Node, import
 * `fake-indexeddb/auto` first in the test file). `failWrites()` makes every later write to the
 * table `failingTable` (not its deletes) fail as the browser does when the quota is exhausted
 * (`QuotaExceededError`), through a Dexie middleware, so the real store code sees a real Dexie
 * rejection; `when: 'after-write'` lets the write reach IndexedDB inside its transaction first.
 * `delayWrites(ms)` makes every later write to that table report its success `ms` late (a slow disk; 0: off).
 */
export function freshDatabase(
  label = 'test',
  failingTable = 'signedRecords',
): P2pDatabase & { failWrites(on?: boolean, when?: 'before' | 'after-write'): void; delayWrites(ms: number): void } {
  const db = new P2pDatabase(`${label}-${++databases}-${Math.random().toString(36).slice(2)}`);
  let failing = false;
  let after = false;
  let delayMs = 0;
  const quota = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  db.use({
    stack: 'dbcore',
    name: 'test-quota',
    create: down => ({
      ...down,
      table: name => {
        const table = down.table(name);
        return {
          ...table,
          mutate: req => {
            if (delayMs && name === failingTable) {
              const ms = delayMs;
              // The write is issued at once (inside its transaction) and its result arrives `ms` later.
              return table.mutate(req).then(res => new Promise<typeof res>(resolve => setTimeout(() => resolve(res), ms)));
            }
            return failing && name === failingTable && req.type !== 'delete' ? (after ? table.mutate(req).then(quota) : quota()) : table.mutate(req);
          },
        };
      },
    }),
  });
  // `after-write`: the write reaches IndexedDB inside its transaction, then fails (the transaction must roll it back).
  return Object.assign(db, {
    failWrites: (on = true, when: 'before' | 'after-write' = 'before') => void ((failing = on), (after = when === 'after-write')),
    delayWrites: (ms: number) => void (delayMs = ms),
  });
}
