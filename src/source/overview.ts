// Parses and validates an S2 `GET /inventory/overview` body into the shared `Overview` model.
//
// This runs on every poll over ~200,000 items, right after JSON.parse of a ~56 MB body, so the
// item loop does only cheap work: typeof / Number.isSafeInteger checks, Map lookups for the
// joins and a timestamp cache. Strings are built only for malformed input.
//
// Policy for messy data (SPEC §1):
// - The body must be an object with `warehouses`, `products` and `items` arrays, or the whole
//   overview is rejected (OverviewError) and the poll fails.
// - One bad item never fails the poll: it goes to `malformed` (its alerts are held) and is left
//   out of `items`. Unknown extra fields are ignored everywhere.
// - A bad warehouse or product entry is left out of the joins and listed in `malformedEntries`;
//   items that refer to it are malformed too, so they are held rather than misreported as
//   unknown_product.
// - The first entry or item for an id (or warehouseId + productId) claims it; later duplicates
//   are reported and left out.

import { UserError, visibleControls } from '../errors';
import type { Item, MalformedItem, Overview } from '../model';
import { DAYS_IN_MONTH, parseUtcTimestamp } from '../timestamp';

/** The body is not an S2 overview at all; the message names the path, e.g. `items: expected an array, got null`. */
export class OverviewError extends UserError {
  override name = 'OverviewError';
}

/** An `Overview` plus what the source noticed outside the items. Assignable to `Overview`. */
export interface SourceOverview extends Overview {
  /**
   * Warehouse and product entries that were left out of the joins, one message each naming the
   * path, e.g. `products[2].sku: expected a string or null, got 5`.
   */
  malformedEntries: string[];
}

const DESCRIBE_MAX = 40;

/** A short description of a JSON value for error messages: `"7"`, `null`, `12.5`, `an object`, `an array`. */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string': {
      if (v.length <= DESCRIBE_MAX) return JSON.stringify(v);
      let head = v.slice(0, DESCRIBE_MAX);
      // Do not cut a surrogate pair in half.
      const last = head.charCodeAt(head.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
      return `${JSON.stringify(head).slice(0, -1)}…"`;
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return 'nothing';
    case 'object':
      if (v === null) return 'null';
      return Array.isArray(v) ? 'an array' : 'an object';
    default:
      return `a ${typeof v}`;
  }
}

