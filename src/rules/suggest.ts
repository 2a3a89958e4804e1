// "did you mean" hints for misspelt keys, types, channel and rule names.

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours ("emial") as one each. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

// Case and '-' versus '_' are the commonest slips ("Send-Resolved"); they count as no distance.
const fold = (s: string): string => s.toLowerCase().replace(/-/g, '_');

/**
 * The candidate `word` was most likely meant to be, or undefined when none is close:
 * at most 1 edit for short candidates and 2 for longer ones, or a prefix of 4+ characters
 * (`older` -> `older_than`, `webhook` -> `webhook_url`).
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 64) return undefined;
  const w = fold(word);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = fold(candidate);
    if (c === w) return candidate;
    const distance = editDistance(w, c);
    const allowed = c.length >= 6 ? 2 : 1;
    let score = distance <= allowed ? distance : Infinity;
    if (score === Infinity && w.length >= 4 && (c.startsWith(w) || w.startsWith(c))) score = 3;
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>, decorate: (s: string) => string = (s) => `"${s}"`): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean ${decorate(match)}?)`;
}
