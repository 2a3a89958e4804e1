import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { itemKey, type Overview } from '../../src/model';
import { OverviewError, parseTimestamp, toOverview } from '../../src/source/overview';

const SAMPLE: unknown = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/overview.sample.json'), 'utf8'));

/** toOverview either returns or throws an OverviewError; nothing else. */
function overviewOrNull(body: unknown): Overview | null {
  try {
    return toOverview(body);
  } catch (err) {
    if (err instanceof OverviewError) return null;
    throw err;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first entry of `list` with this id, as toOverview joins it (a plain object with that id). */
function firstEntry(list: unknown, id: string): Record<string, unknown> | undefined {
  return (list as unknown[]).find((e): e is Record<string, unknown> => isObject(e) && e.id === id);
}

/**
 * Every item in `items` is valid and is exactly the raw item at its position, joined to the
 * first entry with its ids; every raw item is either in `items` or in `malformed`, never both;
 * no identity is both evaluated and held. (node:assert: jest's expect is too slow per run.)
 */
function checkInvariants(body: unknown, overview: Overview): void {
  const { items: rawItems, products, warehouses } = body as { items: unknown[]; products: unknown; warehouses: unknown };
  const malformedIndexes = new Set(overview.malformed.map((m) => m.index));
  assert.equal(malformedIndexes.size, overview.malformed.length, 'one malformed entry per index');
  for (const m of overview.malformed) {
    assert.match(m.message, new RegExp(`^items\\[${m.index}\\]`));
    assert.ok(!m.message.includes('\n'), 'one-line message');
  }
  const goodIndexes = rawItems.map((_, i) => i).filter((i) => !malformedIndexes.has(i));
  assert.equal(overview.items.length, goodIndexes.length, 'every item is either good or malformed');

  const keys = new Set<string>();
  overview.items.forEach((item, k) => {
    const raw = rawItems[goodIndexes[k]] as { warehouseId: unknown; level: Record<string, unknown> };
    assert.equal(item.warehouseId, raw.warehouseId);
    assert.equal(item.productId, raw.level.productId);
    assert.ok(item.warehouseId.length > 0 && item.productId.length > 0, 'non-empty ids');
    for (const field of ['available', 'incoming', 'reserved'] as const) {
      assert.ok(Number.isSafeInteger(item[field]), `${field} is an integer`);
      assert.equal(item[field], raw.level[field]);
    }
    assert.equal(item.updatedAt, raw.level.updatedAt);
    assert.ok(Number.isFinite(item.updatedAtMs), 'updatedAtMs is a time');
    assert.equal(item.updatedAtMs, parseTimestamp(item.updatedAt));

    const product = firstEntry(products, item.productId);
    assert.equal(item.knownProduct, product !== undefined);
    if (product === undefined) assert.deepEqual([item.sku, item.product, item.brand], [null, null, null]);
    else {
      assert.equal(item.sku, product.sku ?? null);
      assert.equal(item.product, product.name ?? null);
      assert.equal(item.brand, (product.brand as { name?: unknown } | null | undefined)?.name ?? null);
    }
    const warehouse = firstEntry(warehouses, item.warehouseId);
    assert.equal(item.knownWarehouse, warehouse !== undefined);
    assert.equal(item.warehouse, warehouse?.name ?? null);

    const key = itemKey(item.warehouseId, item.productId);
    assert.ok(!keys.has(key), `identity ${key} evaluated twice`);
    keys.add(key);
  });
  for (const m of overview.malformed) {
    if (m.warehouseId !== undefined && m.productId !== undefined) {
      assert.ok(!keys.has(itemKey(m.warehouseId, m.productId)), 'an identity is evaluated or held, not both');
    }
  }
}

const json = fc.jsonValue({ maxDepth: 3 });

// Values that are mostly right and sometimes wrong, so that generated items reach every check
// and valid items often share an identity.
const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad }, { weight: 1, arbitrary: json });
const id = often(fc.constantFrom('w1', 'w2', 'p1', 'p2', 'p3'), fc.constantFrom('', 7, null));
const integer = often(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(1.5, -0.5, 2 ** 60, '7', null, NaN));
const timestamp = often(
  fc.oneof(
    fc.constantFrom('2024-06-03T03:40:41.743844Z', '2024-06-03T03:40:41+02:00'),
    fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(9999, 0)) }).map((d) => d.toISOString()),
  ),
  fc.constantFrom('2024-02-30T00:00:00Z', 'now', '2024-06-03', 1717386041),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 5 });
const level = fc.record(
  { productId: id, available: integer, incoming: integer, reserved: integer, updatedAt: timestamp, extra: json },
  { requiredKeys: ['productId', 'available', 'incoming', 'reserved', 'updatedAt'] },
);
const rawItem = fc.oneof(
  { weight: 8, arbitrary: fc.record({ warehouseId: id, level: fc.oneof({ weight: 8, arbitrary: level }, json) }) },
  { weight: 1, arbitrary: json },
);
const text = fc.oneof(fc.string(), fc.constant(null), json);
const warehouse = fc.oneof(fc.record({ id: maybe(id), name: maybe(text) }), json);
const product = fc.oneof(
  fc.record({ id: maybe(id), sku: maybe(text), name: maybe(text), brand: maybe(fc.oneof(fc.record({ name: maybe(text) }), json)) }),
  json,
);
const overviewLike = fc.record({
  warehouses: fc.array(warehouse, { maxLength: 4 }),
  products: fc.array(product, { maxLength: 5 }),
  items: fc.array(rawItem, { maxLength: 30 }),
});


/** Every path (list of keys) in a JSON value, the root excluded. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...prefix, i]), paths(v, [...prefix, i], out)));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) out.push([...prefix, k]), paths(v, [...prefix, k], out);
  return out;
}

const SAMPLE_PATHS = paths(SAMPLE);

const mutation = fc.record({
  at: fc.nat({ max: SAMPLE_PATHS.length - 1 }),
  replacement: fc.option(json, { nil: undefined }),
});


/** A copy of the sample with each mutation applied: a value replaced, or its key deleted. */
function mutate(mutations: { at: number; replacement: unknown }[]): unknown {
  const copy = structuredClone(SAMPLE) as Record<string, unknown>;
  for (const { at, replacement } of mutations) {
    const keys = SAMPLE_PATHS[at];
    let parent: unknown = copy;
    for (const key of keys.slice(0, -1)) {
      parent = isObject(parent) || Array.isArray(parent) ? (parent as Record<string | number, unknown>)[key] : undefined;
    }
    if (!isObject(parent) && !Array.isArray(parent)) continue; // an earlier mutation replaced an ancestor
    const last = keys[keys.length - 1];
    if (replacement === undefined && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[last];
    else (parent as Record<string | number, unknown>)[last] = replacement ?? null;
  }
  return copy;
}

describe('toOverview properties', () => {
  it('throws only OverviewError for any JSON value', () => {
    fc.assert(
      fc.property(json, (value) => {
        const overview = overviewOrNull(value);
        if (overview !== null) checkInvariants(value, overview);
      }),
      { numRuns: 500 },
    );
  });

  it('never lets an invalid item into items, for generated overviews', () => {
    fc.assert(
      fc.property(overviewLike, (body) => {
        const overview = toOverview(body);
        checkInvariants(body, overview);
      }),
      { numRuns: 500 },
    );
  });

  it('never lets an invalid item into items, for mutated copies of the vendor sample', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        const body = mutate(mutations);
        const overview = overviewOrNull(body);
        if (overview !== null) checkInvariants(body, overview);
      }),
      { numRuns: 500 },
    );
  });
});
