// The UTC timestamp form nearly every S2 level has, read fast: the overview parses one per item
// (200,000 a poll), and the alert records store times compactly from it.

export const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The form nearly every level has, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read digit by digit: no
 * regex, no Date (this runs once per item, 200,000 times a poll). NaN for anything else, which
 * parseTimestamp then reads the general way (and rejects if it must).
 */
export function parseUtcTimestamp(t: string): number {
  const n = t.length;
  if (
    n < 20 ||
    t.charCodeAt(n - 1) !== 90 /* Z */ ||
    t.charCodeAt(4) !== 45 /* - */ ||
    t.charCodeAt(7) !== 45 ||
    t.charCodeAt(10) !== 84 /* T */ ||
    t.charCodeAt(13) !== 58 /* : */ ||
    t.charCodeAt(16) !== 58
  ) {
    return NaN;
  }
  const year = digits(t, 0, 4);
  const month = digits(t, 5, 2);
  const day = digits(t, 8, 2);
  const hour = digits(t, 11, 2);
  const minute = digits(t, 14, 2);
  const second = digits(t, 17, 2);
  let ms = 0;
  if (n > 20) {
    // `.` then at least one digit; only the first three count (microseconds are truncated).
    if (t.charCodeAt(19) !== 46 || n === 21) return NaN;
    const fraction = digits(t, 20, n - 21);
    if (fraction < 0) return NaN;
    const kept = Math.min(3, n - 21);
    ms = digits(t, 20, kept) * (kept === 1 ? 100 : kept === 2 ? 10 : 1);
  }
  if ((year | month | day | hour | minute | second) < 0) return NaN;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return NaN;
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms;
}

/** The number written by `count` decimal digits at `at`, or -1 when one of them is not a digit. */
export function digits(t: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = t.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
