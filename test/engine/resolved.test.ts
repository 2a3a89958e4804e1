import { resolvedBetween } from '../../src/engine/resolved';
import { renderSummary, unknownPlaceholders } from '../../src/engine/template';
import { sortAlerts } from '../../src/engine/sort';
import { itemKey, type Rule } from '../../src/model';
import { alert, item, lowAvailable, negativeReserved } from './helpers';

describe('resolvedBetween', () => {
  const rules = new Map<string, Rule>([lowAvailable(), negativeReserved()].map((r) => [r.name, r]));

  it('lists alerts firing before and not now as resolved copies, in the order given', () => {
    const a = alert({ productId: 'a' });
    const b = alert({ productId: 'b' });
    const c = alert({ productId: 'c', rule: 'negative-reserved', type: 'negative_reserved', severity: 'critical' });
    const out = resolvedBetween([a, b, c], [alert({ productId: 'b' })]);
    expect(out).toEqual([
      { ...a, status: 'resolved' },
      { ...c, status: 'resolved' },
    ]);
    expect(Object.keys(out[0])).toEqual(Object.keys(a));
  });

  it('the same product in another warehouse or under another rule is another alert', () => {
    const before = alert();
    expect(resolvedBetween([before], [alert({ warehouseId: 'wh-2' })])).toHaveLength(1);
    expect(resolvedBetween([before], [alert({ rule: 'negative-reserved' })])).toHaveLength(1);
    expect(resolvedBetween([before], [alert()])).toHaveLength(0);
  });

  it('reports the current levels and names of an item that still exists', () => {
    const now = item({ available: 50, incoming: 1, reserved: 2, updatedAt: '2024-06-05T11:30:00Z', product: 'Renamed' });
    const [r] = resolvedBetween([alert({ available: 1 })], [], new Map([[itemKey('wh-1', 'p-1'), now]]));
    expect(r).toMatchObject({ status: 'resolved', available: 50, incoming: 1, reserved: 2, updatedAt: '2024-06-05T11:30:00Z', product: 'Renamed' });
  });

  it('ignores alerts that were not firing, items that are held and, given the rules, removed rules', () => {
    const before = [alert({ productId: 'x', status: 'resolved' }), alert({ productId: 'held' }), alert({ productId: 'y', rule: 'gone' })];
    expect(resolvedBetween(before, [], undefined, { rules, heldItems: new Set([itemKey('wh-1', 'held')]) })).toEqual([]);
    expect(resolvedBetween(before, [])).toHaveLength(2);
  });

  it('re-renders the summary with the rule, and asks isSilenced when given', () => {
    const withSummary = new Map<string, Rule>([[ 'low-available', lowAvailable({ summary: '{{sku}}: {{available}} ({{status}})' }) ]]);
    const now = item({ available: 20 });
    const [r] = resolvedBetween([alert({ summary: 'SKU-1: 1 (firing)' })], [], new Map([[itemKey('wh-1', 'p-1'), now]]), {
      rules: withSummary,
      isSilenced: (a, i) => a.productId === 'p-1' && i === now,
    });
    expect(r.summary).toBe('SKU-1: 20 (resolved)');
    expect(r.silenced).toBe(true);
  });
});

describe('summary templates', () => {
  it('renderSummary renders a template on its own', () => {
    expect(renderSummary('{{sku}}|{{warehouseId}}|{{brand}}|{{reserved}}', alert({ reserved: -3 }), 'Sony')).toBe('SKU-1|wh-1|Sony|-3');
  });

  it('unknownPlaceholders names the placeholders that are not fields', () => {
    expect(unknownPlaceholders('{{sku}} {{skuu}} {{ available }} {{nope}} {{nope}}')).toEqual(['skuu', 'nope']);
    expect(unknownPlaceholders('no placeholders {single}')).toEqual([]);
  });
});

describe('sortAlerts', () => {
  it('sorts by severity, rule, sku or productId, warehouse or id, and is total', () => {
    const list = [
      alert({ productId: '1', severity: 'info' }),
      alert({ productId: '2', rule: 'b' }),
      alert({ productId: '3', rule: 'a', sku: 'B' }),
      alert({ productId: '4', rule: 'a', sku: 'A', warehouse: null, warehouseId: 'z' }),
      alert({ productId: '5', rule: 'a', sku: 'A', warehouse: 'M' }),
      alert({ productId: '6', severity: 'critical' }),
    ];
    expect(sortAlerts(list).map((a) => a.productId)).toEqual(['6', '5', '4', '3', '2', '1']);
    expect(sortAlerts([...list].reverse())).toEqual(sortAlerts(list));
  });
});
