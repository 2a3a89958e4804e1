// Durations as written in the environment and in rule files: `90s`, `5m`, `2h`, `3d`, `1w`, `1h30m`.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Written as a duration (`90s`, `1h30m`): parseDuration refuses such a text only as zero or as too long. */
export const DURATION_SYNTAX = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

/** The longest delay a Node timer takes (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const PART = /(\d+)(ms|s|m|h|d|w)/g;

/** Milliseconds for a duration string, or null when it is not one (or is zero). */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (!DURATION_SYNTAX.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total > 0 && Number.isSafeInteger(total) ? total : null;
}

/** A short human form of a duration, e.g. `1h30m`, `2d3h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join('');
}
