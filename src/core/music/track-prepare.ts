// file-type (~80 KB) is loaded on the first sniff, not with the widget.
import { toBase64Url } from '../identity';
import type { AudioType } from '../wire';

/** What is read from a track file before sharing. */
export interface PreparedTrack {
  /** The audio type, sniffed from the bytes. */
  mime: AudioType;
  /** Title tag, else the file name without its extension; at most 200 characters. */
  title: string;
  /** Artist tag ('' when absent); at most 200 characters. */
  artist: string;
  /** Album tag ('' when absent); at most 200 characters. */
  album: string;
  /** The file's name, at most 255 characters. */
  fileName: string;
  /** Seconds (0 when the browser cannot tell). */
  duration: number;
  /** Cover art from the file's tags, as a small WebP, base64url. */
  cover?: string;
}

/** Why a track was refused. */
export class TrackRefusedError extends Error {
  constructor(
    /** Which check refused the file: not a supported audio type by content, or over the size limit. */
    readonly code: 'not-audio' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/** Longer side of covers carried in records, px. */
export const COVER_SIDE = 160;

/** The audio type of a file by content (file-type), normalised to the types the room shares, or null. */
export async function sniffAudioType(head: Uint8Array): Promise<AudioType | null> {
  const type = await import('file-type/core').then(({ fileTypeFromBuffer }) => fileTypeFromBuffer(head)).catch(() => undefined);
  const mime = type?.mime ?? '';
  if (mime === 'audio/mpeg') return 'audio/mpeg';
  if (/^audio\/(x-)?flac$/.test(mime)) return 'audio/flac';
  if (/^audio\/(x-)?(wav|wave)$|^audio\/vnd\.wave$/.test(mime)) return 'audio/wav';
  if (mime === 'audio/ogg' || mime === 'audio/opus') return 'audio/ogg';
  if (mime === 'audio/mp4' || mime === 'audio/x-m4a' || mime === 'video/mp4') return 'audio/mp4';
  if (mime === 'audio/aac') return 'audio/aac';
  return null;
}

/**
 * Reads a track's type (by content), tags (jsmediatags: title, artist, album, cover;
 * falling back to the file name) and duration (the browser's own decoder), in the browser.
 * @throws TrackRefusedError in plain words
 */
export async function prepareTrack(file: File, maxBytes: number): Promise<PreparedTrack> {
  if (file.size > maxBytes) throw new TrackRefusedError('too-large', `This track is ${(file.size / 1e6).toFixed(1)} MB; the limit here is ${(maxBytes / 1e6).toFixed(0)} MB.`);
  const mime = await sniffAudioType(new Uint8Array(await file.slice(0, 4100).arrayBuffer()));
  if (!mime) throw new TrackRefusedError('not-audio', 'This file is not a track (MP3, WAV, FLAC, Ogg/Opus or M4A/AAC).');
  // jsmediatags is loaded on the first track shared, not with the widget.
  const jsmediatags = (await import('jsmediatags/dist/jsmediatags.min.js')).default;
  const tags = await new Promise<{ title?: string; artist?: string; album?: string; picture?: { format: string; data: number[] } }>(resolve =>
    jsmediatags.read(file, { onSuccess: r => resolve(r.tags), onError: () => resolve({}) }),
  );
  const fallbackTitle = file.name.replace(/\.[^.]+$/, '');
  return {
    mime,
    title: (tags.title || fallbackTitle).slice(0, 200),
    artist: (tags.artist ?? '').slice(0, 200),
    album: (tags.album ?? '').slice(0, 200),
    fileName: file.name.slice(0, 255),
    duration: await measureDuration(file),
    cover: tags.picture ? await coverFromBytes(new Blob([new Uint8Array(tags.picture.data)], { type: tags.picture.format })) : undefined,
  };
}

/** Scales a picture to a small WebP cover, base64url; undefined if it cannot be decoded. */
export async function coverFromBytes(picture: Blob): Promise<string | undefined> {
  try {
    const bitmap = await createImageBitmap(picture);
    const scale = Math.min(1, COVER_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await canvas.convertToBlob({ type: 'image/webp', quality: 0.8 });
    return blob.size <= 48 * 1024 ? toBase64Url(new Uint8Array(await blob.arrayBuffer())) : undefined;
  } catch {
    return undefined;
  }
}

function measureDuration(file: Blob): Promise<number> {
  return new Promise(resolve => {
    const url = URL.createObjectURL(file);
    const audio = new Audio();
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const done = (d: number) => {
      clearTimeout(timer);
      audio.onloadedmetadata = audio.onerror = null;
      URL.revokeObjectURL(url);
      resolve(Number.isFinite(d) ? d : 0);
    };
    audio.preload = 'metadata';
    audio.onloadedmetadata = () => done(audio.duration);
    audio.onerror = () => done(0);
    timer = setTimeout(() => done(0), 5000);
    audio.src = url;
  });
}
