// One poll's decisions, whole: the books of SPEC section 4 (failed polls in a row, suspect
// overviews, items that could not be read) around the alert lifecycle. Pure, like the lifecycle:
// the daemon's poll wraps it in Redis reads and one commit; `replay` runs it in memory over saved
// overviews. Both therefore decide exactly alike.
import { itemKey, type Alert, type Item, type Overview } from '../model';
import type { CompiledRuleSet } from './evaluate';
import { evaluateOverview, type EvaluationMemo, type ProductStock } from './evaluate';
import { learn, type History } from './forecast';
import { sumByProduct, type ProductSum } from './network';
import { advanceAlerts, conditionOf, type AlertRecord, type LifecycleResult } from './lifecycle';
import type { ItemNow } from './resolved';

/** Failed polls in a row before the default channels hear "source unreachable". */
export const UNREACHABLE_AFTER = 3;
/** Polls in a row an overview that lost more than half of its items is held before it is accepted. */
export const SUSPECT_POLLS = 3;

export type SourceEvent = 'unreachable' | 'recovered' | 'suspect';

/** What the default channels are told about the source itself. */
export interface SourceNotice {
  event: SourceEvent;
  /** What was seen, in words; never a secret. */
  detail: string;
}

/** The bookkeeping a poll hands to the next one, besides the alerts. */
export interface PollBooks {
  /** Item count of the last overview accepted as good (the reference for "suspect"). */
  lastGoodItems: number | null;
  failStreak: number;
  unreachableNotified: boolean;
  suspectStreak: number;
  /** conditionOf() of every rule at the last successful poll, by rule name. */
  conditions: Record<string, string>;
}

export const EMPTY_BOOKS: PollBooks = { lastGoodItems: null, failStreak: 0, unreachableNotified: false, suspectStreak: 0, conditions: {} };

export type PollOutcome = { overview: Overview } | { error: string };

export interface StepInput {
  books: PollBooks;
  alerts: ReadonlyMap<string, AlertRecord>;
  compiled: CompiledRuleSet;
  nowMs: number;
  outcome: PollOutcome;
  /**
   * The runs_out rate history after the previous poll (Redis for the daemon, memory for replay);
   * EMPTY_HISTORY for none, as for `eval` on one overview. Pass the previous result's `history` on.
   */
  history: History;
  /**
   * The daemon's memory of the previous evaluation (EvaluationMemo), kept between its polls and
   * updated here; absent (eval, replay), every alert is made anew. Either way the result is the same.
   */
  memo?: EvaluationMemo;
}

export interface StepResult {
  books: PollBooks;
  /** null when the poll failed: a failed poll changes no alert. */
  lifecycle: LifecycleResult | null;
  source: SourceNotice[];
  suspect: boolean;
  /** Things worth a log line (in words). */
  warnings: string[];
  /** The rate history after this poll: the input's own object when nothing was learned (a failed poll). */
  history: History;
}