function expected(path: string, what: string, got: unknown): string {
  return got === undefined ? `${path}: missing, expected ${what}` : `${path}: expected ${what}, got ${describeValue(got)}`;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

declare global {
  interface String {
    /** ES2024 (Node 20): false when the text holds a lone surrogate, which UTF-8 (Redis, JSON out) cannot carry. */
    isWellFormed(): boolean;
  }
}

/** Why `v` cannot be an id: not a non-empty string, or text with a lone surrogate (stored as UTF-8 it would become another id). */
function badId(path: string, v: unknown): string {
  if (isId(v)) return `${path}: expected text without lone surrogates (it cannot be stored as UTF-8), got ${describeValue(v)}`;
  return expected(path, 'a non-empty string', v);
}

/**
 * What toOverview built from the previous body, for OverviewReader: a body whose `warehouses` and
 * `products` are the very same values (the reader reuses a value whose bytes did not change) has
 * the same joins, so an element of `items` that is the same value at the same index makes the
 * same Item, which is taken as it is instead of being validated and built again. Whatever is
 * decided across items (duplicates, counts) is still decided over every item of the body.
 * Sound only while nobody mutates the parsed values or the Items (nothing does: the engine reads them).
 */
export class OverviewMemory {
  last: BuiltOverview | null = null;

  forget(): void {
    this.last = null;
  }
}

interface BuiltOverview extends BuiltItems {
  /** The body's arrays, compared by identity with the next body's. */
  rawWarehouses: unknown[];
  rawProducts: unknown[];
  rawItems: unknown[];
  warehouses: Entries<WarehouseInfo>;
  products: Entries<ProductInfo>;
  entryProblems: readonly string[];
}

/**
 * Validates a parsed JSON value. Throws OverviewError only when the body is not an overview at all.
 * With `memory` (OverviewReader's), the Items of elements reused from the previous body are
 * taken from it; the result is the same as without.
 */
export function toOverview(body: unknown, memory?: OverviewMemory): SourceOverview {
  if (!isObject(body)) {
    throw new OverviewError(`expected an object with warehouses, products and items, got ${describeValue(body)}`);
  }
  const rawWarehouses = body.warehouses;
  const rawProducts = body.products;
  const rawItems = body.items;
  for (const [name, value] of [['warehouses', rawWarehouses], ['products', rawProducts], ['items', rawItems]] as const) {
    if (!Array.isArray(value)) throw new OverviewError(expected(name, 'an array', value));
  }
  const last = memory?.last ?? null;
  const sameEntries = last !== null && last.rawWarehouses === rawWarehouses && last.rawProducts === rawProducts;
  let warehouses: Entries<WarehouseInfo>;
  let products: Entries<ProductInfo>;
  let malformedEntries: string[];
  if (sameEntries) {
    ({ warehouses, products } = last);
    malformedEntries = last.entryProblems.slice();
  } else {
    malformedEntries = [];
    warehouses = readWarehouses(rawWarehouses as unknown[], malformedEntries);
    products = readProducts(rawProducts as unknown[], malformedEntries);
  }
  const { items, malformed, built, cells } = readItems(rawItems as unknown[], warehouses, products, sameEntries ? last : null);
  if (memory !== undefined) {
    memory.last = {
      rawWarehouses: rawWarehouses as unknown[],
      rawProducts: rawProducts as unknown[],
      rawItems: rawItems as unknown[],
      warehouses,
      products,
      entryProblems: malformedEntries.slice(),
      built,
      cells,
    };
  }
  return {
    items,
    malformed,
    warehouseCount: warehouses.good.size,
    productCount: products.good.size,
    malformedEntries,
  };
}

/** JSON.parse + toOverview; a body that is not JSON -> OverviewError `not JSON: <short reason>`. */
export function parseOverview(text: string): SourceOverview {
  let body: unknown;
  try {
    body = JSON.parse(stripBom(text));
  } catch (err) {
    throw new OverviewError(`not JSON: ${jsonErrorReason(err)}`);
  }
  return toOverview(body);
}

/** A UTF-8 byte order mark is legal before JSON in the wild but JSON.parse refuses it. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const REASON_MAX = 120;

/** JSON.parse's message, on one line and short (V8 quotes a piece of the input in it). */
export function jsonErrorReason(err: unknown): string {
  const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  const text = visibleControls(message.replace(/\s+/g, ' ').trim());
  return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Warehouses and products

interface Entries<T> {
  /** id -> the entry's joined fields. */
  good: Map<string, T>;
  /** id -> why its entry was left out; items that refer to it are malformed. */
  bad: Map<string, string>;
  /**
   * Why the first entry whose id cannot be read was left out, or null. Any item that no good
   * entry claims may be its, so such items are malformed too rather than taken as unknown.
   */
  unidentified: string | null;
}

interface WarehouseInfo {
  /** Position among the good warehouses, for the duplicate check. */
  index: number;
  /** The entry's id: one string that every item of the warehouse shares (see toItems). */
  id: string;
  name: string | null;
}

interface ProductInfo {
  /** Position among the good products, for the duplicate check. */
  index: number;
  /** The entry's id: one string that every item of the product shares (see toItems). */
  id: string;
  sku: string | null;
  name: string | null;
  brand: string | null;
}

function entryId(kind: string, raw: unknown, index: number, entries: Entries<unknown>, problems: string[]): string | null {
  const id = isObject(raw) ? raw.id : undefined;
  if (!isObject(raw) || !isId(id) || !id.isWellFormed()) {
    const problem = isObject(raw) ? badId(`${kind}[${index}].id`, id) : expected(`${kind}[${index}]`, 'an object', raw);
    problems.push(problem);
    entries.unidentified ??= problem;
    return null;
  }
  if (entries.good.has(id) || entries.bad.has(id)) {
    problems.push(`${kind}[${index}]: duplicate id ${describeValue(id)}, the first entry is used`);
    return null;
  }
  return id;
}

function isOptionalString(v: unknown): v is string | null | undefined {
  return v === undefined || v === null || typeof v === 'string';
}

function readWarehouses(raw: unknown[], problems: string[]): Entries<WarehouseInfo> {
  const entries: Entries<WarehouseInfo> = { good: new Map(), bad: new Map(), unidentified: null };
  for (let i = 0; i < raw.length; i++) {
    const id = entryId('warehouses', raw[i], i, entries, problems);
    if (id === null) continue;
    const name = (raw[i] as JsonObject).name;
    if (isOptionalString(name)) {
      entries.good.set(id, { index: entries.good.size, id, name: name ?? null });
    } else {
      const message = expected(`warehouses[${i}].name`, 'a string or null', name);
      problems.push(message);
      entries.bad.set(id, message);
    }
  }
  return entries;
}

function readProducts(raw: unknown[], problems: string[]): Entries<ProductInfo> {
  const entries: Entries<ProductInfo> = { good: new Map(), bad: new Map(), unidentified: null };
  for (let i = 0; i < raw.length; i++) {
    const id = entryId('products', raw[i], i, entries, problems);
    if (id === null) continue;
    const { sku, name, brand } = raw[i] as JsonObject;
    let message: string | null = null;
    let brandName: string | null = null;
    if (!isOptionalString(sku)) {
      message = expected(`products[${i}].sku`, 'a string or null', sku);
    } else if (!isOptionalString(name)) {
      message = expected(`products[${i}].name`, 'a string or null', name);
    } else if (brand !== undefined && brand !== null) {
      if (!isObject(brand)) {
        message = expected(`products[${i}].brand`, 'an object or null', brand);
      } else if (isOptionalString(brand.name)) {
        // A brand without a name counts as no brand; an empty name stays "" (the sample has
        // them), so a `brand: "*"` glob matches it while any `brand` filter skips null.
        brandName = brand.name ?? null;
      } else {
        message = expected(`products[${i}].brand.name`, 'a string or null', brand.name);
      }
    }
    if (message === null) {
      entries.good.set(id, { index: entries.good.size, id, sku: (sku as string | null | undefined) ?? null, name: (name as string | null | undefined) ?? null, brand: brandName });
    } else {
      problems.push(message);
      entries.bad.set(id, message);
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Items

/** Largest warehouses x products grid kept as an Int32Array (16 MiB); past it every item uses maps. */
const MAX_GRID_CELLS = 2 ** 22;

/**
 * Where each item identity (warehouseId + productId) was first seen. Items of a known warehouse
 * and a known product, nearly all of them, take one cell of a warehouses x products grid; the
 * others use nested maps. No key strings are built on the hot path.
 */
class SeenItems {
  /** index + 1 of the first item of each cell; 0 = not seen. */
  private readonly grid: Int32Array | null;
  private readonly others = new Map<string, Map<string, number>>();

  constructor(
    private readonly warehouseCount: number,
    productCount: number,
  ) {
    const cells = warehouseCount * productCount;
    this.grid = cells > 0 && cells <= MAX_GRID_CELLS ? new Int32Array(cells) : null;
  }

  /**
   * The grid cell of an identity, or -1 when it goes to the maps. The same ids always resolve to
   * the same entries, so an identity always takes the same path.
   */
  cellOf(warehouse: WarehouseInfo | undefined, product: ProductInfo | undefined): number {
    return this.grid !== null && warehouse !== undefined && product !== undefined ? product.index * this.warehouseCount + warehouse.index : -1;
  }

  /** -1 the first time an identity (its cellOf, and its ids) is claimed (by item `index`); else the index of its first item. */
  claim(index: number, cell: number, warehouseId: string, productId: string): number {
    if (cell >= 0) {
      const grid = this.grid as Int32Array;
      const first = grid[cell];
      if (first !== 0) return first - 1;
      grid[cell] = index + 1;
      return -1;
    }
    let products = this.others.get(warehouseId);
    if (products === undefined) {
      products = new Map();
      this.others.set(warehouseId, products);
    }
    const first = products.get(productId);
    if (first !== undefined) return first;
    products.set(productId, index);
    return -1;
  }
}

/** What readItems built, by index of the raw items, for the next body's readItems. */
interface BuiltItems {
  /** The Item built from each element; undefined where it was malformed. */
  built: Array<Item | undefined>;
  /** The SeenItems cell of each built Item's identity. */
  cells: Int32Array;
}

/**
 * `previous`: the previous body's items and what was built from them, made with the same
 * warehouse and product entries; an element that is the same value at the same index gives the
 * same Item (only the claim of its identity depends on the other items, and it is made).
 */
function readItems(
  raw: unknown[],
  warehouses: Entries<WarehouseInfo>,
  products: Entries<ProductInfo>,
  previous: ({ rawItems: unknown[] } & BuiltItems) | null,
): { items: Item[]; malformed: MalformedItem[] } & BuiltItems {
  const items: Item[] = [];
  const malformed: MalformedItem[] = [];
  const built = new Array<Item | undefined>(raw.length).fill(undefined);
  const cells = new Int32Array(raw.length);
  const previousRaw = previous?.rawItems ?? [];
  const previousBuilt = previous?.built ?? [];
  const previousCells = previous?.cells ?? cells;
  const seen = new SeenItems(warehouses.good.size, products.good.size);
  // Neighbouring items often share a timestamp: it is parsed once. (A cache of every distinct
  // one cost more than it saved: real timestamps are mostly distinct.) NaN marks a bad one.
  let lastTime = '';
  let lastTimeMs = NaN;
  const checkEntries = warehouses.bad.size > 0 || products.bad.size > 0 || warehouses.unidentified !== null || products.unidentified !== null;

  for (let i = 0; i < raw.length; i++) {
    const item = raw[i];
    const same = item === previousRaw[i] ? previousBuilt[i] : undefined;
    if (same !== undefined) {
      const cell = previousCells[i];
      const first = seen.claim(i, cell, same.warehouseId, same.productId);
      if (first >= 0) {
        malformed.push(duplicate(i, first));
        continue;
      }
      items.push(same);
      built[i] = same;
      cells[i] = cell;
      continue;
    }
    if (!isObject(item)) {
      malformed.push({ index: i, message: expected(`items[${i}]`, 'an object', item) });
      continue;
    }
    const warehouseId = item.warehouseId;
    const level = item.level;
    const productId = isObject(level) ? level.productId : undefined;
    if (!isId(warehouseId)) {
      malformed.push(identified(i, warehouseId, productId, expected(`items[${i}].warehouseId`, 'a non-empty string', warehouseId)));
      continue;
    }
    if (!isObject(level)) {
      malformed.push(identified(i, warehouseId, productId, expected(`items[${i}].level`, 'an object', level)));
      continue;
    }
    if (!isId(productId)) {
      malformed.push(identified(i, warehouseId, productId, expected(`items[${i}].level.productId`, 'a non-empty string', productId)));
      continue;
    }

    // The first item of an identity claims it, valid or not, so that one identity is either
    // evaluated once or held, never both. A duplicate carries no ids for the same reason.
    const warehouse = warehouses.good.get(warehouseId);
    const product = products.good.get(productId);
    // An entry's id was checked once; only an id no entry has is checked here, off the hot path.
    // Such an item is held by its ids (in memory they are exact): only that item, not the poll.
    if (warehouse === undefined && !warehouseId.isWellFormed()) {
      malformed.push(identified(i, warehouseId, productId, badId(`items[${i}].warehouseId`, warehouseId)));
      continue;
    }
    if (product === undefined && !productId.isWellFormed()) {
      malformed.push(identified(i, warehouseId, productId, badId(`items[${i}].level.productId`, productId)));
      continue;
    }
    const cell = seen.cellOf(warehouse, product);
    const first = seen.claim(i, cell, warehouseId, productId);
    if (first >= 0) {
      malformed.push(duplicate(i, first));
      continue;
    }

    // Any integer is accepted, negative ones included: real levels go negative (over-picks,
    // corrections) and rules such as negative_reserved need to see them.
    const available = level.available;
    const incoming = level.incoming;
    const reserved = level.reserved;
    const updatedAt = level.updatedAt;
    let problem: string | null = null;
    if (!Number.isSafeInteger(available)) problem = badInteger(`items[${i}].level.available`, available);
    else if (!Number.isSafeInteger(incoming)) problem = badInteger(`items[${i}].level.incoming`, incoming);
    else if (!Number.isSafeInteger(reserved)) problem = badInteger(`items[${i}].level.reserved`, reserved);
    let updatedAtMs = NaN;
    if (problem === null) {
      if (typeof updatedAt === 'string') {
        if (updatedAt === lastTime) {
          updatedAtMs = lastTimeMs;
        } else {
          updatedAtMs = parseTimestamp(updatedAt);
          lastTime = updatedAt;
          lastTimeMs = updatedAtMs;
        }
      }
      if (updatedAtMs !== updatedAtMs) problem = expected(`items[${i}].level.updatedAt`, 'an ISO 8601 timestamp', updatedAt);
    }
    if (problem === null && checkEntries) {
      const badWarehouse = warehouses.bad.get(warehouseId);
      const badProduct = products.bad.get(productId);
      if (badWarehouse !== undefined) problem = `items[${i}].warehouseId: its warehouse entry is malformed (${badWarehouse})`;
      else if (badProduct !== undefined) problem = `items[${i}].level.productId: its product entry is malformed (${badProduct})`;
      else if (warehouse === undefined && warehouses.unidentified !== null) {
        problem = `items[${i}].warehouseId: not among the warehouses, and ${warehouses.unidentified}: that entry may be this item's`;
      } else if (product === undefined && products.unidentified !== null) {
        problem = `items[${i}].level.productId: not among the products, and ${products.unidentified}: that entry may be this item's`;
      }
    }
    if (problem !== null) {
      malformed.push({ index: i, warehouseId, productId, message: problem });
      continue;
    }

    // One object literal shape for every item keeps the engine's property access monomorphic.
    // Ids are the entries' strings, not the item's equal copies: each alert holds its item's, and
    // JSON.parse gave every item its own (380k UUID strings at 200k items 95 % firing, 20k now).
    const made: Item = {
      warehouseId: warehouse === undefined ? warehouseId : warehouse.id,
      productId: product === undefined ? productId : product.id,
      warehouse: warehouse === undefined ? null : warehouse.name,
      sku: product === undefined ? null : product.sku,
      product: product === undefined ? null : product.name,
      brand: product === undefined ? null : product.brand,
      knownProduct: product !== undefined,
      knownWarehouse: warehouse !== undefined,
      available: available as number,
      incoming: incoming as number,
      reserved: reserved as number,
      updatedAt: updatedAt as string,
      updatedAtMs,
      productSlot: product === undefined ? -1 : product.index,
    };
    items.push(made);
    built[i] = made;
    cells[i] = cell;
  }
  return { items, malformed, built, cells };
}

function duplicate(index: number, first: number): MalformedItem {
  return { index, message: `items[${index}]: duplicate of items[${first}] (same warehouseId and productId), left out` };
}

function identified(index: number, warehouseId: unknown, productId: unknown, message: string): MalformedItem {
  const m: MalformedItem = { index, message };
  if (isId(warehouseId)) m.warehouseId = warehouseId;
  if (isId(productId)) m.productId = productId;
  return m;
}

function badInteger(path: string, v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v)) return `${path}: expected an integer within ±2^53, got ${describeValue(v)}`;
  return expected(path, 'an integer', v);
}

// ---------------------------------------------------------------------------------------------
// Timestamps

// `YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|±HH[:MM]]`. Date.parse is not used: it accepts non-ISO
// text and rolls over impossible dates (Feb 30 -> Mar 1), and reads a zoneless time as local.
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;


/**
 * Milliseconds since the epoch of an ISO 8601 timestamp, or NaN. A timestamp without an offset
 * is taken as UTC (that is what the S2 API means; the sample always writes `Z`).
 * Fractions beyond milliseconds (the API sends microseconds) are truncated.
 */
export function parseTimestamp(text: string): number {
  const fast = parseUtcTimestamp(text);
  if (fast === fast) return fast; // not NaN
  const m = ISO_TIMESTAMP.exec(text);
  if (m === null) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return NaN;
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return NaN;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year);
  return date.getTime() - offsetMinutes * 60_000;
}
