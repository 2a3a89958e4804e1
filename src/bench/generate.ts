// Sample-shaped S2 overviews for the benchmark: P products x W warehouses, deterministic by seed.
//
// Entries look like fixtures/overview.sample.json (uuid-like ids, organization and brand objects,
// dimensions, non-ASCII names) so that the body has the vendor's size per item (~280 bytes with
// its share of the product entries) and JSON.parse does the work it does in production. Levels
// are realistic: most stock is healthy, ~2% low, ~0.3% negative reserved, ~1% stale, ~0.3% of
// the products missing from `products` (their items are unknown_product), so that the rules fire
// on a few percent of the items, as in a real shop, not on everything.
//
// Levels live in typed arrays (a 1,000,000-item overview is ~24 MB here, not ~300 MB of
// objects); the JSON is written in chunks, so the largest string at any moment is one chunk.

import { mulberry32 } from '../prng';

/** The seeded generator of the benchmark's data (mulberry32). */
export const prng = mulberry32;

export interface GenerateOptions {
  /** P: products per warehouse (every warehouse stocks every product). */
  products: number;
  /** W */
  warehouses: number;
  seed: number;
  /** The moment the levels are relative to ("updated 3 h ago"); the poll's clock should be near it. */
  nowMs: number;
}

/**
 * A generated overview. Item `i` is product `i % P` in warehouse `floor(i / P)` (grouped by
 * warehouse, as the S2 API lists them). Treat it as immutable: mutate() returns a copy.
 */
export interface BenchOverview {
  readonly products: number;
  readonly warehouses: number;
  readonly nowMs: number;
  readonly warehouseIds: readonly string[];
  /** The warehouse entries, serialized. */
  readonly warehouseJson: readonly string[];
  /** Every product id items refer to, listed or not. */
  readonly productIds: readonly string[];
  /** The product entries, serialized; null for a product that is not listed (its items are unknown products). */
  readonly productJson: ReadonlyArray<string | null>;
  readonly available: Int32Array;
  readonly incoming: Int32Array;
  readonly reserved: Int32Array;
  /** updatedAt in microseconds since the epoch (the API sends microseconds). */
  readonly updatedAtUs: Float64Array;
}

export function itemCount(o: BenchOverview): number {
  return o.products * o.warehouses;
}

// ---- shapes ----------------------------------------------------------------------------------

const HEX = '0123456789abcdef';

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[Math.floor(rand() * 16)];
  return s;
}

/**
 * A uuid-looking id that is unique per (kind, index) by construction: the last group is the
 * index XOR a per-kind mask (a bijection), the rest is random.
 */
