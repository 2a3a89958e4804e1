// How alert records sit in Redis: compact, and in small hashes that Redis keeps listpack-encoded.
//
// A record holds what the lifecycle needs (status, first seen, last notified, cleared since,
// silenced/inhibited), the levels it last fired at (the status page and digests show them; a
// resolved alert of a vanished item reports them), and no copy of what is shared:
//   - rule names and warehouses become short codes, kept once in the meta hash (`layout`);
//   - product ids that are UUIDs are written as 22 characters of base64url instead of 36;
//   - sku and product name are kept once per product (`…:state:products:<n>`), however many
//     alerts the product has, and removed with its last alert;
//   - the summary is not stored when rendering the rule's template again gives it back.
// Records are spread over `…:state:alerts:<n>` by a hash of their field; the number of buckets
// doubles as records grow, so that each stays under Redis' hash-max-listpack-entries (128), where
// an entry costs its bytes plus ~3 (a plain big hash costs ~100 bytes of overhead per entry).
//
// Names are per product and per warehouse: a stored record decodes to the latest names committed
// for its product, even if it fired under an older one.
import type { AlertRecord } from '../engine/lifecycle';
import { compileTemplate, type CompiledTemplate } from '../engine/template';
import type { Alert, Rule, RuleType, Severity } from '../model';
import { digits, parseUtcTimestamp } from '../timestamp';

/** Records per bucket before the buckets double (Redis converts a hash past 128 entries). */
export const BUCKET_FILL = 100;
/** After a resize, buckets are this full on average: room to grow before the next one. */
const FILL_AFTER_RESIZE = 50;

/** Rule and warehouse codes and the bucket counts; JSON in the meta hash. */
export interface Layout {
  rules: string[];
  /** [warehouseId, warehouse name] by code. */
  warehouses: Array<[string | null, string | null]>;
  alertBuckets: number;
  productBuckets: number;
}

export const emptyLayout = (): Layout => ({ rules: [], warehouses: [], alertBuckets: 1, productBuckets: 1 });

export function parseLayout(json: string | undefined): Layout {
  if (json === undefined || json === '') return emptyLayout();
  const l = JSON.parse(json) as Layout;
  return { rules: l.rules, warehouses: l.warehouses, alertBuckets: l.alertBuckets, productBuckets: l.productBuckets };
}

export function cloneLayout(l: Layout): Layout {
  return { rules: [...l.rules], warehouses: l.warehouses.map(([id, name]) => [id, name]), alertBuckets: l.alertBuckets, productBuckets: l.productBuckets };
}

/** Buckets for `count` entries: a power of two with room to grow. */
export function bucketsFor(count: number, current: number): number {
  if (count <= current * BUCKET_FILL) return current;
  let n = current;
  while (n * FILL_AFTER_RESIZE < count) n *= 2;
  return n;
}

/** FNV-1a over the UTF-16 code units, mixed (murmur3's finalizer: FNV's low bits alone spread ids with a common shape badly), masked to the (power of two) bucket count. */
export function bucketOf(field: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < field.length; i++) {
    h ^= field.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) & (buckets - 1);
}

// ---- ids -------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A product id as it is written: '' for null, a lowercase UUID as 22 base64url characters, else `~id`. */
export function encodeId(id: string | null): string {
  if (id === null) return '';
  if (id.length === 36 && UUID.test(id)) return Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');
  return '~' + id;
}

export function decodeId(s: string): string | null {
  if (s === '') return null;
  if (s.charCodeAt(0) === 126) return s.slice(1);
  const h = Buffer.from(s, 'base64url').toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- times ----------------------------------------------------------------------------------

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** `YYYY-MM-DDT` by day since the epoch: levels are counted within a few days of each other. */
const dayPrefixes = new Map<number, string>();

/** `YYYY-MM-DDTHH:MM:SS` of whole seconds since the epoch. */
function isoSeconds(sec: number): string {
  const day = Math.floor(sec / 86400);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size > 4096) dayPrefixes.clear();
    dayPrefixes.set(day, (prefix = new Date(day * 86_400_000).toISOString().slice(0, 11)));
  }
  const rem = sec - day * 86400;
  const h = Math.floor(rem / 3600);
  const min = Math.floor((rem - h * 3600) / 60);
  return prefix + pad2(h) + ':' + pad2(min) + ':' + pad2(rem % 60);
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/**
 * `2024-06-03T03:40:41.743844Z` -> the number of fraction digits, then seconds x 10^digits + the
 * fraction in base 36 (`6h2bq1kb9jo`: 11 characters instead of 27); anything that would not come
 * back exactly (offsets, nanoseconds, years past 9999) is kept as `!` + base64url.
 */
