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