function uuidFor(rand: () => number, mask: number, index: number): string {
  const tail = ((index ^ mask) >>> 0).toString(16).padStart(8, '0');
  return `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-${HEX[8 + Math.floor(rand() * 4)]}${hex(rand, 3)}-${hex(rand, 4)}${tail}`;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

function intBetween(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** `2024-06-03T03:40:41.743844Z` from microseconds since the epoch. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - ms * 1000;
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micro).padStart(3, '0')}Z`;
}

/** Warehouse names; rules of the benchmark filter on some of them. Non-ASCII on purpose. */
export const WAREHOUSE_NAMES: readonly string[] = [
  'Oakville DC',
  'Entrepôt Montréal',
  'Markham 3PL',
  'Lager München',
  '東京倉庫',
  'Vancouver Annex',
  'Almacén Málaga',
  'Calgary Overflow',
  'Warszawa Łódź Hub',
  'Halifax Port',
];

/** Brand names; "" and a missing brand object occur in the vendor's sample too. */
export const BRANDS: readonly string[] = ['Sony', 'Nintendo', 'Bosch', 'Müller', 'Ventmere', 'Hōkai', 'Acme', 'Zürich Audio', ''];

const PRODUCT_WORDS = ['Headphones', 'Wig', 'Grinder', 'Kettle', 'Tripod', 'Cable', 'Lamp', 'Speaker', 'Mat', 'Bottle'];
const PRODUCT_ADJECTIVES = ['Wireless', 'Café', 'Ø 60 mm', 'Noir', 'Größe L', '听雨', 'Pro', 'Mini', 'Blue', 'Grey'];
const COLOURS = ['BLUE', 'GREY', 'BLACK', 'RED', 'WHITE', 'LIGHT-GRAY'];
/** SKU families. One product in 50 is a `TEST-*` SKU, for a silence of the benchmark rules to cover. */
export const SKU_FAMILIES: readonly string[] = ['MX03', 'MX04', 'S600', 'HP20', 'KT11'];

const ORGANIZATION = {
  id: 'e8b021f4-9ab3-4fc2-af71-f35930759888',
  name: 'bench organization',
  createdAt: '2024-04-01T14:09:14.732646Z',
  updatedAt: '2024-04-09T21:15:15.615765Z',
};

function warehouseEntry(rand: () => number, id: string, index: number): string {
  const name = index < WAREHOUSE_NAMES.length ? WAREHOUSE_NAMES[index] : `${pick(rand, WAREHOUSE_NAMES)} ${index}`;
  return JSON.stringify({
    id,
    organization: ORGANIZATION,
    name,
    address: {
      name: 'GDI',
      company: index % 2 === 0 ? '' : 'Ventmere',
      address1: `${intBetween(rand, 1, 999)} ${name} Rd Unit ${intBetween(rand, 1, 20)}`,
      address2: '',
      city: name.split(' ')[0],
      state: 'ON',
      postalCode: 'L6L 2X8',
      countryId: 'CA',
      phone: '',
      email: '',
    },
    dropshipper: rand() < 0.5,
    fulfillmentCenter: true,
    rmaCenter: rand() < 0.5,
    unitSystem: 'METRIC',
    createdAt: '2024-04-01T14:18:10.903581Z',
    updatedAt: '2024-04-01T14:18:10.903581Z',
  });
}

function productEntry(rand: () => number, id: string, index: number, brandIds: readonly string[]): string {
  const family = index % 50 === 7 ? 'TEST' : SKU_FAMILIES[index % SKU_FAMILIES.length];
  const sku = `${family}-${String(index).padStart(6, '0')}-${pick(rand, COLOURS)}`;
  const brandIndex = Math.floor(rand() * (BRANDS.length + 1));
  const brand =
    brandIndex === BRANDS.length
      ? null
      : {
          id: brandIds[brandIndex],
          name: BRANDS[brandIndex],
          nameNormalized: BRANDS[brandIndex].toLowerCase(),
          createdAt: '2024-06-04T03:16:22.617577Z',
        };
  const dim = (): number => Math.round(rand() * 1_000_000) / 1000;
  return JSON.stringify({
    id,
    organization: ORGANIZATION,
    sku,
    brand,
    gtin: rand() < 0.5 ? '' : String(intBetween(rand, 100_000_000, 999_999_999)) + '8888',
    name: `${pick(rand, PRODUCT_ADJECTIVES)} ${pick(rand, PRODUCT_WORDS)} ${index}`,
    remarks: rand() < 0.8 ? '' : 'fragile — handle with care',
    imageMain: rand() < 0.5 ? '' : `${id}/2024-04-23/avatar/听雨__24_x_26.25__${hex(rand, 12)}.jpg`,
    packageLengthMm: dim(),
    packageWidthMm: dim(),
    packageHeightMm: dim(),
    shippingWeightKg: dim() / 10,
    caseUnit: rand() < 0.5 ? 'EACH' : 'CARTON',
    casePack: intBetween(rand, 0, 12),
    caseLengthMm: dim(),
    caseWidthMm: dim(),
    caseHeightMm: dim(),
    caseWeightKg: dim() / 100,
    condition: 'NEW',
    serialNumberRequired: rand() < 0.3,
    expiryDateRequired: rand() < 0.1,
    unknown: false,
    createdAt: '2024-03-05T22:20:44.106742Z',
    updatedAt: '2024-04-01T14:31:19.875675Z',
    otherIds: [],
  });
}

// ---- levels ----------------------------------------------------------------------------------

const HOUR_US = 3_600_000_000;
const DAY_US = 24 * HOUR_US;

/** Share of the products missing from `products` (deleted or not yet synced). */
export const UNKNOWN_PRODUCT_SHARE = 0.003;

function healthyLevel(rand: () => number): number {
  // 10..600, mildly skewed towards small stock.
  return 10 + Math.floor(590 * rand() ** 1.2);
}

function setLevel(o: BenchOverview, i: number, rand: () => number): void {
  const r = rand();
  let available: number;
  if (r < 0.005) available = 0;
  else if (r < 0.02) available = intBetween(rand, 1, 9);
  else available = healthyLevel(rand);
  o.available[i] = available;
  o.incoming[i] = rand() < 0.8 ? 0 : intBetween(rand, 1, 200);
  const q = rand();
  o.reserved[i] = q < 0.003 ? -intBetween(rand, 1, 20) : q < 0.6 ? 0 : intBetween(rand, 0, Math.min(available, 50));
  const nowUs = o.nowMs * 1000;
  // ~1.2% older than two days (stale), the rest counted within the last 36 hours.
  const age = rand() < 0.012 ? 49 * HOUR_US + rand() * 60 * DAY_US : rand() * 36 * HOUR_US;
  o.updatedAtUs[i] = Math.floor(nowUs - age);
}

export function generate(opts: GenerateOptions): BenchOverview {
  const { products, warehouses, seed, nowMs } = opts;
  if (!(Number.isSafeInteger(products) && products > 0 && Number.isSafeInteger(warehouses) && warehouses > 0)) {
    throw new RangeError(`generate: products and warehouses must be positive integers, got ${products} x ${warehouses}`);
  }
  const rand = prng(seed);
  const warehouseMask = Math.floor(rand() * 2 ** 32);
  const productMask = Math.floor(rand() * 2 ** 32);
  const brandIds = BRANDS.map((_, i) => uuidFor(rand, 0x5eed, i));

  const warehouseIds: string[] = [];
  const warehouseJson: string[] = [];
  for (let w = 0; w < warehouses; w++) {
    const id = uuidFor(rand, warehouseMask, w);
    warehouseIds.push(id);
    warehouseJson.push(warehouseEntry(rand, id, w));
  }
  const productIds: string[] = [];
  const productJson: Array<string | null> = [];
  for (let p = 0; p < products; p++) {
    const id = uuidFor(rand, productMask, p);
    productIds.push(id);
    productJson.push(rand() < UNKNOWN_PRODUCT_SHARE ? null : productEntry(rand, id, p, brandIds));
  }

  const n = products * warehouses;
  const o: BenchOverview = {
    products,
    warehouses,
    nowMs,
    warehouseIds,
    warehouseJson,
    productIds,
    productJson,
    available: new Int32Array(n),
    incoming: new Int32Array(n),
    reserved: new Int32Array(n),
    updatedAtUs: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) setLevel(o, i, rand);
  return o;
}

// ---- alert share -----------------------------------------------------------------------------

/**
 * The same catalogue with levels rewritten so that `share` (0..1) of the items fire at least one
 * rule of the benchmark set (rules.ts): those hold 0..9 units (low-available fires, and whichever
 * filtered low rules cover them), the others healthy levels that fire nothing (30..600 units,
 * nothing reserved below zero, counted within the last 36 hours). Items of unlisted products fire
 * unknown-product whatever their levels and count towards the share, so a share below theirs
 * (~0.3%) is not reached. As when a feed goes quiet or a catalogue sells out at once.
 */
export function withAlertShare(overview: BenchOverview, share: number, seed: number): BenchOverview {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`withAlertShare: share must be within 0..1, got ${share}`);
  const rand = prng(seed);
  const o = copyLevels(overview);
  const n = itemCount(o);
  const P = o.products;
  const unlisted = (i: number): boolean => o.productJson[i % P] === null;
  let always = 0;
  for (let i = 0; i < n; i++) if (unlisted(i)) always++;
  const firing = new Set(sample(n, Math.max(0, Math.round(n * share) - always), rand, (i) => !unlisted(i)));
  const nowUs = o.nowMs * 1000;
  for (let i = 0; i < n; i++) {
    const available = firing.has(i) ? intBetween(rand, 0, 9) : intBetween(rand, 30, 600);
    o.available[i] = available;
    o.incoming[i] = rand() < 0.8 ? 0 : intBetween(rand, 1, 200);
    o.reserved[i] = rand() < 0.6 ? 0 : intBetween(rand, 0, Math.min(available, 50));
    o.updatedAtUs[i] = Math.floor(nowUs - rand() * 36 * HOUR_US);
  }
  return o;
}

// ---- changes ---------------------------------------------------------------------------------

function copyLevels(o: BenchOverview): BenchOverview {
  return {
    ...o,
    available: o.available.slice(),
    incoming: o.incoming.slice(),
    reserved: o.reserved.slice(),
    updatedAtUs: o.updatedAtUs.slice(),
  };
}

/**
 * Exactly `count` distinct indexes of 0..n-1 for which `eligible` holds (fewer when fewer are
 * eligible), in increasing order. Selection sampling: one pass, no index array.
 */
function sample(n: number, count: number, rand: () => number, eligible: (i: number) => boolean = () => true): number[] {
  let candidates = 0;
  for (let i = 0; i < n; i++) if (eligible(i)) candidates++;
  let needed = Math.min(count, candidates);
  const chosen: number[] = [];
  for (let i = 0; i < n && needed > 0; i++) {
    if (!eligible(i)) continue;
    if (rand() * candidates < needed) {
      chosen.push(i);
      needed--;
    }
    candidates--;
  }
  return chosen;
}

export interface Mutation {
  overview: BenchOverview;
  /** Item indexes whose level changed (every one of them did). */
  changed: number[];
}

/**
 * A later poll's overview: `fraction` of the items (rounded) have a new level, as sales and
 * restocks leave them: available moves, sometimes across a threshold, and updatedAt becomes
 * recent. `nowMs` is the new poll's moment (default: the overview's own).
 */
export function mutate(overview: BenchOverview, fraction: number, seed: number, nowMs: number = overview.nowMs): Mutation {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`mutate: fraction must be within 0..1, got ${fraction}`);
  const rand = prng(seed);
  const o = { ...copyLevels(overview), nowMs };
  const n = itemCount(o);
  const changed = sample(n, Math.round(n * fraction), rand);
  const nowUs = nowMs * 1000;
  for (const i of changed) {
    const before = o.available[i];
    const r = rand();
    if (r < 0.7) o.available[i] = Math.max(0, before - intBetween(rand, 1, 30)); // sales
    else if (r < 0.95) o.available[i] = before + intBetween(rand, 20, 300); // a restock arrived
    else o.available[i] = intBetween(rand, 0, 9); // a recount found less
    if (rand() < 0.1) o.incoming[i] = rand() < 0.5 ? 0 : intBetween(rand, 1, 200);
    if (rand() < 0.02) o.reserved[i] = -intBetween(rand, 1, 20);
    else if (o.reserved[i] < 0 && rand() < 0.5) o.reserved[i] = 0;
    // A changed level is always recounted just now, so its encoded snapshot always differs.
    const updated = Math.floor(nowUs - rand() * 60_000_000);
    o.updatedAtUs[i] = updated === o.updatedAtUs[i] ? updated - 1 : updated;
  }
  return { overview: o, changed };
}

/**
 * A mass event: `count` items that were healthy (available >= 10 with nothing reserved below
 * zero, of a listed product) drop to nothing at once, as when a warehouse's stock is zeroed by a
 * bad sync. Each fires every low_available rule that covers it.
 */
export function massEvent(overview: BenchOverview, count: number, seed: number, nowMs: number = overview.nowMs): Mutation {
  const rand = prng(seed);
  const o = { ...copyLevels(overview), nowMs };
  const P = o.products;
  const healthy = (i: number): boolean => o.available[i] >= 10 && o.reserved[i] >= 0 && o.productJson[i % P] !== null;
  const changed = sample(itemCount(o), count, rand, healthy);
  const nowUs = nowMs * 1000;
  for (const i of changed) {
    o.available[i] = 0;
    o.incoming[i] = 0;
    o.reserved[i] = 0;
    o.updatedAtUs[i] = Math.floor(nowUs - rand() * 60_000_000);
  }
  return { overview: o, changed };
}

// ---- JSON ------------------------------------------------------------------------------------

/** Characters gathered before a chunk is handed to the writer. */
const CHUNK_CHARS = 1 << 20;

/**
 * Writes the overview's JSON in chunks of about 1 MiB of text: `{"warehouses":[…],"products":[…],"items":[…]}`,
 * compact, as an API sends it.
 */
export function writeOverview(o: BenchOverview, write: (chunk: string) => void): void {
  let buf = '{"warehouses":[' + o.warehouseJson.join(',') + '],"products":[';
  const flush = (): void => {
    if (buf.length >= CHUNK_CHARS) {
      write(buf);
      buf = '';
    }
  };
  let first = true;
  for (const entry of o.productJson) {
    if (entry === null) continue;
    buf += first ? entry : ',' + entry;
    first = false;
    flush();
  }
  buf += '],"items":[';
  const P = o.products;
  let i = 0;
  for (let w = 0; w < o.warehouses; w++) {
    const head = `{"warehouseId":"${o.warehouseIds[w]}","level":{"productId":"`;
    for (let p = 0; p < P; p++, i++) {
      buf +=
        (i === 0 ? '' : ',') +
        head +
        o.productIds[p] +
        '","available":' +
        o.available[i] +
        ',"incoming":' +
        o.incoming[i] +
        ',"reserved":' +
        o.reserved[i] +
        ',"updatedAt":"' +
        isoMicros(o.updatedAtUs[i]) +
        '"}}';
      flush();
    }
  }
  buf += ']}';
  write(buf);
}

/** The whole JSON text (for tests and small sizes). */
export function overviewJson(o: BenchOverview): string {
  const parts: string[] = [];
  writeOverview(o, (chunk) => parts.push(chunk));
  return parts.join('');
}

/** The JSON as UTF-8 buffers of about 1 MiB each: the big sizes never exist as one string. */
export function overviewBuffers(o: BenchOverview): { chunks: Buffer[]; bytes: number } {
  const chunks: Buffer[] = [];
  let bytes = 0;
  writeOverview(o, (chunk) => {
    const b = Buffer.from(chunk, 'utf8');
    chunks.push(b);
    bytes += b.length;
  });
  return { chunks, bytes };
}
