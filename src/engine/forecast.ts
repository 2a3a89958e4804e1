// The selling-rate estimator behind `runs_out` (SPEC 3.2). Pure: the history of the previous poll +
// this overview + now -> the history after this poll. The S2 overview carries no sales, so the
// rate is learned from the polls themselves: a fall of `available` between two polls is sold over
// the time between them, a rise is a receipt (no sales), an interval that starts at 0 or below is
// left out (nothing can sell), and the rate is an exponentially weighted average with half-life H.
//
// Per series (an item, or a product summed over warehouses) four numbers are kept:
//   rate    units per day (the weighted average)
//   weight  observed days, each weighted by 2^(-age/H): sum of w_i*dt_i. The rate is
//           sum(w_i*sold_i) / weight, so one number of state carries both sums. The clock of the
//           decay is observed time only (time at zero neither counts nor ages the rate), which makes
//           weight a monotone function of observed time: min_history is a threshold on it.
//   last    `available` at the last observation
//   age     minutes from the last observation to the table's time (0 for an item of this poll)
// The in-memory form IS the stored form (typed arrays, float32), so the daemon, which round-trips
// it through Redis, and `replay`, which keeps it in memory, learn bit for bit alike.
import type { Item, Scope } from '../model';
import { sumByProduct, type ProductSum } from './network';

export const DAY_MS = 86_400_000;
export const DEFAULT_RATE_HALF_LIFE_MS = 7 * DAY_MS;
export const DEFAULT_MIN_HISTORY_MS = 3 * DAY_MS;
/** A series not seen for longer than this (~45 days, what a uint16 of minutes holds) is forgotten. */
export const MAX_AGE_MINUTES = 0xffff;

/** One track's series, struct of arrays: exactly what history.ts writes to Redis. */
export interface SeriesTable {
  /** The poll this table was last advanced at. */
  atMs: number;
  size: number;
  /** 64-bit hash of the series' identity (itemKey, or the productId for a network track). */
  hashLo: Uint32Array;
  hashHi: Uint32Array;
  rate: Float32Array;
  weight: Float32Array;
  last: Int32Array;
  age: Uint16Array;
}

/** Series tables by track id (see trackId()). */
export type History = ReadonlyMap<string, SeriesTable>;

export const EMPTY_HISTORY: History = new Map();

/**
 * What one table learns from: the runs_out rules that share a scope, a half-life and (network) a
 * warehouse selection share their series. `selects` tells which items it follows (the union of its
 * rules' `where`); null: every item.
 */
export interface Track {
  id: string;
  scope: Scope;
  halfLifeMs: number;
  selects: ((item: Item) => boolean) | null;
}

/** Items: `item/<half-life ms>`; network: `network/<half-life ms>/<where.warehouse as JSON>`. */
export function trackId(scope: Scope, halfLifeMs: number, warehouses: readonly string[] | undefined): string {
  return scope === 'item' ? `item/${halfLifeMs}` : `network/${halfLifeMs}/${JSON.stringify(warehouses ?? null)}`;
}

/** What the evaluation of runs_out rules reads: each track's table after this poll and where its series sit. */
export interface TrackView {
  track: Track;
  table: SeriesTable;
  /** scope item: per overview item, its record in `table`, or -1 (not followed, or a duplicate). */
  slots?: Int32Array;
  /** scope network: the products followed, their sums, and their records in `table` (-1: not observed now). */
  products?: ProductSum[];
  productSlots?: Int32Array;
}

export interface Forecast {
  views: ReadonlyMap<string, TrackView>;
}

export interface LearnInput {
  history: History;
  items: readonly Item[];
  tracks: readonly Track[];
  nowMs: number;
  /** Products with an item the overview could not read: their network sums are not trusted now. */
  heldProducts?: ReadonlySet<string>;
  /** false (a suspect overview, an unidentifiable item): network sums learn nothing this poll. */
  networkTrusted: boolean;
}

export interface Learned {
  history: History;
  forecast: Forecast;
}

