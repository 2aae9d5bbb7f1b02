import type { HaveMap } from './have-map';

/**
 * Waits after an `elsewhere` that ended while that peer was the only one we could download the
 * file from, after which every request to it says `only` (1): the holders it sends us to are out of
 * our reach (not linked in a partial mesh), and waiting for them again would only slow us down (a
 * picture opened on such a page waits `elsewhereWaitMs` once, not once per chunk).
 * (A wait that ends while other peers of the file are linked only means the holder was slow to
 * announce: that chunk is asked with `only`, and later ones still wait.)
 */
export const MAX_FRUITLESS_WAITS = 1;

/** Tuning of the scheduler. */
export interface SchedulerOptions {
  /** Chunks requested from one peer at a time; default 6 (the server queues up to 8). */
  maxPerPeer?: number;
  /** Chunks in flight over all peers; default 24 (bounds memory: × chunk size). */
  maxTotal?: number;
  /** Chunks from the urgent position on fetched strictly in order; default 8. */
  urgentWindow?: number;
  /** Bad chunks after which a peer is not asked again this session; default 3. */
  maxStrikes?: number;
  /** How long a peer that timed out is skipped, ms; default 10 000. */
  slowPenaltyMs?: number;
  /** How long a busy peer is skipped, ms; default 1 000. */
  busyPenaltyMs?: number;
  /**
   * How long a chunk a peer refused `elsewhere` waits for the holder it was sent to to announce it,
   * ms; then, when no other holder can be asked, it is asked of the same peer with `only`. Default
   * 3 000: the holder was given the chunk at most that long before, and it has to receive it behind
   * up to 8 queued chunks, verify, store and announce it (`have` batched over 250 ms).
   */
  elsewhereWaitMs?: number;
  /**
   * The endgame: when every chunk we lack is in flight and they are at most this many, each is also
   * asked of a second holder that has nothing of ours in flight, and whichever copy arrives first
   * wins (the other request is cancelled), so one slow holder cannot hold up the end (BitTorrent's
   * endgame mode, Cohen 2003). Default 8 (2 MiB of 256 KiB chunks sent twice at most); 0: off.
   */
  endgameChunks?: number;
  /** Random source in [0, 1) for tie-breaks; injectable for tests. */
  random?: () => number;
}

interface PeerState {
  have: HaveMap;
  inFlight: number;
  strikes: number;
  skipUntil: number;
  /** Chunks this peer refused `elsewhere` (another downloader holds or is getting them), with when (ms since epoch). */
  elsewhere: Map<number, number>;
  /** Waits after `elsewhere` that ended while this peer was our only source of the file (we cannot reach the holders it names). */
  fruitlessWaits: number;
}

/** One request to make: chunk `index` from `peerId`. */
export interface Assignment {
  /** Chunk index. */
  index: number;
  /** The peer to ask. */
  peerId: string;
  /**
   * Set when the request must be served by this peer: the chunk is urgent (a playhead waits), or the
   * peer refused it `elsewhere` more than `elsewhereWaitMs` ago and no other holder can be asked. The
   * request says so (`req.only`), and a seeder then serves it.
   */
  only?: true;
}

/**
 * Decides which chunk to request from which peer. Rules:
 * - a chunk is in flight from exactly one peer at a time (no duplicate data), except in the
 *   endgame (`endgameChunks`): the last chunks are also asked of an idle second holder;
 * - chunks in the urgent window (a playhead) go first, strictly in order;
 * - otherwise rarest first (fewest holders), ties broken at random, as in
 *   BitTorrent (Cohen, "Incentives Build Robustness in BitTorrent", 2003);
 * - each chunk goes to the least-loaded eligible holder;
 * - a peer that sent bad chunks `maxStrikes` times is never asked again; one that
 *   timed out or was busy is skipped for a while;
 * - a chunk a peer refused `elsewhere` (a seeder sending us to a downloader that holds or is getting
 *   it) goes to another holder; when none can be asked, it waits `elsewhereWaitMs` for that holder's
 *   announcement, then is asked of the same peer with `only`; after {@link MAX_FRUITLESS_WAITS}
 *   such waits every request to that peer carries `only` (the holders it names are out of our
 *   reach: a partial mesh); chunks of the urgent window always carry `only` (a playhead does not
 *   wait for a detour).
 */
export class ChunkScheduler {
  private readonly peers = new Map<string, PeerState>();
  /** Strikes of peers that left, so leaving and coming back does not clear a ban. */
  private readonly pastStrikes = new Map<string, number>();
  private readonly inFlight = new Map<number, string>();
  /** Endgame: the second peer each of the last chunks is asked of (see `endgameChunks`). */
  private readonly backups = new Map<number, string>();
  private urgent: number | null = null;
  private readonly o: Required<SchedulerOptions>;

