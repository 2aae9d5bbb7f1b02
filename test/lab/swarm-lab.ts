/**
 * The core modules in a plain page, for multi-peer swarm tests and the bench:
 * no widget, just the mesh and the swarm, driven from Playwright through `window.lab`.
 * Bundled by test/harness/build-lab.mjs (Vite) into test/lab/build/swarm-lab.js.
 */
import { joinMesh, type MeshHandle } from '../../src/core/mesh';
import { RtcBulkLink } from '../../src/core/mesh';
import { Swarm, type Download } from '../../src/core/swarm';
import * as v from 'valibot';
import { DATA_FRAME, defineMessage, FRAME_HEADER_BYTES } from '../../src/core/wire';

/** A small test message on the mesh's own (Trystero) channel, like a chat line. */
const pingMessage = defineMessage({
  channel: 'lab-ping',
  schema: v.strictObject({ v: v.literal(1), id: v.string(), echo: v.boolean() }),
  maxBytes: 256,
  rate: { ratePerSecond: 50, burst: 50 },
});

/** A chat-like line every page of the room should get: forwarded along the overlay in a partial mesh. */
const floodMessage = defineMessage({
  channel: 'lab-flood',
  schema: v.strictObject({ v: v.literal(1), id: v.string(), text: v.pipe(v.string(), v.maxLength(200)) }),
  maxBytes: 512,
  rate: { ratePerSecond: 20, burst: 40 },
  flood: true,
});

let handle: MeshHandle | null = null;
/** Flood messages received: id → how many times (a duplicate would count twice). */
const floodReceived = new Map<string, number>();
/** When each flood message first arrived (Date.now(), ms). */
const floodArrivedAt = new Map<string, number>();
let swarm: Swarm | null = null;
const downloads = new Map<string, Download>();
/** Pings sent and answered here (see `lab.pingLog`). */
const pingLog: string[] = [];
/** What happened to the room and its links, ms since join (for diagnosing a failed test). */
const events: string[] = [];

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return [...digest].map(b => b.toString(16).padStart(2, '0')).join('');
}

/** Deterministic pseudo-random bytes (xorshift32), so every page can make the same file. */
function makeBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i, x >>> 0);
  }
  return out;
}

