import { compileRuleSet, evaluate, silenceChecker } from '../../src/engine/evaluate';
import type { Alert, Item, Rule, Silence } from '../../src/model';
import {
  HOUR,
  NOW,
  item,
  lowAvailable,
  negativeReserved,
  printed,
  ruleSet,
  silence,
  stale,
  unknownProduct,
  unknownProductItem,
} from './helpers';

function run(rules: Rule[], items: Item[], options: { silences?: Silence[]; now?: number } = {}): Alert[] {
  return evaluate(items, compileRuleSet(ruleSet(rules, options.silences)), options.now ?? NOW);
}

/** Which items (by productId) a single rule fires for. */
function firing(r: Rule, items: Item[], now = NOW): string[] {
  return run([r], items, { now }).map((a) => a.productId ?? '');
}

describe('evaluate: rule types', () => {
  it('low_available fires when available < below, strictly', () => {
    const items = [
      item({ productId: 'below', available: 9 }),
      item({ productId: 'at', available: 10 }),
      item({ productId: 'above', available: 11 }),
      item({ productId: 'zero', available: 0 }),
      item({ productId: 'negative', available: -4 }),
      item({ productId: 'incoming-ignored', available: 9, incoming: 50 }),
    ];
    expect(firing(lowAvailable({ below: 10 }), items)).toEqual(['below', 'zero', 'negative', 'incoming-ignored']);
  });

  it('low_available with count_incoming fires when available + incoming < below', () => {
    const items = [
      item({ productId: 'covered', available: 5, incoming: 5 }),
      item({ productId: 'short', available: 5, incoming: 4 }),
      item({ productId: 'nothing-coming', available: 9, incoming: 0 }),
      item({ productId: 'plenty', available: 0, incoming: 100 }),
    ];
    expect(firing(lowAvailable({ below: 10, countIncoming: true }), items)).toEqual(['short', 'nothing-coming']);
  });

  it('below: 0 never fires on an empty shelf, below: 1 does', () => {
    const items = [item({ available: 0 })];
    expect(firing(lowAvailable({ below: 0 }), items)).toEqual([]);
    expect(firing(lowAvailable({ below: 1 }), items)).toEqual(['p-1']);
  });

  it('negative_reserved fires when reserved < 0', () => {
    const items = [
      item({ productId: 'minus-one', reserved: -1 }),
      item({ productId: 'zero', reserved: 0 }),
      item({ productId: 'plus', reserved: 3 }),
      item({ productId: 'minus-many', reserved: -13 }),
    ];
    expect(firing(negativeReserved(), items)).toEqual(['minus-one', 'minus-many']);
  });

  it('stale fires when now - updatedAt > older_than, strictly, with the injected now', () => {
    const updatedAtMs = NOW - 48 * HOUR;
    const items = [
      item({ productId: 'exactly', updatedAtMs }),
      item({ productId: 'one-ms-older', updatedAtMs: updatedAtMs - 1 }),
      item({ productId: 'fresh', updatedAtMs: NOW }),
      item({ productId: 'future', updatedAtMs: NOW + HOUR }),
    ];
    const r = stale({ olderThanMs: 48 * HOUR });
    expect(firing(r, items)).toEqual(['one-ms-older']);
    expect(firing(r, items, NOW + 1)).toEqual(['exactly', 'one-ms-older']);
    expect(firing(r, items, NOW - 1)).toEqual([]);
  });

  it('unknown_product fires for an unknown product or an unknown warehouse', () => {
    const items = [
      item({ productId: 'known' }),
      unknownProductItem({ productId: 'no-product' }),
      item({ productId: 'no-warehouse', warehouse: null, knownWarehouse: false }),
      unknownProductItem({ productId: 'neither', warehouse: null, knownWarehouse: false }),
    ];
    expect(firing(unknownProduct(), items)).toEqual(['no-product', 'no-warehouse', 'neither']);
  });

  it('builds alerts with exactly the SPEC fields, in order, from the item and the rule', () => {
    const it1 = item({ available: 2, incoming: 7, reserved: -1 });
    const [a] = run([lowAvailable({ severity: 'critical' })], [it1]);
    expect(Object.keys(printed(a))).toEqual([
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
    ]);
    expect(a).toEqual({
      rule: 'low-available',
      type: 'low_available',
      severity: 'critical',
      status: 'firing',
      warehouseId: 'wh-1',
      warehouse: 'Main',
      productId: 'p-1',
      sku: 'SKU-1',
      product: 'Product 1',
      available: 2,
      incoming: 7,
      reserved: -1,
      updatedAt: '2024-06-05T11:00:00Z',
      summary: null,
      silenced: false,
      inhibited: false,
      availableElsewhere: 0,
    });
  });

  it('one item can fire several rules; each rule fires once per item', () => {
    const it1 = item({ available: 0, reserved: -2, updatedAtMs: NOW - 100 * HOUR });
    const alerts = run([lowAvailable(), negativeReserved(), stale(), unknownProduct()], [it1]);
    expect(alerts.map((a) => a.rule)).toEqual(['low-available', 'negative-reserved', 'stale-level']);
  });

  it('an empty overview or an empty rule set fires nothing', () => {
    expect(run([lowAvailable()], [])).toEqual([]);
    expect(run([], [item({ available: 0 })])).toEqual([]);
  });
});

