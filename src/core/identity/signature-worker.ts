import { fromBase64Url } from './base64url';
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN, verifySignature } from './device-identity';

/**
 * Verifying many signatures off the page's main thread. Chromium runs a WebCrypto `verify` on the
 * calling thread (the `DoVerify` trace event): a newcomer's 10,000-record chat backfill spent about
 * 0.8–1 s of its main thread there (bench/chat-history.mjs, BENCH_HISTORY_TRACE=1). A batch of at
 * least {@link WORKER_MIN_BATCH} signatures goes to one worker per page, started from a `blob:` URL
 * on first use (so it also runs when the widgets are loaded from another origin); where the page
 * refuses it (a Content Security Policy without `worker-src blob:`), the platform has no workers, or
 * the worker dies or stays silent, the same checks run on the main thread. A live record (one
 * signature) is checked on the main thread: the worker's two message hops would cost it more than
 * the check.
 */

/** One signature to check: its author's public key (base64url P-256 point), the signed bytes and the signature (base64url P1363). */
export interface SignatureCheck {
  /** The author's public key: the 65-byte uncompressed P-256 point, base64url (87 characters). */
  publicKey: string;
  /** The signed bytes (a record's canonical bytes). */
  data: Uint8Array;
  /** The signature: 64-byte r‖s (IEEE P1363), base64url (86 characters). */
  signature: string;
}

/** Smallest batch sent to the worker; smaller ones are checked on the main thread. */
export const WORKER_MIN_BATCH = 8;
/** How long the worker may take for one batch before it is retired and the batch checked here, ms. */
const WORKER_TIMEOUT_MS = 10_000;

/** Counters for diagnostics: signatures checked in the worker and on the main thread, and whether the worker was retired. */
export const signatureWorkerStats = { inWorker: 0, onMainThread: 0, retired: false };

/**
 * The worker's code: it receives `{ id, items: [keyId, rawKey, data, signature][] }` and answers
 * `{ id, ok: boolean[] }`. Runs as it is (its source is this function's text), so it uses nothing but
 * the platform's globals. Imported keys are cached by key id (bounded, as on the main thread).
 */
function signatureWorkerMain(): void {
  const keys = new Map<string, Promise<CryptoKey>>();
  const scope = self as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = async (e: MessageEvent<{ id: number; items: [string, Uint8Array, Uint8Array, Uint8Array][] }>) => {
    const { id, items } = e.data;
    const ok = await Promise.all(
      items.map(async ([keyId, raw, data, sig]) => {
        try {
          let key = keys.get(keyId);
          if (!key) {
            key = crypto.subtle.importKey('raw', raw, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
            if (keys.size > 5000) keys.delete(keys.keys().next().value as string);
            keys.set(keyId, key);
          }
          return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, await key, sig, data);
        } catch {
          keys.delete(keyId);
          return false;
        }
      }),
    );
    scope.postMessage({ id, ok });
  };
}

const SIGNATURE_WORKER_SOURCE = `(${signatureWorkerMain.toString()})();`;

interface WorkerState {
  worker: Worker;
  next: number;
  waiting: Map<number, { resolve: (ok: boolean[]) => void; reject: (err: Error) => void }>;
}
/** The page's worker: undefined before first use, null when there is none (refused, retired, or no platform support). */
let shared: WorkerState | null | undefined;

/** Stops using the worker: it is ended, and what waits for it (and everything after) is checked on the main thread. */
function retire(state: WorkerState): void {
  if (shared === state) shared = null;
  signatureWorkerStats.retired = true;
  state.worker.terminate();
  for (const call of state.waiting.values()) call.reject(new Error('the signature worker stopped'));
  state.waiting.clear();
}

function worker(): WorkerState | null {
  if (shared !== undefined) return shared;
  shared = null;
  if (typeof Worker === 'undefined' || typeof Blob === 'undefined' || typeof URL?.createObjectURL !== 'function') return shared;
  try {
    const url = URL.createObjectURL(new Blob([SIGNATURE_WORKER_SOURCE], { type: 'text/javascript' }));
    const w = new Worker(url, { name: 'p2p-widgets signature checker' });
    URL.revokeObjectURL(url);
    const state: WorkerState = { worker: w, next: 0, waiting: new Map() };
    w.onmessage = (e: MessageEvent<{ id: number; ok: boolean[] }>) => {
      const call = state.waiting.get(e.data.id);
      state.waiting.delete(e.data.id);
      call?.resolve(e.data.ok);
    };
    // Refused by the page (CSP) or dead: the main thread checks from now on.
    w.onerror = () => retire(state);
    w.onmessageerror = () => retire(state);
    shared = state;
  } catch {
    shared = null;
  }
  return shared;
}

/**
 * Starts the page's signature worker ahead of a batch (a worker takes tens to hundreds of ms to start
 * on a busy page; a sync that asks for history starts it while the answer travels). Does nothing where
 * workers are refused or unavailable.
 */
export function warmSignatureWorker(): void {
  worker();
}

function onMainThread(items: readonly SignatureCheck[]): Promise<boolean[]> {
  signatureWorkerStats.onMainThread += items.length;
  return Promise.all(items.map(c => verifySignature(c.publicKey, c.data, c.signature)));
}

/**
 * Whether each signature is its key's over its bytes (ECDSA P-256 with SHA-256, as
 * {@link verifySignature}), in the page's signature worker for a batch of at least
 * {@link WORKER_MIN_BATCH}, else on the main thread. Never throws: a malformed key or signature is
 * false; a worker that fails or does not answer within 10 s is retired and its batch checked here.
 * @returns one result per check, in order
 */
export async function verifySignatures(items: readonly SignatureCheck[]): Promise<boolean[]> {
  const w = items.length >= WORKER_MIN_BATCH ? worker() : null;
  if (!w) return onMainThread(items);
  const ok: boolean[] = items.map(() => false);
  const sent: number[] = [];
  const payload: [string, Uint8Array, Uint8Array, Uint8Array][] = [];
  for (const [i, c] of items.entries()) {
    if (!PUBLIC_KEY_PATTERN.test(c.publicKey) || !SIGNATURE_PATTERN.test(c.signature)) continue;
    const sig = fromBase64Url(c.signature);
    payload.push([c.publicKey, fromBase64Url(c.publicKey), c.data, sig]);
    sent.push(i);
  }
  if (!sent.length) return ok;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const results = await new Promise<boolean[]>((resolve, reject) => {
      const id = ++w.next;
      w.waiting.set(id, { resolve, reject });
      timer = setTimeout(() => retire(w), WORKER_TIMEOUT_MS);
      // Copied, not transferred: a worker that fails leaves the batch to be checked here with the same bytes.
      w.worker.postMessage({ id, items: payload });
    });
    signatureWorkerStats.inWorker += sent.length;
    sent.forEach((i, j) => (ok[i] = results[j] === true));
    return ok;
  } catch {
    retire(w);
    return onMainThread(items);
  } finally {
    clearTimeout(timer);
  }
}