const lab = {
  /** Joins the room and its swarm. */
  async join(relayUrl: string, room: string, options: { cacheBytes?: number; requestTimeoutMs?: number; partialMesh?: { activeTarget?: number; activeMin?: number; activeMax?: number; maxLinks?: number } } = {}) {
    handle = await joinMesh({ appId: 'swarm-lab', room, relayUrls: [relayUrl], iceServers: [], userName: 'lab', ...(options.partialMesh ? { partialMesh: options.partialMesh } : {}) });
    handle.room.channel(floodMessage).onMessage(msg => {
      floodReceived.set(msg.id, (floodReceived.get(msg.id) ?? 0) + 1);
      if (!floodArrivedAt.has(msg.id)) floodArrivedAt.set(msg.id, Date.now());
    });
    swarm = await Swarm.forRoom(handle.room.bulkLinks(), options);
    const t0 = performance.now();
    const note = (what: string) => events.push(`${Math.round(performance.now() - t0)} ${what} (at ${Date.now()})`);
    handle.room.on('peerJoin', p => note(`peerJoin ${p.id.slice(0, 4)}`));
    handle.room.on('peerLeave', (p, l) => note(`peerLeave ${p.id.slice(0, 4)} ${l.reason} ${l.connection ?? ''}`));
    handle.room.on('error', e => note(`error ${e.code} ${e.message}`));
    handle.room.bulkLinks().on('open', l => note(`bulk open ${l.peerId.slice(0, 4)}`));
    handle.room.bulkLinks().on('close', id => note(`bulk close ${id.slice(0, 4)}`));
    // The overlay's own view changes (test-only reach into the mesh's private partial mesh).
    const membership = (handle.room as unknown as { partial?: { membership: { on(e: string, f: (id: string) => void): void } } }).partial?.membership;
    membership?.on('neighborUp', id => note(`neighborUp ${id.slice(0, 4)}`));
    membership?.on('neighborDown', id => note(`neighborDown ${id.slice(0, 4)}`));
    // This page's own stalls (its main thread busy or descheduled for over a second), so a peer's
    // silence can be told apart from this page not running.
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (now - last > 1000) note(`stall ${Math.round(now - last)} ms`);
      last = now;
    }, 100);
    return handle.room.selfId;
  },
  peers: () => handle?.room.peerList().length ?? 0,
  /** Caps this page's swarm upload, bytes per second (null: no cap). */
  setUploadLimit: (bytesPerSecond: number | null) => swarm!.setUploadLimit(bytesPerSecond),
  holders: (cid: string) => swarm!.holders(cid),
  /** Makes a file of `size` bytes from `seed` and shares it; returns its content id and SHA-256. */
  async share(size: number, seed: number, mime = 'application/octet-stream') {
    const bytes = makeBytes(size, seed);
    const manifest = await swarm!.add(new Blob([bytes as BlobPart], { type: mime }));
    return { cid: manifest.cid, sha256: await sha256Hex(bytes), chunks: manifest.hashes.length };
  },
  /** Starts a download; progress is kept in `window.progress[cid]`. */
  startDownload(cid: string) {
    const d = swarm!.download(cid);
    downloads.set(cid, d);
    (window as any).progress ??= {};
    d.on('progress', p => ((window as any).progress[cid] = p));
    return true;
  },
  async waitDownload(cid: string) {
    await (downloads.get(cid) ?? swarm!.download(cid)).done;
    return true;
  },
  progress: (cid: string) => (downloads.get(cid) ?? swarm!.download(cid)).progress(),
  setUrgent: (cid: string, index: number | null) => downloads.get(cid)?.setUrgent(index),
  /** SHA-256 of the whole file as stored here. */
  async digest(cid: string, size: number) {
    return sha256Hex(await swarm!.read(cid, 0, size));
  },
  async read(cid: string, start: number, end: number) {
    return [...(await swarm!.read(cid, start, end))];
  },
  complete: (cid: string) => swarm!.isComplete(cid),
  /** Bytes [start, end) of the file `share(size, seed)` makes, to compare with what was received. */
  expected: (size: number, seed: number, start: number, end: number) => sha256Hex(makeBytes(size, seed).subarray(start, end)),
  /** Reads a range (waiting for it) and says how many chunks were held when it arrived. */
  async readRange(cid: string, start: number, end: number) {
    const bytes = await swarm!.read(cid, start, end);
    const held = swarm!.localFile(cid)?.have.size ?? 0;
    return { sha256: await sha256Hex(bytes), heldWhenRead: held, totalChunks: swarm!.localFile(cid)?.have.count ?? 0 };
  },
  /** Indices of the chunks of `cid` held here. */
  have: (cid: string) => {
    const file = swarm!.localFile(cid);
    return file ? Array.from({ length: file.have.count }, (_, i) => i).filter(i => file.have.has(i)) : [];
  },
  /** Round trip of a small message over the mesh (Trystero's channel, the one chat uses) to `peerId`, ms. */
  async ping(peerId: string) {
    const channel = handle!.room.channel(pingMessage);
    const id = Math.random().toString(36).slice(2, 12);
    const started = performance.now();
    const back = new Promise<number>(resolve => {
      const off = channel.onMessage(msg => {
        if (msg.id === id && msg.echo) {
          off();
          resolve(performance.now() - started);
        }
      });
    });
    pingLog.push(`${Date.now()} ping ${id} sending`);
    await channel.send({ v: 1, id, echo: false }, peerId);
    pingLog.push(`${Date.now()} ping ${id} sent`);
    const rtt = await back;
    pingLog.push(`${Date.now()} ping ${id} echo back`);
    return rtt;
  },
  /** What the pings and their answers did on this page, as "Date.now() what" lines (to line the two pages up). */
  pingLog: () => pingLog,
  /** Answers pings. */
  answerPings() {
    const channel = handle!.room.channel(pingMessage);
    channel.onMessage((msg, peerId) => {
      if (msg.echo) return;
      pingLog.push(`${Date.now()} ping ${msg.id} arrived`);
      void channel.send({ v: 1, id: msg.id, echo: true }, peerId).then(() => pingLog.push(`${Date.now()} ping ${msg.id} echo sent`));
    });
  },
  peerIds: () => handle!.room.peerList().map(p => p.id),
  /** This page's peer id. */
  selfId: () => handle!.room.selfId,
  /** Partial mesh: neighbours, passive view size, links and broadcast counters (null in a full mesh). */
  overlay: () => handle!.room.overlayState(),
  /** Sends a flood message (to the whole room). */
  flood: (id: string, text: string) => handle!.room.channel(floodMessage).send({ v: 1, id, text }),
  /** Flood messages received so far: id → copies handed to the page (1 each when there are no duplicates). */
  floodReceived: () => Object.fromEntries(floodReceived),
  /** When each flood message first arrived here (Date.now(), ms). */
  floodArrivedAt: () => Object.fromEntries(floodArrivedAt),
  /** Open RTCPeerConnections of the room now. */
  connectionCount: () => Object.values((handle!.room as unknown as { room: import('@trystero-p2p/core').Room | null }).room?.getPeers() ?? {}).filter(pc => pc.connectionState !== 'closed').length,
  /** Room and bulk-link events since join (ms, what). */
  events: () => events.slice(),
  stats: () => ({ ...swarm!.stats, wire: handle!.room.wireStats() }),
  /** Bench (bench/swarm.mjs): the RTCPeerConnection to a peer, for a raw data channel beside the swarm's. */
  peerConnection: (peerId: string) => handle!.room.peerConnection(peerId),
  /** Bench: the underlying Trystero room (private in MeshRoom), for a plain `makeAction` transfer without the mesh's flood limit. */
  trysteroRoom: () => (handle!.room as unknown as { room: import('@trystero-p2p/core').Room | null }).room,
  /** Turns this page into a tampering peer: every data frame it serves has its bytes flipped. */
  tamper() {
    const send = RtcBulkLink.prototype.sendData;
    RtcBulkLink.prototype.sendData = function (frame: Uint8Array) {
      if (frame[0] === DATA_FRAME && frame.byteLength > FRAME_HEADER_BYTES) {
        const copy = frame.slice();
        for (let i = FRAME_HEADER_BYTES; i < copy.byteLength; i += 97) copy[i] ^= 0xff;
        return send.call(this, copy);
      }
      return send.call(this, frame);
    };
  },
  async leave() {
    swarm?.destroy();
    await handle?.release();
  },
};

(window as any).lab = lab;
(window as any).labReady = true;
