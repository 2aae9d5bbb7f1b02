import type { RE2JS } from 're2js';

/** The pattern engine once loaded (RE2JS, ~40 KiB gzip: loaded only when a list has a `/pattern/`). */
let engine: typeof RE2JS | null = null;
let loading: Promise<void> | null = null;

/**
 * Loads the pattern engine (first call only). Until it has loaded, a list with patterns is
 * `pending`: it hides every track rather than show one a pattern would ban.
 * @throws (rejects) when the chunk cannot be loaded (network); a later call tries again
 */
export function loadPatternEngine(): Promise<void> {
  loading ??= import('re2js').then(
    m => void (engine = m.RE2JS),
    err => {
      loading = null;
      throw err;
    },
  );
  return loading;
}

/** One entry of a ban list that could not be used, in plain words. */
export interface BanListProblem {
  /** The entry as written (trimmed). */
  entry: string;
  /** What is wrong with it, in English. */
  message: string;
}

/** What a ban list looks at on a track. */
export interface BannableTrack {
  /** Title tag. */
  title?: string;
  /** Artist tag. */
  artist?: string;
  /** Album tag. */
  album?: string;
  /** The shared file's name. */
  fileName?: string;
}

/**
 * A ban list: plain words (matched case-insensitively anywhere) and regular
 * expressions written `/pattern/flags` (flag `i` supported). Patterns run on RE2JS,
 * a linear-time engine (RE2's algorithm, Cox 2007, "Regular Expression Matching Can
 * Be Simple And Fast"), so a pathological pattern such as `/(a+)+$/` cannot freeze
 * the page. Invalid patterns are reported in `problems` and ignored, never thrown. RE2JS is loaded on
 * demand ({@link loadPatternEngine}): a list of plain words never downloads it.
 */
export class BanList {
  /** Entries that could not be read (shown to the visitor as `bad-ban-entry`). */
  readonly problems: BanListProblem[] = [];
  private readonly words: string[] = [];
  private readonly patterns: RE2JS[] = [];
  /** Pattern entries kept until the engine has loaded (see `loadPatternEngine`). */
  private readonly waiting: string[] = [];

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
      if (!engine) {
        this.waiting.push(entry);
        continue;
      }
      try {
        this.patterns.push(engine.compile(source, flags.includes('i') ? engine.CASE_INSENSITIVE : 0));
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
    return this.words.length + this.patterns.length + this.waiting.length;
  }

  /**
   * Whether the list has patterns the engine was not loaded for: it then matches every track (hides
   * rather than shows what a pattern may ban) and cannot report bad patterns yet; parse it again once
   * `loadPatternEngine()` resolved.
   */
  get pending(): boolean {
    return this.waiting.length > 0;
  }

  /** Whether any of the track's title, artist, album or file name matches an entry. */
  matches(track: BannableTrack): boolean {
    if (this.pending) return true;
    const fields = [track.title, track.artist, track.album, track.fileName].filter((f): f is string => !!f);
    for (const field of fields) {
      const lower = field.toLowerCase();
      if (this.words.some(w => lower.includes(w))) return true;
      if (this.patterns.some(p => p.matcher(field).find())) return true;
    }
    return false;
  }
}
