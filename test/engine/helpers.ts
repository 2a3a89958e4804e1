// Builders for engine tests: model objects written directly, not through the YAML loader.
import type { Alert, Item, Rule, RuleSet, Silence } from '../../src/model';
import { evaluateOverview, type CompiledRuleSet } from '../../src/engine/evaluate';
import { advanceAlerts, type AlertRecord, type LifecycleResult } from '../../src/engine/lifecycle';
import type { ItemNow } from '../../src/engine/resolved';
import { itemKey } from '../../src/model';

export const NOW = Date.parse('2024-06-05T12:00:00Z');
export const HOUR = 3_600_000;

const POS = { file: 'test.yaml', line: 1, col: 1 };

export function item(overrides: Partial<Item> = {}): Item {
  const base: Item = {
    warehouseId: 'wh-1',
    productId: 'p-1',
    warehouse: 'Main',
    sku: 'SKU-1',
    product: 'Product 1',
    brand: 'Acme',
    knownProduct: true,
    knownWarehouse: true,
    productSlot: -1,
    available: 100,
    incoming: 0,
    reserved: 0,
    updatedAt: '2024-06-05T11:00:00Z',
    updatedAtMs: Date.parse('2024-06-05T11:00:00Z'),
  };
  const merged = { ...base, ...overrides };
  if (overrides.updatedAt !== undefined && overrides.updatedAtMs === undefined) merged.updatedAtMs = Date.parse(overrides.updatedAt);
  return merged;
}

/** An item whose product is not among the overview's products. */
export function unknownProductItem(overrides: Partial<Item> = {}): Item {
  return item({ sku: null, product: null, brand: null, knownProduct: false, ...overrides });
}

export function rule(overrides: Partial<Rule> & Pick<Rule, 'name' | 'type'>): Rule {
  return {
    severity: 'warning',
    channels: ['ops'],
    repeatEveryMs: 24 * HOUR,
    sendResolved: true,
    forMs: 0,
    keepFiringForMs: 0,
    scope: 'item',
    pos: POS,
    ...overrides,
  };
}

export const lowAvailable = (overrides: Partial<Rule> = {}): Rule =>
  rule({ name: 'low-available', type: 'low_available', below: 10, countIncoming: false, ...overrides });
export const negativeReserved = (overrides: Partial<Rule> = {}): Rule =>
  rule({ name: 'negative-reserved', type: 'negative_reserved', severity: 'critical', ...overrides });
export const stale = (overrides: Partial<Rule> = {}): Rule =>
  rule({ name: 'stale-level', type: 'stale', olderThanMs: 48 * HOUR, ...overrides });
export const unknownProduct = (overrides: Partial<Rule> = {}): Rule =>
  rule({ name: 'unknown-product', type: 'unknown_product', ...overrides });

export function silence(overrides: Partial<Silence> = {}): Silence {
  const until = overrides.until ?? '2030-01-01T00:00:00Z';
  return { until, untilMs: Date.parse(until), pos: POS, ...overrides };
}

export function ruleSet(rules: Rule[], silences: Silence[] = []): RuleSet {
  return {
    channels: { ops: { name: 'ops', kind: 'slack', webhookUrl: 'https://hooks.example.test/x' } },
    defaultChannels: ['ops'],
    rules,
    inhibit: [],
    silences,
    files: ['test.yaml'],
  };
}

/** An alert as `eval --json` and the notices print it (fields left undefined are not printed). */
export const printed = (alert: Alert): Record<string, unknown> => JSON.parse(JSON.stringify(alert)) as Record<string, unknown>;

/** A resolving alert's item as the lifecycle is given it (without its stock elsewhere: the alert keeps the last). */
export const nowOf = (item: Item | undefined): ItemNow | undefined => (item === undefined ? undefined : { item });

/** One poll through the evaluation and the lifecycle (stepPoll without its books), every item readable. */
export function advance(compiled: CompiledRuleSet, previous: ReadonlyMap<string, AlertRecord>, items: Item[], nowMs: number): LifecycleResult {
  const byKey = new Map(items.map((i) => [itemKey(i.warehouseId, i.productId), i]));
  return advanceAlerts({
    previous,
    evaluation: evaluateOverview(items, compiled, nowMs),
    compiled,
    nowMs,
    resolveAbsent: true,
    itemsOf: (alerts) => alerts.map((a) => nowOf(byKey.get(itemKey(a.warehouseId, a.productId)))),
  });
}
