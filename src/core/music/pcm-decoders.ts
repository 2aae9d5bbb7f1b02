
/** Decoded PCM: one Float32Array per channel. */
export interface Pcm {
  /** Samples per channel, in [-1, 1]. */
  channelData: Float32Array[];
  /** Samples per channel in this block (sample frames). */
  samplesDecoded: number;
  /** Samples per second, Hz. */
  sampleRate: number;
}

/** A streaming decoder: bytes in any split, PCM out; `reset` starts a new stream (after a seek). */
export interface PcmDecoder {
  /** Resolves once the decoder (and for MP3 and FLAC its WebAssembly worker) is loaded. */
  ready: Promise<void>;
  /** Decodes the next bytes of the stream; bytes of an incomplete frame are kept for the next call. */
  decode(bytes: Uint8Array): Promise<Pcm>;
  /** Forgets the stream so far (call before decoding from another offset, after a seek). */
  reset(): Promise<void>;
  /** Releases the decoder (and its worker); it is not used again. */
  free(): void;
}

/** Audio formats the player streams. */
export type AudioKind = 'mp3' | 'flac' | 'wav';

/** The kind of a MIME type, or null when the player cannot stream it. */
export function audioKind(mime: string): AudioKind | null {
  if (/^audio\/(mpeg|mp3)$/.test(mime)) return 'mp3';
  if (/^audio\/(x-)?flac$/.test(mime)) return 'flac';
  if (/^audio\/(x-)?(wav|wave)$|^audio\/vnd\.wave$/.test(mime)) return 'wav';
  return null;
}

/** Where the PCM samples of a WAV file are: parsed from its RIFF header (RIFF/WAVE, `fmt ` and `data` chunks). */
export interface WavFormat {
  /** Offset of the first sample in the file, bytes (just after the `data` chunk header). */
  dataStart: number;
  /** Length of the `data` chunk, bytes. */
  dataLength: number;
  /** Number of channels. */
  channels: number;
  /** Sample frames per second, Hz. */
  sampleRate: number;
  /** Bits per sample: 8, 16, 24 or 32 (integer), or 32 (float). */
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** 1 = integer PCM, 3 = IEEE float. */
  format: number;
}

/** Parses a WAV header from the file's first bytes (at least through the start of `data`); null if it is not one. */
export function parseWavHeader(head: Uint8Array): WavFormat | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const tag = (o: number) => String.fromCharCode(...head.subarray(o, o + 4));
  if (head.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let offset = 12;
  let fmt: Omit<WavFormat, 'dataStart' | 'dataLength'> | null = null;
  while (offset + 8 <= head.byteLength) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    if (id === 'fmt ' && offset + 24 <= head.byteLength) {
      fmt = {
        // WAVE_FORMAT_EXTENSIBLE (0xFFFE): the format is the first field of the sub-format GUID.
        format: view.getUint16(offset + 8, true) === 0xfffe && size >= 40 && offset + 34 <= head.byteLength ? view.getUint16(offset + 32, true) : view.getUint16(offset + 8, true),
        channels: view.getUint16(offset + 10, true),
        sampleRate: view.getUint32(offset + 12, true),
        blockAlign: view.getUint16(offset + 20, true),
        bitsPerSample: view.getUint16(offset + 22, true),
      };
    }
    if (id === 'data') {
      if (!fmt || !fmt.channels || !fmt.sampleRate || !fmt.blockAlign) return null;
      if (!(fmt.format === 1 && [8, 16, 24, 32].includes(fmt.bitsPerSample)) && !(fmt.format === 3 && fmt.bitsPerSample === 32)) return null;
      return { ...fmt, dataStart: offset + 8, dataLength: size };
    }
    offset += 8 + size + (size % 2);
  }
  return null;
}

/** Integer/float PCM from a WAV data chunk, any split: whole sample frames out, the rest kept for the next call. */
export class WavDecoder implements PcmDecoder {
  ready = Promise.resolve();
  private rest = new Uint8Array(0);

  constructor(private readonly fmt: WavFormat) {}

  async decode(bytes: Uint8Array): Promise<Pcm> {
    const { blockAlign, channels, bitsPerSample, format, sampleRate } = this.fmt;
    const data = this.rest.byteLength ? concat(this.rest, bytes) : bytes;
    const frames = Math.floor(data.byteLength / blockAlign);
    this.rest = data.slice(frames * blockAlign);
    const view = new DataView(data.buffer, data.byteOffset, frames * blockAlign);
    const channelData = Array.from({ length: channels }, () => new Float32Array(frames));
    const bytesPer = bitsPerSample / 8;
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < channels; c++) {
        const o = f * blockAlign + c * bytesPer;
        let v: number;
        if (format === 3) v = view.getFloat32(o, true);
        else if (bitsPerSample === 16) v = view.getInt16(o, true) / 32768;
        else if (bitsPerSample === 8) v = (view.getUint8(o) - 128) / 128;
        else if (bitsPerSample === 24) v = ((view.getUint8(o) | (view.getUint8(o + 1) << 8) | (view.getInt8(o + 2) << 16)) / 8388608);
        else v = view.getInt32(o, true) / 2147483648;
        channelData[c][f] = v;
      }
    }
    return { channelData, samplesDecoded: frames, sampleRate };
  }

  async reset(): Promise<void> {
    this.rest = new Uint8Array(0);
  }

  free(): void {
    this.rest = new Uint8Array(0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/**
 * A decoder for a kind, off the main thread for MP3 (mpg123-decoder) and FLAC
 * (@wasm-audio-decoders/flac), both from the wasm-audio-decoders project; WAV is plain PCM.
 * The MP3 and FLAC decoders (their WebAssembly included, about 80 KiB gzip) are loaded on the
 * first play of such a track, not with the widget: `ready` waits for the download too.
 * @throws Error for `wav` without its header
 */
export function createDecoder(kind: AudioKind, wav?: WavFormat): PcmDecoder {
  if (kind === 'wav') {
    if (!wav) throw new Error('a WAV decoder needs the header');
    return new WavDecoder(wav);
  }
  const loaded =
    kind === 'mp3' ? import('mpg123-decoder').then(m => new m.MPEGDecoderWebWorker()) : import('@wasm-audio-decoders/flac').then(m => new m.FLACDecoderWebWorker());
  const ready = loaded.then(decoder => decoder.ready);
  return {
    ready,
    decode: async bytes => {
      const decoder = await loaded;
      const out = await decoder.decode(bytes);
      return { channelData: out.channelData, samplesDecoded: out.samplesDecoded, sampleRate: out.sampleRate };
    },
    reset: async () => (await loaded).reset(),
    // Freed once ready: freeing a worker decoder still starting threw inside the library (an uncaught
    // "reading 'free'" error, seen when a track was switched right after it started loading).
    free: () =>
      void loaded
        .then(async decoder => {
          await decoder.ready;
          await decoder.free();
        })
        .catch(() => undefined),
  };
}
