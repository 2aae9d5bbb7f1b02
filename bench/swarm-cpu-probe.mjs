/**
 * Probe: what each step of a swarm transfer costs the machine's CPU on its own, for 64 MiB in
 * 256 KiB chunks, in one blank page with nothing else running: IndexedDB writes and reads (the
 * store), SHA-256 (the check), and the copies the wire makes (64 KiB data frames with a 9-byte
 * header, a chunk assembled from its frames, the copy handed to the writing worker). CPU is the
 * user + system time of every Chromium process (bench/lib/process-cpu.mjs), so the browser
 * process's IndexedDB backend and the renderer's other threads count too.
 *
 * Compare with `node bench/swarm.mjs`, whose "browser CPU s" column gives the whole transfer's cost
 * (raw RTCDataChannel and swarm) in the same units: on a machine where every transfer saturates the
 * cores, the swarm's throughput ratio to raw is about the inverse ratio of their CPU costs.
 *
 *   node bench/swarm-cpu-probe.mjs        (prints only; writes nothing)
 */
import { launchChromium } from '../test/harness/browser.mjs';
import { startStaticServer } from '../test/harness/processes.mjs';
import { browserCpuSeconds } from './lib/process-cpu.mjs';

const site = await startStaticServer('.');
const browser = await launchChromium();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${site.url}/test/fixtures/bare-trystero.html`);
  await page.evaluate(() => {
    const TOTAL = 64 * 1024 * 1024;
    const CHUNK = 256 * 1024;
    const FRAME = 64 * 1024;
    const N = TOTAL / CHUNK;
    const open = () =>
      new Promise((res, rej) => {
        const q = indexedDB.open('cpu-probe', 1);
        q.onupgradeneeded = () => q.result.createObjectStore('c', { keyPath: ['cid', 'index'] });
        q.onsuccess = () => res(q.result);
        q.onerror = () => rej(q.error);
      });
    const chunk = i => new Uint8Array(CHUNK).fill(i & 255);
    const chunks = Array.from({ length: N }, (_, i) => chunk(i));
    /** Puts the values `value(i)` for i = 0, step, 2·step… < N under `cid`, one per transaction, 8 transactions in flight. */
    const putAll = async (cid, step, value) => {
      const db = await open();
      const pending = [];
      for (let i = 0; i < N; i += step) {
        pending.push(new Promise((res, rej) => { const tx = db.transaction('c', 'readwrite'); tx.objectStore('c').put({ cid, index: i, data: value(i) }); tx.oncomplete = res; tx.onerror = () => rej(tx.error); }));
        if (pending.length >= 8) await pending.shift();
      }
      await Promise.all(pending);
      db.close();
    };
    /** Gets what {@link putAll} put under `cid`, 3 reads in flight, each result through `use`. */
    const getAll = async (cid, step, use) => {
      const db = await open();
      const pending = [];
      for (let i = 0; i < N; i += step) {
        pending.push(new Promise((res, rej) => { const q = db.transaction('c').objectStore('c').get([cid, i]); q.onsuccess = () => res(use(q.result)); q.onerror = () => rej(q.error); }));
        if (pending.length >= 3) await pending.shift();
      }
      await Promise.all(pending);
      db.close();
    };
    window.steps = {
      idle: () => new Promise(r => setTimeout(r, 2000)),
      'IndexedDB put 256 KiB values (8 transactions in flight)': () => putAll('x', 1, i => chunks[i].buffer),
      'IndexedDB get 256 KiB values (3 in flight)': () => getAll('x', 1, row => row),
      'IndexedDB put 1 MiB values (8 transactions in flight)': () =>
        putAll('big', 4, i => {
          const big = new Uint8Array(4 * CHUNK);
          for (let k = 0; k < 4; k++) big.set(chunks[i + k], k * CHUNK);
          return big.buffer;
        }),
      'IndexedDB get 1 MiB values (3 in flight)': () => getAll('big', 4, row => row),
      'IndexedDB put 256 KiB Blobs (8 transactions in flight)': () => putAll('blob', 1, i => new Blob([chunks[i]])),
      'IndexedDB get 256 KiB Blobs + arrayBuffer() (3 in flight)': () => getAll('blob', 1, row => row.data.arrayBuffer()),
      'SHA-256 per 256 KiB chunk (crypto.subtle)': async () => {
        for (let i = 0; i < N; i++) await crypto.subtle.digest('SHA-256', chunks[i]);
      },
      'data frames: new 64 KiB + 9 B buffer, header, copy': async () => {
        let sum = 0;
        for (let i = 0; i < N; i++)
          for (let off = 0; off < CHUNK; off += FRAME) {
            const frame = new Uint8Array(9 + FRAME);
            new DataView(frame.buffer).setUint32(1, i);
            frame.set(chunks[i].subarray(off, off + FRAME), 9);
            sum += frame[9];
          }
        return sum;
      },
      'chunk assembled from 4 frames, then .slice() for the worker': async () => {
        let sum = 0;
        for (let i = 0; i < N; i++) {
          const buf = new Uint8Array(CHUNK);
          for (let off = 0; off < CHUNK; off += FRAME) buf.set(chunks[i].subarray(off, off + FRAME), off);
          sum += buf.slice().buffer.byteLength;
        }
        return sum;
      },
    };
  });
  const names = await page.evaluate(() => Object.keys(window.steps));
  console.log('64 MiB as 256 KiB chunks, one blank page; CPU = all Chromium processes (user + system)\n');
  let idlePerSecond = 0;
  for (const name of names) {
    const before = browserCpuSeconds();
    const t0 = Date.now();
    await page.evaluate(n => window.steps[n](), name);
    const wall = (Date.now() - t0) / 1000;
    const after = browserCpuSeconds();
    const cpu = after.total - before.total;
    if (name === 'idle') {
      idlePerSecond = cpu / wall;
      console.log(`idle: ${(idlePerSecond * 100).toFixed(0)} % of a core in the background (subtracted below)`);
      continue;
    }
    const kinds = Object.entries(after.byKind).map(([k, v]) => [k.replace(/^.*\.mojom\./, ''), v - (before.byKind[k] ?? 0)]).filter(([, v]) => v >= 0.05);
    console.log(`${name.padEnd(62)} wall ${wall.toFixed(2)} s, CPU ${(cpu - idlePerSecond * wall).toFixed(2)} s (${kinds.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`);
  }
} finally {
  await browser.close();
  await site.stop?.();
}
