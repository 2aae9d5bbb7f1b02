import { Lrc } from 'lrc-kit';

/** One synced lyric line: when it starts (seconds) and its text. */
export interface LyricLine {
  /** When the line starts, seconds from the start of the track. */
  time: number;
  /** The line's text. */
  text: string;
}

/** Largest .lrc accepted, characters. */
export const MAX_LRC_LENGTH = 32_000;

/**
 * Parses LRC lyrics (lrc-kit): `[mm:ss.xx]text` lines, several timestamps per line
 * allowed, sorted by time. Never throws: unreadable input gives no lines.
 */
export function parseLrc(text: string): LyricLine[] {
  try {
    return Lrc.parse(text.slice(0, MAX_LRC_LENGTH))
      .lyrics.map(l => ({ time: l.timestamp, text: l.content }))
      .filter(l => Number.isFinite(l.time))
      .sort((a, b) => a.time - b.time);
  } catch {
    return [];
  }
}

/** Cuts text to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes = MAX_LRC_LENGTH): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, '');
}

/** Index of the line playing at `seconds` (the last line whose time has come), or -1 before the first. */
export function currentLine(lines: readonly LyricLine[], seconds: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].time <= seconds) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
