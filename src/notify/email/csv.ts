// Alerts as an RFC 4180 CSV, for the attachment of digests and of long emails: one row per alert,
// the SPEC section 4 fields as columns in that order (a field the alert's type does not have is empty), then when the alert started firing.
import type { Alert } from '../../model';
import type { NoticeAlert } from '../notice';

/** SPEC section 4, in order. */
export const ALERT_COLUMNS = [
  'rule',
  'type',
  'severity',
  'status',
  'warehouseId',
  'warehouse',
  'productId',
  'sku',
  'product',
  'available',
  'incoming',
  'reserved',
  'updatedAt',
  'summary',
  'silenced',
  'inhibited',
  'availableElsewhere',
  'ratePerDay',
  'runsOutAt',
] as const satisfies readonly (keyof Alert)[];

export const CSV_COLUMNS = [...ALERT_COLUMNS, 'firingSince'] as const;

const NUMERIC = new Set<string>(['available', 'incoming', 'reserved', 'availableElsewhere', 'ratePerDay']);

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
// Text cells get a leading `'`; the numeric columns are left alone so that -13 stays a number.
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(column: string, value: string | number | boolean | null | undefined): string {
  // null: the field has no value; undefined: the alert's type has no such field (ratePerDay on low_available)
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (!NUMERIC.has(column) && typeof value !== 'boolean' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The CSV text, lines ending in CRLF. It starts with a UTF-8 byte order mark so that Excel,
 * which most inventory teams open it in, reads non-ASCII names right.
 */
export function alertsCsv(alerts: readonly NoticeAlert[]): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  for (const a of alerts) {
    const row = ALERT_COLUMNS.map((c) => cell(c, a[c]));
    row.push(cell('firingSince', Number.isFinite(a.firstSeenMs) ? new Date(a.firstSeenMs).toISOString() : null));
    lines.push(row.join(','));
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
