import { RE2JS } from 're2js';

/** One entry of a ban list that could not be used, in plain words. */
export interface BanListProblem {
  entry: string;
  message: string;
}

/** What a ban list looks at on a track. */
export interface BannableTrack {
  title?: string;
  artist?: string;
  album?: string;
  fileName?: string;
}

/**
 * A ban list: plain words (matched case-insensitively anywhere) and regular
 * expressions written `/pattern/flags` (flag `i` supported). Patterns run on RE2JS,
 * a linear-time engine (RE2's algorithm, Cox 2007, "Regular Expression Matching Can
 * Be Simple And Fast"), so a pathological pattern such as `/(a+)+$/` cannot freeze
 * the page. Invalid patterns are reported in `problems` and ignored, never thrown.
 */
export class BanList {
  /** Entries that could not be read (shown to the visitor as `bad-ban-entry`). */
  readonly problems: BanListProblem[] = [];
  private readonly words: string[] = [];
  private readonly patterns: RE2JS[] = [];

  /** @param entries one entry per item; blank ones are ignored */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      const m = /^\/(.+)\/([a-z]*)$/s.exec(entry);
      if (!m) {
        this.words.push(entry.toLowerCase());
        continue;
      }
      const [, source, flags] = m;
      if (/[^i]/.test(flags)) {
        this.problems.push({ entry, message: `"${entry}" uses flags other than i; it is ignored.` });
        continue;
      }
      try {
        this.patterns.push(RE2JS.compile(source, flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0));
      } catch (err) {
        this.problems.push({ entry, message: `"${entry}" is not a valid pattern (${err instanceof Error ? err.message : String(err)}); it is ignored.` });
      }
    }
  }

  /** Parses the `ban` attribute / settings text: entries separated by new lines or commas outside /…/. */
  static parse(text: string): BanList {
    const entries: string[] = [];
    for (const line of text.split(/\r?\n/)) {
      let rest = line;
      while (rest.trim()) {
        rest = rest.replace(/^[\s,]+/, '');
        // A /pattern/flags entry runs to its closing unescaped slash, then must end the entry.
        const pattern = /^\/((?:\\.|[^\\/])+)\/([a-z]*)\s*(?:,|$)/.exec(rest);
        if (pattern) {
          entries.push(`/${pattern[1]}/${pattern[2]}`);
          rest = rest.slice(pattern[0].length);
          continue;
        }
        const comma = rest.indexOf(',');
        entries.push(comma < 0 ? rest : rest.slice(0, comma));
        rest = comma < 0 ? '' : rest.slice(comma + 1);
      }
    }
    return new BanList(entries);
  }

  /** Number of entries in the list. */
  get size(): number {
    return this.words.length + this.patterns.length;
  }

  /** Whether any of the track's title, artist, album or file name matches an entry. */
  matches(track: BannableTrack): boolean {
    const fields = [track.title, track.artist, track.album, track.fileName].filter((f): f is string => !!f);
    for (const field of fields) {
      const lower = field.toLowerCase();
      if (this.words.some(w => lower.includes(w))) return true;
      if (this.patterns.some(p => p.matcher(field).find())) return true;
    }
    return false;
  }
}