/** Advances every track by one poll. Tracks no rule uses any more are dropped. */
export function learn(input: LearnInput): Learned {
  const history = new Map<string, SeriesTable>();
  const views = new Map<string, TrackView>();
  for (const track of input.tracks) {
    const before = input.history.get(track.id);
    const view =
      track.scope === 'item'
        ? learnItems(track, before, input.items, input.nowMs)
        : learnProducts(track, before, input.items, input.nowMs, input.networkTrusted ? (input.heldProducts ?? null) : 'all');
    history.set(track.id, view.table);
    views.set(track.id, view);
  }
  return { history, forecast: { views } };
}

// ---- the estimator ---------------------------------------------------------------------------

/**
 * The weight that `observedMs` of uninterrupted observation reaches (the integral of the decay):
 * min_history is met once a series' weight is at least this. The weight is a left Riemann sum of
 * the same decreasing function, so it reaches this no later than the observed time does.
 */
export function weightAfter(observedMs: number, halfLifeMs: number): number {
  const h = halfLifeMs / DAY_MS;
  return (h / Math.LN2) * (1 - Math.pow(2, -observedMs / halfLifeMs));
}

/** Float32 storage may round a weight a hair below the threshold it reached. */
export const WEIGHT_TOLERANCE = 1 - 1e-6;

/** Reusable output of observe(): no allocation per item. */
const out = { rate: 0, weight: 0 };
/** The decay of the last interval: at most polls every series has the same one. */
let decayFor = { dtDays: NaN, halfLifeDays: NaN, decay: 1 };

/** One interval of `dtDays` from `last` to `available`: the new rate and weight (into `out`). */
function observe(rate: number, weight: number, last: number, available: number, dtDays: number, halfLifeDays: number): void {
  if (!(dtDays > 0) || last <= 0) {
    // No time passed, or the interval started out of stock: left out.
    out.rate = rate;
    out.weight = weight;
    return;
  }
  const sold = last > available ? last - available : 0;
  if (decayFor.dtDays !== dtDays || decayFor.halfLifeDays !== halfLifeDays) decayFor = { dtDays, halfLifeDays, decay: Math.pow(2, -dtDays / halfLifeDays) };
  const decay = decayFor.decay;
  const w = weight * decay + dtDays;
  out.rate = (rate * weight * decay + sold) / w;
  out.weight = w;
}

function newTable(atMs: number, capacity: number): SeriesTable {
  return {
    atMs,
    size: 0,
    hashLo: new Uint32Array(capacity),
    hashHi: new Uint32Array(capacity),
    rate: new Float32Array(capacity),
    weight: new Float32Array(capacity),
    last: new Int32Array(capacity),
    age: new Uint16Array(capacity),
  };
}

/** Trims the arrays to `size` (views, no copy). */
function trimmed(t: SeriesTable): SeriesTable {
  const n = t.size;
  return {
    atMs: t.atMs,
    size: n,
    hashLo: t.hashLo.subarray(0, n),
    hashHi: t.hashHi.subarray(0, n),
    rate: t.rate.subarray(0, n),
    weight: t.weight.subarray(0, n),
    last: t.last.subarray(0, n),
    age: t.age.subarray(0, n),
  };
}

/** available as an int32 (levels are integers; sums are clamped rather than wrapped). */
const toInt32 = (n: number): number => (n > 2147483647 ? 2147483647 : n < -2147483648 ? -2147483648 : Math.round(n));

/**
 * Finds a series' previous record by hash. Series usually come in the same order at every poll,
 * so the next record in sequence is tried first; a Map is built only when that guess fails.
 */
class Finder {
  private next = 0;
  private index: Map<number, number> | null = null;
  readonly used: Uint8Array;

  constructor(private readonly table: SeriesTable | undefined) {
    this.used = new Uint8Array(table?.size ?? 0);
  }

