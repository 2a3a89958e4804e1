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

export type RuleType = 'low_available' | 'negative_reserved' | 'stale' | 'unknown_product';
export const RULE_TYPES: readonly RuleType[] = ['low_available', 'negative_reserved', 'stale', 'unknown_product'];

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
  /** low_available */
  below?: number;
  countIncoming?: boolean;
  /** stale */
  olderThanMs?: number;
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

export type Channel = SlackChannel | EmailChannel;

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
  silences: Silence[];
  /** The files read, in name order (paths relative to the rules folder). */
  files: string[];
}

/** One problem found in the rule files; printed as `FILE:LINE:COL: message`. */
export interface RuleError extends SourcePos {
  message: string;
}

export type AlertStatus = 'firing' | 'resolved';

/** SPEC section 4: exactly these fields, in this order, as `eval --json` prints them. */
export interface Alert {
  rule: string;
  type: RuleType;
  severity: Severity;
  status: AlertStatus;
  warehouseId: string;
  warehouse: string | null;
  productId: string;
  sku: string | null;
  product: string | null;
  available: number;
  incoming: number;
  reserved: number;
  updatedAt: string;
  summary: string | null;
  silenced: boolean;
}

/** Identity of an alert: rule name + warehouseId + productId. */
export function alertKey(rule: string, warehouseId: string, productId: string): string {
  return `${rule}\u001f${warehouseId}\u001f${productId}`;
}

/** Identity of an item: warehouseId + productId. */
export function itemKey(warehouseId: string, productId: string): string {
  return `${warehouseId}\u001f${productId}`;
}
