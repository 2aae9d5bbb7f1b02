import { createNanoEvents, Unsubscribe } from 'nanoevents';
import type { MeshRoom } from '../mesh';
import { chatSyncBatchMessage, chatSyncRequestMessage, ChatRecordWire, MAX_BATCH_RECORDS, PROTOCOL_VERSION } from '../wire';
import { randomBase64Url, warmSignatureWorker } from '../identity';
import type { ChatLog } from './chat-log';

/** What sync needs from a mesh room. */
export type SyncMesh = Pick<MeshRoom, 'channel' | 'on' | 'peers'>;

/** Limits of chat sync: batch size (bytes) and how long a silent peer is waited for (ms). */
export interface ChatSyncOptions {
  /** Largest batch, in bytes of JSON; default 384 KiB (the wire accepts 512 KiB). */
  batchBytes?: number;
  /** Give up on a peer that sends nothing for this long, ms; default 15 000. */
  idleTimeoutMs?: number;
  /** Wait before asking a peer again after its answer timed out, ms, times the attempt number; default 2000. */
  retryDelayMs?: number;
}

/** Events of chat sync. */
export interface ChatSyncEvents {
  /** A sync with `peerId` finished: `received` records were new to us. */
  synced: (peerId: string, received: number) => void;
}

const encoder = new TextEncoder();

/** Most records accepted from one peer in one sync; a peer sending more is cut off (a bound on what a stranger can make us store). */
export const MAX_RECORDS_PER_SYNC = 50_000;

/**
 * How many times a request whose answer went silent is sent again to a peer still connected. A
 * batch can be lost without the link going down: Trystero gives up sending a message (and drops
 * its remaining chunks) when the data channel's buffer does not drain within 10 s, as during the
 * transport stalls seen at the start of a connection (README, known limits). Without a retry, the
 * newcomer would get that peer's history only at its next join. The retry asks only for what is
 * still missing (the request carries the vector as it is then).
 */
export const SYNC_RETRIES = 2;

interface Pending {
  id: string;
  peerId: string;
  received: number;
  timer: ReturnType<typeof setTimeout>;
  resolve: () => void;
  /** Batches of one answer are ingested one after another, in arrival order. */
  chain: Promise<void>;
  finished: boolean;
  /** Finished because the peer went silent for idleTimeoutMs (not by its `done` batch, nor by leaving, nor by the cap). */
  timedOut?: boolean;
}

/**
 * Sync on join: when a peer joins, this device sends it a `chat-sync-req` with
 * its state vector inside its own retention window; the peer answers with the
 * records we lack (`chat-sync-batch`, oldest first, in batches); and the same the
 * other way round. Peers are synced one at a time, each with the vector updated by
 * the previous one, so a newcomer among several peers receives each record about once.
 * Every record passes the log's rules (signature, window, duplicates); a received batch is
 * ingested as one ({@link ChatLog.ingestBatch}: one IndexedDB transaction per batch).
 */
export class ChatSync {
  /** Batches dropped because no request of ours was waiting for them. */
  unsolicited = 0;
  /** Records sent to peers by sync. */
  sent = 0;
  private readonly emitter = createNanoEvents<ChatSyncEvents>();
  private readonly offs: Unsubscribe[] = [];
  private readonly queue: string[] = [];
  private pending: Pending | null = null;
  private running = false;
  /** The peer being synced (set before its vector is computed, so a second join event does not queue it again). */
  private current: string | null = null;
  private readonly serving = new Set<string>();
  private readonly batchBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly retryDelayMs: number;
  /** Requests to a peer that timed out in a row (see SYNC_RETRIES). */
  private readonly attempts = new Map<string, number>();
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private destroyed = false;

  constructor(
    private readonly mesh: SyncMesh,
    private readonly log: ChatLog,
    options: ChatSyncOptions = {},
  ) {
    this.batchBytes = options.batchBytes ?? 384 * 1024;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 15_000;
    this.retryDelayMs = options.retryDelayMs ?? 2000;
    this.offs.push(
      mesh.on('peerJoin', peer => this.enqueue(peer.id)),
      mesh.on('peerLeave', peer => this.dropPeer(peer.id)),
      mesh.channel(chatSyncRequestMessage).onMessage((req, peerId) => void this.serve(req, peerId)),
      mesh.channel(chatSyncBatchMessage).onMessage((batch, peerId) => void this.receive(batch, peerId)),
    );
    for (const peerId of mesh.peers.keys()) this.enqueue(peerId);
  }

