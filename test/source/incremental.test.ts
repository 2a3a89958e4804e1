// OverviewReader must read every body of a series exactly as JSON.parse + toOverview would (the
// daemon's way), whatever changed since the previous one, and fall back on anything unusual.
import { outcomeOf, OverviewReader } from '../../src/source/incremental';
import type { SourceOverview } from '../../src/source/overview';
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

describe('OverviewReader: Items of unchanged items are the previous Item objects', () => {
  /** Reads `bodies` in turn; each outcome must equal the full parse's. Returns the overviews. */
  function readAll(bodies: Buffer[]): SourceOverview[] {
    const reader = new OverviewReader();
    return bodies.map((body, i) => {
      const outcome = reader.read(body);
      expect({ i, outcome }).toEqual({ i, outcome: outcomeOf(body) });
      if (!('overview' in outcome)) throw new Error(`body ${i}: ${outcome.error}`);
      return outcome.overview as SourceOverview;
    });
  }
  const same = (a: SourceOverview, b: SourceOverview): boolean[] => b.items.map((item, k) => item === a.items[k]);

  it('the same body twice: every Item is the same object', () => {
    const a = text(sampleOverview());
    const [first, second] = readAll([a, a]);
    expect(second.items.length).toBeGreaterThan(0);
    expect(same(first, second).every(Boolean)).toBe(true);
  });

  it('one level changed: only that Item is new', () => {
    const a = sampleOverview();
    const b = structuredClone(a);
    b.items[2].level.available += 1000;
    const [first, second, third] = readAll([text(a), text(b), text(b, 2)]);
    expect(same(first, second)).toEqual(a.items.map((_: unknown, k: number) => k !== 2));
    // Pretty-printed, the items' own bytes change (indentation inside them): they are parsed again.
    expect(same(second, third).some(Boolean)).toBe(false);
  });

  it('a long body with a few changes far apart: only those Items are new', () => {
    const a = sampleOverview();
    const template = a.items[0];
    a.items = Array.from({ length: 700 }, (_, k) => ({ ...structuredClone(template), warehouseId: `w-${k}` }));
    const b = structuredClone(a);
    const changed = [0, 63, 64, 65, 300, 301, 699];
    for (const k of changed) b.items[k].level.available = 1_000_000 + k; // longer: later items move
    b.items[500].level.updatedAt = 'not a time';
    const [first, second] = readAll([text(a), text(b)]);
    expect(second.malformed.map((m) => m.index)).toEqual([500]);
    const kept = second.items.map((item) => first.items.includes(item));
    expect(kept.filter((k) => !k)).toHaveLength(changed.length);
  });

  it('whitespace between the items changes no Item', () => {
    const a = text(sampleOverview());
    const spaced = Buffer.from(a.toString().replace(/},{"warehouseId"/g, '},\n  {"warehouseId"'));
    expect(spaced.length).toBeGreaterThan(a.length);
    const [first, second] = readAll([a, spaced]);
    expect(same(first, second).every(Boolean)).toBe(true);
  });

  it('products or warehouses changed: every Item is built again, with the new names', () => {
    const a = sampleOverview();
    const b = structuredClone(a);
    b.products[0].name = 'Renamed';
    const c = structuredClone(b);
    c.warehouses[0].name = 'Moved';
    const [first, second, third] = readAll([text(a), text(b), text(c)]);
    expect(same(first, second).some(Boolean)).toBe(false);
    expect(same(second, third).some(Boolean)).toBe(false);
    expect(second.items.some((i) => i.product === 'Renamed')).toBe(true);
    expect(third.items.some((i) => i.warehouse === 'Moved')).toBe(true);
  });

  it('an unchanged item that a new earlier item duplicates is left out as the duplicate', () => {
    const a = sampleOverview();
    const b = structuredClone(a);
    b.items[0] = structuredClone(a.items[3]); // items[3] itself is unchanged, and now the second of its identity
    const [, second] = readAll([text(a), text(b)]);
    expect(second.malformed).toEqual([{ index: 3, message: 'items[3]: duplicate of items[0] (same warehouseId and productId), left out' }]);
  });

  it('a malformed item, then the same item fixed', () => {
    const a = sampleOverview();
    const b = structuredClone(a);
    b.items[1].level.available = '7';
    const [first, second, third] = readAll([text(a), text(b), text(a)]);
    expect(second.malformed.map((m) => m.index)).toEqual([1]);
    expect(third).toEqual(first);
  });

  it('a body that is not JSON (or not an overview) is forgotten: the next good one is read whole', () => {
    const a = text(sampleOverview());
    const reader = new OverviewReader();
    for (const bad of [Buffer.from('{"items": ['), Buffer.from('{"warehouses": [], "products": [], "items": 5}')]) {
      const first = reader.read(a);
      expect(reader.read(bad)).toEqual(outcomeOf(bad));
      const next = reader.read(a);
      expect(next).toEqual(outcomeOf(a));
      if (!('overview' in first) || !('overview' in next)) throw new Error('not an overview');
      expect(next.overview.items.some((item, k) => item === first.overview.items[k])).toBe(false);
    }
  });
});
