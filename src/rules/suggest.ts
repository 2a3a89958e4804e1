// "did you mean" hints for misspelt keys, types, channel and rule names.

/** Edit distance (insertions, deletions, substitutions), capped by the callers' short inputs. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
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
    const distance = levenshtein(w, c);
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
