// Which rules fire for which items, at a given moment. Pure: no I/O, no clock (`nowMs` is an
// argument). Built for large overviews: everything that can be prepared once per rule set is
// prepared in compileRuleSet(); per item and rule the work is a numeric comparison, and only
// items that fire cost a `where` match, a silence check and an Alert object.
import type { Alert, Inhibit, Item, Rule, RuleSet, Silence, Where } from '../model';
import { compileGlobs, type GlobMatcher } from './glob';
import { compileTemplate, type CompiledTemplate } from './template';

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
  summary: CompiledTemplate | null;
  /** The silences that can cover this rule's alerts (scoped to it or to every rule). */
  silences: CompiledSilence[];
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

export function compileRuleSet(ruleSet: RuleSet): CompiledRuleSet {
  const silences: CompiledSilence[] = ruleSet.silences.map((silence) => ({
    silence,
    where: compileWhere(silence.where),
    untilMs: silence.untilMs,
  }));
  const rules = ruleSet.rules.map(
    (rule): CompiledRule => ({
      rule,
      where: compileWhere(rule.where),
      summary: rule.summary === undefined ? null : compileTemplate(rule.summary),
      silences: silences.filter((s) => s.silence.rule === undefined || s.silence.rule === rule.name),
    }),
  );
  return {
    ruleSet,
    rules,
    inhibit: ruleSet.inhibit.map((inhibit) => ({ inhibit, when: compileGlobs([inhibit.when]), suppress: compileGlobs(inhibit.suppress) })),
    ruleByName: new Map(rules.map((c) => [c.rule.name, c.rule])),
    compiledByName: new Map(rules.map((c) => [c.rule.name, c])),
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
  };
  if (compiled.summary !== null) alert.summary = compiled.summary.render(alert, item.brand, rule);
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
}

/**
 * The alerts that fire for these items at `nowMs` (status 'firing'; silenced ones included,
 * flagged). Order: rule by rule in rule-set order, items in the order given.
 */
export function evaluate(items: readonly Item[], compiled: CompiledRuleSet, nowMs: number): Alert[] {
  return evaluateOverview(items, compiled, nowMs).alerts;
}

export function evaluateOverview(items: readonly Item[], compiled: CompiledRuleSet, nowMs: number): Evaluation {
  const alerts: Alert[] = [];
  const holding: Alert[] = [];
  const count = items.length;
  for (const c of compiled.rules) {
    const rule = c.rule;
    const where = c.where;
    const active = c.silences.filter((s) => nowMs < s.untilMs);
    // One tight loop per rule type: the test in the loop is a comparison of two numbers.
    switch (rule.type) {
      case 'low_available': {
        // A rule without its threshold (the loader refuses one) never fires.
        const below = rule.below ?? Number.NEGATIVE_INFINITY;
        const clearAt = Math.max(rule.clearAt ?? below, below);
        const withIncoming = rule.countIncoming === true;
        for (let i = 0; i < count; i++) {
          const item = items[i];
          const quantity = withIncoming ? item.available + item.incoming : item.available;
          if (!(quantity < clearAt)) continue;
          if (where !== null && !matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
          (quantity < below ? alerts : holding).push(fire(c, item, active));
        }
        break;
      }
      case 'negative_reserved':
        for (let i = 0; i < count; i++) {
          const item = items[i];
          if (!(item.reserved < 0)) continue;
          if (where !== null && !matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
          alerts.push(fire(c, item, active));
        }
        break;
      case 'stale': {
        const olderThanMs = rule.olderThanMs ?? Number.POSITIVE_INFINITY;
        for (let i = 0; i < count; i++) {
          const item = items[i];
          if (!(nowMs - item.updatedAtMs > olderThanMs)) continue;
          if (where !== null && !matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
          alerts.push(fire(c, item, active));
        }
        break;
      }
      case 'unknown_product':
        for (let i = 0; i < count; i++) {
          const item = items[i];
          if (item.knownProduct && item.knownWarehouse) continue;
          if (where !== null && !matchesWhere(where, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)) continue;
          alerts.push(fire(c, item, active));
        }
        break;
      case 'stale_warehouse':
        staleWarehouses(c, items, nowMs, active, alerts);
        break;
      case 'runs_out':
        break;
      default: {
        const unreachable: never = rule.type;
        throw new Error(`unknown rule type ${String(unreachable)}`);
      }
    }
  }
  return { alerts, holding };
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
    };
    if (c.summary !== null) alert.summary = c.summary.render(alert, null, c.rule);
    out.push(alert);
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
    return item !== undefined
      ? silencedBy(active, item.warehouseId, item.warehouse, item.productId, item.sku, item.brand)
      : silencedBy(active, alert.warehouseId, alert.warehouse, alert.productId, alert.sku, null);
  };
}
