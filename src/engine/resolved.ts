// The resolved form of an alert, as the lifecycle reports it.
import type { Alert, Item, Rule } from '../model';
import { compileTemplate } from './template';

/** The item of a resolving alert as it is now. */
export interface ItemNow {
  item: Item;
  /** Its product's positive `available` in the other warehouses now (item-scope alerts). */
  availableElsewhere?: number;
}

/**
 * The resolved form of a previously firing alert. Where the item still exists its current
 * levels, names and stock elsewhere are reported (they are what made the alert stop); where the
 * rule is given its current severity and type apply and its summary is rendered again for those
 * levels.
 */
export function toResolved(alert: Alert, now: ItemNow | undefined, rule: Rule | undefined, silenced: boolean): Alert {
  const item = now?.item;
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
    availableElsewhere: alert.availableElsewhere === undefined ? undefined : (now?.availableElsewhere ?? alert.availableElsewhere),
    // The forecast it last fired with (a resolved alert is not evaluated again).
    ratePerDay: alert.ratePerDay,
    runsOutAt: alert.runsOutAt,
  };
  if (rule !== undefined) {
    resolved.summary = rule.summary === undefined ? null : compileTemplate(rule.summary).render(resolved, item?.brand ?? null, rule);
  }
  return resolved;
}
