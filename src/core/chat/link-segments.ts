import { find } from 'linkifyjs';

/** A piece of a chat message: plain text, or a link whose `href` is http(s) only. */
export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/**
 * Splits message text into text and link segments for rendering. Links are
 * found by linkifyjs; only `http:` and `https:` URLs become links (no
 * `javascript:`, `data:` or other schemes). Bare domains (`example.com`) get `https://`.
 */
export function linkSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  for (const match of find(text, 'url', { defaultProtocol: 'https' })) {
    const href = safeHref(match.href);
    if (!href) continue;
    if (match.start > at) segments.push({ kind: 'text', text: text.slice(at, match.start) });
    segments.push({ kind: 'link', text: text.slice(match.start, match.end), href });
    at = match.end;
  }
  if (at < text.length) segments.push({ kind: 'text', text: text.slice(at) });
  return segments;
}

/** The URL if it parses and its scheme is http or https, else null. */
export function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
