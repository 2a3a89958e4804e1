// Which rules fire for which items, at a given moment. Pure: no I/O, no clock (`nowMs` is an
// argument). Built for large overviews: everything that can be prepared once per rule set is
// prepared in compileRuleSet(); per item and rule the work is a numeric comparison, and only
// items that fire cost a `where` match, a silence check and an Alert object.
import type { Alert, Inhibit, Item, Rule, RuleSet, Silence, Where } from '../model';
import { DEFAULT_MIN_HISTORY_MS, DEFAULT_RATE_HALF_LIFE_MS, WEIGHT_TOLERANCE, runsOutAt, trackId, weightAfter, type Forecast, type Track } from './forecast';
import { compileGlobs, type GlobMatcher } from './glob';
import { itemsOfProducts, sharesOf, sharesText, sumByProduct, type ProductSum } from './network';
import { compileTemplate, type CompiledTemplate, type SummaryExtra } from './template';

interface CompiledWhere {
  sku: GlobMatcher | null;
  productId: GlobMatcher | null;
  brand: GlobMatcher | null;
  warehouse: GlobMatcher | null;
}

interface CompiledSilence {
  silence: Silence;
  where: CompiledWhere | null;
  untilMs: number;
}

export interface CompiledRule {
  rule: Rule;
  where: CompiledWhere | null;
  /** `where` as a test of one item; null: every item. */
  selects: ((item: Item) => boolean) | null;
  /** scope network: `where` without its `warehouse` key (which selects items, not products); null: every product. */
  productWhere: CompiledWhere | null;
  summary: CompiledTemplate | null;
  /** The silences that can cover this rule's alerts (scoped to it or to every rule). */
  silences: CompiledSilence[];
  /** runs_out: the table its rates are learned in. */
  track: Track | null;
}

/** An `inhibit` entry with its rule-name globs compiled. */
export interface CompiledInhibit {
  inhibit: Inhibit;
  when: GlobMatcher;
  suppress: GlobMatcher;
}

export interface CompiledRuleSet {
  ruleSet: RuleSet;
  rules: CompiledRule[];
  inhibit: CompiledInhibit[];
  /** The rules in force, by name (what diffAlerts() takes as `rules`). */
  ruleByName: ReadonlyMap<string, Rule>;
  compiledByName: ReadonlyMap<string, CompiledRule>;
  /** What the runs_out rules learn from (empty without one: then no history is kept). */
  tracks: Track[];
}

function compileWhere(where: Where | undefined): CompiledWhere | null {
  if (where === undefined) return null;
  const glob = (list: string[] | undefined): GlobMatcher | null => (list === undefined ? null : compileGlobs(list));
  const compiled: CompiledWhere = {
    sku: glob(where.sku),
    productId: glob(where.product_id),
    brand: glob(where.brand),
    warehouse: glob(where.warehouse),
  };
  const empty = !compiled.sku && !compiled.productId && !compiled.brand && !compiled.warehouse;
  return empty ? null : compiled;
}

/**
 * Every key given must match. An unknown product has no sku and no brand, so those filters
 * never match it; `warehouse` matches the warehouse's name or its id.
 */
function matchesWhere(
  where: CompiledWhere,
  warehouseId: string | null,
  warehouse: string | null,
  productId: string | null,
  sku: string | null,
  brand: string | null,
): boolean {
  // A network alert has no warehouse and a warehouse alert no product: a filter on it cannot match.
  if (where.productId !== null && (productId === null || !where.productId.test(productId))) return false;
  if (where.sku !== null && (sku === null || !where.sku.test(sku))) return false;
  if (where.brand !== null && (brand === null || !where.brand.test(brand))) return false;
  if (where.warehouse !== null && (warehouseId === null || !where.warehouse.test(warehouseId)) && (warehouse === null || !where.warehouse.test(warehouse))) {
    return false;
  }
  return true;
}

function itemTest(where: CompiledWhere | null): ((item: Item) => boolean) | null {
  if (where === null) return null;
  return (item) => matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand);
}

