// Cron expressions and time zones of digest channels. The digest scheduler runs the same checks
// (through BullMQ, which uses this same cron-parser), so what `check` accepts is what runs.
import { CronExpressionParser } from 'cron-parser';
import { closest } from './suggest';

let zoneNames: readonly string[] | undefined;

/**
 * null when `tz` is an IANA time zone this Node knows (e.g. `America/Toronto`, `UTC`), else the problem.
 * `shownAs` replaces the zone in the message (and drops the hint) when it must not be echoed.
 */
export function validateTimezone(tz: string, shownAs?: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    zoneNames ??= Intl.supportedValuesOf('timeZone');
    const hint = shownAs === undefined ? closest(tz, zoneNames) : undefined;
    const zone = shownAs ?? `"${tz.length > 60 ? `${tz.slice(0, 59)}…` : tz}"`;
    return `unknown time zone ${zone}${hint ? ` (did you mean "${hint}"?)` : ''}; use an IANA name such as Europe/Berlin or UTC`;
  }
}

/**
 * null when `expr` is a cron expression of 5 fields (minute hour day-of-month month day-of-week),
 * or 6 with seconds first, that cron-parser accepts (in `tz` when given); else the problem, one line.
 */
export function validateCron(expr: string, tz?: string): string | null {
  const fields = expr.trim() === '' ? 0 : expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `expected 5 cron fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${fields}`;
  }
  if (tz !== undefined) {
    const zoneProblem = validateTimezone(tz);
    if (zoneProblem) return zoneProblem;
  }
  try {
    // next() as well: some expressions parse but can never fire.
    CronExpressionParser.parse(expr, { tz }).next();
    return null;
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
    return `not a valid cron expression (${reason})`;
  }
}
