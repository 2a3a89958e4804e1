// SPEC 3.1: low_available of scope network (one alert per product over the selected warehouses),
// availableElsewhere on item-scope alerts, and runs_out over a product's summed stock.
import { toNoticeAlert } from '../../src/delivery/route';
import { compileRuleSet, evaluateOverview } from '../../src/engine/evaluate';
import { DEFAULT_RATE_HALF_LIFE_MS, trackId } from '../../src/engine/forecast';
import type { Alert, Item } from '../../src/model';
import { alertLine } from '../../src/notify/text';
import { NOW, item, lowAvailable, printed, ruleSet, silence } from './helpers';
import { DAY, MINUTE, overviewOf, Poller, runsOut, seriesOf } from './series';

const markham = (productId: string, available: number, more: Partial<Item> = {}) =>
  item({ warehouseId: 'w-mk', warehouse: 'Markham', productId, sku: `SKU-${productId}`, available, ...more });
const oakville = (productId: string, available: number, more: Partial<Item> = {}) =>
  item({ warehouseId: 'w-ok', warehouse: 'Oakville', productId, sku: `SKU-${productId}`, available, ...more });
const toronto = (productId: string, available: number, more: Partial<Item> = {}) =>
  item({ warehouseId: 'w-to', warehouse: 'Toronto', productId, sku: `SKU-${productId}`, available, ...more });

const evalAt = (rules: Parameters<typeof ruleSet>[0], items: Item[], silences: Parameters<typeof ruleSet>[1] = []) =>
  evaluateOverview(items, compileRuleSet(ruleSet(rules, silences)), NOW);

describe('low_available, scope network', () => {
  const network = lowAvailable({ name: 'low-network', scope: 'network', below: 100 });
  const local = lowAvailable({ name: 'low-local', below: 10 });

  it('fires for a product whose total is low while no warehouse item fires', () => {
    const items = [markham('p1', 40), oakville('p1', 35), toronto('p1', 20), markham('p2', 90), oakville('p2', 30)];
    const { alerts } = evalAt([local, network], items);
    expect(alerts.filter((a) => a.rule === 'low-local')).toEqual([]);
    expect(alerts).toEqual([
      {
        rule: 'low-network',
        type: 'low_available',
        severity: 'warning',
        status: 'firing',
        warehouseId: null,
        warehouse: null,
        productId: 'p1',
        sku: 'SKU-p1',
        product: 'Product 1',
        available: 95,
        incoming: 0,
        reserved: 0,
        updatedAt: items[0].updatedAt,
        summary: null,
        silenced: false,
        inhibited: false,
      },
    ]);
    // SPEC: availableElsewhere is for item-scope alerts only.
    expect(printed(alerts[0])).not.toHaveProperty('availableElsewhere');
  });

  it('sums over the warehouses where.warehouse selects (name or id), with incoming under count_incoming; other where keys select products', () => {
    const items = [markham('p1', 40, { incoming: 50 }), oakville('p1', 35), toronto('p1', 500), markham('p2', 10), oakville('p2', 10, { sku: 'OTHER' })];
    const rule = { ...network, where: { warehouse: ['Markham', 'w-ok'] } };
    expect(evalAt([rule], items).alerts.map((a) => `${a.productId}:${a.available}`)).toEqual(['p1:75', 'p2:20']);
    const withIncoming = { ...rule, countIncoming: true };
    expect(evalAt([withIncoming], items).alerts.map((a) => `${a.productId}:${a.available}+${a.incoming}`)).toEqual(['p2:20+0']);
    const bySku = { ...rule, where: { warehouse: ['*'], sku: ['SKU-*'] } };
    // p2's Oakville item has another sku (in real data an unknown product's item): it is not counted.
    expect(evalAt([bySku], items).alerts.map((a) => `${a.productId}:${a.available}`)).toEqual(['p2:10']);
  });

  it('clear_at holds a firing network alert until the total reaches it', () => {
    const rule = { ...network, clearAt: 150 };
    const compiled = compileRuleSet(ruleSet([rule]));
    const p = new Poller(compiled);
    const kinds = (): string[] => p.last!.lifecycle!.events.map((e) => `${e.kind}:${e.alert.available}`);
    p.poll(NOW, overviewOf([markham('p1', 50), oakville('p1', 40)]));
    expect(kinds()).toEqual(['new:90']);
    p.poll(NOW + 5 * MINUTE, overviewOf([markham('p1', 80), oakville('p1', 40)]));
    expect(kinds()).toEqual([]);
    expect(p.last!.lifecycle!.alerts.map((a) => `${a.status}:${a.available}`)).toEqual(['firing:120']);
    p.poll(NOW + 10 * MINUTE, overviewOf([markham('p1', 110), oakville('p1', 40)]));
    expect(kinds()).toEqual(['resolved:150']);
  });

  it('a silence matches a network alert by product; one on a warehouse cannot (it has none)', () => {
    const items = [markham('p1', 1), oakville('p1', 2)];
    const bySku = evalAt([network], items, [silence({ where: { sku: ['SKU-p1'] } })]).alerts;
    expect(bySku.map((a) => a.silenced)).toEqual([true]);
    const byWarehouse = evalAt([network], items, [silence({ where: { warehouse: ['Markham'] } })]).alerts;
    expect(byWarehouse.map((a) => a.silenced)).toEqual([false]);
  });

  it('a summary can name the total and the largest contributors', () => {
    const rule = { ...network, summary: '{{sku}}: {{available}} in all: {{contributors}}' };
    const items = [markham('p1', 40), oakville('p1', 35), toronto('p1', 0), item({ warehouseId: 'w-x', warehouse: 'Ajax', productId: 'p1', available: 5 }), item({ warehouseId: 'w-y', warehouse: 'Barrie', productId: 'p1', available: 3 })];
    expect(evalAt([rule], items).alerts.map((a) => a.summary)).toEqual(['SKU-p1: 83 in all: Markham 40, Oakville 35, Ajax 5, +1 more']);
  });
});

