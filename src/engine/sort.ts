// The one order in which alerts are shown and notified: most severe first, then by rule, SKU
// (productId where the product is unknown) and warehouse (id where unknown), ids last so that
// the order is total and therefore the same on every run.
import type { Alert, Severity } from '../model';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareAlerts(a: Alert, b: Alert): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    compareText(a.rule, b.rule) ||
    compareText(a.sku ?? a.productId ?? '', b.sku ?? b.productId ?? '') ||
    compareText(a.warehouse ?? a.warehouseId ?? '', b.warehouse ?? b.warehouseId ?? '') ||
    compareText(a.productId ?? '', b.productId ?? '') ||
    compareText(a.warehouseId ?? '', b.warehouseId ?? '') ||
    compareText(a.status, b.status)
  );
}

/** A sorted copy. */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(compareAlerts);
}

/** Lists shorter than this are sorted with compareAlerts() itself. */
const RANKED_FROM = 256;

/**
 * `list` sorted in place by compareAlerts() of each element's alert, stably (what
 * `list.sort((a, b) => compareAlerts(alertOf(a), alertOf(b)))` gives). A long list (a first poll
 * notifies every alert: 330k at 95 % firing, ~0.5 s through compareAlerts) is sorted by numbers:
 * severity, rule name, SKU-or-id and warehouse-or-id each become a rank among the distinct values
 * (far fewer than alerts), the list is sorted by those with stable counting sorts (least
 * significant first), and only alerts equal in all four are compared with compareAlerts().
 */
export function sortByAlert<T>(list: T[], alertOf: (t: T) => Alert): T[] {
  const n = list.length;
  if (n < RANKED_FROM) return list.sort((a, b) => compareAlerts(alertOf(a), alertOf(b)));
  const alerts = list.map(alertOf);
  const rules = ranks(alerts, (a) => a.rule);
  const severityRule = new Int32Array(n);
  for (let i = 0; i < n; i++) severityRule[i] = SEVERITY_RANK[alerts[i].severity] * rules.count + rules.rank[i];
  const keys = [ranks(alerts, (a) => a.warehouse ?? a.warehouseId ?? ''), ranks(alerts, (a) => a.sku ?? a.productId ?? ''), { rank: severityRule, count: 3 * rules.count }];
  let order: Int32Array = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (const key of keys) order = countingSort(order, key.rank, key.count);
  // Runs equal in all four keys: the rest of compareAlerts() decides (stably).
  const sorted: T[] = new Array<T>(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    const first = order[start];
    while (end < n && severityRule[order[end]] === severityRule[first] && keys[1].rank[order[end]] === keys[1].rank[first] && keys[0].rank[order[end]] === keys[0].rank[first]) end++;
    if (end - start === 1) sorted[start] = list[first];
    else {
      const run = Array.from(order.subarray(start, end)).sort((i, j) => compareAlerts(alerts[i], alerts[j]));
      for (let k = 0; k < run.length; k++) sorted[start + k] = list[run[k]];
    }
    start = end;
  }
  for (let i = 0; i < n; i++) list[i] = sorted[i];
  return list;
}

/** `order` stably sorted by `rank` of its elements (ranks 0..count-1). */
function countingSort(order: Int32Array, rank: Int32Array, count: number): Int32Array {
  const start = new Int32Array(count + 1);
  for (let i = 0; i < order.length; i++) start[rank[order[i]] + 1]++;
  for (let r = 0; r < count; r++) start[r + 1] += start[r];
  const out = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) out[start[rank[order[i]]]++] = order[i];
  return out;
}

/**
 * Each alert's text of `textOf` as its rank among the distinct texts (compareText() order; equal
 * texts, equal ranks), and how many distinct texts there are. Alerts come in runs of one rule and
 * one warehouse: the previous alert's text is tried before the map.
 */
function ranks(alerts: readonly Alert[], textOf: (a: Alert) => string): { rank: Int32Array; count: number } {
  const rankOf = new Map<string, number>();
  let last: string | null = null;
  for (let i = 0; i < alerts.length; i++) {
    const text = textOf(alerts[i]);
    if (text === last) continue;
    rankOf.set(text, 0);
    last = text;
  }
  const distinct = [...rankOf.keys()].sort(compareText);
  for (let r = 0; r < distinct.length; r++) rankOf.set(distinct[r], r);
  const rank = new Int32Array(alerts.length);
  last = null;
  let lastRank = 0;
  for (let i = 0; i < alerts.length; i++) {
    const text = textOf(alerts[i]);
    if (text !== last) {
      lastRank = rankOf.get(text)!;
      last = text;
    }
    rank[i] = lastRank;
  }
  return { rank, count: distinct.length };
}
