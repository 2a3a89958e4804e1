import type { Notice } from '../../src/notify/notice';
import { renderWebhook, webhookBody } from '../../src/notify/webhook/render';
import { noticeAlert } from '../support/alerts';
import { NEGATIVE_RESERVED, T0 } from './helpers';

/** SPEC section 4's alert fields, in order. */
const ALERT_FIELDS = ['rule', 'type', 'severity', 'status', 'warehouseId', 'warehouse', 'productId', 'sku', 'product', 'available', 'incoming', 'reserved', 'updatedAt', 'summary', 'silenced', 'inhibited'];

describe('webhook body (SPEC section 5)', () => {
  it('holds notice, at, kind, a one-line text and every alert with the SPEC fields plus event', () => {
    const n: Notice = {
      type: 'alerts',
      id: 'a-p1-erp',
      createdAtMs: T0,
      alerts: [
        noticeAlert({ ...NEGATIVE_RESERVED, kind: 'resolved', status: 'resolved', sku: 'B' }),
        noticeAlert({ ...NEGATIVE_RESERVED, kind: 'repeat', sku: 'C', since: 'resolved' }),
        noticeAlert({ ...NEGATIVE_RESERVED, sku: 'A', rule: 'low', type: 'low_available', severity: 'warning', availableElsewhere: 240 }),
      ],
    };
    const raw = renderWebhook(n);
    const body = JSON.parse(raw);
    expect(Object.keys(body)).toEqual(['notice', 'at', 'kind', 'text', 'alerts']);
    expect(body).toMatchObject({ notice: 'a-p1-erp', at: '2026-05-01T12:00:00.000Z', kind: 'alerts', text: 'stockwatch: 1 new, 1 still firing, 1 resolved' });
    // Most severe first, as the other channels list them; events named as SPEC says.
    expect(body.alerts.map((a: any) => [a.sku, a.event])).toEqual([
      ['C', 'still_firing'],
      ['B', 'resolved'],
      ['A', 'new'],
    ]);
    expect(Object.keys(body.alerts[0])).toEqual([...ALERT_FIELDS, 'event']);
    expect(Object.keys(body.alerts[2])).toEqual([...ALERT_FIELDS, 'availableElsewhere', 'event']);
    expect(body.alerts[1]).toMatchObject({ status: 'resolved', available: 0, reserved: -13, summary: 'TEST-BLACK reserved is negative', silenced: false, inhibited: false });
    // Data, not text: no isolates, no escaping, nothing internal (kind, firstSeenMs, brand, since).
    expect(raw).not.toMatch(/[\u2066-\u2069]|firstSeenMs|brand|since/);
  });

  it('carries the forecast of a runs_out alert and the nulls of network and warehouse alerts', () => {
    const n: Notice = {
      type: 'alerts',
      id: 'a',
      createdAtMs: T0,
      alerts: [
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'runs-out', type: 'runs_out', ratePerDay: 2.5, runsOutAt: '2026-05-06T12:00:00.000Z' }),
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'net', warehouseId: null, warehouse: null }),
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'feed', type: 'stale_warehouse', productId: null, sku: null, product: null }),
      ],
    };
    const byRule = Object.fromEntries(webhookBody(n).alerts.map((a) => [a.rule, a]));
    expect(Object.keys(byRule['runs-out'])).toEqual([...ALERT_FIELDS, 'ratePerDay', 'runsOutAt', 'event']);
    expect(byRule['runs-out']).toMatchObject({ ratePerDay: 2.5, runsOutAt: '2026-05-06T12:00:00.000Z' });
    expect(byRule.net).toMatchObject({ warehouseId: null, warehouse: null });
    expect(byRule.feed).toMatchObject({ productId: null, sku: null, product: null });
  });

  it('sends source notices as kind "source" with empty alerts and the detail on one line', () => {
    const body = webhookBody({ type: 'source', id: 's-1', createdAtMs: T0, event: 'unreachable', detail: '3 polls failed in a row;\nlast error: HTTP 502' });
    expect(body).toEqual({
      notice: 's-1',
      at: '2026-05-01T12:00:00.000Z',
      kind: 'source',
      text: 'stockwatch: S2 source unreachable: 3 polls failed in a row; last error: HTTP 502',
      alerts: [],
    });
  });

  it('sends a test notice as an alerts notice without alerts that says what it is', () => {
    const body = webhookBody({ type: 'test', id: 't-erp-1', createdAtMs: T0, channel: 'erp' });
    expect(body).toMatchObject({ notice: 't-erp-1', kind: 'alerts', alerts: [] });
    expect(body.text).toMatch(/^stockwatch: test notice for channel erp/);
  });
});
