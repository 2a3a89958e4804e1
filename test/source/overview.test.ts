import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors';
import { describeValue, OverviewError, parseOverview, parseTimestamp, toOverview } from '../../src/source/overview';

const SAMPLE_TEXT = readFileSync(path.join(__dirname, '../../fixtures/overview.sample.json'), 'utf8');

const WH = 'wh-1';
const PR = 'pr-1';

function level(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { productId: PR, available: 5, incoming: 1, reserved: 0, updatedAt: '2024-06-03T03:40:41.743844Z', ...overrides };
}

function item(overrides: Record<string, unknown> = {}, levelOverrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { warehouseId: WH, level: level(levelOverrides), ...overrides };
}

function body(items: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    warehouses: [{ id: WH, name: 'Main' }],
    products: [{ id: PR, sku: 'SKU-1', name: 'Thing', brand: { name: 'Sony' } }],
    items,
    ...extra,
  };
}

/** The one malformed message of a body whose item at `index` is bad (good items around it). */
function messageFor(bad: unknown, index = 3): string {
  const items = [0, 1, 2, 3, 4].map((i) => item({}, { productId: `p${i}` }));
  items[index] = bad as Record<string, unknown>;
  const overview = toOverview(body(items));
  expect(overview.items).toHaveLength(4);
  expect(overview.malformed).toHaveLength(1);
  expect(overview.malformed[0].index).toBe(index);
  return overview.malformed[0].message;
}

describe('the vendor sample', () => {
  const overview = parseOverview(SAMPLE_TEXT);

  it('parses every item and joins it to its warehouse and product', () => {
    expect(overview.malformed).toEqual([]);
    expect(overview.malformedEntries).toEqual([]);
    expect(overview.items).toHaveLength(5);
    expect(overview.warehouseCount).toBe(2);
    expect(overview.productCount).toBe(5);
    expect(overview.items[0]).toEqual({
      warehouseId: '9cae310d-c440-4d78-bdc0-bf306ec33888',
      productId: 'f4053402-e79b-45c2-8621-377d28060888',
      warehouse: 'test warehouse',
      sku: 'TEST-BLACK',
      product: 'SKU Black',
      brand: '',
      knownProduct: true,
      knownWarehouse: true,
      available: 0,
      incoming: 0,
      reserved: -13,
      updatedAt: '2024-06-03T03:40:41.743844Z',
      updatedAtMs: Date.UTC(2024, 5, 3, 3, 40, 41, 743),
      productSlot: 3,
    });
    // Slots are positions among the products: equal for the items of one product, -1 for an unknown one.
    const known = overview.items.filter((i) => i.knownProduct);
    expect(new Set(known.map((i) => i.productSlot)).size).toBe(new Set(known.map((i) => i.productId)).size);
    expect(overview.items.filter((i) => !i.knownProduct).map((i) => i.productSlot)).toEqual([-1, -1, -1]);
    expect(overview.items[4]).toMatchObject({ sku: 'test', product: 'Test Product', brand: 'Sony', knownProduct: true });
  });

  it('marks the three items whose productId is not among the products as unknown', () => {
    const unknown = overview.items.filter((i) => !i.knownProduct);
    expect(unknown.map((i) => i.productId)).toEqual([
      '440352eb-241a-4cac-834f-e0980ffc888',
      'bab7c35b-2ecb-4b40-be82-8dc1e0a86171',
      '4d5ab278-86f3-4237-993b-b16a19360b41',
    ]);
    for (const i of unknown) {
      expect(i).toMatchObject({ sku: null, product: null, brand: null, warehouse: 'test warehouse', knownWarehouse: true });
    }
  });

  it('keeps negative reserved as it is', () => {
    expect(overview.items.filter((i) => i.reserved < 0).map((i) => i.reserved)).toEqual([-13, -7, -7, -2]);
  });
});

