import { createNanoEvents, Unsubscribe } from 'nanoevents';
import { AudioKind, createDecoder, parseWavHeader, PcmDecoder, WavFormat } from './pcm-decoders';

/** Where the player reads a track's bytes (the swarm: reads wait for chunks still downloading). */
export interface ByteSource {
  /** Total size, bytes. */
  size: number;
  /** Bytes [start, end); may wait until they have arrived. */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** Events of a {@link StreamingPlayer}. */
export interface PlayerEvents {
  /** The play position moved (about 4 times a second while playing), seconds. */
  time: (seconds: number) => void;
  /** Playback reached the end. */
  ended: () => void;
  /** Playing but waiting for bytes (buffer ran dry). */
  waiting: (waiting: boolean) => void;
  /** Reading or decoding failed while playing: nothing more is scheduled (a failed `load` rejects instead). */
  error: (error: Error) => void;
}

/** Bytes read and decoded per step. */
const BLOCK = 32 * 1024;
/** Decoded audio kept scheduled ahead of the playhead, seconds. */
const AHEAD = 3;
/** How many bytes of a WAV file are read to find its `fmt ` and `data` chunks: tried in turn, bytes. */
const WAV_HEADER_READS = [4096, 64 * 1024, 1024 * 1024];

interface Scheduled {
  node: AudioBufferSourceNode;
  ctxStart: number;
  mediaStart: number;
  duration: number;
}

/**
 * Plays a track while it downloads: reads bytes in order from a {@link ByteSource},
 * decodes them (MP3, FLAC, WAV; see pcm-decoders.ts) and schedules the PCM on a
 * Web Audio graph a few seconds ahead of the playhead. Seeking restarts decoding at
 * the byte offset of the target time (exact for WAV, proportional for MP3/FLAC,
 * whose decoders resynchronise at the next frame), so a seek into a part not yet
 * downloaded reads (and therefore fetches) that part first.
 */
export class StreamingPlayer {
  private readonly emitter = createNanoEvents<PlayerEvents>();
  private readonly gain: GainNode;
  private scheduled: Scheduled[] = [];
  private session = 0;
  private decoder: PcmDecoder | null = null;
  private wav: WavFormat | null = null;
  private source: ByteSource | null = null;
  private nextCtxTime = 0;
  private mediaPosition = 0;
  private lastTime = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private finished = false;
  private waitingFlag = false;
  /** Duration of the track, seconds (from its metadata, or the WAV header). */
  duration = 0;
  /** Whether the track plays (false when paused, stopped or ended; true while waiting for bytes too). */
  playing = false;

  constructor(private readonly ctx: AudioContext) {
    this.gain = ctx.createGain();
    this.gain.connect(ctx.destination);
  }