  constructor(
    private readonly have: HaveMap,
    options: SchedulerOptions = {},
  ) {
    this.o = {
      maxPerPeer: 6,
      maxTotal: 24,
      urgentWindow: 8,
      maxStrikes: 3,
      slowPenaltyMs: 10_000,
      busyPenaltyMs: 1_000,
      elsewhereWaitMs: 3_000,
      endgameChunks: 8,
      random: Math.random,
      ...options,
    };
  }

  /** Sets (or replaces) what a peer holds. */
  setPeer(peerId: string, have: HaveMap): void {
    const state = this.peers.get(peerId);
    if (state) state.have = have;
    else this.peers.set(peerId, { have, inFlight: 0, strikes: this.pastStrikes.get(peerId) ?? 0, skipUntil: 0, elsewhere: new Map(), fruitlessWaits: 0 });
  }

  /** Removes a peer (it left); its chunks in flight become requestable again (or stay with their endgame second holder). Returns the freed ones. */
  removePeer(peerId: string): number[] {
    const strikes = this.peers.get(peerId)?.strikes ?? 0;
    if (strikes) this.pastStrikes.set(peerId, strikes);
    const freed: number[] = [];
    for (const [index, holder] of [...this.inFlight]) if (holder === peerId && !this.dropRequest(index, peerId)) freed.push(index);
    for (const [index, holder] of [...this.backups]) if (holder === peerId) this.dropRequest(index, peerId);
    this.peers.delete(peerId);
    return freed;
  }

  /** Marks a position as urgent (e.g. the playhead's chunk), or clears it with null. */
  setUrgent(index: number | null): void {
    this.urgent = index;
  }

  /** A chunk arrived and verified. */
  completed(index: number): void {
    this.release(index);
    for (const p of this.peers.values()) p.elsewhere.delete(index);
  }

  /**
   * A request failed. `bad`: the chunk did not match its hash (a strike);
   * `timeout`: the peer went silent (skipped for a while); `busy`: it refused for now;
   * `missing`: it does not hold the chunk after all (forgotten from its have-map); `elsewhere`: it
   * sent us to another holder of this chunk (see the class comment).
   */
  failed(index: number, peerId: string, reason: 'bad' | 'timeout' | 'busy' | 'missing' | 'elsewhere', now = Date.now()): void {
    // A late failure from a peer that no longer holds the request must not free another peer's.
    this.dropRequest(index, peerId);
    const peer = this.peers.get(peerId);
    if (!peer) return;
    if (reason === 'bad') peer.strikes++;
    if (reason === 'timeout') peer.skipUntil = now + this.o.slowPenaltyMs;
    if (reason === 'busy') peer.skipUntil = now + this.o.busyPenaltyMs;
    if (reason === 'missing') peer.have.delete(index);
    if (reason === 'elsewhere') peer.elsewhere.set(index, now);
  }

  /** Whether the peer has been excluded for bad chunks. */
  isBanned(peerId: string): boolean {
    return (this.peers.get(peerId)?.strikes ?? 0) >= this.o.maxStrikes;
  }

  /** Whether a peer other than `peerId`, not banned and not skipped for now, holds chunk `index`. */
  hasOtherHolder(index: number, peerId: string, now = Date.now()): boolean {
    for (const [id, p] of this.peers) if (id !== peerId && p.strikes < this.o.maxStrikes && p.skipUntil <= now && p.have.has(index)) return true;
    return false;
  }

  /** Who holds chunk `index` in flight, if anyone. */
  holderOf(index: number): string | undefined {
    return this.inFlight.get(index);
  }

  /** Chunk requests sent and not yet answered. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Peers currently asked for at least one chunk. */
  servingPeers(): string[] {
    return [...new Set([...this.inFlight.values(), ...this.backups.values()])];
  }

  /** The second peer chunk `index` is asked of in the endgame, if any. */
  backupOf(index: number): string | undefined {
    return this.backups.get(index);
  }

  /** Whether any eligible peer holds a chunk we lack (the download can progress). */
  canProgress(): boolean {
    for (let i = 0; i < this.have.count; i++) {
      if (this.have.has(i)) continue;
      if (this.inFlight.has(i)) return true;
      for (const p of this.peers.values()) if (p.strikes < this.o.maxStrikes && p.have.has(i)) return true;
    }
    return false;
  }

