// The domain types every stage shares. Each stage owns its own module; this file only
// names the data that flows between them (overview -> rules -> engine -> state -> notify).

/** One inventory item of an overview, joined to its product and warehouse. */
export interface Item {
  warehouseId: string;
  productId: string;
  /** Warehouse name; null when warehouseId is not among the overview's warehouses. */
  warehouse: string | null;
  /** null when productId is not among the overview's products. */
  sku: string | null;
  product: string | null;
  /** Brand name; null for unknown products and for products without a brand object. */
  brand: string | null;
  knownProduct: boolean;
  knownWarehouse: boolean;
  available: number;
  incoming: number;
  reserved: number;
  /** As the API sent it (ISO 8601). */
  updatedAt: string;
  /** updatedAt parsed once, in ms since the epoch. */
  updatedAtMs: number;
  /**
   * Its product's position among the overview's products, or -1 (an unknown product): per-product
   * sums index an array with it instead of hashing the product id of every item.
   */
  productSlot: number;
}

/** An item the source could not use: left out of evaluation, its alerts kept as they were. */
export interface MalformedItem {
  index: number;
  /** Present when the item got far enough to be identified. */
  warehouseId?: string;
  productId?: string;
  /** Names the path, e.g. `items[3].level.available: expected an integer, got "7"`. */
  message: string;
}

export interface Overview {
  items: Item[];
  malformed: MalformedItem[];
  warehouseCount: number;
  productCount: number;
}

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export type RuleType = 'low_available' | 'negative_reserved' | 'stale' | 'unknown_product' | 'stale_warehouse' | 'runs_out';
export const RULE_TYPES: readonly RuleType[] = ['low_available', 'negative_reserved', 'stale', 'unknown_product', 'stale_warehouse', 'runs_out'];

/** `item`: one alert per item; `network`: one alert per product, summed over warehouses (SPEC 3.1). */
export type Scope = 'item' | 'network';

/** A `where` filter after validation: every key given is a non-empty list of globs. */
export interface Where {
  sku?: string[];
  product_id?: string[];
  brand?: string[];
  /** Matches the warehouse's name or its id. */
  warehouse?: string[];
}

/** Where a thing was written, for messages that point back into the rule files. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface Rule {
  name: string;
  type: RuleType;
  severity: Severity;
  channels: string[];
  /** null: never re-notify a still-firing alert. */
  repeatEveryMs: number | null;
  sendResolved: boolean;
  where?: Where;
  summary?: string;
  /** The condition must hold this long (at every poll) before the alert fires; 0: at once. */
  forMs: number;
  /** A firing alert whose condition stops holding keeps firing this long; 0: resolves at once. */
  keepFiringForMs: number;
  /** low_available, runs_out; 'item' for every other type. */
  scope: Scope;
  /** low_available */
  below?: number;
  countIncoming?: boolean;
  /** low_available: a firing alert resolves only once the compared quantity is >= clearAt (hysteresis). */
  clearAt?: number;
  /** stale, stale_warehouse */
  olderThanMs?: number;
  /** runs_out: fires when the projected stock-out is within this long. */
  withinMs?: number;
  /** runs_out: half-life of the exponentially weighted selling rate (default 7d). */
  rateHalfLifeMs?: number;
  /** runs_out: observations needed before it fires (default 3d). */
  minHistoryMs?: number;
  pos: SourcePos;
}

export interface SlackChannel {
  name: string;
  kind: 'slack';
  webhookUrl: string;
}

export interface EmailChannel {
  name: string;
  kind: 'email';
  to: string[];
  /** Cron expression (5 or 6 fields); absent: mail each poll's changes at once. */
  digest?: string;
  /** IANA zone for `digest`; 'UTC' when not given. */
  timezone: string;
  /** Digest only: send an "all clear" on a tick with nothing to report. */
  sendEmpty: boolean;
}

/** JSON POST per poll (SPEC section 5); `secret` signs each body with HMAC-SHA256. */
export interface WebhookChannel {
  name: string;
  kind: 'webhook';
  url: string;
  secret?: string;
}

export type Channel = SlackChannel | EmailChannel | WebhookChannel;
export type ChannelKind = Channel['kind'];

/** What an inhibiting and an inhibited alert must share (SPEC 3.4). */
export type InhibitSame = 'item' | 'product' | 'warehouse';

/** While an alert of a rule matching `when` fires, alerts of rules matching `suppress` that share `same` are not notified. */
export interface Inhibit {
  /** A glob over rule names. */
  when: string;
  /** Globs over rule names. */
  suppress: string[];
  same: InhibitSame;
  pos: SourcePos;
}

export interface Silence {
  where?: Where;
  /** Only this rule; absent: every rule. */
  rule?: string;
  untilMs: number;
  until: string;
  reason?: string;
  pos: SourcePos;
}

export interface RuleSet {
  channels: Record<string, Channel>;
  /** The channels of `defaults` (where the source unreachable/recovered notices go). */
  defaultChannels: string[];
  rules: Rule[];
  inhibit: Inhibit[];
  silences: Silence[];
  /** The files read, in name order (paths relative to the rules folder). */
  files: string[];
}

/** One problem found in the rule files; printed as `FILE:LINE:COL: message`. */
export interface RuleError extends SourcePos {
  message: string;
}

export type AlertStatus = 'pending' | 'firing' | 'resolved';

/** SPEC section 4: exactly these fields, in this order, as `eval --json` prints them. */
export interface Alert {
  rule: string;
  type: RuleType;
  severity: Severity;
  status: AlertStatus;
  /** null for a network-wide alert (scope: network). */
  warehouseId: string | null;
  warehouse: string | null;
  /** null for a warehouse-wide alert (stale_warehouse). */
  productId: string | null;
  sku: string | null;
  product: string | null;
  available: number;
  incoming: number;
  reserved: number;
  updatedAt: string;
  summary: string | null;
  silenced: boolean;
  inhibited: boolean;
  /** low_available of scope item: positive `available` of the same product in every other warehouse. */
  availableElsewhere?: number;
  /** runs_out: learned selling rate, units per day. */
  ratePerDay?: number;
  /** runs_out: projected stock-out (ISO time). */
  runsOutAt?: string;
}

/**
 * A copy of an alert holding exactly SPEC section 4's fields, in its order, the optional ones only
 * where the alert has them: what `eval --json`, `replay --json` and the webhook body print.
 */
export function specAlert(a: Alert): Alert {
  return {
    rule: a.rule,
    type: a.type,
    severity: a.severity,
    status: a.status,
    warehouseId: a.warehouseId,
    warehouse: a.warehouse,
    productId: a.productId,
    sku: a.sku,
    product: a.product,
    available: a.available,
    incoming: a.incoming,
    reserved: a.reserved,
    updatedAt: a.updatedAt,
    summary: a.summary,
    silenced: a.silenced,
    inhibited: a.inhibited,
    ...(a.availableElsewhere !== undefined && { availableElsewhere: a.availableElsewhere }),
    ...(a.ratePerDay !== undefined && { ratePerDay: a.ratePerDay }),
    ...(a.runsOutAt !== undefined && { runsOutAt: a.runsOutAt }),
  };
}

/** Identity of an alert: rule name + warehouseId + productId (a null part is written empty). */
export function alertKey(rule: string, warehouseId: string | null, productId: string | null): string {
  return `${rule}\u001f${warehouseId ?? ''}\u001f${productId ?? ''}`;
}

/** Identity of an item: warehouseId + productId. */
export function itemKey(warehouseId: string | null, productId: string | null): string {
  return `${warehouseId ?? ''}\u001f${productId ?? ''}`;
}