export function compileRuleSet(ruleSet: RuleSet): CompiledRuleSet {
  const silences: CompiledSilence[] = ruleSet.silences.map((silence) => ({
    silence,
    where: compileWhere(silence.where),
    untilMs: silence.untilMs,
  }));
  const tracks = new Map<string, { track: Track; tests: Array<((item: Item) => boolean) | null> }>();
  const rules = ruleSet.rules.map((rule): CompiledRule => {
    const where = compileWhere(rule.where);
    const selects = itemTest(where);
    let track: Track | null = null;
    if (rule.type === 'runs_out') {
      const halfLifeMs = rule.rateHalfLifeMs ?? DEFAULT_RATE_HALF_LIFE_MS;
      const id = trackId(rule.scope, halfLifeMs, rule.scope === 'network' ? rule.where?.warehouse : undefined);
      let entry = tracks.get(id);
      if (entry === undefined) tracks.set(id, (entry = { track: { id, scope: rule.scope, halfLifeMs, selects: null }, tests: [] }));
      entry.tests.push(selects);
      track = entry.track;
    }
    return {
      rule,
      where,
      selects,
      productWhere: rule.scope === 'network' ? compileWhere(rule.where === undefined ? undefined : { ...rule.where, warehouse: undefined }) : null,
      summary: rule.summary === undefined ? null : compileTemplate(rule.summary),
      silences: silences.filter((s) => s.silence.rule === undefined || s.silence.rule === rule.name),
      track,
    };
  });
  // A track follows the items any of its rules selects.
  for (const { track, tests } of tracks.values()) {
    if (tests.includes(null)) continue;
    const all = tests as Array<(item: Item) => boolean>;
    track.selects = all.length === 1 ? all[0] : (item) => all.some((test) => test(item));
  }
  return {
    ruleSet,
    rules,
    inhibit: ruleSet.inhibit.map((inhibit) => ({ inhibit, when: compileGlobs([inhibit.when]), suppress: compileGlobs(inhibit.suppress) })),
    ruleByName: new Map(rules.map((c) => [c.rule.name, c.rule])),
    compiledByName: new Map(rules.map((c) => [c.rule.name, c])),
    tracks: [...tracks.values()].map((e) => e.track),
  };
}

function silencedBy(
  active: readonly CompiledSilence[],
  warehouseId: string | null,
  warehouse: string | null,
  productId: string | null,
  sku: string | null,
  brand: string | null,
): boolean {
  for (let i = 0; i < active.length; i++) {
    const where = active[i].where;
    if (where === null || matchesWhere(where, warehouseId, warehouse, productId, sku, brand)) return true;
  }
  return false;
}

function fire(compiled: CompiledRule, item: Item, active: readonly CompiledSilence[]): Alert {
  const rule = compiled.rule;
  // Key order is SPEC section 4's: `eval --json` prints the object as it is.
  const alert: Alert = {
    rule: rule.name,
    type: rule.type,
    severity: rule.severity,
    status: 'firing',
    warehouseId: item.warehouseId,
    warehouse: item.warehouse,
    productId: item.productId,
    sku: item.sku,
    product: item.product,
    available: item.available,
    incoming: item.incoming,
    reserved: item.reserved,
    updatedAt: item.updatedAt,
    summary: null,
    silenced:
      active.length > 0 && silencedBy(active, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand),
    inhibited: false,
    // Every alert has the same shape (the fields other types add are there, undefined, which
    // JSON leaves out): property reads in the lifecycle's hot loops stay monomorphic.
    availableElsewhere: undefined,
    ratePerDay: undefined,
    runsOutAt: undefined,
  };
  return alert;
}

/** Renders the rule's summary, once every field the alert carries is set. */
function summarize(c: CompiledRule, alert: Alert, brand: string | null, extra?: SummaryExtra): Alert {
  if (c.summary !== null) alert.summary = c.summary.render(alert, brand, c.rule, extra);
  return alert;
}

