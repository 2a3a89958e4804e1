import { renderSummary, unknownPlaceholders } from '../../src/engine/template';
import { sortAlerts } from '../../src/engine/sort';
import { alert } from '../support/alerts';

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