export function encodeTime(t: string): string {
  const sec = utcSeconds(t);
  if (sec !== null) {
    const places = t.length === 20 ? 0 : t.length - 21;
    const v = places <= 6 ? sec * POW10[places] + (places === 0 ? 0 : digits(t, 20, places)) : NaN;
    if (Number.isSafeInteger(v)) return String(places) + v.toString(36);
  }
  return '!' + Buffer.from(t, 'utf8').toString('base64url');
}

/** Whole seconds since the epoch of exactly `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, every field in range; null for any other text, so that decodeTime() gives back the very text. */
function utcSeconds(t: string): number | null {
  const ms = parseUtcTimestamp(t);
  return ms === ms ? Math.floor(ms / 1000) : null;
}

export function decodeTime(s: string): string {
  const digits = s.charCodeAt(0) - 48;
  if (digits < 0 || digits > 6) return Buffer.from(s.slice(1), 'base64url').toString('utf8');
  const n = parseInt(s.slice(1), 36);
  const scale = POW10[digits];
  const sec = Math.floor(n / scale);
  return isoSeconds(sec) + (digits === 0 ? '' : '.' + String(n - sec * scale).padStart(digits, '0')) + 'Z';
}

// ---- names -----------------------------------------------------------------------------------

export interface ProductNames {
  sku: string | null;
  product: string | null;
}

const UNIT = '\u001f';
const NONE = '\u0000';
const plain = (v: string | null): boolean => v === null || (v !== NONE && !v.includes(UNIT) && v.charCodeAt(0) !== 91);

/** `sku \x1f product` (\0 for null); JSON when a name could be mistaken for that. */
export function encodeProduct(p: ProductNames): string {
  if (!plain(p.sku) || !plain(p.product)) return JSON.stringify([p.sku, p.product]);
  return (p.sku ?? NONE) + UNIT + (p.product ?? NONE);
}

export function decodeProduct(s: string): ProductNames {
  if (s.charCodeAt(0) === 91) {
    const [sku, product] = JSON.parse(s) as [string | null, string | null];
    return { sku, product };
  }
  const at = s.indexOf(UNIT);
  const sku = s.slice(0, at);
  const product = s.slice(at + 1);
  return { sku: sku === NONE ? null : sku, product: product === NONE ? null : product };
}

// ---- records ---------------------------------------------------------------------------------

const TYPES: readonly RuleType[] = ['low_available', 'negative_reserved', 'stale', 'unknown_product', 'stale_warehouse', 'runs_out'];
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
const TYPE_INDEX = new Map(TYPES.map((t, i) => [t, i]));
const SEVERITY_INDEX = new Map(SEVERITIES.map((s, i) => [s, i]));

const templates = new Map<string, CompiledTemplate>();

/** The summary the rule's template gives for this alert, as the store would render it back. */
function rendered(alert: Alert, rule: Rule | undefined): string | null {
  if (rule?.summary === undefined) return null;
  let t = templates.get(rule.summary);
  if (t === undefined) templates.set(rule.summary, (t = compileTemplate(rule.summary)));
  return t.render(alert, null, rule);
}

/** The hash field of a record: rule code . warehouse code . product id. */
export const recordField = (ruleCode: number, warehouseCode: number, productEnc: string): string =>
  `${ruleCode.toString(36)}.${warehouseCode.toString(36)}.${productEnc}`;

/**
 * The value: `<flags><type×severity><firstSeen36>,<lastNotified>,<available>,<incoming>,<reserved>,<updatedAt>[,<extras>[,<summary>]]`.
 * lastNotified is '' (never), '=' (when it started firing) or base 36; extras are `c`leared since,
 * available `e`lsewhere, `r`ate per day, runs `o`ut at, `;`-separated; the summary is '' (none),
 * '~' (the rule's template renders it) or '"' + the text (last, so it may hold anything).
 */
export function encodeValue(r: AlertRecord, rule: Rule | undefined): string {
  const a = r.alert;
  const flags = (a.status === 'pending' ? 1 : 0) | (a.silenced ? 2 : 0) | (a.inhibited ? 4 : 0);
  const ts = (TYPE_INDEX.get(a.type) ?? 0) * 3 + (SEVERITY_INDEX.get(a.severity) ?? 0);
  const ln = r.lastNotifiedMs === null ? '' : r.lastNotifiedMs === r.firstSeenMs ? '=' : r.lastNotifiedMs.toString(36);
  let extras = '';
  const extra = (tag: string, v: string): void => {
    extras += (extras === '' ? '' : ';') + tag + v;
  };
  if (r.clearedSinceMs !== undefined) extra('c', r.clearedSinceMs.toString(36));
  if (a.availableElsewhere !== undefined) extra('e', String(a.availableElsewhere));
  if (a.ratePerDay !== undefined) extra('r', String(a.ratePerDay));
  if (a.runsOutAt !== undefined) extra('o', encodeTime(a.runsOutAt));
  const summary = a.summary === null ? '' : a.summary === rendered(a, rule) ? '~' : '"' + a.summary;
  const head = `${flags}${ts.toString(36)}${r.firstSeenMs.toString(36)},${ln},${a.available},${a.incoming},${a.reserved},${encodeTime(a.updatedAt)}`;
  // Empty trailing parts are left out.
  return summary !== '' ? `${head},${extras},${summary}` : extras !== '' ? `${head},${extras}` : head;
}

