// How alert records sit in Redis: compact, and in small hashes that Redis keeps listpack-encoded.
//
// A record holds what the lifecycle needs (status, first seen, last notified, cleared since,
// silenced/inhibited), the levels it last fired at (the status page and digests show them; a
// resolved alert of a vanished item reports them), and no copy of what is shared:
//   - rule names and warehouses become short codes, kept once in the meta hash (`layout`);
//   - product ids that are UUIDs are written as 22 characters of base64url instead of 36;
//   - sku and product name are kept once per product (`…:state:products:<n>`), however many
//     alerts the product has, and removed with its last alert;
//   - the summary is not stored when rendering the rule's template again gives it back;
//   - times are written from the layout's epoch (a time near the records', chosen when they are
//     all written anew), in base 36: a few characters instead of a date.
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

/** Rule and warehouse codes, the bucket counts and the time base; JSON in the meta hash. */
export interface Layout {
  rules: string[];
  /** [warehouseId, warehouse name] by code. */
  warehouses: Array<[string | null, string | null]>;
  alertBuckets: number;
  productBuckets: number;
  /**
   * Seconds since 1970 that the records' times are written from (0 in layouts that predate it):
   * chosen when every record is written anew, close to their times, so that each takes a few
   * characters less.
   */
  epoch: number;
}

export const emptyLayout = (): Layout => ({ rules: [], warehouses: [], alertBuckets: 1, productBuckets: 1, epoch: 0 });

export function parseLayout(json: string | undefined): Layout {
  if (json === undefined || json === '') return emptyLayout();
  const l = JSON.parse(json) as Layout;
  return { rules: l.rules, warehouses: l.warehouses, alertBuckets: l.alertBuckets, productBuckets: l.productBuckets, epoch: Number.isSafeInteger(l.epoch) ? l.epoch : 0 };
}

export function cloneLayout(l: Layout): Layout {
  return { ...l, rules: [...l.rules], warehouses: l.warehouses.map(([id, name]) => [id, name]) };
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

// ---- numbers --------------------------------------------------------------------------------

const DIGITS36 = '0123456789abcdefghijklmnopqrstuvwxyz';
/** 36^5: five base-36 digits, small enough for int32 arithmetic. */
const CHUNK36 = 60_466_176;

function smallBase36(n: number): string {
  let s = '';
  do {
    const q = (n / 36) | 0;
    s = DIGITS36[n - q * 36] + s;
    n = q;
  } while (n > 0);
  return s;
}

/**
 * `n.toString(36)`, fast for the non-negative integers records hold: V8's toString(36) is made
 * for fractions and takes ~2 µs on a millisecond time (a cold commit of 335k records spent
 * seconds in it).
 */
export function base36(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toString(36);
  // Times written from a layout's epoch fall before it too.
  if (n < 0) return '-' + base36(-n);
  if (n < CHUNK36) return smallBase36(n);
  const high = Math.floor(n / CHUNK36);
  return base36(high) + smallBase36(n - high * CHUNK36).padStart(5, '0');
}

/** parseInt(s.slice(from, to), 36) without the slice; the digits must be [0-9a-z] after an optional '-' (else parseInt decides). */
function readBase36(s: string, from: number, to: number): number {
  if (s.charCodeAt(from) === 45 && from + 1 < to) return -readBase36(s, from + 1, to);
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n = n * 36 + (c - 48);
    else if (c >= 97 && c <= 122) n = n * 36 + (c - 87);
    else return parseInt(s.slice(from, to), 36);
  }
  // parseInt gives NaN for no digits at all.
  return from < to && n <= Number.MAX_SAFE_INTEGER ? n : parseInt(s.slice(from, to), 36);
}

