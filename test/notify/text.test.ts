import { alertLine, firingFor, restSummary, sortAlerts } from '../../src/notify/render/text';
import { alert, T0 } from './helpers';

describe('alertLine', () => {
  it('says firing, still firing or resolved, with rule, severity, SKU, warehouse, levels and summary', () => {
    expect(alertLine(alert())).toBe(
      'firing · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative',
    );
    expect(alertLine(alert({ kind: 'repeat' }))).toBe(
      'still firing · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative',
    );
    expect(alertLine(alert({ kind: 'resolved', status: 'resolved', reserved: 2 }))).toBe(
      'resolved · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved 2, incoming 0 — TEST-BLACK reserved is negative',
    );
  });

  it('uses the productId and the warehouseId where product or warehouse are unknown', () => {
    const line = alertLine(
      alert({ rule: 'unknown-product', severity: 'warning', sku: null, product: null, warehouse: null, summary: null, available: 7, incoming: 3, reserved: 1 }),
    );
    expect(line).toBe(
      'firing · unknown-product (warning) · unknown product 3775cc37-30e7-4579-a58e-c9adda6fa888 @ unknown warehouse 9cae310d-c440-4d78-bdc0-bf306ec33888 · available 7, reserved 1, incoming 3',
    );
  });

  it('names a known product with a blank SKU by its id, without calling it unknown', () => {
    expect(alertLine(alert({ sku: '  ', summary: null }))).toBe(
      'firing · negative-reserved (critical) · product 3775cc37-30e7-4579-a58e-c9adda6fa888 @ test warehouse · available 0, reserved -13, incoming 0',
    );
  });

  it('leaves out an empty summary and keeps API text on one line', () => {
    expect(alertLine(alert({ summary: '   ' }))).not.toContain('—');
    const line = alertLine(alert({ sku: 'A\nB', warehouse: 'W\r\n2', summary: 'x\u2028y' }));
    expect(line).not.toMatch(/[\r\n\u2028]/);
    expect(line).toContain('A B @ W  2');
    expect(line.endsWith('— x y')).toBe(true);
  });

  it('keeps RTL text and emoji intact', () => {
    const line = alertLine(alert({ sku: 'מוצר-😀', warehouse: 'مستودع 🏭' }));
    expect(line).toContain('מוצר-😀 @ مستودع 🏭');
  });
});

describe('ordering and sums', () => {
  it('lists most severe first, then new, still firing, resolved', () => {
    const sorted = sortAlerts([
      alert({ severity: 'info', rule: 'stale', sku: 'A' }),
      alert({ kind: 'resolved', sku: 'B' }),
      alert({ kind: 'repeat', sku: 'C' }),
      alert({ severity: 'warning', rule: 'low', sku: 'D' }),
      alert({ sku: 'E' }),
    ]);
    expect(sorted.map((a) => a.sku)).toEqual(['E', 'C', 'B', 'D', 'A']);
  });

  it('sums the rest per rule with counts per event', () => {
    const rest = [
      alert({ rule: 'low', severity: 'warning' }),
      alert({ rule: 'low', severity: 'warning', kind: 'resolved' }),
      alert({ rule: 'low', severity: 'warning' }),
      alert({ rule: 'neg', kind: 'repeat' }),
    ];
    expect(restSummary(rest, Infinity)).toBe('… and 4 more: neg 1 still firing; low 2 new, 1 resolved');
  });

  it('says how long an alert has been firing', () => {
    expect(firingFor(alert(), T0)).toBe('3d4h');
    expect(firingFor(alert({ firstSeenMs: T0 + 5000 }), T0)).toBe('0s');
  });
});
