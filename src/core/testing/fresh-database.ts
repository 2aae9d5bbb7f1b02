import { P2pDatabase } from '../store';

let databases = 0;

/**
 * A new, empty {@link P2pDatabase} with a unique name (needs an IndexedDB: in Node, import
 * `fake-indexeddb/auto` first in the test file). `failWrites()` makes every later write to the
 * table `failingTable` (not its deletes) fail as the browser does when the quota is exhausted
 * (`QuotaExceededError`), through a Dexie middleware, so the real store code sees a real Dexie
 * rejection; `when: 'after-write'` lets the write reach IndexedDB inside its transaction first.
 */
export function freshDatabase(label = 'test', failingTable = 'chatRecords'): P2pDatabase & { failWrites(on?: boolean, when?: 'before' | 'after-write'): void } {
  const db = new P2pDatabase(`${label}-${++databases}-${Math.random().toString(36).slice(2)}`);
  let failing = false;
  let after = false;
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
          mutate: req =>
            failing && name === failingTable && req.type !== 'delete' ? (after ? table.mutate(req).then(quota) : quota()) : table.mutate(req),
        };
      },
    }),
  });
  // `after-write`: the write reaches IndexedDB inside its transaction, then fails (the transaction must roll it back).
  return Object.assign(db, { failWrites: (on = true, when: 'before' | 'after-write' = 'before') => void ((failing = on), (after = when === 'after-write')) });
}