describe('evaluate: where', () => {
  const items = [
    item({ productId: 'p-a', sku: 'TEST-BLACK', brand: 'Sony', warehouseId: 'wh-1', warehouse: 'Main', available: 0 }),
    item({ productId: 'p-b', sku: 'MX03-N-BLUE', brand: '', warehouseId: 'wh-2', warehouse: 'Annex', available: 0 }),
    item({ productId: 'p-c', sku: 'test-lower', brand: 'sony', warehouseId: 'wh-1', warehouse: 'Main', available: 0 }),
    unknownProductItem({ productId: 'p-d', warehouseId: 'wh-2', warehouse: 'Annex', available: 0 }),
    item({ productId: 'p-e', sku: 'S600', brand: 'Sony', warehouseId: 'wh-9', warehouse: null, knownWarehouse: false, available: 0 }),
  ];
  const where = (w: Rule['where']): string[] => firing(lowAvailable({ where: w }), items);

  it('sku globs, case-sensitive', () => {
    expect(where({ sku: ['TEST-*'] })).toEqual(['p-a']);
    expect(where({ sku: ['test-*'] })).toEqual(['p-c']);
    expect(where({ sku: ['MX0?-N-BLUE'] })).toEqual(['p-b']);
  });

  it('a list matches any of its entries', () => {
    expect(where({ sku: ['TEST-BLACK', 'S6*'] })).toEqual(['p-a', 'p-e']);
  });

  it('sku and brand never match an unknown product, not even with *', () => {
    expect(where({ sku: ['*'] })).toEqual(['p-a', 'p-b', 'p-c', 'p-e']);
    expect(where({ brand: ['*'] })).toEqual(['p-a', 'p-b', 'p-c', 'p-e']);
  });

  it('brand globs; an empty brand name matches only an empty glob or *', () => {
    expect(where({ brand: ['Sony'] })).toEqual(['p-a', 'p-e']);
    expect(where({ brand: ['S*'] })).toEqual(['p-a', 'p-e']);
    expect(where({ brand: [''] })).toEqual(['p-b']);
  });

  it('product_id matches the productId, known product or not', () => {
    expect(where({ product_id: ['p-d'] })).toEqual(['p-d']);
    expect(where({ product_id: ['p-?'] })).toHaveLength(5);
  });

  it('warehouse matches the name or the id; an unknown warehouse only by id', () => {
    expect(where({ warehouse: ['Main'] })).toEqual(['p-a', 'p-c']);
    expect(where({ warehouse: ['wh-2'] })).toEqual(['p-b', 'p-d']);
    expect(where({ warehouse: ['wh-9'] })).toEqual(['p-e']);
    expect(where({ warehouse: ['main'] })).toEqual([]);
    expect(where({ warehouse: ['A*', 'wh-9'] })).toEqual(['p-b', 'p-d', 'p-e']);
  });

  it('every key given must match', () => {
    expect(where({ sku: ['*'], warehouse: ['Annex'] })).toEqual(['p-b']);
    expect(where({ brand: ['Sony'], warehouse: ['Main'] })).toEqual(['p-a']);
    expect(where({ brand: ['Sony'], warehouse: ['Annex'] })).toEqual([]);
  });

  it('regex metacharacters in globs are literal', () => {
    const odd = [item({ productId: 'x', sku: 'A.B(1)', available: 0 }), item({ productId: 'y', sku: 'AXB(1)', available: 0 })];
    expect(firing(lowAvailable({ where: { sku: ['A.B(1)'] } }), odd)).toEqual(['x']);
    expect(firing(lowAvailable({ where: { sku: ['A.B(*'] } }), odd)).toEqual(['x']);
  });

  it('where only narrows: an item that passes where but not the threshold does not fire', () => {
    const mixed = [item({ productId: 'full', sku: 'TEST-1', available: 50 }), item({ productId: 'low', sku: 'TEST-2', available: 1 })];
    expect(firing(lowAvailable({ where: { sku: ['TEST-*'] } }), mixed)).toEqual(['low']);
  });

  it('non-ASCII names match and are carried into the alert unchanged', () => {
    const it1 = item({ sku: '听雨-24', product: 'Perücke 听雨', warehouse: 'Entrepôt Montréal', brand: 'Ümlaut', available: 0 });
    const [a] = run([lowAvailable({ where: { sku: ['听?-*'], warehouse: ['Entrepôt *'], brand: ['Üm*'] } })], [it1]);
    expect(a.sku).toBe('听雨-24');
    expect(a.product).toBe('Perücke 听雨');
    expect(a.warehouse).toBe('Entrepôt Montréal');
  });
});

