// Fixture data shared by the notify tests (built with test/support/alerts.ts).
import type { NoticeAlert } from '../../src/notify/notice';
import { noticeAlert } from '../support/alerts';

export const T0 = Date.UTC(2026, 4, 1, 12, 0, 0); // 2026-05-01T12:00:00Z

/** The notify tests' alert: TEST-BLACK with negative reserved, a new notice first seen 3 days 4 hours before T0. */
export const NEGATIVE_RESERVED: Partial<NoticeAlert> = {
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
};

/** `n` low-available alerts with distinct SKUs, of the given kind. */
export function many(n: number, over: Partial<NoticeAlert> = {}, prefix = 'SKU'): NoticeAlert[] {
  const out: NoticeAlert[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      noticeAlert({
        ...NEGATIVE_RESERVED,
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

/** Text without Unicode isolate controls (U+2066–U+2069): the line as a reader sees it laid out. */
export function plain(text: string): string {
  return text.replace(/[\u2066-\u2069]/g, '');
}
