// The resolved form of an alert, as the lifecycle reports it.
import type { Alert, Item, Rule } from '../model';
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
  // The last values it fired with (a resolved alert is not evaluated again).
  if (alert.availableElsewhere !== undefined) resolved.availableElsewhere = alert.availableElsewhere;
  if (alert.ratePerDay !== undefined) resolved.ratePerDay = alert.ratePerDay;
  if (alert.runsOutAt !== undefined) resolved.runsOutAt = alert.runsOutAt;
  if (rule !== undefined) {
    resolved.summary = rule.summary === undefined ? null : compileTemplate(rule.summary).render(resolved, item?.brand ?? null, rule);
  }
  return resolved;
}