describe('evaluate: silences', () => {
  const items = [
    item({ productId: 'p-test', sku: 'TEST-1', available: 0, reserved: -1 }),
    item({ productId: 'p-real', sku: 'REAL-1', available: 0, reserved: -1 }),
  ];
  const silencedOf = (alerts: Alert[]): string[] => alerts.filter((a) => a.silenced).map((a) => `${a.rule}/${a.productId}`);

  it('a where-scoped silence for one rule covers only that rule and those items; silenced alerts are still listed', () => {
    const alerts = run([lowAvailable(), negativeReserved()], items, {
      silences: [silence({ where: { sku: ['TEST-*'] }, rule: 'low-available' })],
    });
    expect(alerts).toHaveLength(4);
    expect(silencedOf(alerts)).toEqual(['low-available/p-test']);
  });

  it('a silence without rule covers every rule; one without where covers every item', () => {
    expect(silencedOf(run([lowAvailable(), negativeReserved()], items, { silences: [silence({ where: { sku: ['TEST-*'] } })] }))).toEqual([
      'low-available/p-test',
      'negative-reserved/p-test',
    ]);
    expect(silencedOf(run([lowAvailable(), negativeReserved()], items, { silences: [silence({ rule: 'negative-reserved' })] }))).toEqual([
      'negative-reserved/p-test',
      'negative-reserved/p-real',
    ]);
  });

  it('a silence for another rule does not apply', () => {
    expect(silencedOf(run([lowAvailable()], items, { silences: [silence({ rule: 'other' })] }))).toEqual([]);
  });

  it('lasts while now < until and ends at until', () => {
    const until = '2024-06-05T12:00:00Z';
    const s = [silence({ until, untilMs: Date.parse(until) })];
    expect(silencedOf(run([lowAvailable()], items, { silences: s, now: Date.parse(until) - 1 }))).toHaveLength(2);
    expect(silencedOf(run([lowAvailable()], items, { silences: s, now: Date.parse(until) }))).toEqual([]);
  });

  it('silenceChecker tells the same for an alert, using the current item for brand', () => {
    const compiled = compileRuleSet(ruleSet([lowAvailable()], [silence({ where: { brand: ['Acme'] } })]));
    const check = silenceChecker(compiled, NOW);
    const [a] = evaluate([items[0]], compiled, NOW);
    expect(a.silenced).toBe(true);
    expect(check(a, items[0])).toBe(true);
    // Without the item its brand is unknown, so a brand silence cannot match.
    expect(check(a)).toBe(false);
    expect(check({ ...a, rule: 'gone-rule' }, items[0])).toBe(false);
    expect(silenceChecker(compiled, Date.parse('2031-01-01T00:00:00Z'))(a, items[0])).toBe(false);
  });
});

describe('evaluate: summary', () => {
  it('renders the rule template with the alert fields', () => {
    const [a] = run(
      [lowAvailable({ summary: '{{sku}} at {{warehouse}}: {{available}} left (+{{incoming}} coming, below {{below}}), {{ brand }} {{severity}}' })],
      [item({ available: 3, incoming: 12 })],
    );
    expect(a.summary).toBe('SKU-1 at Main: 3 left (+12 coming, below 10), Acme warning');
  });

  it('renders missing values as -, and unknown placeholders as written', () => {
    const [a] = run(
      [unknownProduct({ summary: '{{sku}}/{{product}}/{{brand}}/{{warehouse}}/{{productId}}/{{below}}/{{nope}}' })],
      [unknownProductItem({ productId: 'p-x', warehouse: null, knownWarehouse: false })],
    );
    expect(a.summary).toBe('-/-/-/-/p-x/-/{{nope}}');
  });

  it('an empty brand renders as -', () => {
    const [a] = run([lowAvailable({ summary: 'brand={{brand}}' })], [item({ available: 0, brand: '' })]);
    expect(a.summary).toBe('brand=-');
  });

  it('older_than renders as a duration', () => {
    const [a] = run([stale({ olderThanMs: 48 * HOUR, summary: '{{sku}} not counted for over {{older_than}} (since {{updatedAt}})' })], [item({ updatedAt: '2024-06-01T00:00:00Z' })]);
    expect(a.summary).toBe('SKU-1 not counted for over 2d (since 2024-06-01T00:00:00Z)');
  });

  it('keeps non-ASCII text and stays on one line when API text holds line breaks', () => {
    const [a] = run([lowAvailable({ summary: '{{product}} @ {{warehouse}}' })], [item({ product: 'Perruque 听雨\nligne 2', warehouse: 'Entrepôt', available: 0 })]);
    expect(a.summary).toBe('Perruque 听雨 ligne 2 @ Entrepôt');
  });
});