/** What the rules make of one overview at one moment, before the lifecycle decides what it means. */
export interface Evaluation {
  /** Alerts whose condition holds (status 'firing' as evaluated; the lifecycle makes some 'pending'). */
  alerts: Alert[];
  /**
   * Alerts that only `clear_at` hysteresis holds (below <= quantity < clear_at): they keep an alert
   * that already fires firing, and start nothing.
   */
  holding: Alert[];
  /** Each product's positive `available`, where an item-scope low_available rule summed it. */
  stock?: ProductStock;
}

/**
 * The alerts that fire for these items at `nowMs` (status 'firing'; silenced ones included,
 * flagged). Order: rule by rule in rule-set order, items in the order given.
 */
export function evaluate(items: readonly Item[], compiled: CompiledRuleSet, nowMs: number): Alert[] {
  return evaluateOverview(items, compiled, nowMs).alerts;
}

/**
 * `items`: unique by warehouse and product, as toOverview() leaves them. `forecast`: what the
 * history has learned (stepPoll() passes it); without it (one overview and no history) runs_out
 * rules fire nothing.
 */
export function evaluateOverview(items: readonly Item[], compiled: CompiledRuleSet, nowMs: number, forecast?: Forecast, memo?: EvaluationMemo): Evaluation {
  const byRule = compiled.rules.map(() => ({ alerts: [] as Alert[], holding: [] as Alert[] }));
  const tests: ItemTest[] = [];
  compiled.rules.forEach((c, r) => {
    const rule = c.rule;
    const active = c.silences.filter((s) => nowMs < s.untilMs);
    const out = byRule[r];
    const test = (kind: TestKind, thresholds: Partial<Pick<ItemTest, 'below' | 'clearAt' | 'withIncoming' | 'olderThanMs'>> = {}): void => {
      tests.push({ c, kind, below: 0, clearAt: 0, withIncoming: false, olderThanMs: 0, ...thresholds, active, shares: c.summary !== null && c.summary.uses('elsewhere'), ...out });
    };
    switch (rule.type) {
      case 'low_available': {
        if (rule.scope === 'network') {
          lowNetwork(c, items, active, out.alerts, out.holding);
          break;
        }
        // A rule without its threshold (the loader refuses one) never fires.
        const below = rule.below ?? Number.NEGATIVE_INFINITY;
        test(LOW, { below, clearAt: Math.max(rule.clearAt ?? below, below), withIncoming: rule.countIncoming === true });
        break;
      }
      case 'negative_reserved':
        test(NEGATIVE);
        break;
      case 'stale':
        test(STALE, { olderThanMs: rule.olderThanMs ?? Number.POSITIVE_INFINITY });
        break;
      case 'unknown_product':
        test(UNKNOWN);
        break;
      case 'stale_warehouse':
        staleWarehouses(c, items, nowMs, active, out.alerts);
        break;
      case 'runs_out':
        if (forecast !== undefined) runsOut(c, items, nowMs, forecast, active, out.alerts);
        break;
      default: {
        const unreachable: never = rule.type;
        throw new Error(`unknown rule type ${String(unreachable)}`);
      }
    }
  });
  const stock = tests.length > 0 ? testItems(items, tests, nowMs, compiled, memo) : undefined;
  return { alerts: concatenated(byRule.map((r) => r.alerts)), holding: concatenated(byRule.map((r) => r.holding)), stock };
}

/** The lists one after the other (flatMap() costs ~10x more per element: ~40 ms for 335k alerts). */
function concatenated<T>(lists: ReadonlyArray<readonly T[]>): T[] {
  let length = 0;
  for (const list of lists) length += list.length;
  const out = new Array<T>(length);
  let at = 0;
  for (const list of lists) for (let i = 0; i < list.length; i++) out[at++] = list[i];
  return out;
}

const LOW = 0;
const NEGATIVE = 1;
const STALE = 2;
const UNKNOWN = 3;
type TestKind = typeof LOW | typeof NEGATIVE | typeof STALE | typeof UNKNOWN;