  find(lo: number, hi: number): number {
    const t = this.table;
    if (t === undefined) return -1;
    const guess = this.next;
    if (guess < t.size && t.hashLo[guess] === lo && t.hashHi[guess] === hi) {
      this.next = guess + 1;
      return guess;
    }
    if (this.index === null) {
      this.index = new Map();
      for (let j = 0; j < t.size; j++) {
        const key = mapKey(t.hashLo[j], t.hashHi[j]);
        if (!this.index.has(key)) this.index.set(key, j);
      }
    }
    const j = this.index.get(mapKey(lo, hi));
    if (j === undefined || t.hashHi[j] !== hi || t.hashLo[j] !== lo) return -1;
    this.next = j + 1;
    return j;
  }
}

/** 53 bits of a 64-bit hash, as a Map key (find() compares all 64). */
const mapKey = (lo: number, hi: number): number => (hi & 0x1fffff) * 4294967296 + lo;

/**
 * Writes series `k` of `t` from its previous record `j` of `before` (or a first observation when
 * j < 0) and the value seen now.
 */
function advance(t: SeriesTable, k: number, lo: number, hi: number, before: SeriesTable | undefined, j: number, available: number, nowMs: number, halfLifeDays: number): void {
  t.hashLo[k] = lo;
  t.hashHi[k] = hi;
  t.last[k] = toInt32(available);
  t.age[k] = 0;
  if (before === undefined || j < 0) {
    t.rate[k] = 0;
    t.weight[k] = 0;
    return;
  }
  const seenMs = before.atMs - before.age[j] * 60_000;
  observe(before.rate[j], before.weight[j], before.last[j], available, (nowMs - seenMs) / DAY_MS, halfLifeDays);
  t.rate[k] = out.rate;
  t.weight[k] = out.weight;
}

/** Keeps the records no series of this poll used (vanished items), aged; forgets the too old. */
function carryUnused(t: SeriesTable, before: SeriesTable | undefined, used: Uint8Array, nowMs: number): void {
  if (before === undefined) return;
  const elapsed = Math.max(0, Math.round((nowMs - before.atMs) / 60_000));
  for (let j = 0; j < before.size; j++) {
    if (used[j] === 1) continue;
    const age = before.age[j] + elapsed;
    if (age > MAX_AGE_MINUTES) continue;
    const k = t.size++;
    t.hashLo[k] = before.hashLo[j];
    t.hashHi[k] = before.hashHi[j];
    t.rate[k] = before.rate[j];
    t.weight[k] = before.weight[j];
    t.last[k] = before.last[j];
    t.age[k] = age;
  }
}

function learnItems(track: Track, before: SeriesTable | undefined, items: readonly Item[], nowMs: number): TrackView {
  const n = items.length;
  const t = newTable(nowMs, n + (before?.size ?? 0));
  const slots = new Int32Array(n).fill(-1);
  const finder = new Finder(before);
  const selects = track.selects;
  const halfLifeDays = track.halfLifeMs / DAY_MS;
  // The warehouse part of the hash is the same for a run of items (the API groups them by warehouse).
  let lastWarehouse: string | null = null;
  let seedLo = 0;
  let seedHi = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (selects !== null && !selects(item)) continue;
    if (item.warehouseId !== lastWarehouse) {
      lastWarehouse = item.warehouseId;
      hashInto(item.warehouseId, SEED_LO, SEED_HI, true);
      seedLo = hashed.lo;
      seedHi = hashed.hi;
    }
    hashInto(item.productId, seedLo, seedHi, false);
    const lo = hashed.lo;
    const hi = hashed.hi;
    const j = finder.find(lo, hi);
    // The same item twice in one overview: the first one counts (as for its alerts).
    if (j >= 0) {
      if (finder.used[j] === 1) continue;
      finder.used[j] = 1;
    }
    const k = t.size++;
    advance(t, k, lo, hi, before, j, item.available, nowMs, halfLifeDays);
    slots[i] = k;
  }
  carryUnused(t, before, finder.used, nowMs);
  return { track, table: trimmed(t), slots };
}

/**
 * `untrusted`: products whose sum must not be learned from now ('all': none may). Their records
 * are kept as they were, so the next trusted poll spans the gap.
 */
