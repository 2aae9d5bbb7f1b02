/** How long a page waits for an answer to its `want` before giving up on finding a holder, ms. */
export const HOLDER_REPLY_MS = 3000;
/** How long a holder search may take in all (answer, then a temporary link and its bulk channels), ms. */
export const HOLDER_SEARCH_MS = 8000;
/** A page says it holds a file at most once per this, ms (an answer to a `want` at most once per {@link HOLDS_ANSWER_MS}). */
export const HOLDS_REPEAT_MS = 30_000;
/** A page answers a `want` for a file at most once per this, ms. */
export const HOLDS_ANSWER_MS = 5000;
/** A page asks the room who holds a file at most once per this, ms. */
export const WANT_REPEAT_MS = 60_000;
/** `want` and `holds` are batched over this, ms (a wall of 50 pictures is one or two messages, within the per-origin rate). */
export const HOLDERS_BATCH_MS = 200;
/** How long a `holds` hint is kept, ms: a page that left is tried once and fails at the connect timeout. */
export const HINT_TTL_MS = 10 * 60_000;
/** Files with hints kept at most (oldest forgotten first). */
export const MAX_HINTED_FILES = 2000;
/** Holders kept per file (the most recent). */
export const MAX_HOLDERS_PER_FILE = 8;

/**
 * Who said they hold which file (`swarm-holders` `holds`, forwarded along the partial mesh), newest
 * first, bounded in files ({@link MAX_HINTED_FILES}), holders per file ({@link MAX_HOLDERS_PER_FILE})
 * and age ({@link HINT_TTL_MS}). Hints are a page's word only: a wrong one costs one failed
 * temporary link, and the swarm verifies every byte it gets.
 */
export class HolderHints {
  private readonly files = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** `peerId` said it holds `cid`. */
  add(cid: string, peerId: string): void {
    let holders = this.files.get(cid);
    if (holders) this.files.delete(cid); // re-insert: the map's order is least recently told first
    else holders = new Map();
    holders.delete(peerId);
    holders.set(peerId, this.now());
    while (holders.size > MAX_HOLDERS_PER_FILE) holders.delete(holders.keys().next().value!);
    this.files.set(cid, holders);
    while (this.files.size > MAX_HINTED_FILES) this.files.delete(this.files.keys().next().value!);
  }

  /** Pages that said they hold `cid` within {@link HINT_TTL_MS}, most recent first. */
  get(cid: string): string[] {
    const holders = this.files.get(cid);
    if (!holders) return [];
    const now = this.now();
    for (const [id, at] of holders) if (now - at > HINT_TTL_MS) holders.delete(id);
    return [...holders.keys()].reverse();
  }

  /** Forgets a page (it left the room). */
  forget(peerId: string): void {
    for (const holders of this.files.values()) holders.delete(peerId);
  }
}

/** Resolves true as soon as `ready()` holds (checked every 100 ms), or false after `timeoutMs`. */
export function waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  return new Promise(resolve => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        resolve(true);
      } else if (Date.now() - started >= timeoutMs) {
        clearInterval(timer);
        resolve(false);
      }
    }, 100);
  });
}
