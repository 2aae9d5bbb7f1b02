/**
 * Messages from a peer that arrive before this page lists it. Trystero lists a peer when its data
 * channel fires `open` on this side; the other side may see `open` first and send at once, and
 * Chromium can deliver that message before this side's `open` (seen with Chromium 156: a newcomer's
 * `gallery-q` reached its neighbour before the neighbour listed it, was dropped, and the newcomer's
 * wall stayed empty). Such messages are held for at most {@link EARLY_HOLD_MS} and handed over
 * once the peer is listed; a peer not listed by then (one that left, or was dropped for silence)
 * gets them dropped and counted. Holding lists nobody: it is never a way into the roster.
 *
 * Bounded: at most {@link MAX_EARLY_PEERS} peers, and per peer {@link MAX_EARLY_MESSAGES} messages
 * and {@link MAX_EARLY_BYTES} bytes, are held; more are refused (the caller drops them as before).
 * Held messages are checked (size, rate, schema) when they are handed over, like any other.
 */
export const EARLY_HOLD_MS = 5000;
/** Peers with held messages at once, at most. */
export const MAX_EARLY_PEERS = 16;
/** Messages held per peer, at most. */
export const MAX_EARLY_MESSAGES = 32;
/** Bytes (of the messages' text, UTF-16 code units) held per peer, at most: 256 KiB. */
export const MAX_EARLY_BYTES = 256 * 1024;

interface Held {
  /** When the first message was held (ms, `now`'s clock). */
  at: number;
  bytes: number;
  messages: { channel: string; deliver: () => void }[];
}

/** The held messages of not-yet-listed peers (see the module comment). */
export class EarlyMessages {
  private readonly held = new Map<string, Held>();

  /**
   * @param dropped - called for each held message dropped (its peer was not listed in time), with its channel
   * @param now - clock in ms; injectable for tests
   */
  constructor(
    private readonly dropped: (channel: string) => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Holds `deliver` (the handling of a message of `size` bytes) for `peerId`; false when full (the caller drops it). */
  hold(peerId: string, channel: string, size: number, deliver: () => void): boolean {
    this.sweep();
    let h = this.held.get(peerId);
    if (!h) {
      if (this.held.size >= MAX_EARLY_PEERS) return false;
      this.held.set(peerId, (h = { at: this.now(), bytes: 0, messages: [] }));
    }
    if (h.messages.length >= MAX_EARLY_MESSAGES || h.bytes + size > MAX_EARLY_BYTES) return false;
    h.bytes += size;
    h.messages.push({ channel, deliver });
    return true;
  }

  /** The peer is listed now: its held messages are handled, in arrival order. */
  listed(peerId: string): void {
    this.sweep();
    const h = this.held.get(peerId);
    this.held.delete(peerId);
    h?.messages.forEach(m => m.deliver());
  }

  /** Drops (and counts) what a peer holds (it left, or was blocked). */
  forget(peerId: string): void {
    this.held.get(peerId)?.messages.forEach(m => this.dropped(m.channel));
    this.held.delete(peerId);
  }

  /** Drops what was held longer than {@link EARLY_HOLD_MS}. */
  sweep(): void {
    const t = this.now();
    for (const [peerId, h] of this.held) if (t - h.at > EARLY_HOLD_MS) this.forget(peerId);
  }
}
