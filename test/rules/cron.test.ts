import { validateCron, validateTimezone } from '../../src/rules';
import { closest, editDistance } from '../../src/rules/suggest';

describe('validateCron', () => {
  test.each(['0 8 * * 1-5', '*/15 * * * *', '0 0 8 * * MON-FRI', '0 8 L * *'])('accepts %s', (expr) => {
    expect(validateCron(expr)).toBeNull();
  });

  test('accepts a valid expression in a valid zone', () => {
    expect(validateCron('0 8 * * 1-5', 'America/Toronto')).toBeNull();
  });

  test.each([
    ['', 0],
    ['0 8 * *', 4],
    ['0 0 8 * * * 2030', 7],
    ['@daily', 1],
  ])('wants 5 or 6 fields: %j', (expr, count) => {
    expect(validateCron(expr)).toBe(
      `expected 5 cron fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${count}`,
    );
  });

  test('passes on what cron-parser refuses, in one line', () => {
    expect(validateCron('61 8 * * *')).toBe('not a valid cron expression (Constraint error, got value 61 expected range 0-59)');
    expect(validateCron('0 8 31 2 *')).toMatch(/^not a valid cron expression \(.+\)$/);
  });

  test('an unknown zone is reported as such, not as a cron-parser date error', () => {
    expect(validateCron('0 8 * * *', 'Mars/Olympus')).toBe('unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Berlin or UTC');
  });
});

describe('validateTimezone', () => {
  test('IANA names and UTC', () => {
    expect(validateTimezone('UTC')).toBeNull();
    expect(validateTimezone('Europe/Berlin')).toBeNull();
  });

  test('near misses get a hint; the shown form replaces the value and drops the hint', () => {
    expect(validateTimezone('Europe/Berln')).toBe('unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?); use an IANA name such as Europe/Berlin or UTC');
    expect(validateTimezone('Europe/Berln', 'the value of ${TZ} (not shown)')).toBe(
      'unknown time zone the value of ${TZ} (not shown); use an IANA name such as Europe/Berlin or UTC',
    );
  });
});

describe('suggestions', () => {
  test('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('emial', 'email')).toBe(1);
    expect(editDistance('belov', 'below')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  test('closest: near misses, case and -/_ slips, prefixes; nothing when far', () => {
    expect(closest('low_availble', ['low_available', 'stale'])).toBe('low_available');
    expect(closest('Send-Resolved', ['send_resolved', 'severity'])).toBe('send_resolved');
    expect(closest('older', ['older_than', 'below'])).toBe('older_than');
    expect(closest('webhook', ['webhook_url'])).toBe('webhook_url');
    expect(closest('colour', ['channels', 'defaults', 'rules', 'silences'])).toBeUndefined();
    expect(closest('tp', ['to'])).toBe('to');
    expect(closest('cc', ['to'])).toBeUndefined();
  });
});
