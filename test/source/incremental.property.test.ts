// The running daemon's parse (OverviewReader: only what changed is parsed, unchanged items keep
// their Item objects) must give exactly what the full parse gives, body after body, whatever
// changes between two bodies: levels, names, duplicates, malformed items, whitespace, bodies
// that are not JSON or not an overview. (node:assert: jest's expect is too slow per run.)
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { outcomeOf, OverviewReader } from '../../src/source/incremental';

type Json = unknown;
interface Body {
  warehouses: Json[];
  products: Json[];
  items: Json[];
}

const WAREHOUSES = ['w1', 'w2', 'w3'];
const PRODUCTS = ['p1', 'p2', 'p3', 'p4'];

function base(): Body {
  const items: Json[] = [];
  for (const w of WAREHOUSES) {
    for (const [k, p] of PRODUCTS.entries()) {
      items.push({ warehouseId: w, level: { productId: p, available: k * 7, incoming: 0, reserved: 0, updatedAt: '2026-11-30T08:00:00.123456Z' } });
    }
  }
  return {
    warehouses: WAREHOUSES.map((id) => ({ id, name: `Warehouse ${id}` })),
    products: PRODUCTS.map((id) => ({ id, sku: `SKU-${id}`, name: `Product ${id}`, brand: { name: 'Acme' } })),
    items,
  };
}

const json = fc.jsonValue({ maxDepth: 2 });
const index = fc.nat({ max: 20 });
const integerOrNot = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -50, max: 5000 }) }, { weight: 1, arbitrary: fc.constantFrom('7', 1.5, null) });
const id = (ids: string[]) => fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ids, 'other') }, { weight: 1, arbitrary: fc.constantFrom('', 5) });

const edit = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('level' as const), index, field: fc.constantFrom('available', 'incoming', 'reserved'), value: integerOrNot }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('updatedAt' as const), index, value: fc.constantFrom('2026-11-30T08:05:00Z', '2026-11-30T08:05:00+01:00', 'soon', 5) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), from: index, to: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('malform' as const), index, value: json }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), index }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), index, warehouseId: id(WAREHOUSES), productId: id(PRODUCTS), available: integerOrNot }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('product' as const), index, field: fc.constantFrom('sku', 'name', 'id'), value: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(5, null)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('warehouse' as const), index, field: fc.constantFrom('name', 'id'), value: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(5, null)) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

/** How the next body is written: the overview as edited (with some separator between the items), or a broken body. */
const form = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('good' as const), separator: fc.constantFrom(',', ',', ', ', ',\n  '), indent: fc.constantFrom(0, 0, 0, 2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'not overview' as const }) },
);
type Form = typeof form extends fc.Arbitrary<infer T> ? T : never;

function apply(body: Body, e: Edit): Body {
  const next = structuredClone(body);
  const at = (list: Json[], i: number): number => (list.length === 0 ? -1 : i % list.length);
  const record = (v: Json): Record<string, Json> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : null);
  switch (e.kind) {
    case 'level':
    case 'updatedAt': {
      const level = record(record(next.items[at(next.items, e.index)])?.level);
      if (level !== null) level[e.kind === 'level' ? e.field : 'updatedAt'] = e.value;
      break;
    }
    case 'duplicate':
      if (next.items.length > 0) next.items[at(next.items, e.to)] = structuredClone(next.items[at(next.items, e.from)]);
      break;
    case 'malform':
      if (next.items.length > 0) next.items[at(next.items, e.index)] = e.value;
      break;
    case 'remove':
      if (next.items.length > 0) next.items.splice(at(next.items, e.index), 1);
      break;
    case 'insert':
      next.items.splice(e.index % (next.items.length + 1), 0, {
        warehouseId: e.warehouseId,
        level: { productId: e.productId, available: e.available, incoming: 1, reserved: 0, updatedAt: '2026-11-30T08:06:00Z' },
      });
      break;
    case 'product':
    case 'warehouse': {
      const list = e.kind === 'product' ? next.products : next.warehouses;
      const entry = record(list[at(list, e.index)]);
      if (entry !== null) entry[e.field] = e.value;
      break;
    }
    case 'none':
      break;
  }
  return next;
}

function write(body: Body, f: Form): Buffer {
  switch (f.kind) {
    case 'good': {
      const items = body.items.map((item) => JSON.stringify(item, null, f.indent)).join(f.separator);
      return Buffer.from(`{"warehouses":${JSON.stringify(body.warehouses)},"products":${JSON.stringify(body.products)},"items":[${items}]}`);
    }
    case 'cut': {
      const text = JSON.stringify(body);
      return Buffer.from(text.slice(0, f.at % text.length));
    }
    case 'not overview':
      return Buffer.from(`{"warehouses":${JSON.stringify(body.warehouses)},"products":{},"items":[]}`);
  }
}

describe('OverviewReader over random series of bodies', () => {
  it('gives what the full parse gives, and keeps the Items when nothing changed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(edit, form), { minLength: 1, maxLength: 12 }), (steps) => {
        const reader = new OverviewReader();
        let body = base();
        let previous: { bytes: Buffer; outcome: ReturnType<typeof outcomeOf> } | null = null;
        for (const [e, f] of steps) {
          if (f.kind === 'good') body = apply(body, e);
          const bytes = write(body, f);
          const outcome = reader.read(bytes);
          assert.deepStrictEqual(outcome, outcomeOf(bytes));
          if (previous !== null && previous.bytes.equals(bytes) && 'overview' in previous.outcome && 'overview' in outcome) {
            const before = previous.outcome.overview.items;
            assert.ok(outcome.overview.items.every((item, k) => item === before[k]), 'the same body: the same Item objects');
          }
          previous = { bytes, outcome };
        }
      }),
      { numRuns: 400 },
    );
  });
});