  /** Subscribes to an event (see {@link ChatSyncEvents}); returns the unsubscribe function. */
  on<E extends keyof ChatSyncEvents>(event: E, handler: ChatSyncEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Syncs with `peerId` (again) when its turn comes. */
  enqueue(peerId: string): void {
    if (!this.queue.includes(peerId) && this.pending?.peerId !== peerId && this.current !== peerId) this.queue.push(peerId);
    void this.drain();
  }

  /** Stops listening and releases timers and subscriptions; the data stays stored. Idempotent. */
  destroy(): void {
    this.destroyed = true;
    this.offs.splice(0).forEach(off => off());
    this.retryTimers.forEach(clearTimeout);
    this.retryTimers.clear();
    if (this.pending) {
      clearTimeout(this.pending.timer);
      this.pending.resolve();
    }
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length && !this.destroyed) {
        const peerId = this.queue.shift()!;
        if (!this.mesh.peers.has(peerId)) continue;
        this.current = peerId;
        try {
          if (await this.requestFrom(peerId)) this.retryLater(peerId);
          else this.attempts.delete(peerId);
        } finally {
          this.current = null;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Asks `peerId` again after a timed-out answer, if it is still connected and has retries left. */
  private retryLater(peerId: string): void {
    const attempt = (this.attempts.get(peerId) ?? 0) + 1;
    if (attempt > SYNC_RETRIES || this.destroyed || !this.mesh.peers.has(peerId)) {
      this.attempts.delete(peerId);
      return;
    }
    this.attempts.set(peerId, attempt);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (!this.destroyed && this.mesh.peers.has(peerId)) this.enqueue(peerId);
    }, this.retryDelayMs * attempt);
    this.retryTimers.add(timer);
  }

  /** Sends one request and waits for its answer; resolves true when the answer timed out (the peer went silent). */
  private async requestFrom(peerId: string): Promise<boolean> {
    const since = this.log.windowStart();
    let vector;
    try {
      vector = await this.log.stateVector(since);
    } catch {
      vector = {};
    }
    const id = randomBase64Url(12);
    // The answer's batches are checked in the signature worker: start it while the request travels.
    warmSignatureWorker();
    let timedOut = false;
    await new Promise<void>(resolve => {
      const done = () => {
        timedOut = pending.timedOut === true;
        resolve();
      };
      const pending: Pending = { id, peerId, received: 0, timer: setTimeout(() => this.finish(pending, true), this.idleTimeoutMs), resolve: done, chain: Promise.resolve(), finished: false };
      this.pending = pending;
      this.mesh
        .channel(chatSyncRequestMessage)
        .send({ v: PROTOCOL_VERSION, id, since, vector }, peerId)
        .catch(() => this.finish(pending));
    });
    return timedOut;
  }

  private finish(pending: Pending, timedOut = false): void {
    if (pending.finished) return;
    pending.finished = true;
    pending.timedOut = timedOut;
    clearTimeout(pending.timer);
    if (this.pending === pending) this.pending = null;
    pending.resolve();
    this.emitter.emit('synced', pending.peerId, pending.received);
  }

  private dropPeer(peerId: string): void {
    const i = this.queue.indexOf(peerId);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.pending?.peerId === peerId) this.finish(this.pending);
    this.serving.delete(peerId);
    this.attempts.delete(peerId);
  }

  private async receive(batch: { id: string; records: ChatRecordWire[]; done: boolean }, peerId: string): Promise<void> {
    const pending = this.pending;
    if (!pending || pending.peerId !== peerId || pending.id !== batch.id) {
      this.unsolicited++;
      return;
    }
    // The idle timer is paused while a batch is ingested, and restarted after it.
    clearTimeout(pending.timer);
    // Its signatures are checked now (in the worker), while the batches before it are decided and written.
    const verifying = this.log.verifyBatch(batch.records);
    pending.chain = pending.chain.then(async () => {
      if (pending.finished) return;
      clearTimeout(pending.timer);
      // The whole batch in one ingestBatch (one transaction); near the cap, in slices no larger
      // than what may still be accepted, so the cut falls where ingesting one by one puts it.
      let rest = batch.records;
      let offset = 0;
      while (rest.length) {
        if (pending.received >= MAX_RECORDS_PER_SYNC) return this.finish(pending);
        const take = Math.min(rest.length, MAX_RECORDS_PER_SYNC - pending.received);
        const from = offset;
        const results = await this.log.ingestBatch(
          rest.slice(0, take),
          verifying.then(v => v.slice(from, from + take)),
        );
        rest = rest.slice(take);
        offset += take;
        pending.received += results.filter(r => r.status === 'accepted').length;
      }
      if (batch.done) this.finish(pending);
      else if (!pending.finished) pending.timer = setTimeout(() => this.finish(pending, true), this.idleTimeoutMs);
    });
    await pending.chain;
  }

  /** Answers one request at a time per peer, oldest records first, in batches. */
  private async serve(req: { id: string; since: number; vector: Record<string, [number, number][]> }, peerId: string): Promise<void> {
    if (this.serving.has(peerId)) return;
    this.serving.add(peerId);
    try {
      const channel = this.mesh.channel(chatSyncBatchMessage);
      let batch: ChatRecordWire[] = [];
      let bytes = 0;
      const flush = async (done: boolean) => {
        await channel.send({ v: PROTOCOL_VERSION, id: req.id, records: batch, done }, peerId);
        this.sent += batch.length;
        batch = [];
        bytes = 0;
      };
      // Read page by page: the first batch leaves after one page, not after the whole history.
      for await (const records of this.log.missingPages(req.vector, req.since)) {
        for (const record of records) {
          if (!this.serving.has(peerId) || this.destroyed) return;
          const size = encoder.encode(JSON.stringify(record)).byteLength;
          if (batch.length && (batch.length >= MAX_BATCH_RECORDS || bytes + size > this.batchBytes)) await flush(false);
          batch.push(record);
          bytes += size;
        }
      }
      await flush(true);
    } catch {
      /* peer left or storage failed: the requester times out and moves on */
    } finally {
      this.serving.delete(peerId);
    }
  }
}