/** An item-scope rule whose condition is a test of one item's own fields. */
interface ItemTest {
  c: CompiledRule;
  kind: TestKind;
  below: number;
  /** low_available: quantities below this fire or (from `below` up) hold a firing alert. */
  clearAt: number;
  withIncoming: boolean;
  olderThanMs: number;
  active: readonly CompiledSilence[];
  /** The summary names the warehouses with stock (`{{elsewhere}}`): rendered once all alerts are known. */
  shares: boolean;
  alerts: Alert[];
  holding: Alert[];
}

/**
 * The item-scope rules over every item, in one pass: each item is read once for all of them (a
 * pass per rule read every item ten times over, and reading the items is what costs: they are
 * scattered objects). Per item and rule the test is a comparison of numbers; only items that fire
 * cost a `where` match, a silence check and an Alert object. Returns the products' stock sums
 * when a low_available rule needed them.
 */
function testItems(items: readonly Item[], tests: readonly ItemTest[], nowMs: number, compiled: CompiledRuleSet, memo: EvaluationMemo | undefined): ProductStock | undefined {
  const positive = tests.some((t) => t.kind === LOW) ? new ProductStock(items) : undefined;
  const sharing: Array<{ c: CompiledRule; alert: Alert; brand: string | null }> = [];
  // The previous evaluation's alerts per test, where they may be taken again (see EvaluationMemo).
  const before = tests.map((test, t) => (memo === undefined ? null : memo.reusable(compiled, t, test.active, test.shares)));
  const made = memo === undefined ? null : tests.map((test): MemoTest => ({ active: test.active, positions: [], alerts: [], stock: [] }));
  const cursors = new Int32Array(tests.length);
  const beforeItems = memo?.items ?? [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const sameItem = i < beforeItems.length && beforeItems[i] === item;
    for (let t = 0; t < tests.length; t++) {
      const test = tests[t];
      let holds = false;
      switch (test.kind) {
        case LOW: {
          const quantity = test.withIncoming ? item.available + item.incoming : item.available;
          if (!(quantity < test.clearAt)) continue;
          holds = !(quantity < test.below);
          break;
        }
        case NEGATIVE:
          if (!(item.reserved < 0)) continue;
          break;
        case STALE:
          if (!(nowMs - item.updatedAtMs > test.olderThanMs)) continue;
          break;
        case UNKNOWN:
          if (item.knownProduct && item.knownWarehouse) continue;
          break;
      }
      const { c } = test;
      const productStock = test.kind === LOW ? positive!.of(item) : 0;
      // The very Item of the previous evaluation (same levels), under the same rule set and
      // silences, with the same product stock: its alert would come out equal. Take it again.
      let alert: Alert | undefined;
      const prev = before[t];
      if (sameItem && prev !== null) {
        const positions = prev.positions;
        let k = cursors[t];
        while (k < positions.length && positions[k] < i) k++;
        cursors[t] = k;
        if (k < positions.length && positions[k] === i && prev.stock[k] === productStock) alert = prev.alerts[k];
      }
      if (alert === undefined) {
        if (c.where !== null && !matchesWhere(c.where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
        alert = fire(c, item, test.active);
        if (test.kind === LOW) {
          alert.availableElsewhere = positive!.elsewhere(item);
          if (test.shares) sharing.push({ c, alert, brand: item.brand });
          else summarize(c, alert, item.brand);
        } else summarize(c, alert, item.brand);
      }
      if (made !== null) {
        const m = made[t];
        m.positions.push(i);
        m.alerts.push(alert);
        m.stock.push(productStock);
      }
      if (test.kind === LOW && holds) test.holding.push(alert);
      else test.alerts.push(alert);
    }
  }
  if (memo !== undefined) memo.remember(compiled, items, made!);
  if (sharing.length > 0) renderElsewhere(items, sharing);
  return positive;
}

/** One item test's alerts of an evaluation, in item order. */
interface MemoTest {
  /** The silences in force for the test when they were made. */
  active: readonly CompiledSilence[];
  /** The position of each alert's item in the items evaluated. */
  positions: number[];
  alerts: Alert[];
  /** low_available: the product's positive stock each alert was made with (its availableElsewhere follows from it); else 0. */
  stock: number[];
}

/**
 * What the previous evaluation made of each item, for the next one (the daemon's polls): an
 * item-scope alert depends only on its Item's fields, the rule, the silences in force and (for
 * low_available) its product's stock, so for the very same Item object (the incremental source
 * reuses the Items of unchanged elements: same object, same levels) at the same position, under
 * the same compiled rule set and silences and with the same product stock, the previous Alert
 * object is taken again: no new Alert, no summary rendered. The condition itself is tested anew
 * (`stale` depends on now). Alerts whose summary lists the product's other warehouses
 * (`{{elsewhere}}`) are always made anew. The alerts kept here are the evaluation's, untouched:
 * the lifecycle never changes an evaluated Alert (it copies one whose status it sets).
 */
export class EvaluationMemo {
  private compiled: CompiledRuleSet | null = null;
  /** The items evaluated last. */
  items: readonly Item[] = [];
  private tests: MemoTest[] = [];

  /** Test `t`'s previous alerts when they may be reused under `compiled` and `active` silences; else null. */
  reusable(compiled: CompiledRuleSet, t: number, active: readonly CompiledSilence[], shares: boolean): MemoTest | null {
    if (shares || this.compiled !== compiled || t >= this.tests.length) return null;
    const prev = this.tests[t];
    if (prev.active.length !== active.length) return null;
    for (let i = 0; i < active.length; i++) if (prev.active[i] !== active[i]) return null;
    return prev;
  }

  remember(compiled: CompiledRuleSet, items: readonly Item[], tests: MemoTest[]): void {
    this.compiled = compiled;
    // A copy: the caller may refill its array, and an Item is only the same when its position says so.
    this.items = items.slice();
    this.tests = tests;
  }
}

/**
 * Each product's positive `available` summed over its items: an item's stock elsewhere is its
 * product's sum less its own share (the items are unique by warehouse and product, as
 * toOverview() leaves them). Summed by product slot in an array; only unknown products (no
 * slot) are summed by id.
 */
export class ProductStock {
  private readonly bySlot: Float64Array;
  private readonly byId = new Map<string, number>();

  constructor(items: readonly Item[]) {
    let slots = 0;
    for (let i = 0; i < items.length; i++) if (items[i].productSlot >= slots) slots = items[i].productSlot + 1;
    this.bySlot = new Float64Array(slots);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!(item.available > 0)) continue;
      if (item.productSlot >= 0) this.bySlot[item.productSlot] += item.available;
      else this.byId.set(item.productId, (this.byId.get(item.productId) ?? 0) + item.available);
    }
  }

  /** The positive stock of `item`'s product (counted in). */
  of(item: Item): number {
    return item.productSlot >= 0 ? this.bySlot[item.productSlot] : (this.byId.get(item.productId) ?? 0);
  }

  /** SPEC 3.1, `availableElsewhere`: the positive `available` of `item`'s product in every other warehouse. */
  elsewhere(item: Item): number {
    return this.of(item) - (item.available > 0 ? item.available : 0);
  }
}