describe('toOverview: bodies that are not an overview', () => {
  it.each([
    [null, 'expected an object with warehouses, products and items, got null'],
    [[], 'expected an object with warehouses, products and items, got an array'],
    ['{}', 'expected an object with warehouses, products and items, got "{}"'],
    [42, 'expected an object with warehouses, products and items, got 42'],
    [{ products: [], items: [] }, 'warehouses: missing, expected an array'],
    [{ warehouses: {}, products: [], items: [] }, 'warehouses: expected an array, got an object'],
    [{ warehouses: [], products: 'none', items: [] }, 'products: expected an array, got "none"'],
    [{ warehouses: [], products: [], items: null }, 'items: expected an array, got null'],
    [{ warehouses: [], products: [] }, 'items: missing, expected an array'],
  ])('%j -> %s', (input, message) => {
    let thrown: unknown;
    try {
      toOverview(input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OverviewError);
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as Error).message).toBe(message);
  });

  it('parseOverview reports text that is not JSON in one line', () => {
    expect(() => parseOverview('{"items": [')).toThrow(OverviewError);
    expect(() => parseOverview('{"items": [')).toThrow(/^not JSON: \S.*$/);
    expect(() => parseOverview('')).toThrow('not JSON: Unexpected end of JSON input');
    const long = `{"x": ${'1'.repeat(1000)}x}`;
    let message = '';
    try {
      parseOverview(long);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.startsWith('not JSON: ')).toBe(true);
    expect(message.length).toBeLessThanOrEqual(140);
  });

  it('parseOverview accepts a leading byte order mark', () => {
    expect(parseOverview(`\uFEFF${JSON.stringify(body([item()]))}`).items).toHaveLength(1);
  });
});

describe('toOverview: malformed items are reported by path and left out', () => {
  it.each([
    [null, 'items[3]: expected an object, got null'],
    [[1], 'items[3]: expected an object, got an array'],
    ['item', 'items[3]: expected an object, got "item"'],
    [item({ warehouseId: undefined }), 'items[3].warehouseId: missing, expected a non-empty string'],
    [item({ warehouseId: 7 }), 'items[3].warehouseId: expected a non-empty string, got 7'],
    [item({ warehouseId: '' }), 'items[3].warehouseId: expected a non-empty string, got ""'],
    [{ warehouseId: WH }, 'items[3].level: missing, expected an object'],
    [item({ level: 'full' }), 'items[3].level: expected an object, got "full"'],
    [item({}, { productId: undefined }), 'items[3].level.productId: missing, expected a non-empty string'],
    [item({}, { productId: null }), 'items[3].level.productId: expected a non-empty string, got null'],
    [item({}, { available: '7' }), 'items[3].level.available: expected an integer, got "7"'],
    [item({}, { available: 7.5 }), 'items[3].level.available: expected an integer, got 7.5'],
    [item({}, { available: undefined }), 'items[3].level.available: missing, expected an integer'],
    [item({}, { available: 1e300 }), 'items[3].level.available: expected an integer within ±2^53, got 1e+300'],
    [item({}, { incoming: null }), 'items[3].level.incoming: expected an integer, got null'],
    [item({}, { incoming: true }), 'items[3].level.incoming: expected an integer, got true'],
    [item({}, { reserved: { n: 1 } }), 'items[3].level.reserved: expected an integer, got an object'],
    [item({}, { updatedAt: undefined }), 'items[3].level.updatedAt: missing, expected an ISO 8601 timestamp'],
    [item({}, { updatedAt: 1717386041 }), 'items[3].level.updatedAt: expected an ISO 8601 timestamp, got 1717386041'],
    [item({}, { updatedAt: 'yesterday' }), 'items[3].level.updatedAt: expected an ISO 8601 timestamp, got "yesterday"'],
    [item({}, { updatedAt: '2024-02-30T00:00:00Z' }), 'items[3].level.updatedAt: expected an ISO 8601 timestamp, got "2024-02-30T00:00:00Z"'],
  ])('%j -> %s', (bad, message) => {
    expect(messageFor(bad)).toBe(message);
  });

  it('keeps the ids of a malformed item that got far enough to be identified', () => {
    const overview = toOverview(
      body([item({}, { available: '7' }), item({ warehouseId: 7 }, { productId: 'p9' }), item({ level: null })]),
    );
    expect(overview.items).toEqual([]);
    expect(overview.malformed).toEqual([
      { index: 0, warehouseId: WH, productId: PR, message: 'items[0].level.available: expected an integer, got "7"' },
      { index: 1, productId: 'p9', message: 'items[1].warehouseId: expected a non-empty string, got 7' },
      { index: 2, warehouseId: WH, message: 'items[2].level: expected an object, got null' },
    ]);
  });

  it('accepts any integer, negative available included', () => {
    const overview = toOverview(body([item({}, { available: -4, incoming: -1, reserved: -9 })]));
    expect(overview.malformed).toEqual([]);
    expect(overview.items[0]).toMatchObject({ available: -4, incoming: -1, reserved: -9 });
  });

  it('ignores unknown fields anywhere', () => {
    const overview = toOverview({
      ...body([{ ...item({}, { bin: 'A-3', lots: [{ qty: 1 }] }), note: 'x', extra: null }]),
      warehouses: [{ id: WH, name: 'Main', address: { city: 'Oakville' }, flags: [1, 2] }],
      products: [{ id: PR, sku: 'SKU-1', name: 'Thing', brand: { name: 'Sony', id: 'b' }, gtin: '', casePack: 2 }],
      page: { next: null },
    });
    expect(overview.malformed).toEqual([]);
    expect(overview.items[0]).toMatchObject({ sku: 'SKU-1', warehouse: 'Main', brand: 'Sony', available: 5 });
  });

  it('gives every malformed item its own message and keeps the good ones', () => {
    const items = [item({}, { productId: 'a' }), item({}, { productId: 'b', incoming: 'x' }), null, item({}, { productId: 'c' })];
    const overview = toOverview(body(items));
    expect(overview.items.map((i) => i.productId)).toEqual(['a', 'c']);
    expect(overview.malformed.map((m) => m.message)).toEqual([
      'items[1].level.incoming: expected an integer, got "x"',
      'items[2]: expected an object, got null',
    ]);
  });
});