export function stepPoll(input: StepInput): StepResult {
  const { books, compiled, nowMs, outcome } = input;
  if ('error' in outcome) {
    const failStreak = books.failStreak + 1;
    const tellNow = failStreak >= UNREACHABLE_AFTER && !books.unreachableNotified;
    return {
      books: { ...books, failStreak, unreachableNotified: books.unreachableNotified || tellNow },
      lifecycle: null,
      source: tellNow ? [{ event: 'unreachable', detail: `${failStreak} polls failed in a row; last error: ${outcome.error}` }] : [],
      suspect: false,
      warnings: [],
      history: input.history,
    };
  }

  const { overview } = outcome;
  const source: SourceNotice[] = [];
  const warnings: string[] = [];
  // Suspect: an overview that lost more than half of the last good one's items resolves nothing.
  const count = overview.items.length + overview.malformed.length;
  let suspect = books.lastGoodItems !== null && count < books.lastGoodItems / 2;
  let suspectStreak = suspect ? books.suspectStreak + 1 : 0;
  if (suspect && suspectStreak >= SUSPECT_POLLS) {
    warnings.push(`the smaller overview (${count} items, the last good one had ${books.lastGoodItems}) persisted for ${SUSPECT_POLLS} polls: accepted`);
    suspect = false;
    suspectStreak = 0;
  } else if (suspect && suspectStreak === 1) {
    warnings.push(`suspect overview: resolving nothing (${count} items, the last good one had ${books.lastGoodItems})`);
    source.push({
      event: 'suspect',
      detail: `the overview has ${count} items, the last good one had ${books.lastGoodItems}; nothing is resolved until it persists for ${SUSPECT_POLLS} polls`,
    });
  }

  // Malformed items keep their alerts exactly as they were. One we cannot even identify could be
  // any item, so then nothing may resolve at all this poll.
  const heldItems = new Set<string>();
  const heldProducts = new Set<string>();
  let unidentified = 0;
  for (const m of overview.malformed) {
    if (m.warehouseId !== undefined && m.productId !== undefined) {
      heldItems.add(itemKey(m.warehouseId, m.productId));
      // A product's sum over warehouses misses this item: its network alerts are held too.
      heldItems.add(itemKey(null, m.productId));
      heldProducts.add(m.productId);
    } else unidentified++;
  }

  // The rates learn before the rules read them. Sums over warehouses learn only from an overview
  // that can vouch for every item of the product (a missing item would look like a sale).
  const learned = learn({
    history: input.history,
    items: overview.items,
    tracks: compiled.tracks,
    nowMs,
    heldProducts,
    networkTrusted: !suspect && unidentified === 0,
  });

  const conditions: Record<string, string> = {};
  const conditionChanged = new Set<string>();
  for (const rule of compiled.ruleSet.rules) {
    conditions[rule.name] = conditionOf(rule);
    const before = books.conditions[rule.name];
    if (before !== undefined && before !== conditions[rule.name]) conditionChanged.add(rule.name);
  }

  const evaluation = evaluateOverview(overview.items, compiled, nowMs, learned.forecast, input.memo);
  const lifecycle = advanceAlerts({
    previous: input.alerts,
    evaluation,
    compiled,
    nowMs,
    heldItems,
    resolveAbsent: !suspect && unidentified === 0,
    itemsOf: itemLookup(overview.items, compiled, evaluation.stock),
    conditionChanged,
  });

  if (books.unreachableNotified) {
    source.push({ event: 'recovered', detail: `the S2 API answered again after ${books.failStreak} failed polls` });
  }
  return {
    books: {
      lastGoodItems: suspect ? books.lastGoodItems : count,
      failStreak: 0,
      unreachableNotified: false,
      suspectStreak,
      conditions,
    },
    lifecycle,
    source,
    suspect,
    warnings,
    history: learned.history,
  };
}

/**
 * The current items of the alerts that resolve (few, at most polls none): one pass over the items
 * for the wanted product + warehouse pairs, looked up by product first, so that an item of a
 * product that resolves nothing costs one lookup in a small map. A network alert's "item" is its
 * product summed as its rule sums it. `stock`: the evaluation's per-product sums, where it made
 * them.
 */
function itemLookup(items: readonly Item[], compiled: CompiledRuleSet, stock: ProductStock | undefined): (alerts: readonly Alert[]) => Array<ItemNow | undefined> {
  return (alerts) => {
    const wanted = new Map<string, Map<string, Item | undefined>>();
    const networkRules = new Set<string>();
    for (const a of alerts) {
      if (a.productId === null) continue;
      if (a.warehouseId === null) {
        networkRules.add(a.rule);
        continue;
      }
      let warehouses = wanted.get(a.productId);
      if (warehouses === undefined) wanted.set(a.productId, (warehouses = new Map()));
      warehouses.set(a.warehouseId, undefined);
    }
    if (wanted.size > 0) {
      for (let i = 0; i < items.length; i++) {
        const warehouses = wanted.get(items[i].productId);
        if (warehouses !== undefined && warehouses.has(items[i].warehouseId)) warehouses.set(items[i].warehouseId, items[i]);
      }
    }
    const sums = new Map<string, Map<string, Item>>();
    for (const rule of networkRules) {
      const byProduct = new Map<string, Item>();
      const c = compiled.compiledByName.get(rule);
      if (c !== undefined && c.rule.scope === 'network') for (const sum of sumByProduct(items, c.selects)) byProduct.set(sum.productId, productItem(sum));
      sums.set(rule, byProduct);
    }
    return alerts.map((a): ItemNow | undefined => {
      if (a.productId === null) return undefined;
      if (a.warehouseId === null) {
        const sum = sums.get(a.rule)?.get(a.productId);
        return sum === undefined ? undefined : { item: sum };
      }
      const item = wanted.get(a.productId)?.get(a.warehouseId);
      if (item === undefined) return undefined;
      // Only low_available alerts of scope item carry it; their rule made the evaluation sum the stock.
      if (a.availableElsewhere === undefined || stock === undefined) return { item };
      return { item, availableElsewhere: stock.elsewhere(item) };
    });
  };
}

/** A product's sums in the shape of an item, without a warehouse (warehouseId is empty). */
function productItem(sum: ProductSum): Item {
  return {
    ...sum.first,
    warehouseId: '',
    warehouse: null,
    knownWarehouse: true,
    available: sum.available,
    incoming: sum.incoming,
    reserved: sum.reserved,
    updatedAt: sum.newest.updatedAt,
    updatedAtMs: sum.newest.updatedAtMs,
  };
}