/** The `{{elsewhere}}` text of item-scope low_available summaries: one pass over the items, for the products that fire. */
function renderElsewhere(items: readonly Item[], sharing: ReadonlyArray<{ c: CompiledRule; alert: Alert; brand: string | null }>): void {
  const byProduct = itemsOfProducts(items, sharing.map((l) => l.alert.productId!));
  for (const { c, alert, brand } of sharing) {
    summarize(c, alert, brand, { elsewhere: sharesText(sharesOf(byProduct.get(alert.productId!), null), alert.warehouseId) });
  }
}

/** A network alert (SPEC 3.1): identity rule + productId, no warehouse, the levels are the sums. */
function productAlert(c: CompiledRule, sum: ProductSum, active: readonly CompiledSilence[]): Alert {
  const first = sum.first;
  return {
    rule: c.rule.name,
    type: c.rule.type,
    severity: c.rule.severity,
    status: 'firing',
    warehouseId: null,
    warehouse: null,
    productId: sum.productId,
    sku: first.sku,
    product: first.product,
    available: sum.available,
    incoming: sum.incoming,
    reserved: sum.reserved,
    updatedAt: sum.newest.updatedAt,
    summary: null,
    silenced: active.length > 0 && silencedBy(active, null, null, sum.productId, first.sku, first.brand),
    inhibited: false,
    // The same shape as fire()'s alerts.
    availableElsewhere: undefined,
    ratePerDay: undefined,
    runsOutAt: undefined,
  };
}