describe('toOverview: joins', () => {
  it('fills null and known* false for unknown products and warehouses', () => {
    const overview = toOverview(body([item({ warehouseId: 'wh-gone' }, { productId: 'pr-gone' })]));
    expect(overview.items[0]).toMatchObject({
      warehouseId: 'wh-gone',
      productId: 'pr-gone',
      warehouse: null,
      sku: null,
      product: null,
      brand: null,
      knownProduct: false,
      knownWarehouse: false,
    });
  });

  it('reads optional warehouse and product fields as null, and keeps an empty brand name', () => {
    const overview = toOverview({
      warehouses: [{ id: 'w1' }, { id: 'w2', name: null }],
      products: [
        { id: 'p1' },
        { id: 'p2', sku: null, name: null, brand: null },
        { id: 'p3', sku: 'S3', brand: { id: 'b' } },
        { id: 'p4', sku: 'S4', brand: { name: '' } },
      ],
      items: [
        item({ warehouseId: 'w1' }, { productId: 'p1' }),
        item({ warehouseId: 'w2' }, { productId: 'p2' }),
        item({ warehouseId: 'w1' }, { productId: 'p3' }),
        item({ warehouseId: 'w1' }, { productId: 'p4' }),
      ],
    });
    expect(overview.malformed).toEqual([]);
    const joined = overview.items.map(({ warehouse, sku, product, brand, knownProduct, knownWarehouse }) => ({
      warehouse,
      sku,
      product,
      brand,
      knownProduct,
      knownWarehouse,
    }));
    expect(joined).toEqual([
      { warehouse: null, sku: null, product: null, brand: null, knownProduct: true, knownWarehouse: true },
      { warehouse: null, sku: null, product: null, brand: null, knownProduct: true, knownWarehouse: true },
      { warehouse: null, sku: 'S3', product: null, brand: null, knownProduct: true, knownWarehouse: true },
      { warehouse: null, sku: 'S4', product: null, brand: '', knownProduct: true, knownWarehouse: true },
    ]);
  });

  it('keeps non-ASCII text intact', () => {
    const overview = parseOverview(
      JSON.stringify({
        warehouses: [{ id: 'w-ü', name: 'Entrepôt Montréal 倉庫' }],
        products: [{ id: 'p-1', sku: 'ÉCRAN-🎧', name: '听雨 headphones — “pro”', brand: { name: 'Sōny' } }],
        items: [item({ warehouseId: 'w-ü' }, { productId: 'p-1' })],
      }),
    );
    expect(overview.items[0]).toMatchObject({
      warehouseId: 'w-ü',
      warehouse: 'Entrepôt Montréal 倉庫',
      sku: 'ÉCRAN-🎧',
      product: '听雨 headphones — “pro”',
      brand: 'Sōny',
    });
  });

  it('counts only usable warehouse and product entries', () => {
    const overview = toOverview({ warehouses: [{ id: 'a' }, { id: 'a' }, 3], products: [{ id: 'p' }, { sku: 'x' }], items: [] });
    expect(overview.warehouseCount).toBe(1);
    expect(overview.productCount).toBe(1);
  });
});

