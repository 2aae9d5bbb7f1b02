/**
 * Decoding and re-encoding a picture (createImageBitmap, OffscreenCanvas) off the page's main
 * thread: a 10 MB PNG takes seconds to decode and encode, which on the main thread froze the page
 * of the visitor sharing it. One worker per page, started from a `blob:` URL on first use (so it
 * also runs when the widgets are loaded from another origin); where the page refuses it (a Content
 * Security Policy without `worker-src blob:`) or the platform has no workers or no OffscreenCanvas
 * in them, or the worker dies, the same code runs on the main thread.
 */

/** What {@link renderPicture} is asked to make. */
export interface RenderRequest {
  /** The picture as picked (any type the browser decodes). */
  blob: Blob;
  /** Re-encode the full picture to this type (drops every metadata segment), or null to keep the file as it is. */
  encodeAs: string | null;
  /** Quality of that re-encoding, 0–1 (lossy types). */
  quality: number;
  /** Longer side of the thumbnail, px. */
  thumbSide: number;
  /** Largest thumbnail, bytes: a bigger one is made again at 60 % of the side and quality 0.6. */
  thumbMaxBytes: number;
}

/** What {@link renderPicture} made. */
export interface RenderResult {
  /** Width of the picture, px. */
  width: number;
  /** Height of the picture, px. */
  height: number;
  /** The re-encoded picture, or null when not asked for. */
  encoded: Blob | null;
  /** WebP thumbnail bytes. */
  thumb: ArrayBuffer;
}

/**
 * Decodes the picture, re-encodes it when asked, and makes its WebP thumbnail. Runs as it is in the
 * worker (its source is this function's text), so it uses nothing but the platform's globals.
 * @throws an Error named `undecodable` when the picture cannot be decoded or the platform cannot encode
 */
export async function renderPicture(req: RenderRequest): Promise<RenderResult> {
  const undecodable = (message: string) => Object.assign(new Error(message), { name: 'undecodable' });
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(req.blob);
  } catch {
    throw undecodable('This picture cannot be read; it may be damaged.');
  }
  const encode = (width: number, height: number, type: string, quality: number): Promise<Blob> => {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    // No 2D context here (a worker without one): not the picture's fault, the main thread tries.
    if (!ctx) throw Object.assign(new Error('no 2D canvas context'), { name: 'no-canvas' });
    ctx.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type, quality });
  };
  try {
    const { width, height } = bitmap;
    const encoded = req.encodeAs ? await encode(width, height, req.encodeAs, req.quality) : null;
    const scale = Math.min(1, req.thumbSide / Math.max(width, height));
    let thumb = await (await encode(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), 'image/webp', 0.8)).arrayBuffer();
    if (thumb.byteLength > req.thumbMaxBytes) thumb = await (await encode(Math.max(1, Math.round(width * scale * 0.6)), Math.max(1, Math.round(height * scale * 0.6)), 'image/webp', 0.6)).arrayBuffer();
    return { width, height, encoded, thumb };
  } finally {
    bitmap.close();
  }
}

/** The worker's script: {@link renderPicture} behind a message handler (`{ id, req }` in, `{ id, ok, result | name, message }` out). */
export const IMAGE_WORKER_SOURCE = `const renderPicture = ${renderPicture.toString()};
onmessage = async e => {
  const { id, req } = e.data;
  try {
    const result = await renderPicture(req);
    self.rendered = (self.rendered || 0) + 1; // pictures done here (tests read it)
    postMessage({ id, ok: true, result }, [result.thumb]);
  } catch (err) {
    postMessage({ id, ok: false, name: (err && err.name) || 'Error', message: String((err && err.message) || err) });
  }
};`;

/** The page's picture worker, or null once it could not start or died (then pictures are rendered on the main thread). */
let shared: WorkerState | null | undefined;

interface WorkerState {
  worker: Worker;
  next: number;
  waiting: Map<number, { resolve: (r: RenderResult) => void; reject: (e: Error) => void }>;
}

/** How long a picture may take in the worker before it is done on the main thread instead, ms (a worker that died silently). */
const WORKER_TIMEOUT_MS = 120_000;

/** Stops using the worker: it is ended, what waits for it is done on the main thread, and so is everything after. */
function retire(state: WorkerState): void {
  if (shared === state) shared = null;
  state.worker.terminate();
  for (const call of state.waiting.values()) call.reject(Object.assign(new Error('the picture worker stopped'), { name: 'WorkerGone' }));
  state.waiting.clear();
}

function worker(): typeof shared {
  if (shared !== undefined) return shared;
  shared = null;
  // Workers with OffscreenCanvas (Chromium 69, Firefox 105, Safari 16.4); without, the main thread.
  if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined' || typeof URL?.createObjectURL !== 'function') return shared;
  try {
    const url = URL.createObjectURL(new Blob([IMAGE_WORKER_SOURCE], { type: 'text/javascript' }));
    const w = new Worker(url, { name: 'p2p-widgets picture preparer' });
    URL.revokeObjectURL(url);
    const state: WorkerState = { worker: w, next: 0, waiting: new Map() };
    w.onmessage = (e: MessageEvent<{ id: number; ok: boolean; result?: RenderResult; name?: string; message?: string }>) => {
      const m = e.data;
      const call = state.waiting.get(m.id);
      state.waiting.delete(m.id);
      if (m.ok) call?.resolve(m.result!);
      else call?.reject(Object.assign(new Error(m.message ?? 'picture failed'), { name: m.name ?? 'Error' }));
    };
    // Refused by the page (CSP) or dead: what waits is done on the main thread, and so is everything after.
    w.onerror = () => retire(state);
    shared = state;
  } catch {
    shared = null;
  }
  return shared;
}

/**
 * {@link renderPicture} in the page's picture worker, or on the main thread where there is none, it
 * stopped, or it failed otherwise than on the picture (the request is then done again here).
 * @throws as {@link renderPicture}
 */
export async function renderPictureOffThread(req: RenderRequest): Promise<RenderResult> {
  const w = worker();
  if (w) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise<RenderResult>((resolve, reject) => {
        const id = ++w.next;
        w.waiting.set(id, { resolve, reject });
        timer = setTimeout(() => retire(w), WORKER_TIMEOUT_MS);
        w.worker.postMessage({ id, req });
      });
    } catch (err) {
      // A picture that cannot be decoded is refused. Anything else (the worker stopped, timed out,
      // or lacks what the main thread has) retires the worker and is tried again here.
      if ((err as Error).name === 'undecodable') throw err;
      retire(w);
    } finally {
      clearTimeout(timer);
    }
  }
  return renderPicture(req);
}
