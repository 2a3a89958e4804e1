// Alerts that fired before and do not fire now, as 'resolved' copies. Used by `eval --previous`
// and, through toResolved(), by diffAlerts() for the daemon.
import { alertKey, itemKey, type Alert, type Item, type Rule } from '../model';
import { compileTemplate } from './template';

/**
 * The resolved form of a previously firing alert. Where the item still exists its current
 * levels and names are reported (they are what made the alert stop); where the rule is given
 * its current severity and type apply and its summary is rendered again for those levels.
 */
export function toResolved(alert: Alert, item: Item | undefined, rule: Rule | undefined, silenced: boolean): Alert {
  const resolved: Alert = {
    rule: alert.rule,
    type: rule?.type ?? alert.type,
    severity: rule?.severity ?? alert.severity,
    status: 'resolved',
    warehouseId: alert.warehouseId,
    warehouse: item ? item.warehouse : alert.warehouse,
    productId: alert.productId,
    sku: item ? item.sku : alert.sku,
    product: item ? item.product : alert.product,
    available: item ? item.available : alert.available,
    incoming: item ? item.incoming : alert.incoming,
    reserved: item ? item.reserved : alert.reserved,
    updatedAt: item ? item.updatedAt : alert.updatedAt,
    summary: alert.summary,
    silenced,
    inhibited: false,
  };
  if (rule !== undefined) {
    resolved.summary = rule.summary === undefined ? null : compileTemplate(rule.summary).render(resolved, item?.brand ?? null, rule);
  }
  return resolved;
}

export interface ResolvedOptions {
  /** The rule set in force: alerts of rules not in it are left out (a removed rule resolves nothing). */
  rules?: ReadonlyMap<string, Rule>;
  /** itemKey()s of items the current overview could not read: their alerts are not resolved. */
  heldItems?: ReadonlySet<string>;
  /** Whether a silence covers the resolved alert now; default: whether it was silenced before. */
  isSilenced?: (alert: Alert, item?: Item) => boolean;
}

/**
 * The alerts firing in `previous` and not in `current`, as 'resolved' copies, in the order of
 * `previous`. `currentItems` (by itemKey()) supplies the current levels of items that still exist.
 */
export function resolvedBetween(
  previous: readonly Alert[],
  current: readonly Alert[],
  currentItems?: ReadonlyMap<string, Item>,
  options: ResolvedOptions = {},
): Alert[] {
  const firingNow = new Set<string>();
  for (const a of current) if (a.status === 'firing') firingNow.add(alertKey(a.rule, a.warehouseId, a.productId));
  const resolved: Alert[] = [];
  for (const before of previous) {
    if (before.status !== 'firing') continue;
    if (firingNow.has(alertKey(before.rule, before.warehouseId, before.productId))) continue;
    const key = itemKey(before.warehouseId, before.productId);
    if (options.heldItems?.has(key)) continue;
    const rule = options.rules?.get(before.rule);
    if (options.rules !== undefined && rule === undefined) continue;
    const item = currentItems?.get(key);
    const silenced = options.isSilenced ? options.isSilenced(before, item) : before.silenced;
    resolved.push(toResolved(before, item, rule, silenced));
  }
  return resolved;
}