/** Number(s.slice(from, to)) without the slice for the plain integers levels are (-?digits, up to 15); anything else goes to Number. */
function readNumber(s: string, from: number, to: number): number {
  let i = from;
  const negative = s.charCodeAt(i) === 45;
  if (negative) i++;
  if (i === to || to - i > 15) return Number(s.slice(from, to));
  let n = 0;
  for (; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number(s.slice(from, to));
    n = n * 10 + c;
  }
  return negative ? -n : n;
}

// ---- times ----------------------------------------------------------------------------------

/** `YYYY-MM-DDT` by day since the epoch: levels are counted within a few days of each other. */
const dayPrefixes = new Map<number, string>();

/**
 * Where a decoded time is put together: the text is taken from it in one piece. Built by `+`,
 * it was a chain of ~8 string pieces per record, all kept alive by the 300,000 records a load
 * decodes (the garbage collector copies each of them) and flattened again by the first comparison.
 */
const timeText = Buffer.alloc(64);

/** `YYYY-MM-DDTHH:MM:SS[.fraction]Z` of whole seconds since the epoch and `places` fraction digits. */
function isoText(sec: number, places: number, fraction: number): string {
  const day = Math.floor(sec / 86400);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size > 4096) dayPrefixes.clear();
    dayPrefixes.set(day, (prefix = new Date(day * 86_400_000).toISOString().slice(0, 11)));
  }
  const b = timeText;
  let at = 0;
  for (; at < prefix.length; at++) b[at] = prefix.charCodeAt(at);
  const rem = sec - day * 86400;
  const h = Math.floor(rem / 3600);
  const min = Math.floor((rem - h * 3600) / 60);
  const s = rem - h * 3600 - min * 60;
  at = twoDigits(b, at, h);
  b[at++] = 58; // :
  at = twoDigits(b, at, min);
  b[at++] = 58;
  at = twoDigits(b, at, s);
  if (places > 0) {
    b[at++] = 46; // .
    for (let i = at + places - 1; i >= at; i--) {
      b[i] = 48 + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    at += places;
  }
  b[at++] = 90; // Z
  return b.toString('latin1', 0, at);
}