describe('availableElsewhere', () => {
  it('on every item-scope low_available alert: the positive stock of the product in every other warehouse', () => {
    const items = [markham('p1', 0), oakville('p1', 60), toronto('p1', -4), markham('p2', 3), oakville('p2', 5), markham('p3', 1)];
    const { alerts } = evalAt([lowAvailable({ below: 10, summary: '{{available_elsewhere}} elsewhere: {{elsewhere}}' })], items);
    expect(alerts.map((a) => [a.warehouse, a.productId, a.availableElsewhere, a.summary])).toEqual([
      ['Markham', 'p1', 60, '60 elsewhere: Oakville 60'],
      ['Toronto', 'p1', 60, '60 elsewhere: Oakville 60'],
      ['Markham', 'p2', 5, '5 elsewhere: Oakville 5'],
      ['Oakville', 'p2', 3, '3 elsewhere: Markham 3'],
      ['Markham', 'p3', 0, '0 elsewhere: -'],
    ]);
    // Last of the SPEC fields it carries.
    expect(Object.keys(printed(alerts[0])).slice(-2)).toEqual(['inhibited', 'availableElsewhere']);
  });

  it('also on alerts that clear_at holds, and never on other rule types', () => {
    const rules = [lowAvailable({ below: 5, clearAt: 20 }), lowAvailable({ name: 'zero', below: 1 })];
    const p = new Poller(compileRuleSet(ruleSet(rules)));
    p.poll(NOW, overviewOf([markham('p1', 0), oakville('p1', 3)]));
    p.poll(NOW + MINUTE, overviewOf([markham('p1', 12), oakville('p1', 7)]));
    const firing = p.last!.lifecycle!.alerts;
    expect(firing.map((a) => `${a.rule}/${a.warehouse}:${a.availableElsewhere}`).sort()).toEqual(['low-available/Markham:7', 'low-available/Oakville:12']);
    const stale = evaluateOverview([markham('p1', 0, { reserved: -1 })], compileRuleSet(ruleSet([{ ...lowAvailable(), name: 'neg', type: 'negative_reserved' }])), NOW).alerts;
    expect(printed(stale[0])).not.toHaveProperty('availableElsewhere');
  });

  it('a resolved alert reports the stock elsewhere as it is now; a firing one that did not change keeps its record while others move', () => {
    const p = new Poller(compileRuleSet(ruleSet([lowAvailable({ below: 5, repeatEveryMs: DAY })])));
    p.poll(NOW, overviewOf([markham('p1', 0), oakville('p1', 50), markham('p2', 1), oakville('p2', 9)]));
    p.poll(NOW + MINUTE, overviewOf([markham('p1', 20), oakville('p1', 30), markham('p2', 1), oakville('p2', 8)]));
    const { events, changed } = p.last!.lifecycle!;
    expect(events.map((e) => [e.kind, e.alert.productId, e.alert.available, e.alert.availableElsewhere])).toEqual([['resolved', 'p1', 20, 30]]);
    // p2 at Markham fires on unchanged: its stock elsewhere moved (9 -> 8), its record is not rewritten.
    expect(changed).toEqual([]);
  });
});