describe('toOverview: malformed warehouse and product entries', () => {
  it('lists each one and holds the items that refer to it instead of calling their product unknown', () => {
    const overview = toOverview({
      warehouses: [{ id: 'w1', name: 'One' }, { id: 'w2', name: 12 }, null],
      products: [
        { id: 'p1', sku: 'S1' },
        { id: 'p2', sku: 5 },
        { id: 'p3', name: ['x'] },
        { id: 'p4', brand: 'Sony' },
        { id: 'p5', brand: { name: false } },
        { sku: 'no-id' },
        'p6',
      ],
      items: [
        item({ warehouseId: 'w1' }, { productId: 'p1' }),
        item({ warehouseId: 'w1' }, { productId: 'p2' }),
        item({ warehouseId: 'w2' }, { productId: 'p1' }),
        item({ warehouseId: 'w1' }, { productId: 'p5' }),
        item({ warehouseId: 'w1' }, { productId: 'p-unknown' }),
      ],
    });
    expect(overview.malformedEntries).toEqual([
      'warehouses[1].name: expected a string or null, got 12',
      'warehouses[2]: expected an object, got null',
      'products[1].sku: expected a string or null, got 5',
      'products[2].name: expected a string or null, got an array',
      'products[3].brand: expected an object or null, got "Sony"',
      'products[4].brand.name: expected a string or null, got false',
      'products[5].id: missing, expected a non-empty string',
      'products[6]: expected an object, got "p6"',
    ]);
    // p-unknown is held too: products[5] and products[6] have no id to read, and either may be its.
    expect(overview.items.map((i) => [i.productId, i.knownProduct])).toEqual([['p1', true]]);
    expect(overview.malformed).toEqual([
      {
        index: 1,
        warehouseId: 'w1',
        productId: 'p2',
        message: 'items[1].level.productId: its product entry is malformed (products[1].sku: expected a string or null, got 5)',
      },
      {
        index: 2,
        warehouseId: 'w2',
        productId: 'p1',
        message: 'items[2].warehouseId: its warehouse entry is malformed (warehouses[1].name: expected a string or null, got 12)',
      },
      {
        index: 3,
        warehouseId: 'w1',
        productId: 'p5',
        message: 'items[3].level.productId: its product entry is malformed (products[4].brand.name: expected a string or null, got false)',
      },
      {
        index: 4,
        warehouseId: 'w1',
        productId: 'p-unknown',
        message: "items[4].level.productId: not among the products, and products[5].id: missing, expected a non-empty string: that entry may be this item's",
      },
    ]);
  });

  it('holds the items no entry claims while an entry has no id to read (any of them may be its), and only those', () => {
    const overview = toOverview({
      warehouses: [{ id: 'w1', name: 'One' }, { id: 7, name: 'Seven' }],
      products: [{ id: 'p1', sku: 'S1' }],
      items: [
        item({ warehouseId: 'w1' }, { productId: 'p1' }),
        item({ warehouseId: 'w1' }, { productId: 'p-unknown' }),
        item({ warehouseId: 'w-unknown' }, { productId: 'p1' }),
      ],
    });
    expect(overview.malformedEntries).toEqual(['warehouses[1].id: expected a non-empty string, got 7']);
    // A product nobody lists is still an unknown product: only warehouse entries are in doubt.
    expect(overview.items.map((i) => [i.warehouseId, i.productId, i.knownProduct])).toEqual([
      ['w1', 'p1', true],
      ['w1', 'p-unknown', false],
    ]);
    expect(overview.malformed).toEqual([
      {
        index: 2,
        warehouseId: 'w-unknown',
        productId: 'p1',
        message: "items[2].warehouseId: not among the warehouses, and warehouses[1].id: expected a non-empty string, got 7: that entry may be this item's",
      },
    ]);
  });

  it('refuses ids with a lone surrogate, which UTF-8 (Redis, notices) would turn into another id', () => {
    const overview = toOverview({
      warehouses: [{ id: 'w1', name: 'One' }, { id: 'w\ud800', name: 'Torn' }],
      products: [{ id: 'p1', sku: 'S1' }],
      items: [
        item({ warehouseId: 'w1' }, { productId: 'p1' }),
        item({ warehouseId: 'w1' }, { productId: 'abc\ud800def' }),
        item({ warehouseId: 'w\udc00' }, { productId: 'p1' }),
        // Well-formed pairs are fine.
        item({ warehouseId: 'w1' }, { productId: 'p\ud83d\ude00' }),
      ],
    });
    expect(overview.malformedEntries).toEqual(['warehouses[1].id: expected text without lone surrogates (it cannot be stored as UTF-8), got "w\\ud800"']);
    expect(overview.items.map((i) => i.productId)).toEqual(['p1', 'p\ud83d\ude00']);
    // Held by their ids (exact in memory): only these items, not every alert of the poll.
    expect(overview.malformed.map((m) => [m.warehouseId, m.productId, m.message])).toEqual([
      ['w1', 'abc\ud800def', 'items[1].level.productId: expected text without lone surrogates (it cannot be stored as UTF-8), got "abc\\ud800def"'],
      ['w\udc00', 'p1', 'items[2].warehouseId: expected text without lone surrogates (it cannot be stored as UTF-8), got "w\\udc00"'],
    ]);
  });

  it('uses the first of two entries with one id and reports the second', () => {
    const overview = toOverview({
      warehouses: [{ id: 'w1', name: 'First' }, { id: 'w1', name: 'Second' }],
      products: [{ id: 'p1', sku: 'FIRST' }, { id: 'p1', sku: 'SECOND' }],
      items: [item({ warehouseId: 'w1' }, { productId: 'p1' })],
    });
    expect(overview.malformedEntries).toEqual([
      'warehouses[1]: duplicate id "w1", the first entry is used',
      'products[1]: duplicate id "p1", the first entry is used',
    ]);
    expect(overview.items[0]).toMatchObject({ warehouse: 'First', sku: 'FIRST' });
  });
});

