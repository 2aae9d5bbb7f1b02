/**
 * Probe: how fast IndexedDB writes and reads chunk-sized values in this machine's Chromium, with no
 * swarm around it (the ceiling storage puts on a download; issue "Transfers at the speed of the data
 * channel"). A blank page writes 64 MiB as 256 KiB values (one per transaction, and four), 64 KiB
 * and 32 KiB values, 8 transactions in flight; then reads 256 values of 256 KiB with 1, 3 and 8
 * reads at once. Prints MB/s; writes nothing.
 *
 *   node bench/indexeddb-probe.mjs
 */
import { launchChromium } from '../test/harness/browser.mjs';
import { startStaticServer } from '../test/harness/processes.mjs';
const site = await startStaticServer('.');
const browser = await launchChromium();
const page = await (await browser.newContext()).newPage();
await page.goto(`${site.url}/test/fixtures/bare-trystero.html`);
const r = await page.evaluate(async () => {
  const open = () => new Promise((res, rej) => { const q = indexedDB.open('probe', 1); q.onupgradeneeded = () => q.result.createObjectStore('c', { keyPath: ['cid', 'index'] }); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
  const db = await open();
  const out = {};
  for (const [label, size, perTx] of [['256KiB x1/tx', 262144, 1], ['256KiB x4/tx', 262144, 4], ['64KiB x1/tx', 65536, 1], ['32KiB x1/tx', 32768, 1]]) {
    const total = 64 * 1024 * 1024; const n = total / size;
    const t0 = performance.now();
    const pending = [];
    for (let i = 0; i < n; i += perTx) {
      pending.push(new Promise((res, rej) => { const tx = db.transaction('c', 'readwrite'); const s = tx.objectStore('c'); for (let k = 0; k < perTx; k++) s.put({ cid: label, index: i + k, data: new Uint8Array(size).fill(i & 255).buffer }); tx.oncomplete = res; tx.onerror = () => rej(tx.error); }));
      if (pending.length >= 8) await pending.shift();
    }
    await Promise.all(pending);
    out[label] = (total / 1e6 / ((performance.now() - t0) / 1000)).toFixed(1) + ' MB/s';
  }
  for (const conc of [1, 3, 8]) {
    const n = 256; const t0 = performance.now(); let next = 0;
    const worker = async () => { while (next < n) { const i = next++; await new Promise((res, rej) => { const g = db.transaction('c').objectStore('c').get(['256KiB x1/tx', i]); g.onsuccess = () => res(g.result.data.byteLength); g.onerror = () => rej(g.error); }); } };
    await Promise.all(Array.from({ length: conc }, worker));
    out['read 256KiB conc ' + conc] = (n * 262144 / 1e6 / ((performance.now() - t0) / 1000)).toFixed(1) + ' MB/s';
  }
  return out;
});
console.log(r);
await browser.close();
await site.stop?.();
process.exit(0);