export interface RecordIdentity {
  rule: string;
  warehouseId: string | null;
  warehouse: string | null;
  productId: string | null;
  names: ProductNames | undefined;
}

export function decodeValue(id: RecordIdentity, v: string, rule: Rule | undefined): AlertRecord {
  const p = v.split(',');
  // The summary is last and may contain commas.
  const summaryPart = p.length > 8 ? p.slice(7).join(',') : (p[7] ?? '');
  const head = p[0];
  const flags = head.charCodeAt(0) - 48;
  const ts = parseInt(head[1], 36);
  const firstSeenMs = parseInt(head.slice(2), 36);
  const alert: Alert = {
    rule: id.rule,
    type: TYPES[Math.floor(ts / 3)],
    severity: SEVERITIES[ts % 3],
    status: flags & 1 ? 'pending' : 'firing',
    warehouseId: id.warehouseId,
    warehouse: id.warehouse,
    productId: id.productId,
    sku: id.names?.sku ?? null,
    product: id.names?.product ?? null,
    available: Number(p[2]),
    incoming: Number(p[3]),
    reserved: Number(p[4]),
    updatedAt: decodeTime(p[5]),
    summary: null,
    silenced: (flags & 2) !== 0,
    inhibited: (flags & 4) !== 0,
  };
  let clearedSinceMs: number | undefined;
  if (p.length > 6 && p[6] !== '') {
    for (const e of p[6].split(';')) {
      const rest = e.slice(1);
      switch (e[0]) {
        case 'c':
          clearedSinceMs = parseInt(rest, 36);
          break;
        case 'e':
          alert.availableElsewhere = Number(rest);
          break;
        case 'r':
          alert.ratePerDay = Number(rest);
          break;
        case 'o':
          alert.runsOutAt = decodeTime(rest);
          break;
      }
    }
  }
  if (summaryPart === '~') alert.summary = rendered(alert, rule);
  else if (summaryPart !== '') alert.summary = summaryPart.slice(1);
  const ln = p[1];
  const record: AlertRecord = { alert, firstSeenMs, lastNotifiedMs: ln === '' ? null : ln === '=' ? firstSeenMs : parseInt(ln, 36) };
  if (clearedSinceMs !== undefined) record.clearedSinceMs = clearedSinceMs;
  return record;
}

/** firstSeenMs of an encoded record, or null for a pending one (it does not fire). */
export function firstSeenOf(v: string): number | null {
  if ((v.charCodeAt(0) - 48) & 1) return null;
  return parseInt(v.slice(2, v.indexOf(',')), 36);
}

/**
 * A record of the layout before this one (one hash, field `rule\x1fwarehouseId\x1fproductId`, value
 * a JSON array): read once after an upgrade, so that the alerts firing then are not told again as
 * new; the first commit rewrites them all in this layout and deletes the old hash.
 */
export function decodeLegacyRecord(key: string, value: string): AlertRecord {
  const [rule, warehouseId, productId] = key.split('\u001f');
  const v = JSON.parse(value) as [
    number, number | null, RuleType, Severity, string | null, string | null, string | null,
    number, number, number, string, string | null, 0 | 1,
    0 | 1 | undefined, number | null | undefined, number | null | undefined, number | null | undefined, string | null | undefined, 'p' | 'f' | undefined,
  ];
  const alert: Alert = {
    rule, type: v[2], severity: v[3], status: v[18] === 'p' ? 'pending' : 'firing',
    warehouseId: warehouseId === '' ? null : warehouseId, warehouse: v[4],
    productId: productId === '' ? null : productId, sku: v[5], product: v[6],
    available: v[7], incoming: v[8], reserved: v[9], updatedAt: v[10], summary: v[11],
    silenced: v[12] === 1, inhibited: v[13] === 1,
  };
  if (typeof v[15] === 'number') alert.availableElsewhere = v[15];
  if (typeof v[16] === 'number') alert.ratePerDay = v[16];
  if (typeof v[17] === 'string') alert.runsOutAt = v[17];
  const record: AlertRecord = { alert, firstSeenMs: v[0], lastNotifiedMs: v[1] };
  if (typeof v[14] === 'number') record.clearedSinceMs = v[14];
  return record;
}