describe('toOverview: duplicate items', () => {
  it('keeps the first item of an identity and reports later ones without ids', () => {
    const overview = toOverview({
      warehouses: [{ id: 'w1' }],
      products: [{ id: 'p1' }],
      items: [
        item({ warehouseId: 'w1' }, { productId: 'p1', available: 1 }),
        item({ warehouseId: 'w1' }, { productId: 'p2', available: 2 }),
        item({ warehouseId: 'w1' }, { productId: 'p1', available: 3 }),
        item({ warehouseId: 'w1' }, { productId: 'p2', available: 4 }),
        item({ warehouseId: 'w9' }, { productId: 'p1', available: 5 }),
      ],
    });
    expect(overview.items.map((i) => [i.warehouseId, i.productId, i.available])).toEqual([
      ['w1', 'p1', 1],
      ['w1', 'p2', 2],
      ['w9', 'p1', 5],
    ]);
    expect(overview.malformed).toEqual([
      { index: 2, message: 'items[2]: duplicate of items[0] (same warehouseId and productId), left out' },
      { index: 3, message: 'items[3]: duplicate of items[1] (same warehouseId and productId), left out' },
    ]);
  });

  it('lets a malformed first item claim its identity, so a later good one does not slip in', () => {
    const overview = toOverview(body([item({}, { available: 'x' }), item({}, { available: 9 })]));
    expect(overview.items).toEqual([]);
    expect(overview.malformed.map((m) => [m.index, m.warehouseId, m.productId])).toEqual([
      [0, WH, PR],
      [1, undefined, undefined],
    ]);
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2024-06-03T03:40:41.743844Z', Date.UTC(2024, 5, 3, 3, 40, 41, 743)],
    ['2024-06-03T03:40:41Z', Date.UTC(2024, 5, 3, 3, 40, 41)],
    ['2024-06-03T03:40Z', Date.UTC(2024, 5, 3, 3, 40)],
    ['2024-06-03T03:40:41.5Z', Date.UTC(2024, 5, 3, 3, 40, 41, 500)],
    ['2024-06-03T03:40:41+02:00', Date.UTC(2024, 5, 3, 1, 40, 41)],
    ['2024-06-03T03:40:41-0530', Date.UTC(2024, 5, 3, 9, 10, 41)],
    ['2024-06-03T03:40:41', Date.UTC(2024, 5, 3, 3, 40, 41)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0099-01-01T00:00:00Z', new Date('0099-01-01T00:00:00.000Z').getTime()],
  ])('%s', (text, ms) => {
    expect(parseTimestamp(text)).toBe(ms);
  });

  it.each([
    '',
    'yesterday',
    'June 3, 2024',
    '2024-06-03',
    '2024-06-03 03:40:41Z',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-06-31T00:00:00Z',
    '2024-06-03T24:00:00Z',
    '2024-06-03T03:60:00Z',
    '2024-06-03T03:40:41+25:00',
    ' 2024-06-03T03:40:41Z',
  ])('rejects %j', (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });
});

describe('describeValue', () => {
  it.each([
    ['7', '"7"'],
    [null, 'null'],
    [undefined, 'nothing'],
    [{ a: 1 }, 'an object'],
    [[1, 2], 'an array'],
    [12.5, '12.5'],
    [false, 'false'],
    ['a"b', '"a\\"b"'],
  ])('%j -> %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('cuts long strings to about 40 characters without splitting a character', () => {
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(40)}…"`);
    const emoji = `${'x'.repeat(39)}🎧🎧`;
    expect(describeValue(emoji)).toBe(`"${'x'.repeat(39)}…"`);
  });
});

