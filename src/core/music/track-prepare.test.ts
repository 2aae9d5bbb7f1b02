import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// jsmediatags' Node build (package main): reads a file path. The widget uses its browser build on a File.
import jsmediatags from 'jsmediatags';
import { describe, expect, it } from 'vitest';
import { sniffAudioType } from './track-prepare';

const fixturePath = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/audio/${name}`, import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(fixturePath(name)));

interface Tags {
  title?: string;
  artist?: string;
  album?: string;
  picture?: { format: string; data: number[] };
}

function readTags(path: string): Promise<{ type: string; tags: Tags }> {
  return new Promise((resolve, reject) =>
    (jsmediatags as { read(p: string, cb: { onSuccess(r: { type: string; tags: Tags }): void; onError(e: unknown): void }): void }).read(path, {
      onSuccess: resolve,
      onError: reject,
    }),
  );
}

/** The 1×1 PNG signature and IHDR start. */
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);

describe('sniffAudioType', () => {
  it.each([
    ['morning-tone.mp3', 'audio/mpeg'],
    ['evening-tone.wav', 'audio/wav'],
    ['night-tone.flac', 'audio/flac'],
  ])('recognises %s as %s from its first 4100 bytes (what prepareTrack reads) and from the whole file', async (name, mime) => {
    const bytes = fixture(name);
    expect(await sniffAudioType(bytes.subarray(0, 4100))).toBe(mime);
    expect(await sniffAudioType(bytes)).toBe(mime);
  });

  it('has an MP3 whose ID3 tag (with its cover) is longer than the 4100-byte head, so the check above covers that case', () => {
    const mp3 = fixture('morning-tone.mp3');
    const id3Size = ((mp3[6] & 0x7f) << 21) | ((mp3[7] & 0x7f) << 14) | ((mp3[8] & 0x7f) << 7) | (mp3[9] & 0x7f);
    expect(String.fromCharCode(...mp3.subarray(0, 3))).toBe('ID3');
    expect(id3Size).toBeGreaterThan(4100);
  });

  it.each([
    ['a PNG', PNG],
    ['text', new TextEncoder().encode('Morning Tone, The Fixtures — not a track at all\n'.repeat(20))],
    ['an .lrc file', fixture('morning-tone.lrc')],
    ['nothing', new Uint8Array(0)],
    ['zeros', new Uint8Array(4100)],
  ])('returns null for %s', async (_label, bytes) => {
    expect(await sniffAudioType(bytes)).toBeNull();
  });
});

describe('fixture tags (what prepareTrack relies on)', () => {
  it('MP3: ID3 title, artist, album and a cover picture', async () => {
    const { type, tags } = await readTags(fixturePath('morning-tone.mp3'));
    expect(type).toBe('ID3');
    expect(tags.title).toBe('Morning Tone');
    expect(tags.artist).toBe('The Fixtures');
    expect(tags.album).toBe('Test Pressings');
    expect(tags.picture?.format).toMatch(/^image\//);
    expect(tags.picture?.data.length).toBeGreaterThan(100);
  });

  it('FLAC: Vorbis comment title and artist, and a picture', async () => {
    const { type, tags } = await readTags(fixturePath('night-tone.flac'));
    expect(type).toBe('FLAC');
    expect(tags.title).toBe('Night Tone');
    expect(tags.artist).toBe('The Fixtures');
    expect(tags.picture?.format).toMatch(/^image\//);
    expect(tags.picture?.data.length).toBeGreaterThan(100);
  });

  it('WAV: no tags, so the widget falls back to the file name', async () => {
    await expect(readTags(fixturePath('evening-tone.wav'))).rejects.toMatchObject({ type: 'tagFormat' });
  });
});