function twoDigits(b: Buffer, at: number, n: number): number {
  b[at] = 48 + Math.floor(n / 10);
  b[at + 1] = 48 + (n % 10);
  return at + 2;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/**
 * `2024-06-03T03:40:41.743844Z` -> the number of fraction digits, then seconds since `epoch`
 * (Layout.epoch) x 10^digits + the fraction in base 36 (`6h2bq1kb9jo` from 0: 11 characters
 * instead of 27, `-1l9cbj3c` from a day later); anything that would not come back exactly
 * (offsets, nanoseconds, years past 9999) is kept as `!` + base64url.
 */
export function encodeTime(t: string, epoch = 0): string {
  const sec = utcSeconds(t);
  if (sec !== null) {
    const places = t.length === 20 ? 0 : t.length - 21;
    const v = places <= 6 ? sec * POW10[places] + (places === 0 ? 0 : digits(t, 20, places)) : NaN;
    // Both exact: the decoder adds the epoch back.
    const fromEpoch = v - epoch * POW10[places];
    if (Number.isSafeInteger(v) && Number.isSafeInteger(fromEpoch)) return String(places) + base36(fromEpoch);
  }
  return '!' + Buffer.from(t, 'utf8').toString('base64url');
}

/** Whole seconds since the epoch of exactly `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, every field in range; null for any other text, so that decodeTime() gives back the very text. */
function utcSeconds(t: string): number | null {
  const ms = parseUtcTimestamp(t);
  return ms === ms ? Math.floor(ms / 1000) : null;
}

export function decodeTime(s: string, epoch = 0): string {
  return decodeTimeAt(s, 0, s.length, epoch);
}

/** decodeTime(s.slice(from, to), epoch) without the slice. */
function decodeTimeAt(s: string, from: number, to: number, epoch: number): string {
  const digits = s.charCodeAt(from) - 48;
  if (digits < 0 || digits > 6) return Buffer.from(s.slice(from + 1, to), 'base64url').toString('utf8');
  const scale = POW10[digits];
  const n = readBase36(s, from + 1, to) + epoch * scale;
  const sec = Math.floor(n / scale);
  return isoText(sec, digits, n - sec * scale);
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
  `${base36(ruleCode)}.${base36(warehouseCode)}.${productEnc}`;

// Flags, one base-36 digit. The format's first version wrote only the first three (a decimal digit).
const PENDING = 1;
const SILENCED = 2;
const INHIBITED = 4;
/** The summary is what the rule's template renders (no summary part). */
const RENDERED = 8;
/** Last notified when it started firing (lastNotified left empty). */
const NOTIFIED_AT_START = 16;

/**
 * The value: `<flags><type×severity><firstSeen36>,<lastNotified>,<available>,<incoming>,<reserved>,<updatedAt>[,<extras>[,<summary>]]`.
 * Times are milliseconds (updatedAt and runs out at: encodeTime) from the layout's `epoch`.
 * lastNotified is '' (never, or flag NOTIFIED_AT_START), '=' (when it started firing: the first
 * version) or base 36; extras are `c`leared since, available `e`lsewhere, `r`ate per day, runs
 * `o`ut at, `;`-separated; the summary is '' (none, or flag RENDERED), '~' (the rule's template
 * renders it: the first version) or '"' + the text (last, so it may hold anything).
 */
export function encodeValue(r: AlertRecord, rule: Rule | undefined, epoch = 0): string {
  const a = r.alert;
  const base = epoch * 1000;
  const renders = a.summary !== null && a.summary === rendered(a, rule);
  const atStart = r.lastNotifiedMs !== null && r.lastNotifiedMs === r.firstSeenMs;
  const flags =
    (a.status === 'pending' ? PENDING : 0) | (a.silenced ? SILENCED : 0) | (a.inhibited ? INHIBITED : 0) | (renders ? RENDERED : 0) | (atStart ? NOTIFIED_AT_START : 0);
  const ts = (TYPE_INDEX.get(a.type) ?? 0) * 3 + (SEVERITY_INDEX.get(a.severity) ?? 0);
  const ln = r.lastNotifiedMs === null || atStart ? '' : base36(r.lastNotifiedMs - base);
  let extras = '';
  if (r.clearedSinceMs !== undefined) extras = 'c' + base36(r.clearedSinceMs - base);
  if (a.availableElsewhere !== undefined) extras += (extras === '' ? 'e' : ';e') + a.availableElsewhere;
  if (a.ratePerDay !== undefined) extras += (extras === '' ? 'r' : ';r') + a.ratePerDay;
  if (a.runsOutAt !== undefined) extras += (extras === '' ? 'o' : ';o') + encodeTime(a.runsOutAt, epoch);
  const summary = a.summary === null || renders ? '' : '"' + a.summary;
  const head = `${DIGITS36[flags]}${DIGITS36[ts]}${base36(r.firstSeenMs - base)},${ln},${a.available},${a.incoming},${a.reserved},${encodeTime(a.updatedAt, epoch)}`;
  // Empty trailing parts are left out.
  return summary !== '' ? `${head},${extras},${summary}` : extras !== '' ? `${head},${extras}` : head;
}

/** The flags of a value (a base-36 digit). */
function flagsOf(v: string): number {
  const c = v.charCodeAt(0);
  return c <= 57 ? c - 48 : c - 87;
}

/**
 * The record of value `v` for the alert of `rule` at this warehouse and product; `names` are the
 * product's (shared by its records). Reads the value in place (no split): a poll that finds
 * 300,000 alerts stored decodes every one of them.
 */
export function decodeValue(
  ruleName: string, warehouseId: string | null, warehouse: string | null, productId: string | null, names: ProductNames | undefined,
  v: string, rule: Rule | undefined, epoch = 0,
): AlertRecord {
  const end = v.length;
  // The first six commas always follow (the levels and updatedAt are never empty); the 7th ends the extras.
  const c1 = v.indexOf(',');
  const c2 = v.indexOf(',', c1 + 1);
  const c3 = v.indexOf(',', c2 + 1);
  const c4 = v.indexOf(',', c3 + 1);
  const c5 = v.indexOf(',', c4 + 1);
  let c6 = v.indexOf(',', c5 + 1);
  if (c6 < 0) c6 = end;
  let c7 = c6 < end ? v.indexOf(',', c6 + 1) : -1;
  if (c7 < 0) c7 = end;
  const base = epoch * 1000;
  const flags = flagsOf(v);
  const ts = readBase36(v, 1, 2);
  const firstSeenMs = readBase36(v, 2, c1) + base;
  const alert: Alert = {
    rule: ruleName,
    type: TYPES[Math.floor(ts / 3)],
    severity: SEVERITIES[ts % 3],
    status: flags & PENDING ? 'pending' : 'firing',
    warehouseId,
    warehouse,
    productId,
    sku: names?.sku ?? null,
    product: names?.product ?? null,
    available: readNumber(v, c2 + 1, c3),
    incoming: readNumber(v, c3 + 1, c4),
    reserved: readNumber(v, c4 + 1, c5),
    updatedAt: decodeTimeAt(v, c5 + 1, c6, epoch),
    summary: null,
    silenced: (flags & SILENCED) !== 0,
    inhibited: (flags & INHIBITED) !== 0,
    // The evaluation's shape (engine/evaluate.ts: the fields other types add are there,
    // undefined): an extra is then set in place, not added as a property after the fact (which
    // made a second shape and allocated a property store per record), and the lifecycle's reads
    // of stored and evaluated alerts stay monomorphic.
    availableElsewhere: undefined,
    ratePerDay: undefined,
    runsOutAt: undefined,
  };
  let clearedSinceMs: number | undefined;
  // Extras: tag + value, `;`-separated, between c6 and c7.
  for (let at = c6 + 1; at < c7; ) {
    let stop = v.indexOf(';', at);
    if (stop < 0 || stop > c7) stop = c7;
    switch (v.charCodeAt(at)) {
      case 99: // c
        clearedSinceMs = readBase36(v, at + 1, stop) + base;
        break;
      case 101: // e
        alert.availableElsewhere = readNumber(v, at + 1, stop);
        break;
      case 114: // r
        alert.ratePerDay = Number(v.slice(at + 1, stop));
        break;
      case 111: // o
        alert.runsOutAt = decodeTimeAt(v, at + 1, stop, epoch);
        break;
    }
    at = stop + 1;
  }
  // The summary: everything after the 7th comma (it may hold commas itself).
  if (flags & RENDERED) alert.summary = rendered(alert, rule);
  else if (c7 < end) {
    if (c7 + 2 === end && v.charCodeAt(c7 + 1) === 126) alert.summary = rendered(alert, rule);
    else if (c7 + 1 < end) alert.summary = v.slice(c7 + 2);
  }
  const lnFrom = c1 + 1;
  const lastNotifiedMs =
    flags & NOTIFIED_AT_START ? firstSeenMs
    : c2 === lnFrom ? null
    : c2 === lnFrom + 1 && v.charCodeAt(lnFrom) === 61 ? firstSeenMs
    : readBase36(v, lnFrom, c2) + base;
  const record: AlertRecord = { alert, firstSeenMs, lastNotifiedMs };
  if (clearedSinceMs !== undefined) record.clearedSinceMs = clearedSinceMs;
  return record;
}

/** firstSeenMs of an encoded record (of a layout with this epoch), or null for a pending one (it does not fire). */
export function firstSeenOf(v: string, epoch = 0): number | null {
  if (flagsOf(v) & PENDING) return null;
  return readBase36(v, 2, v.indexOf(',')) + epoch * 1000;
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
