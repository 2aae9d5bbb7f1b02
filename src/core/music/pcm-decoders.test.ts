import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audioKind, createDecoder, parseWavHeader, WavDecoder, WavFormat } from './pcm-decoders';

const wavFixture = new Uint8Array(readFileSync(new URL('../../../test/fixtures/audio/evening-tone.wav', import.meta.url)));
const ascii = (s: string) => [...s].map(c => c.charCodeAt(0));

interface Chunk {
  id: string;
  body: Uint8Array;
}

/** Builds a RIFF/WAVE file from chunks (odd-sized chunks padded, as RIFF requires). */
function riff(chunks: Chunk[]): Uint8Array {
  const parts: number[] = [...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WAVE')];
  for (const { id, body } of chunks) {
    const size = body.byteLength;
    parts.push(...ascii(id), size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, (size >>> 24) & 0xff, ...body);
    if (size % 2) parts.push(0);
  }
  const out = new Uint8Array(parts);
  new DataView(out.buffer).setUint32(4, out.byteLength - 8, true);
  return out;
}

/** A 16-byte `fmt ` body. */
function fmtBody(format: number, channels: number, sampleRate: number, bits: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  const blockAlign = (channels * bits) / 8;
  v.setUint16(0, format, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, sampleRate, true);
  v.setUint32(8, sampleRate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, bits, true);
  return b;
}

/** A 40-byte WAVE_FORMAT_EXTENSIBLE `fmt ` body with the given sub-format (1 = PCM, 3 = IEEE float). */
function extensibleFmtBody(subFormat: number, channels: number, sampleRate: number, bits: number): Uint8Array {
  const b = new Uint8Array(40);
  b.set(fmtBody(0xfffe, channels, sampleRate, bits));
  const v = new DataView(b.buffer);
  v.setUint16(16, 22, true); // cbSize
  v.setUint16(18, bits, true); // valid bits per sample
  v.setUint32(20, channels === 1 ? 4 : 3, true); // channel mask
  // SubFormat GUID: xxxxxxxx-0000-0010-8000-00aa00389b71
  v.setUint32(24, subFormat, true);
  b.set([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 28);
  return b;
}

function pcmWav(format: number, channels: number, bits: number, data: Uint8Array, extra: Chunk[] = []): Uint8Array {
  return riff([{ id: 'fmt ', body: fmtBody(format, channels, 8000, bits) }, ...extra, { id: 'data', body: data }]);
}

function bytesOf(write: (v: DataView) => void, length: number): Uint8Array {
  const b = new Uint8Array(length);
  write(new DataView(b.buffer));
  return b;
}

async function decodeAll(file: Uint8Array): Promise<{ fmt: WavFormat; channels: number[][] }> {
  const fmt = parseWavHeader(file);
  if (!fmt) throw new Error('not a WAV');
  const pcm = await new WavDecoder(fmt).decode(file.subarray(fmt.dataStart, fmt.dataStart + fmt.dataLength));
  expect(pcm.sampleRate).toBe(fmt.sampleRate);
  expect(pcm.channelData).toHaveLength(fmt.channels);
  for (const ch of pcm.channelData) expect(ch).toHaveLength(pcm.samplesDecoded);
  return { fmt, channels: pcm.channelData.map(c => [...c]) };
}

describe('audioKind', () => {
  it.each([
    ['audio/mpeg', 'mp3'],
    ['audio/mp3', 'mp3'],
    ['audio/flac', 'flac'],
    ['audio/x-flac', 'flac'],
    ['audio/wav', 'wav'],
    ['audio/x-wav', 'wav'],
    ['audio/wave', 'wav'],
    ['audio/vnd.wave', 'wav'],
  ])('maps %s to %s', (mime, kind) => {
    expect(audioKind(mime)).toBe(kind);
  });

  it.each(['audio/ogg', 'audio/mp4', 'audio/aac', 'video/mp4', '', 'audio/mpeg3', 'xaudio/mpeg', 'audio/wavx', 'AUDIO/MPEG'])('has no streaming kind for %j', mime => {
    expect(audioKind(mime)).toBeNull();
  });
});

describe('parseWavHeader', () => {
  const expected: WavFormat = { format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16, blockAlign: 2, dataStart: 44, dataLength: 960_000 };

  it('reads the committed WAV: 8 kHz mono 16-bit, data at 44, 960000 bytes', () => {
    expect(parseWavHeader(wavFixture)).toEqual(expected);
  });

  it('needs only the bytes up to the start of data (as the player reads them)', () => {
    expect(parseWavHeader(wavFixture.subarray(0, 44))).toEqual(expected);
    expect(parseWavHeader(wavFixture.subarray(0, 4100))).toEqual(expected);
  });

  it('works on a view that does not start at offset 0 of its buffer', () => {
    const padded = new Uint8Array(7 + 100);
    padded.set(wavFixture.subarray(0, 100), 7);
    expect(parseWavHeader(padded.subarray(7))).toEqual(expected);
  });

  it('returns null (never throws) for bytes that are not a WAV header', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['3 bytes', new Uint8Array(ascii('RIF'))],
      ['RIFF only', new Uint8Array(ascii('RIFF'))],
      ['a RIFF AVI', new Uint8Array([...ascii('RIFF'), 4, 0, 0, 0, ...ascii('AVI LIST'), 0, 0, 0, 0])],
      ['an MP3 head', new Uint8Array(readFileSync(new URL('../../../test/fixtures/audio/morning-tone.mp3', import.meta.url)).subarray(0, 4100))],
      ['text', new TextEncoder().encode('RIFF? no, just words about WAVE files and data chunks')],
      ['cut inside fmt', wavFixture.subarray(0, 20)],
      ['cut before the data chunk header ends', wavFixture.subarray(0, 40)],
      ['cut right after fmt', wavFixture.subarray(0, 36)],
      ['random bytes', Uint8Array.from({ length: 512 }, (_, i) => (i * 197 + 13) & 0xff)],
    ];
    for (const [label, bytes] of cases) {
      let out: WavFormat | null = {} as WavFormat;
      expect(() => (out = parseWavHeader(bytes)), label).not.toThrow();
      expect(out, label).toBeNull();
    }
  });

  it('returns null for a chunk size that points past the end', () => {
    const file = pcmWav(1, 1, 16, new Uint8Array(4), [{ id: 'LIST', body: new Uint8Array(4) }]);
    new DataView(file.buffer).setUint32(36 + 4, 0xfffffff0, true); // LIST size
    expect(parseWavHeader(file)).toBeNull();
  });

  it('returns null when data comes before fmt, or fmt is missing', () => {
    expect(parseWavHeader(riff([{ id: 'data', body: new Uint8Array(4) }, { id: 'fmt ', body: fmtBody(1, 1, 8000, 16) }]))).toBeNull();
    expect(parseWavHeader(riff([{ id: 'data', body: new Uint8Array(4) }]))).toBeNull();
  });

  it('returns null for encodings it cannot play', () => {
    expect(parseWavHeader(pcmWav(2, 1, 4, new Uint8Array(4)))).toBeNull(); // MS ADPCM
    expect(parseWavHeader(pcmWav(1, 1, 12, new Uint8Array(4)))).toBeNull();
    expect(parseWavHeader(pcmWav(3, 1, 64, new Uint8Array(8)))).toBeNull(); // float64
    expect(parseWavHeader(pcmWav(3, 1, 16, new Uint8Array(4)))).toBeNull();
    expect(parseWavHeader(pcmWav(1, 0, 16, new Uint8Array(4)))).toBeNull(); // no channels
  });

  it('skips other chunks before data, including an odd-sized padded one', () => {
    const list = { id: 'LIST', body: new Uint8Array([...ascii('INFOINAM'), 3, 0, 0, 0, ...ascii('ab'), 0]) }; // 15 bytes → 1 pad byte
    expect(list.body.byteLength % 2).toBe(1);
    const data = bytesOf(v => [1000, -1000, 32767].forEach((s, i) => v.setInt16(i * 2, s, true)), 6);
    const file = pcmWav(1, 1, 16, data, [list, { id: 'fact', body: new Uint8Array(4) }]);
    const fmt = parseWavHeader(file);
    // 12 RIFF header + 24 fmt + (8 + 15 + 1) LIST + (8 + 4) fact + 8 data header
    expect(fmt).toEqual({ format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16, blockAlign: 2, dataStart: 80, dataLength: 6 });
    expect([...file.subarray(fmt!.dataStart, fmt!.dataStart + fmt!.dataLength)]).toEqual([...data]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE integer PCM as integer PCM', () => {
    const file = riff([{ id: 'fmt ', body: extensibleFmtBody(1, 2, 48000, 24) }, { id: 'data', body: new Uint8Array(12) }]);
    expect(parseWavHeader(file)).toEqual({ format: 1, channels: 2, sampleRate: 48000, bitsPerSample: 24, blockAlign: 6, dataStart: 68, dataLength: 12 });
  });

  // Bug: pcm-decoders.ts maps format tag 0xFFFE (WAVE_FORMAT_EXTENSIBLE) to 1 (integer PCM)
  // without reading the SubFormat GUID, so 32-bit *float* extensible WAVs are decoded as int32.
  it('reads WAVE_FORMAT_EXTENSIBLE float as float, and decodes it as float', async () => {
    const data = bytesOf(v => [0.5, -0.25].forEach((s, i) => v.setFloat32(i * 4, s, true)), 8);
    const file = riff([{ id: 'fmt ', body: extensibleFmtBody(3, 1, 44100, 32) }, { id: 'data', body: data }]);
    expect(parseWavHeader(file)?.format).toBe(3);
    const { channels } = await decodeAll(file);
    expect(channels[0]).toEqual([0.5, -0.25]);
  });
});

describe('WavDecoder', () => {
  it('decodes the committed 16-bit WAV to floats in [-1, 1] (a tone, not silence)', async () => {
    const fmt = parseWavHeader(wavFixture)!;
    const pcm = await new WavDecoder(fmt).decode(wavFixture.subarray(fmt.dataStart));
    expect(pcm.sampleRate).toBe(8000);
    expect(pcm.samplesDecoded).toBe(480_000);
    const samples = pcm.channelData[0];
    expect(samples).toHaveLength(480_000); // 60 s at 8 kHz
    let min = Infinity;
    let max = -Infinity;
    for (const s of samples) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    expect(max - min).toBeGreaterThan(0.1);
    // Spot check one sample against the raw bytes.
    const raw = new DataView(wavFixture.buffer, wavFixture.byteOffset).getInt16(44 + 2 * 1234, true);
    expect(samples[1234]).toBe(raw / 32768);
  });

  it('keeps partial frames across calls (split at odd bytes) and matches a one-shot decode', async () => {
    const fmt = parseWavHeader(wavFixture)!;
    const data = wavFixture.subarray(fmt.dataStart, fmt.dataStart + 20_000);
    const whole = (await new WavDecoder(fmt).decode(data)).channelData[0];
    const decoder = new WavDecoder(fmt);
    const pieces: Float32Array[] = [];
    const counts: number[] = [];
    for (const [from, to] of [
      [0, 1001],
      [1001, 1002],
      [1002, 1003],
      [1003, 7777],
      [7777, 20_000],
    ]) {
      const pcm = await decoder.decode(data.subarray(from, to));
      pieces.push(pcm.channelData[0]);
      counts.push(pcm.samplesDecoded);
    }
    expect(counts).toEqual([500, 1, 0, 3387, 6112]);
    expect(counts.reduce((a, b) => a + b)).toBe(10_000);
    const joined = new Float32Array(10_000);
    let at = 0;
    for (const p of pieces) {
      joined.set(p, at);
      at += p.length;
    }
    expect(joined).toEqual(whole);
  });

  it('does not let a later call clobber bytes the caller still owns', async () => {
    const fmt = parseWavHeader(pcmWav(1, 1, 16, new Uint8Array(4)))!;
    const decoder = new WavDecoder(fmt);
    const buf = new Uint8Array([0x00, 0x40, 0x00]); // one frame (0x4000) + half a frame
    expect((await decoder.decode(buf)).channelData[0]).toEqual(new Float32Array([0.5]));
    buf.fill(0xff); // the caller reuses its buffer
    const next = await decoder.decode(new Uint8Array([0xc0])); // completes 0xc000 = -16384
    expect([...next.channelData[0]]).toEqual([-0.5]);
  });

  it('drops a pending partial frame on reset', async () => {
    const fmt = parseWavHeader(pcmWav(1, 1, 16, new Uint8Array(4)))!;
    const decoder = new WavDecoder(fmt);
    await decoder.decode(new Uint8Array([0x12]));
    await decoder.reset();
    const pcm = await decoder.decode(new Uint8Array([0x00, 0x40]));
    expect([...pcm.channelData[0]]).toEqual([0.5]);
  });

  it('decodes 8-bit unsigned PCM', async () => {
    const { channels } = await decodeAll(pcmWav(1, 1, 8, new Uint8Array([0, 64, 128, 192, 255])));
    expect(channels[0]).toEqual([-1, -0.5, 0, 0.5, 127 / 128]);
  });

  it('decodes 16-bit PCM, stereo interleaved', async () => {
    const data = bytesOf(v => [-32768, 32767, 16384, -16384, 0, 1].forEach((s, i) => v.setInt16(i * 2, s, true)), 12);
    const { channels } = await decodeAll(pcmWav(1, 2, 16, data));
    expect(channels).toEqual([
      [-1, 0.5, 0],
      [32767 / 32768, -0.5, 1 / 32768],
    ]);
  });

  it('decodes 24-bit PCM with sign extension', async () => {
    const values = [-8388608, -1, 0, 4194304, 8388607];
    const data = new Uint8Array(values.length * 3);
    values.forEach((s, i) => data.set([s & 0xff, (s >> 8) & 0xff, (s >> 16) & 0xff], i * 3));
    const { channels } = await decodeAll(pcmWav(1, 1, 24, data));
    expect(channels[0]).toEqual(values.map(s => Math.fround(s / 8388608)));
  });

  it('decodes 32-bit integer PCM', async () => {
    const values = [-2147483648, -1073741824, 0, 1073741824, 2147483647];
    const data = bytesOf(v => values.forEach((s, i) => v.setInt32(i * 4, s, true)), 20);
    const { channels } = await decodeAll(pcmWav(1, 1, 32, data));
    expect(channels[0]).toEqual(values.map(s => Math.fround(s / 2147483648)));
  });

  it('decodes 32-bit float PCM', async () => {
    const values = [-1, -0.25, 0, 0.5, 1];
    const data = bytesOf(v => values.forEach((s, i) => v.setFloat32(i * 4, s, true)), 20);
    const { fmt, channels } = await decodeAll(pcmWav(3, 1, 32, data));
    expect(fmt.format).toBe(3);
    expect(channels[0]).toEqual(values);
  });
});

describe('createDecoder', () => {
  it('makes a WAV decoder from a header, and refuses WAV without one', async () => {
    const fmt = parseWavHeader(wavFixture)!;
    const decoder = createDecoder('wav', fmt);
    expect(decoder).toBeInstanceOf(WavDecoder);
    await decoder.ready;
    expect(() => createDecoder('wav')).toThrow(/header/);
  });
});
