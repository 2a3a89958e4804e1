// sortByAlert() sorts long lists by ranks of the texts compareAlerts() compares, short ones with
// compareAlerts() itself: both must give exactly the stable compareAlerts() order, ties included.
import fc from 'fast-check';
import { compareAlerts, sortByAlert } from '../../src/engine/sort';
import type { Alert } from '../../src/model';
import { alert } from '../support/alerts';

// Few values, so that alerts often tie in some or all of the keys.
const alertArb: fc.Arbitrary<Alert> = fc
  .record({
    severity: fc.constantFrom('critical' as const, 'warning' as const, 'info' as const),
    rule: fc.constantFrom('low', 'Low', 'low-2', 'stale'),
    sku: fc.constantFrom(null, '', 'S-1', 'S-2', 's-1', 'É-1'),
    productId: fc.constantFrom(null, 'p1', 'p2'),
    warehouse: fc.constantFrom(null, 'Markham', 'markham', 'Zürich'),
    warehouseId: fc.constantFrom(null, 'w1', 'w2'),
    status: fc.constantFrom('firing' as const, 'pending' as const, 'resolved' as const),
  })
  .map((over) => alert(over));

describe('sortByAlert', () => {
  it.each([
    ['short lists (compareAlerts itself)', 0, 255],
    ['long lists (ranks)', 256, 700],
  ])('gives the stable compareAlerts() order: %s', (_name, minLength, maxLength) => {
    fc.assert(
      fc.property(fc.array(alertArb, { minLength, maxLength, size: 'max' }), (alerts) => {
        const tagged = alerts.map((a, at) => ({ a, at }));
        const expected = [...tagged].sort((x, y) => compareAlerts(x.a, y.a)).map((t) => t.at);
        const list = [...tagged];
        expect(sortByAlert(list, (t) => t.a)).toBe(list);
        expect(list.map((t) => t.at)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