describe('runs_out, scope network', () => {
  it('learns per product from the summed stock: a transfer between warehouses is no sale; the alert carries the sums', () => {
    const rule = runsOut({ scope: 'network', withinMs: 30 * DAY, minHistoryMs: 2 * DAY });
    const p = new Poller(compileRuleSet(ruleSet([rule])));
    const start = Date.parse('2026-01-01T00:00:00Z');
    // 4 units a day, sold from Markham; each noon 10 units move from Oakville to Markham.
    let mk = 50;
    let ok = 100;
    for (let t = start, n = 0; t <= start + 10 * DAY; t += 60 * MINUTE, n++) {
      if (n > 0 && n % 6 === 0) mk--;
      if (n > 0 && n % 24 === 12) {
        ok -= 10;
        mk += 10;
      }
      p.poll(t, overviewOf([markham('p1', mk), oakville('p1', ok)]));
    }
    const track = trackId('network', DEFAULT_RATE_HALF_LIFE_MS, undefined);
    expect(seriesOf(p.history, track, null, 'p1')!.rate).toBeCloseTo(4, 1);
    const alert: Alert = p.last!.lifecycle!.alerts[0];
    expect(alert).toMatchObject({ rule: 'runs-out', warehouseId: null, warehouse: null, productId: 'p1', available: mk + ok });
    expect(alert.ratePerDay).toBeCloseTo(4, 1);
    const projected = start + 10 * DAY + ((mk + ok) / alert.ratePerDay!) * DAY;
    expect(Math.abs(Date.parse(alert.runsOutAt!) - projected)).toBeLessThan(60 * MINUTE);
  });

  it('a product with an item the overview could not read neither learns nor resolves', () => {
    const rule = runsOut({ scope: 'network', withinMs: 30 * DAY, minHistoryMs: DAY });
    const p = new Poller(compileRuleSet(ruleSet([rule])));
    const start = Date.parse('2026-01-01T00:00:00Z');
    let t = start;
    for (let n = 0; n <= 48; n++, t += 60 * MINUTE) p.poll(t, overviewOf([markham('p1', 100 - n), oakville('p1', 20)]));
    const track = trackId('network', DEFAULT_RATE_HALF_LIFE_MS, undefined);
    const before = seriesOf(p.history, track, null, 'p1')!;
    expect(p.last!.lifecycle!.alerts.map((a) => a.available)).toEqual([72]);
    // Oakville's item is malformed: the sum would fall by 20 (a "sale" that is not one).
    const broken = overviewOf([markham('p1', 52)]);
    broken.malformed.push({ index: 1, warehouseId: 'w-ok', productId: 'p1', message: 'items[1].level.available: expected an integer' });
    p.poll(t, broken);
    expect(seriesOf(p.history, track, null, 'p1')).toMatchObject({ rate: before.rate, weight: before.weight, last: before.last });
    expect(p.last!.lifecycle!.events).toEqual([]);
    expect(p.last!.lifecycle!.alerts.map((a) => a.available)).toEqual([72]);
  });
});

describe('notice lines (through the summary, which every renderer prints)', () => {
  it("an item line of a warehouse at 0 says the stock elsewhere; a network line names the total and the largest contributors", () => {
    const rules = [
      lowAvailable({ name: 'out', below: 1, summary: '{{available_elsewhere}} available elsewhere: {{elsewhere}}' }),
      lowAvailable({ name: 'low-network', scope: 'network', below: 300, summary: '{{available}} in all: {{contributors}}' }),
    ];
    const p = new Poller(compileRuleSet(ruleSet(rules)));
    p.poll(NOW, overviewOf([toronto('p1', 0), markham('p1', 180), oakville('p1', 60)]));
    const lines = p.last!.lifecycle!.events.map((e) => alertLine(toNoticeAlert(e)));
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.includes('out'))).toContain('240 available elsewhere: Markham 180, Oakville 60');
    expect(lines.find((l) => l.includes('low-network'))).toContain('240 in all: Markham 180, Oakville 60');
  });
});
