// Builders and a small RFC 4180 parser shared by the notify tests.
import type { NoticeAlert } from '../../src/notify/notice';

export const T0 = Date.UTC(2026, 4, 1, 12, 0, 0); // 2026-05-01T12:00:00Z

export function alert(over: Partial<NoticeAlert> = {}): NoticeAlert {
  return {
    rule: 'negative-reserved',
    type: 'negative_reserved',
    severity: 'critical',
    status: 'firing',
    warehouseId: '9cae310d-c440-4d78-bdc0-bf306ec33888',
    warehouse: 'test warehouse',
    productId: '3775cc37-30e7-4579-a58e-c9adda6fa888',
    sku: 'TEST-BLACK',
    product: 'Test Product',
    available: 0,
    incoming: 0,
    reserved: -13,
    updatedAt: '2026-04-30T10:00:00Z',
    summary: 'TEST-BLACK reserved is negative',
    silenced: false,
    inhibited: false,
    kind: 'new',
    firstSeenMs: T0 - (3 * 24 + 4) * 3_600_000,
    brand: 'Sony',
    ...over,
  };
}

/** `n` low-available alerts with distinct SKUs, of the given kind. */
export function many(n: number, over: Partial<NoticeAlert> = {}, prefix = 'SKU'): NoticeAlert[] {
  const out: NoticeAlert[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      alert({
        rule: 'low-available',
        type: 'low_available',
        severity: 'warning',
        sku: `${prefix}-${String(i).padStart(5, '0')}`,
        productId: `${prefix}-p${i}`,
        available: i % 10,
        reserved: 0,
        summary: null,
        ...over,
      }),
    );
  }
  return out;
}

/** RFC 4180: fields separated by commas, records by CRLF, quoted fields with "" for a quote. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        field += c;
        i += 1;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (c === '"' || c === '\r' || c === '\n') {
      throw new Error(`CSV: unexpected ${JSON.stringify(c)} at offset ${i}`);
    } else {
      field += c;
      i += 1;
    }
  }
  if (quoted) throw new Error('CSV: unterminated quote');
  if (field !== '' || record.length > 0) throw new Error('CSV: last record does not end with CRLF');
  return records;
}

/** Text without Unicode isolate controls (U+2066–U+2069): the line as a reader sees it laid out. */
export function plain(text: string): string {
  return text.replace(/[\u2066-\u2069]/g, '');
}