function learnProducts(track: Track, before: SeriesTable | undefined, items: readonly Item[], nowMs: number, untrusted: ReadonlySet<string> | 'all' | null): TrackView {
  const products = sumByProduct(items, track.selects);
  const t = newTable(nowMs, products.length + (before?.size ?? 0));
  const productSlots = new Int32Array(products.length).fill(-1);
  const finder = new Finder(before);
  const halfLifeDays = track.halfLifeMs / DAY_MS;
  for (let p = 0; p < products.length; p++) {
    const sum = products[p];
    hashInto(sum.productId, SEED_LO, SEED_HI, false);
    const lo = hashed.lo;
    const hi = hashed.hi;
    const j = finder.find(lo, hi);
    if (untrusted === 'all' || (untrusted !== null && untrusted.has(sum.productId))) continue;
    if (j >= 0) finder.used[j] = 1;
    const k = t.size++;
    advance(t, k, lo, hi, before, j, sum.available, nowMs, halfLifeDays);
    productSlots[p] = k;
  }
  carryUnused(t, before, finder.used, nowMs);
  return { track, table: trimmed(t), products, productSlots };
}

// ---- hashing ---------------------------------------------------------------------------------
// 64 bits from two 32-bit multiply-xor hashes over UTF-16 units, each finished with murmur3's
// fmix32. At 200,000 series the chance that two share a hash is about 1e-9; if they ever do,
// they share one rate.

const SEED_LO = 0x811c9dc5;
const SEED_HI = 0x2f6b1a3d;
const hashed = { lo: 0, hi: 0 };

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes `text` on from the state (lo, hi) into `hashed`. `open`: leave the state unfinished (and
 * add the 0x1f separator) so that another part can follow, as itemKey() joins its two ids.
 */
function hashInto(text: string, lo: number, hi: number, open: boolean): void {
  // Two UTF-16 units per step: half the multiplications.
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const c = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    lo = Math.imul(lo ^ c, 0x01000193);
    lo ^= lo >>> 13;
    hi = Math.imul(hi ^ c, 0x5bd1e995);
    hi ^= hi >>> 15;
  }
  if (i < n) {
    const c = text.charCodeAt(i);
    lo = Math.imul(lo ^ c, 0x01000193);
    hi = Math.imul(hi ^ c, 0x5bd1e995);
    hi ^= hi >>> 15;
  }
  if (open) {
    // Mixes the length in, so that the split between the two ids is part of the hash.
    hashed.lo = Math.imul(lo ^ (n | 0x1f0000), 0x01000193);
    hashed.hi = Math.imul(hi ^ (n | 0x1f0000), 0x5bd1e995);
    return;
  }
  hashed.lo = fmix32(lo ^ n);
  hashed.hi = fmix32(hi ^ Math.imul(n, 0x9e3779b1));
}

/** The 64-bit hash of an item (warehouseId + productId) as learnItems() computes it, for tests and tools. */
export function itemHash(warehouseId: string, productId: string): { lo: number; hi: number } {
  hashInto(warehouseId, SEED_LO, SEED_HI, true);
  hashInto(productId, hashed.lo, hashed.hi, false);
  return { lo: hashed.lo, hi: hashed.hi };
}

/** The 64-bit hash of a product of a network track. */
export function productHash(productId: string): { lo: number; hi: number } {
  hashInto(productId, SEED_LO, SEED_HI, false);
  return { lo: hashed.lo, hi: hashed.hi };
}

// ---- reading a series ------------------------------------------------------------------------

/**
 * SPEC 3.2: fires once min_history of observations exist and the rate is above 0, when
 * available / rate <= within; at 0 or below (it has run out) with runsOutAt = now.
 * Returns the stock-out time, or -1 when it does not fire.
 */
export function runsOutAt(rate: number, weight: number, available: number, minWeight: number, withinMs: number, nowMs: number): number {
  if (!(rate > 0) || weight < minWeight) return -1;
  if (available <= 0) return nowMs;
  const ms = (available / rate) * DAY_MS;
  return ms <= withinMs ? nowMs + ms : -1;
}
