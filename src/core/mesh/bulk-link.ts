import { createNanoEvents, Unsubscribe } from 'nanoevents';

/**
 * Negotiated data channel id of a bulk link's control channel (both sides create it with the same
 * id, so no extra signaling is needed: RFC 8831 §6.5, `negotiated: true` in W3C webrtc-pc).
 */
export const CONTROL_CHANNEL_ID = 1000;
/** Negotiated id of a bulk link's data (binary frame) channel; see {@link CONTROL_CHANNEL_ID}. */
export const DATA_CHANNEL_ID = 1001;

/** Send-buffer high-water mark: above it, data sends wait for `bufferedamountlow` (bytes). */
export const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** `bufferedAmountLowThreshold` of the data channel (bytes). */
export const LOW_WATER_BYTES = 1024 * 1024;

/** One peer's bulk link as features (the swarm) use it; hand-outs of {@link BulkNetwork}. */
export interface BulkLink {
  /** The peer at the other end (Trystero peer id). */
  readonly peerId: string;
  /** Bytes sent on the data channel so far. */
  readonly bytesSent: number;
  /** Bytes received on the data channel so far. */
  readonly bytesReceived: number;
  /** Sends control text (JSON) now if the peer is ready, else as soon as it is. */
  sendControl(text: string): void;
  /**
   * Sends a binary frame, waiting while the send buffer is above {@link HIGH_WATER_BYTES}.
   * @throws Error `link closed` (rejects) when the link closes before or while waiting
   */
  sendData(frame: Uint8Array): Promise<void>;
}

/** Events of an {@link RtcBulkLink}. */
export interface BulkLinkEvents {
  /** Control text from the peer (validated by the caller). */
  control: (text: unknown) => void;
  /** A binary frame from the peer (validated by the caller). */
  data: (data: unknown) => void;
  /** Both sides are ready (each has seen the other's hello). */
  ready: () => void;
  /** The link closed (either channel closed, or `close()` was called); no event follows. */
  closed: () => void;
}

/**
 * A bulk link: two data channels to one peer on its existing RTCPeerConnection, `control` (JSON)
 * and `data` (binary chunk frames), both negotiated so no extra signaling is needed, and separate
 * from Trystero's channel so bulk transfers never delay chat. Created and re-created by
 * {@link MeshBulkLinks}; features see it as a {@link BulkLink}. Sends on `data` respect back-pressure
 * (`bufferedAmount` / `bufferedAmountLowThreshold`).
 *
 * A negotiated channel's messages can be lost until the other side has created it,
 * so each side repeats `hello` until it hears the peer's, and queues control
 * messages until then.
 */
export class RtcBulkLink implements BulkLink {
  /** The `control` channel (negotiated id {@link CONTROL_CHANNEL_ID}, JSON text, ordered). */
  readonly control: RTCDataChannel;
  /** The `data` channel (negotiated id {@link DATA_CHANNEL_ID}, binary frames, ordered). */
  readonly data: RTCDataChannel;
  bytesSent = 0;
  bytesReceived = 0;
  private readonly emitter = createNanoEvents<BulkLinkEvents>();
  private remoteReady = false;
  private helloTimer: ReturnType<typeof setInterval> | null = null;
  private readonly queue: string[] = [];
  private closed = false;
  private lowWaiters: (() => void)[] = [];

  constructor(
    readonly peerId: string,
    connection: RTCPeerConnection,
    private readonly hello: string,
  ) {
    this.control = connection.createDataChannel('p2p-swarm-control', { negotiated: true, id: CONTROL_CHANNEL_ID, ordered: true });
    this.data = connection.createDataChannel('p2p-swarm-data', { negotiated: true, id: DATA_CHANNEL_ID, ordered: true });
    this.data.binaryType = 'arraybuffer';
    this.data.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    this.data.onbufferedamountlow = () => this.lowWaiters.splice(0).forEach(w => w());
    // Chromium can deliver a negotiated channel's first messages (the peer's hello) before its
    // `open` event: the link is then ready with its channel still `connecting`, and what was queued
    // meanwhile goes out when it opens (it waited for the next retry of its sender, 6 s, before).
    this.control.onopen = () => {
      this.startHello();
      this.flushQueue();
    };
    this.data.onopen = () => this.lowWaiters.splice(0).forEach(w => w());
    this.control.onmessage = e => this.onControl(e.data);
    this.data.onmessage = e => {
      this.bytesReceived += (e.data as ArrayBuffer).byteLength ?? 0;
      this.emitter.emit('data', e.data);
    };
    this.control.onclose = () => this.close();
    this.data.onclose = () => this.close();
    if (this.control.readyState === 'open') this.startHello();
  }

  /** Subscribes to an event (see {@link BulkLinkEvents}); returns the unsubscribe function. */
  on<E extends keyof BulkLinkEvents>(event: E, handler: BulkLinkEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Whether the peer's hello has arrived and the link is not closed: control text goes out at once. */
  get ready(): boolean {
    return this.remoteReady && !this.closed;
  }

  /** Sends control text now if the peer is ready, else when it is. */
  sendControl(text: string): void {
    if (this.closed) return;
    if (!this.remoteReady || this.control.readyState !== 'open') {
      this.queue.push(text);
      return;
    }
    this.control.send(text);
  }

  /** Sends a binary frame, waiting while the send buffer is above the high-water mark. Rejects if the link closes. */
  async sendData(frame: Uint8Array): Promise<void> {
    // Ready (the peer's hello came) before this side's data channel fired `open`: wait for it.
    while (this.data.readyState === 'connecting' || this.data.bufferedAmount > HIGH_WATER_BYTES) {
      if (this.closed) throw new Error('link closed');
      await new Promise<void>(resolve => {
        this.lowWaiters.push(resolve);
        setTimeout(resolve, 1000); // a missed event must not hang the transfer
      });
    }
    if (this.closed || this.data.readyState !== 'open') throw new Error('link closed');
    this.data.send(frame as Uint8Array<ArrayBuffer>);
    this.bytesSent += frame.byteLength;
  }

  /** Closes both channels (which closes the peer's side too) and emits `closed` once. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.helloTimer) clearInterval(this.helloTimer);
    this.lowWaiters.splice(0).forEach(w => w());
    try {
      this.control.close();
      this.data.close();
    } catch {
      /* already closed */
    }
    this.emitter.emit('closed');
    this.emitter.events = {};
  }

  /** Sends the queued control text once the peer is ready and the channel open. */
  private flushQueue(): void {
    if (this.remoteReady && !this.closed && this.control.readyState === 'open') this.queue.splice(0).forEach(t => this.control.send(t));
  }

  private startHello(): void {
    if (this.helloTimer || this.closed) return;
    const send = () => {
      if (this.control.readyState === 'open') this.control.send(this.hello);
    };
    send();
    this.helloTimer = setInterval(() => {
      if (this.remoteReady) {
        clearInterval(this.helloTimer!);
        return;
      }
      send();
    }, 300);
  }

  private onControl(data: unknown): void {
    if (typeof data === 'string' && !this.remoteReady && data === this.hello) {
      this.remoteReady = true;
      if (this.control.readyState === 'open') this.control.send(this.hello);
      this.flushQueue();
      this.emitter.emit('ready');
      return;
    }
    if (typeof data === 'string' && data === this.hello) return;
    this.emitter.emit('control', data);
  }
}