/** The contributors text of network alerts, when the rule's summary asks for it (one more pass over the items). */
function renderProductSummaries(c: CompiledRule, items: readonly Item[], fired: ReadonlyArray<{ alert: Alert; sum: ProductSum }>): void {
  if (c.summary === null || fired.length === 0) return;
  const byProduct = c.summary.uses('contributors') ? itemsOfProducts(items, fired.map((f) => f.sum.productId)) : null;
  for (const { alert, sum } of fired) {
    summarize(c, alert, sum.first.brand, byProduct === null ? undefined : { contributors: sharesText(sharesOf(byProduct.get(sum.productId), c.selects)) });
  }
}

/** low_available, scope network: one alert per product whose summed quantity is low. */
function lowNetwork(c: CompiledRule, items: readonly Item[], active: readonly CompiledSilence[], alerts: Alert[], holding: Alert[]): void {
  const rule = c.rule;
  const below = rule.below ?? Number.NEGATIVE_INFINITY;
  const clearAt = Math.max(rule.clearAt ?? below, below);
  const withIncoming = rule.countIncoming === true;
  const fired: Array<{ alert: Alert; sum: ProductSum }> = [];
  for (const sum of sumByProduct(items, c.selects)) {
    const quantity = withIncoming ? sum.available + sum.incoming : sum.available;
    if (!(quantity < clearAt)) continue;
    const alert = productAlert(c, sum, active);
    (quantity < below ? alerts : holding).push(alert);
    fired.push({ alert, sum });
  }
  renderProductSummaries(c, items, fired);
}

/** `ratePerDay` as shown: three significant digits. */
const shownRate = (rate: number): number => Number(rate.toPrecision(3));

/** A projected stock-out to the minute (the poll's own time as it is). */
const shownTime = (ms: number, nowMs: number): string => new Date(ms === nowMs ? ms : Math.round(ms / 60_000) * 60_000).toISOString();

