// The one alert builder of the test tree: an Alert as evaluate() makes it, and a NoticeAlert (an
// Alert plus its event kind and first-seen time) on top. Suites with their own fixture data pass it
// as a preset of fields (see test/notify/helpers.ts, test/digest/helpers.ts).
import type { Alert } from "../../src/model";
import type { NoticeAlert } from "../../src/notify/notice";

/** A firing low-available alert for SKU-1 in wh-1 (the engine tests' item), with `over` applied. */
export function alert(over: Partial<Alert> = {}): Alert {
  return {
    rule: "low-available",
    type: "low_available",
    severity: "warning",
    status: "firing",
    warehouseId: "wh-1",
    warehouse: "Main",
    productId: "p-1",
    sku: "SKU-1",
    product: "Product 1",
    available: 3,
    incoming: 0,
    reserved: 0,
    updatedAt: "2024-06-05T11:00:00Z",
    summary: null,
    silenced: false,
    inhibited: false,
    ...over,
  };
}

/** alert() as a `new` notice line, first seen an hour before its level's updatedAt unless `over` says otherwise. */
export function noticeAlert(over: Partial<NoticeAlert> = {}): NoticeAlert {
  const base = alert(over);
  return {
    ...base,
    kind: "new",
    firstSeenMs: Date.parse(base.updatedAt) - 3_600_000,
    ...over,
  };
}

/** The notice line an engine event makes of `a`: resolved events carry status `resolved`. */
export function asNotice(
  a: Alert,
  kind: NoticeAlert["kind"],
  firstSeenMs: number,
): NoticeAlert {
  return {
    ...a,
    status: kind === "resolved" ? "resolved" : "firing",
    kind,
    firstSeenMs,
  };
}