  /** The next requests to make now (and records them as in flight). */
  next(now = Date.now()): Assignment[] {
    const out: Assignment[] = [];
    const eligible = [...this.peers.entries()].filter(([, p]) => p.strikes < this.o.maxStrikes && p.skipUntil <= now);
    if (!eligible.length) return out;
    const urgent = this.urgentRange();
    for (const index of this.order(eligible)) {
      if (this.inFlight.size >= this.o.maxTotal) break;
      let best: [string, PeerState] | null = null;
      // A peer that sent us elsewhere for this chunk is asked again only when no other holder can be
      // (now or once it has room), and only after the holder it named had time to announce it.
      const sentElsewhere = eligible.some(([, p]) => p.elsewhere.has(index));
      const others = sentElsewhere && eligible.some(([, p]) => p.have.has(index) && !p.elsewhere.has(index));
      const waiting = (p: PeerState) => others || now - (p.elsewhere.get(index) ?? -Infinity) < this.o.elsewhereWaitMs;
      const isUrgent = index >= urgent[0] && index < urgent[1];
      for (const entry of eligible) {
        const p = entry[1];
        if (!p.have.has(index) || p.inFlight >= this.o.maxPerPeer || (!isUrgent && p.elsewhere.has(index) && waiting(p))) continue;
        if (!best || p.inFlight < best[1].inFlight || (p.inFlight === best[1].inFlight && (p.strikes < best[1].strikes || (p.strikes === best[1].strikes && this.o.random() < 0.5)))) best = entry;
      }
      if (!best) continue;
      best[1].inFlight++;
      this.inFlight.set(index, best[0]);
      const p = best[1];
      const waited = p.elsewhere.delete(index); // asked again after its wait: no other holder appeared
      if (waited && !isUrgent && this.peers.size === 1) p.fruitlessWaits++;
      const only = isUrgent || waited || p.fruitlessWaits >= MAX_FRUITLESS_WAITS;
      out.push(only ? { index, peerId: best[0], only: true } : { index, peerId: best[0] });
    }
    for (const a of this.endgame(eligible)) out.push(a);
    return out;
  }

  /**
   * The endgame's second requests: when every chunk we lack is in flight and they are at most
   * `endgameChunks`, each without a second holder yet is asked of an eligible holder with nothing
   * of ours in flight (so a second request never waits behind a queue), within `maxTotal` requests.
   */
  private endgame(eligible: [string, PeerState][]): Assignment[] {
    const lacking = this.have.count - this.have.size;
    if (!this.o.endgameChunks || lacking > this.o.endgameChunks || this.inFlight.size < lacking) return [];
    const out: Assignment[] = [];
    for (const [index, primary] of this.inFlight) {
      if (this.inFlight.size + this.backups.size >= this.o.maxTotal) break;
      if (this.backups.has(index)) continue;
      const idle = eligible.find(([id, p]) => id !== primary && p.inFlight === 0 && p.have.has(index) && !p.elsewhere.has(index));
      if (!idle) continue;
      idle[1].inFlight++;
      this.backups.set(index, idle[0]);
      out.push({ index, peerId: idle[0] });
    }
    return out;
  }

  /**
   * `peerId`'s request for chunk `index` ended without the chunk: its place is freed; when it was
   * the first of two (the endgame), the second takes its place. Returns whether the chunk is still
   * in flight from another peer.
   */
  private dropRequest(index: number, peerId: string): boolean {
    if (this.backups.get(index) === peerId) {
      this.backups.delete(index);
      this.unload(peerId);
      return true;
    }
    if (this.inFlight.get(index) !== peerId) return this.inFlight.has(index);
    this.unload(peerId);
    const backup = this.backups.get(index);
    this.backups.delete(index);
    if (backup === undefined) {
      this.inFlight.delete(index);
      return false;
    }
    this.inFlight.set(index, backup);
    return true;
  }

  /** Chunk `index` arrived: every request for it (one, or two in the endgame) ends. */
  private release(index: number): void {
    for (const map of [this.inFlight, this.backups]) {
      const holder = map.get(index);
      if (holder === undefined) continue;
      map.delete(index);
      this.unload(holder);
    }
  }

  /** One request fewer in flight to `peerId`. */
  private unload(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer) peer.inFlight = Math.max(0, peer.inFlight - 1);
  }

  /** The urgent window, `[first, end)` (empty without an urgent position). */
  private urgentRange(): [number, number] {
    return this.urgent === null ? [0, 0] : [Math.max(0, this.urgent), Math.min(this.have.count, this.urgent + this.o.urgentWindow)];
  }

  /** Candidate chunks: the urgent window in order, then the rest rarest first. */
  private order(eligible: [string, PeerState][]): number[] {
    const wanted = (i: number) => !this.have.has(i) && !this.inFlight.has(i);
    const urgent: number[] = [];
    const [first, end] = this.urgentRange();
    for (let i = first; i < end; i++) if (wanted(i)) urgent.push(i);
    const inUrgent = new Set(urgent);
    const rest: { index: number; holders: number; tie: number }[] = [];
    for (let i = 0; i < this.have.count; i++) {
      if (!wanted(i) || inUrgent.has(i)) continue;
      let holders = 0;
      for (const [, p] of eligible) if (p.have.has(i)) holders++;
      if (holders) rest.push({ index: i, holders, tie: this.o.random() });
    }
    rest.sort((a, b) => a.holders - b.holders || a.tie - b.tie);
    return [...urgent, ...rest.map(r => r.index)];
  }
}