/** SPEC 3.2: the items (or, scope network, products) projected to run out within `within`. */
function runsOut(c: CompiledRule, items: readonly Item[], nowMs: number, forecast: Forecast, active: readonly CompiledSilence[], out: Alert[]): void {
  const rule = c.rule;
  const view = c.track === null ? undefined : forecast.views.get(c.track.id);
  // A rule without `within` (the loader refuses one) never fires.
  if (view === undefined || rule.withinMs === undefined) return;
  const { table } = view;
  const minWeight = weightAfter(rule.minHistoryMs ?? DEFAULT_MIN_HISTORY_MS, view.track.halfLifeMs) * WEIGHT_TOLERANCE;
  const withinMs = rule.withinMs;
  const { rate, weight } = table;
  if (view.slots !== undefined) {
    const slots = view.slots;
    const where = c.where;
    for (let i = 0; i < items.length; i++) {
      const k = slots[i];
      if (k < 0 || !(rate[k] > 0)) continue;
      const item = items[i];
      const at = runsOutAt(rate[k], weight[k], item.available, minWeight, withinMs, nowMs);
      if (at < 0) continue;
      if (where !== null && !matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
      const alert = fire(c, item, active);
      alert.ratePerDay = shownRate(rate[k]);
      alert.runsOutAt = shownTime(at, nowMs);
      out.push(summarize(c, alert, item.brand));
    }
    return;
  }
  const products = view.products ?? [];
  const slots = view.productSlots!;
  const where = c.productWhere;
  const fired: Array<{ alert: Alert; sum: ProductSum }> = [];
  for (let p = 0; p < products.length; p++) {
    const k = slots[p];
    if (k < 0 || !(rate[k] > 0)) continue;
    const sum = products[p];
    const at = runsOutAt(rate[k], weight[k], sum.available, minWeight, withinMs, nowMs);
    if (at < 0) continue;
    const first = sum.first;
    if (where !== null && !matchesWhere(where, null, null, sum.productId, first.sku, first.brand)) continue;
    const alert = productAlert(c, sum, active);
    alert.ratePerDay = shownRate(rate[k]);
    alert.runsOutAt = shownTime(at, nowMs);
    out.push(alert);
    fired.push({ alert, sum });
  }
  renderProductSummaries(c, items, fired);
}

/**
 * SPEC 3.3: one alert per warehouse none of whose levels (of the items `where` selects) was
 * updated within `older_than`; its levels are the warehouse's sums, its updatedAt the newest.
 */
function staleWarehouses(c: CompiledRule, items: readonly Item[], nowMs: number, active: readonly CompiledSilence[], out: Alert[]): void {
  const olderThanMs = c.rule.olderThanMs ?? Number.POSITIVE_INFINITY;
  const where = c.where;
  const sums = new Map<string, { warehouse: string | null; available: number; incoming: number; reserved: number; newest: Item }>();
  for (const item of items) {
    if (where !== null && !matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
    const sum = sums.get(item.warehouseId);
    if (sum === undefined) {
      sums.set(item.warehouseId, { warehouse: item.warehouse, available: item.available, incoming: item.incoming, reserved: item.reserved, newest: item });
      continue;
    }
    sum.available += item.available;
    sum.incoming += item.incoming;
    sum.reserved += item.reserved;
    if (item.updatedAtMs > sum.newest.updatedAtMs) sum.newest = item;
  }
  for (const [warehouseId, sum] of sums) {
    // "None of its levels has an updatedAt newer than now - older_than".
    if (sum.newest.updatedAtMs > nowMs - olderThanMs) continue;
    const alert: Alert = {
      rule: c.rule.name,
      type: c.rule.type,
      severity: c.rule.severity,
      status: 'firing',
      warehouseId,
      warehouse: sum.warehouse,
      productId: null,
      sku: null,
      product: null,
      available: sum.available,
      incoming: sum.incoming,
      reserved: sum.reserved,
      updatedAt: sum.newest.updatedAt,
      summary: null,
      silenced: active.length > 0 && silencedBy(active, warehouseId, sum.warehouse, null, null, null),
      inhibited: false,
      // The same shape as fire()'s alerts.
      availableElsewhere: undefined,
      ratePerDay: undefined,
      runsOutAt: undefined,
    };
    out.push(summarize(c, alert, null));
  }
}

/**
 * A predicate telling whether a silence covers an alert at `nowMs`, for alerts that evaluate()
 * did not produce (a resolved one). The item, where it still exists, supplies the brand and the
 * current names; without it the alert's own fields are used and a `brand` filter cannot match.
 */
export function silenceChecker(compiled: CompiledRuleSet, nowMs: number): (alert: Alert, item?: Item) => boolean {
  return (alert, item) => {
    const c = compiled.compiledByName.get(alert.rule);
    if (c === undefined) return false;
    const active = c.silences.filter((s) => nowMs < s.untilMs);
    if (active.length === 0) return false;
    // A network alert's item is its product's sums: it has no warehouse for a filter to match.
    return item !== undefined
      ? silencedBy(active, alert.warehouseId === null ? null : item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)
      : silencedBy(active, alert.warehouseId, alert.warehouse, alert.productId, alert.sku, null);
  };
}