  /** Subscribes to an event (see {@link PlayerEvents}); returns the unsubscribe function. */
  on<E extends keyof PlayerEvents>(event: E, handler: PlayerEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** Loads a track and starts playing at `startAt` seconds. */
  async load(source: ByteSource, kind: AudioKind, duration: number, startAt = 0): Promise<void> {
    // A later load, a seek or destroy() while this one awaits makes it stop quietly.
    const loading = ++this.session;
    this.stopAll();
    this.decoder?.free();
    this.source = source;

    this.duration = duration;
    this.wav = null;
    if (kind === 'wav') {
      // The data chunk usually starts within 4 KiB; after large metadata chunks (LIST, id3, a cover) it can
      // start later, so a header not found is read again longer (up to 1 MiB) before giving up.
      for (const length of WAV_HEADER_READS) {
        const header = await source.read(0, Math.min(source.size, length));
        if (loading !== this.session) return;
        this.wav = parseWavHeader(header);
        if (this.wav || length >= source.size) break;
      }
      if (!this.wav) throw new Error('this WAV file cannot be read');
      this.duration = this.wav.dataLength / this.wav.blockAlign / this.wav.sampleRate;
    }
    const decoder = (this.decoder = createDecoder(kind, this.wav ?? undefined));
    await decoder.ready;
    if (loading !== this.session) return;
    this.playing = true;
    await this.ctx.resume();
    if (loading !== this.session || this.decoder !== decoder) return;
    this.seekInternal(startAt);
    this.timer ??= setInterval(() => this.tick(), 250);
  }

  /** Current position, seconds. */
  get currentTime(): number {
    const now = this.ctx.currentTime;
    for (const s of this.scheduled) if (now >= s.ctxStart && now < s.ctxStart + s.duration) return (this.lastTime = s.mediaStart + (now - s.ctxStart));
    const last = this.scheduled[this.scheduled.length - 1];
    if (last && now >= last.ctxStart + last.duration) return (this.lastTime = last.mediaStart + last.duration);
    return this.lastTime;
  }

  /** Resumes playback. */
  play(): void {
    if (!this.source) return;
    this.playing = true;
    void this.ctx.resume();
  }

  /** Pauses playback (the position is kept). */
  pause(): void {
    this.playing = false;
    void this.ctx.suspend();
  }

  /** Sets the volume, 0–1. */
  setVolume(volume: number): void {
    this.gain.gain.value = Math.max(0, Math.min(1, volume));
  }

  /** Jumps to `seconds` (fetching that part first if it is not downloaded yet). */
  seek(seconds: number): void {
    if (!this.source) return;
    this.seekInternal(Math.max(0, Math.min(seconds, this.duration || seconds)));
  }

  /** Stops and releases the decoder. */
  destroy(): void {
    this.session++;
    this.stopAll();
    this.decoder?.free();
    this.decoder = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.emitter.events = {};
  }

  private seekInternal(seconds: number): void {
    const session = ++this.session;
    this.stopAll();
    this.finished = false;
    this.mediaPosition = seconds;
    this.lastTime = seconds;
    this.nextCtxTime = this.ctx.currentTime + 0.05;
    const source = this.source!;
    let offset: number;
    if (this.wav) offset = this.wav.dataStart + Math.floor(seconds * this.wav.sampleRate) * this.wav.blockAlign;
    else offset = this.duration > 0 ? Math.floor((seconds / this.duration) * source.size) : 0;
    void this.pump(session, Math.min(offset, source.size));
  }

  private async pump(session: number, offset: number): Promise<void> {
    const source = this.source;
    const decoder = this.decoder;
    if (!source || !decoder) return;
    const end = this.wav ? Math.min(source.size, this.wav.dataStart + this.wav.dataLength) : source.size;
    try {
      await decoder.reset();
      while (session === this.session && offset < end) {
        const ahead = this.nextCtxTime - this.ctx.currentTime;
        if (ahead > AHEAD || (!this.playing && ahead > 0.5)) {
          await sleep(100);
          continue;
        }
        this.setWaiting(ahead < 0.05 && this.playing);
        const bytes = await source.read(offset, Math.min(end, offset + BLOCK));
        if (session !== this.session) return;
        offset += bytes.byteLength;
        const pcm = await decoder.decode(bytes);
        if (session !== this.session) return;
        this.schedule(pcm.channelData, pcm.samplesDecoded, pcm.sampleRate);
      }
      if (session === this.session) {
        this.finished = true;
        this.setWaiting(false);
      }
    } catch (err) {
      if (session === this.session) this.emitter.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private schedule(channels: Float32Array[], samples: number, sampleRate: number): void {
    if (!samples || !channels.length) return;
    const buffer = this.ctx.createBuffer(channels.length, samples, sampleRate);
    channels.forEach((data, c) => buffer.copyToChannel(data.subarray(0, samples) as Float32Array<ArrayBuffer>, c));
    const node = this.ctx.createBufferSource();
    node.buffer = buffer;
    node.connect(this.gain);
    const start = Math.max(this.nextCtxTime, this.ctx.currentTime + 0.02);
    node.start(start);
    const entry = { node, ctxStart: start, mediaStart: this.mediaPosition, duration: buffer.duration };
    this.scheduled.push(entry);
    node.onended = () => {
      const i = this.scheduled.indexOf(entry);
      if (i >= 0 && this.scheduled.length > 8) this.scheduled.splice(0, i);
    };
    this.nextCtxTime = start + buffer.duration;
    this.mediaPosition += buffer.duration;
  }

  private tick(): void {
    if (!this.source) return;
    const t = this.currentTime;
    // Waiting: playing, not at the end, and everything scheduled has played (the next bytes have not arrived).
    this.setWaiting(this.playing && !this.finished && this.ctx.currentTime > this.nextCtxTime + 0.1);
    this.emitter.emit('time', t);
    if (this.finished && this.ctx.currentTime >= this.nextCtxTime && this.playing) {
      this.finished = false;
      this.playing = false;
      this.emitter.emit('ended');
    }
  }

  private setWaiting(waiting: boolean): void {
    if (waiting === this.waitingFlag) return;
    this.waitingFlag = waiting;
    this.emitter.emit('waiting', waiting);
  }

  private stopAll(): void {
    for (const s of this.scheduled) {
      try {
        s.node.onended = null;
        s.node.stop();
        s.node.disconnect();
      } catch {
        /* not started */
      }
    }
    this.scheduled = [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