describe('toOverview at scale (sanity, not timing)', () => {
  it('joins and dedups a large overview through the grid and the map paths alike', () => {
    const warehouses = Array.from({ length: 7 }, (_, w) => ({ id: `w${w}`, name: `Warehouse ${w}` }));
    const products = Array.from({ length: 3000 }, (_, p) => ({ id: `p${p}`, sku: `SKU-${p}`, brand: { name: p % 2 ? 'A' : '' } }));
    const items: unknown[] = [];
    // 8 warehouses (one unknown) x 3100 products (100 unknown), then every 10th identity again.
    for (let p = 0; p < 3100; p++) {
      for (let w = 0; w < 8; w++) {
        items.push(item({ warehouseId: `w${w}` }, { productId: `p${p}`, available: p, updatedAt: `2024-06-0${1 + (p % 9)}T00:00:00Z` }));
      }
    }
    const unique = items.length;
    for (let i = 0; i < unique; i += 10) items.push(items[i]);
    const overview = toOverview({ warehouses, products, items });

    expect(overview.items).toHaveLength(unique);
    expect(overview.malformed).toHaveLength(items.length - unique);
    expect(overview.malformed[0]).toEqual({
      index: unique,
      message: `items[${unique}]: duplicate of items[0] (same warehouseId and productId), left out`,
    });
    expect(overview.malformed.every((m, k) => m.message === `items[${unique + k}]: duplicate of items[${k * 10}] (same warehouseId and productId), left out`)).toBe(true);
    expect(overview.items.filter((i) => !i.knownProduct)).toHaveLength(100 * 8);
    expect(overview.items.filter((i) => !i.knownWarehouse)).toHaveLength(3100);
    const wrong = overview.items.filter((i) => {
      const p = Number(i.productId.slice(1));
      if (i.updatedAtMs !== Date.UTC(2024, 5, 1 + (p % 9))) return true;
      return i.knownProduct && (i.sku !== `SKU-${p}` || i.brand !== (p % 2 ? 'A' : ''));
    });
    expect(wrong).toEqual([]);
  });

  it('finds duplicates the same way when the warehouses x products grid would be too big', () => {
    const warehouses = Array.from({ length: 2100 }, (_, w) => ({ id: `w${w}` }));
    const products = Array.from({ length: 2000 }, (_, p) => ({ id: `p${p}` }));
    const items = [
      item({ warehouseId: 'w0' }, { productId: 'p0' }),
      item({ warehouseId: 'w2099' }, { productId: 'p1999' }),
      item({ warehouseId: 'w0' }, { productId: 'p0' }),
      item({ warehouseId: 'w2099' }, { productId: 'p1999' }),
      item({ warehouseId: 'w1' }, { productId: 'p0' }),
    ];
    const overview = toOverview({ warehouses, products, items });
    expect(overview.items.map((i) => `${i.warehouseId}/${i.productId}`)).toEqual(['w0/p0', 'w2099/p1999', 'w1/p0']);
    expect(overview.malformed.map((m) => m.message)).toEqual([
      'items[2]: duplicate of items[0] (same warehouseId and productId), left out',
      'items[3]: duplicate of items[1] (same warehouseId and productId), left out',
    ]);
  });
});

