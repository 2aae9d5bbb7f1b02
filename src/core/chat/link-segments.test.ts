import { describe, expect, it } from 'vitest';
import { linkSegments, safeHref, Segment } from './link-segments';

const joined = (segments: Segment[]) => segments.map(s => s.text).join('');
const links = (segments: Segment[]) => segments.filter((s): s is Extract<Segment, { kind: 'link' }> => s.kind === 'link');

describe('linkSegments', () => {
  it('returns no segments for empty text and one text segment for plain text', () => {
    expect(linkSegments('')).toEqual([]);
    expect(linkSegments('just words, no links.')).toEqual([{ kind: 'text', text: 'just words, no links.' }]);
  });

  it('turns an https URL into a link and keeps the text around it exactly', () => {
    expect(linkSegments('see https://example.com/a?b=1#c, then reply')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { kind: 'text', text: ', then reply' },
    ]);
  });

  it('turns an http URL into a link', () => {
    expect(linkSegments('http://example.org')).toEqual([{ kind: 'link', text: 'http://example.org', href: 'http://example.org/' }]);
  });

  it('finds several links, adjacent to text on both sides', () => {
    const segments = linkSegments('a https://one.example b\nhttp://two.example/x');
    expect(segments.map(s => s.kind)).toEqual(['text', 'link', 'text', 'link']);
    expect(links(segments).map(l => l.href)).toEqual(['https://one.example/', 'http://two.example/x']);
  });

  it.each([
    'javascript:alert(1)',
    'click javascript:alert(document.cookie) now',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)',
    'ftp://files.example.com/x',
    'mailto:ann@example.com',
    'file:///etc/passwd',
  ])('keeps %j as text (no link)', text => {
    const segments = linkSegments(text);
    expect(links(segments)).toEqual([]);
    expect(segments).toEqual([{ kind: 'text', text }]);
  });

  it('never produces an href that is not http(s), even for javascript:// tricks', () => {
    const inputs = [
      'javascript://example.com/%0aalert(1)',
      'java\tscript:alert(1) https://ok.example',
      'x ftp://a.example y https://b.example z data:,x',
      '<a href="javascript:alert(1)">https://c.example</a>',
    ];
    for (const input of inputs) {
      for (const link of links(linkSegments(input))) {
        expect(new URL(link.href).protocol).toMatch(/^https?:$/);
        expect(link.href.toLowerCase()).not.toContain('javascript:');
      }
    }
  });

  it('skips a non-http URL between links without losing its text', () => {
    const input = 'https://a.example then ftp://b.example then https://c.example';
    const segments = linkSegments(input);
    expect(segments).toEqual([
      { kind: 'link', text: 'https://a.example', href: 'https://a.example/' },
      { kind: 'text', text: ' then ftp://b.example then ' },
      { kind: 'link', text: 'https://c.example', href: 'https://c.example/' },
    ]);
  });

  it.each([
    '',
    'plain',
    '  leading and trailing spaces  ',
    'https://only.example',
    'multi\nline\r\ntext with https://x.example/path(1) and (https://y.example/).',
    'emoji 😀 https://例え.jp/パス 中文 http://a.example?q=中',
    'javascript:alert(1) data:,x ftp://f.example mailto:a@b.example https://ok.example',
    '<b>not markup</b> http://a.example/<script>',
    'example.com and www.example.org',
    '\u0000\uD800 lone surrogate https://s.example',
  ])('keeps every character: segments joined == input (%j)', input => {
    const segments = linkSegments(input);
    expect(joined(segments)).toBe(input);
    // no empty segments, and never two text segments in a row
    expect(segments.every(s => s.text.length > 0)).toBe(true);
    for (let i = 1; i < segments.length; i++) expect(segments[i].kind === 'text' && segments[i - 1].kind === 'text').toBe(false);
  });

  it('gives each link the exact characters of the input as its text', () => {
    const input = 'go to HTTPS://Example.COM/Path now';
    const [link] = links(linkSegments(input));
    expect(link.text).toBe('HTTPS://Example.COM/Path');
    expect(input).toContain(link.text);
    expect(link.href).toBe('https://example.com/Path');
  });

  it('links a bare domain', () => {
    const segments = linkSegments('visit example.com today');
    expect(segments.map(s => s.kind)).toEqual(['text', 'link', 'text']);
    expect(links(segments)[0].text).toBe('example.com');
  });

  // Regression guard (was a bug): the doc comment promises "Bare domains (`example.com`) get `https://`", but linkifyjs'
  // default protocol is http, so the href is http://example.com/. Pass the option:
  // `find(text, 'url', { defaultProtocol: 'https' })`.
  it('gives a bare domain an https:// href, as documented', () => {
    const [link] = links(linkSegments('visit example.com today'));
    expect(link.href).toBe('https://example.com/');
  });
});

describe('safeHref', () => {
  it('returns the normalised URL for http and https', () => {
    expect(safeHref('https://Example.com')).toBe('https://example.com/');
    expect(safeHref('http://example.com/a b')).toBe('http://example.com/a%20b');
  });

  it.each(['javascript:alert(1)', ' javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html,x', 'ftp://x.example', 'mailto:a@b.c', 'not a url', '', '//example.com'])(
    'returns null for %j',
    candidate => {
      expect(safeHref(candidate)).toBeNull();
    },
  );
});
