// OverviewReader must read every body of a series exactly as JSON.parse + toOverview would (the
// daemon's way), whatever changed since the previous one, and fall back on anything unusual.
import { outcomeOf, OverviewReader } from '../../src/source/incremental';
import { sampleOverview } from '../support/stand-ins';

const text = (o: unknown, indent?: number): Buffer => Buffer.from(JSON.stringify(o, null, indent));

function checkSeries(bodies: Buffer[]): void {
  const reader = new OverviewReader();
  bodies.forEach((body, i) => {
    expect({ i, outcome: reader.read(body) }).toEqual({ i, outcome: outcomeOf(body) });
  });
}

describe('OverviewReader', () => {
  it('reads a series of edits exactly as the full parse does', () => {
    const a = sampleOverview();
    const b = structuredClone(a);
    b.items[3].level.available = 12345; // longer: every later item moves
    const c = structuredClone(b);
    c.items.splice(1, 1); // one item fewer
    const d = structuredClone(c);
    d.products[0].sku = 'RENAMED "quoted" \\ [bracket] {brace}';
    const e = structuredClone(d);
    e.items.push(structuredClone(e.items[0])); // a duplicate item
    const f = structuredClone(e);
    f.items[2] = { warehouseId: 5 } as never; // a malformed item
    const g = structuredClone(f);
    g.items = [];
    checkSeries([a, a, b, b, c, d, e, f, g, a].map((o) => text(o)));
  });

  it('reads pretty-printed bodies, a BOM, extra and duplicate keys, key order, "__proto__"', () => {
    const a = sampleOverview();
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(a)]);
    const reordered = text({ items: a.items, extra: { x: [1, 2, { y: '}' }] }, products: a.products, warehouses: a.warehouses });
    const duplicate = Buffer.from(`{"items": 5, ${text(a).subarray(1).toString()}`.replace(/}$/, ', "items": []}'));
    const proto = Buffer.from(`{"__proto__": {"items": []}, "warehouses": [], "products": []}`);
    checkSeries([text(a, 2), bom, reordered, text(a), duplicate, text(a), proto, text(a, 1)]);
  });

  it('words every broken body as the full parse does', () => {
    const good = text(sampleOverview());
    const broken = [
      Buffer.from(''),
      Buffer.from('[]'),
      Buffer.from('null'),
      Buffer.from('{"items": [1, 2,]}'),
      Buffer.from('{"warehouses": [], "products": [], "items": [{"a": tru}]}'),
      Buffer.from(good.toString().slice(0, -10)),
      Buffer.from(good.toString() + ' x'),
      Buffer.from('{"warehouses": [], "products": [], "items": 5}'),
      Buffer.from('{"warehouses": [], "products": [], "items": ["\\"]'),
    ];
    const reader = new OverviewReader();
    for (const body of broken) {
      expect(reader.read(good)).toEqual(outcomeOf(good));
      const outcome = reader.read(body);
      expect(outcome).toEqual(outcomeOf(body));
      expect('error' in outcome).toBe(true);
    }
  });

  it('a number item is never taken from the previous body by its first bytes (12 then 123)', () => {
    const reader = new OverviewReader();
    const body = (n: string) => Buffer.from(`{"warehouses": [], "products": [], "items": [${n}]}`);
    for (const b of [body('12'), body('123'), body('12')]) expect(reader.read(b)).toEqual(outcomeOf(b));
  });
});
