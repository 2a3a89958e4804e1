// Globs of `where` filters: `*` (any run of characters, also none) and `?` (exactly one
// character); everything else is literal and case-sensitive, like SKUs. A list of globs is
// compiled once into one matcher: plain strings go into a Set, patterns into one RegExp, so
// that matching an item costs a hash lookup and at most one regex test.

/** Characters that mean something to RegExp; escaped so that globs treat them literally. */
const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

function isPattern(glob: string): boolean {
  return glob.includes('*') || glob.includes('?');
}

function globToRegExpSource(glob: string): string {
  let source = '';
  let literal = '';
  const flush = (): void => {
    source += literal.replace(REGEXP_SPECIAL, '\\$&');
    literal = '';
  };
  for (const ch of glob) {
    if (ch === '*') {
      flush();
      // Collapse runs of `*`: `**` means the same as `*` and must not cost backtracking.
      if (!source.endsWith('.*')) source += '.*';
    } else if (ch === '?') {
      flush();
      source += '.';
    } else {
      literal += ch;
    }
  }
  flush();
  return source;
}

export class GlobMatcher {
  /** The globs as written, for messages and tests. */
  readonly globs: readonly string[];
  private readonly anything: boolean;
  private readonly exact: ReadonlySet<string> | null;
  private readonly pattern: RegExp | null;

  constructor(globs: readonly string[]) {
    this.globs = [...globs];
    const exact = new Set<string>();
    const patterns: string[] = [];
    let anything = false;
    for (const glob of globs) {
      if (!isPattern(glob)) exact.add(glob);
      else if (/^\*+$/.test(glob)) anything = true;
      else patterns.push(globToRegExpSource(glob));
    }
    this.anything = anything;
    this.exact = exact.size > 0 ? exact : null;
    // `u`: `?` is one character, not one UTF-16 half of an emoji; `s`: `*` also spans newlines.
    this.pattern = patterns.length > 0 ? new RegExp(`^(?:${patterns.join('|')})$`, 'su') : null;
  }

  /** Whether the text matches any of the globs. */
  test(text: string): boolean {
    if (this.anything) return true;
    if (this.exact !== null && this.exact.has(text)) return true;
    return this.pattern !== null && this.pattern.test(text);
  }
}

/** Compiles a list of globs into one matcher (matches when any glob matches). */
export function compileGlobs(globs: readonly string[]): GlobMatcher {
  return new GlobMatcher(globs);
}