describe('parseTimestamp: the fast UTC path agrees with the general one', () => {
  const fc = require('fast-check') as typeof import('fast-check');
  const { parseTimestamp } = require('../../src/source/overview') as typeof import('../../src/source/overview');
  it('on random instants written with Z and 0-6 fraction digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_000_000_000_000, max: 253_000_000_000_000 }), fc.integer({ min: 0, max: 6 }), (ms, places) => {
        const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
        const base = iso.slice(0, 19);
        const fraction = iso.slice(20, 23) + '123';
        const text = places === 0 ? `${base}Z` : `${base}.${fraction.slice(0, places)}Z`;
        const expected = places === 0 ? Math.floor(ms / 1000) * 1000 : Date.parse(`${base}.${fraction.slice(0, Math.min(3, places)).padEnd(3, '0')}Z`);
        expect(parseTimestamp(text)).toBe(expected);
        // The same instant with an explicit +00:00 offset takes the general path.
        expect(parseTimestamp(text.replace(/Z$/, '+00:00'))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
  it.each(['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '2024-01-01T00:00:60Z', '2024-01-01T00:00:00.Z', '2024-01-0xT00:00:00Z', '2024-01-01T00:00:00.1a2Z'])(
    'rejects %s',
    (text) => expect(parseTimestamp(text)).toBeNaN(),
  );
  it('accepts leap days and fractions', () => {
    expect(parseTimestamp('2024-02-29T12:00:00.5Z')).toBe(Date.UTC(2024, 1, 29, 12, 0, 0, 500));
    expect(parseTimestamp('2024-06-03T03:40:41.743844Z')).toBe(Date.UTC(2024, 5, 3, 3, 40, 41, 743));
  });
});
