// Plain-text building blocks shared by every renderer: the one-line form of an alert (SPEC section 5),
// the order alerts are listed in, counts, and the per-rule sum of alerts left out of a long list.
// Everything here returns unescaped text; each renderer escapes for its own medium.
import type { Severity } from '../model';
import { formatDuration } from '../duration';
import { oneLineText } from '../engine/template';
import type { EventKind, NoticeAlert, OmittedAlerts, SourceEvent } from './notice';

export { oneLineText };

/** The status of an alert in words, as its line says it. */
export const STATUS_WORDS: Record<EventKind, string> = {
  new: 'firing',
  repeat: 'still firing',
  resolved: 'resolved',
};

/** The same events when counted in a header or a summary. */
const COUNT_WORDS: Record<EventKind, string> = {
  new: 'new',
  repeat: 'still firing',
  resolved: 'resolved',
};

const KINDS: readonly EventKind[] = ['new', 'repeat', 'resolved'];

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
const KIND_RANK: Record<EventKind, number> = { new: 0, repeat: 1, resolved: 2 };

/** Most severe first. */
export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'warning', 'info'];

/** For what formatCount does not group by hand; made on first use. */
let numberFormat: Intl.NumberFormat | null = null;

/**
 * A count as people read it: `29,980`. Whole numbers are grouped by hand: creating an
 * Intl.NumberFormat costs ~35 ms (ICU data), more than rendering a whole notice.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) {
    numberFormat ??= new Intl.NumberFormat('en-US');
    return numberFormat.format(n);
  }
  const digits = String(Math.abs(n));
  let grouped = digits.slice(0, digits.length % 3 || 3);
  for (let i = grouped.length; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${grouped}` : grouped;
}

/**
 * Cuts text to at most `max` UTF-16 units, ending in `…`, without splitting a surrogate pair (an
 * emoji). With `entities` it also does not leave half an HTML/Slack entity (`&am`) at the end.
 * Every renderer cuts through this function, so every limit is enforced the same way.
 */
export function truncate(text: string, max: number, opts: { entities?: boolean } = {}): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  if (opts.entities) cut = cut.replace(/&[#a-z0-9]{0,5}$/i, '');
  return `${cut}…`;
}

const FSI = '\u2068';
const PDI = '\u2069';
const ISOLATE_CONTROLS = /[\u2066-\u2069]/;

/**
 * Text from the API inside Unicode isolates (FSI … PDI), so that its direction cannot spill over:
 * an unbalanced right-to-left mark in a product name reverses nothing after it. Isolate controls
 * the text brings itself are balanced first (a stray PDI would close ours early), and every
 * character of the text is kept.
 */
export function isolate(text: string): string {
  if (!ISOLATE_CONTROLS.test(text)) return FSI + text + PDI;
  let open = 0;
  let stray = 0;
  for (const c of text) {
    if (c === PDI) {
      if (open > 0) open--;
      else stray++;
    } else if (c >= '\u2066' && c <= '\u2068') open++;
  }
  return FSI.repeat(1 + stray) + text + PDI.repeat(1 + open);
}

/** API text on one line and isolated: how every name from the API appears in a line. */
function apiText(text: string): string {
  return isolate(oneLineText(text));
}

/** SKU, or productId, as plain text: for sorting, where isolates would only cost time. */
function itemSortKey(a: Pick<NoticeAlert, 'sku' | 'productId'>): string {
  return a.sku ?? a.productId ?? '';
}

/** SKU, or the productId when the product has no SKU (the product is unknown, or its SKU is blank). */
export function itemLabel(a: Pick<NoticeAlert, 'sku' | 'product' | 'productId'>): string {
  if (a.sku !== null && a.sku.trim() !== '') return apiText(a.sku);
  const unknown = a.sku === null && a.product === null;
  if (a.productId === null) return 'all products';
  return `${unknown ? 'unknown product' : 'product'} ${apiText(a.productId)}`;
}

/** Warehouse name, or its id when the warehouse is unknown or has no name; `all warehouses` for a network alert. */
export function warehouseLabel(a: Pick<NoticeAlert, 'warehouse' | 'warehouseId'>): string {
  if (a.warehouse !== null && a.warehouse.trim() !== '') return apiText(a.warehouse);
  if (a.warehouseId === null) return 'all warehouses';
  return `${a.warehouse === null ? 'unknown warehouse' : 'warehouse'} ${apiText(a.warehouseId)}`;
}

/** Product name and brand (`Perruque · Acme`), isolated; '' when there is neither. */
export function productLabel(a: Pick<NoticeAlert, 'product' | 'brand'>): string {
  const name = a.product !== null && a.product.trim() !== '' ? apiText(a.product) : '';
  const brand = a.brand !== undefined && a.brand !== null && a.brand.trim() !== '' ? apiText(a.brand) : '';
  return [name, brand].filter((s) => s !== '').join(' · ');
}

/** Where an alert is: `SKU @ warehouse`; a warehouse-wide alert names the warehouse only. */
export function placeLabel(a: Pick<NoticeAlert, 'sku' | 'product' | 'productId' | 'warehouse' | 'warehouseId'>): string {
  return a.productId === null ? warehouseLabel(a) : `${itemLabel(a)} @ ${warehouseLabel(a)}`;
}

/** `available 0, reserved -13, incoming 0` */
export function levelText(a: Pick<NoticeAlert, 'available' | 'reserved' | 'incoming'>): string {
  return `available ${a.available}, reserved ${a.reserved}, incoming ${a.incoming}`;
}

/** The rule's summary text, when the rule has one and it rendered to something (it may hold API text: isolated). */
export function summaryText(a: Pick<NoticeAlert, 'summary'>): string | null {
  if (a.summary === null || a.summary.trim() === '') return null;
  return apiText(a.summary);
}

/** Units per day as people read them: `0.4`, `12.5`, `1,240`. */
export function formatRate(perDay: number): string {
  return perDay >= 100 ? formatCount(Math.round(perDay)) : String(Math.round(perDay * 10) / 10);
}

/**
 * What an alert's line adds after its levels: stock elsewhere (transfer, don't reorder), the
 * forecast of a runs_out alert, and an inhibition; '' when there is nothing to add.
 */
export function alertExtras(a: Pick<NoticeAlert, 'availableElsewhere' | 'ratePerDay' | 'runsOutAt' | 'inhibited'>): string {
  let out = '';
  if (a.availableElsewhere !== undefined && a.availableElsewhere > 0) out += ` · ${formatCount(a.availableElsewhere)} available elsewhere`;
  if (a.ratePerDay !== undefined) {
    const at = a.runsOutAt === undefined ? NaN : Date.parse(a.runsOutAt);
    out += ` · selling ${formatRate(a.ratePerDay)}/day${Number.isNaN(at) ? '' : `, runs out ${formatUtcTime(at)}`}`;
  }
  if (a.inhibited) out += ' · inhibited';
  return out;
}

/**
 * The line of one alert (SPEC section 5), e.g.
 * `firing · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative`
 * (names from the API inside Unicode isolates). Only this line says that its alert is resolved.
 */
export function alertLine(a: NoticeAlert): string {
  return formatAlertLine(a, statusWords(a));
}

/** `firing`, `still firing`, `resolved`; with what happened since, when a late delivery found the alert moved on. */
export function statusWords(a: Pick<NoticeAlert, 'kind' | 'since'>): string {
  return a.since === undefined ? STATUS_WORDS[a.kind] : `${STATUS_WORDS[a.kind]} (${a.since} since)`;
}

/** An alert line with the status words given (a digest says `firing for 3d4h`) and optionally the product name. */
export function formatAlertLine(a: NoticeAlert, status: string, opts: { productName?: boolean } = {}): string {
  let place = placeLabel(a);
  if (opts.productName && a.product !== null && a.product.trim() !== '') {
    place = a.productId === null ? place : `${itemLabel(a)} (${apiText(a.product)}) @ ${warehouseLabel(a)}`;
  }
  const summary = summaryText(a);
  return (
    `${status} · ${oneLineText(a.rule)} (${a.severity}) · ${place} · ${levelText(a)}${alertExtras(a)}` +
    (summary === null ? '' : ` — ${summary}`)
  );
}

/** How long an alert has been firing when the notice was made, e.g. `3d4h`. */
export function firingFor(a: Pick<NoticeAlert, 'firstSeenMs'>, atMs: number): string {
  const ms = atMs - a.firstSeenMs;
  return ms < 1000 ? '0s' : formatDuration(ms);
}

function compareText(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The order alerts are listed in: most severe first, then new before still firing before resolved,
 * then by rule, item and warehouse; ids last, so that the order is total and renders are stable.
 */
export function compareAlerts(a: NoticeAlert, b: NoticeAlert): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    compareText(a.rule, b.rule) ||
    compareText(itemSortKey(a), itemSortKey(b)) ||
    compareText(a.warehouse ?? a.warehouseId ?? '', b.warehouse ?? b.warehouseId ?? '') ||
    compareText(a.productId ?? '', b.productId ?? '') ||
    compareText(a.warehouseId ?? '', b.warehouseId ?? '')
  );
}

export function sortAlerts(alerts: readonly NoticeAlert[]): NoticeAlert[] {
  return [...alerts].sort(compareAlerts);
}

/** Digest order: by severity, then rule, then item; what happened at the last poll does not matter there. */
export function compareByRule(a: NoticeAlert, b: NoticeAlert): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    compareText(a.rule, b.rule) ||
    compareText(itemSortKey(a), itemSortKey(b)) ||
    compareText(a.warehouse ?? a.warehouseId ?? '', b.warehouse ?? b.warehouseId ?? '') ||
    compareText(a.productId ?? '', b.productId ?? '') ||
    compareText(a.warehouseId ?? '', b.warehouseId ?? '')
  );
}

export type KindCounts = Record<EventKind, number>;

export function countKinds(alerts: readonly NoticeAlert[], omitted: readonly OmittedAlerts[] = []): KindCounts {
  const counts: KindCounts = { new: 0, repeat: 0, resolved: 0 };
  for (const a of alerts) counts[a.kind] += 1;
  for (const o of omitted) counts[o.kind] += o.count;
  return counts;
}

/** `3 new, 1 still firing, 2 resolved` (kinds with no alert left out); '' when there are none. */
export function formatKindCounts(counts: KindCounts): string {
  return KINDS.filter((k) => counts[k] > 0)
    .map((k) => `${formatCount(counts[k])} ${COUNT_WORDS[k]}`)
    .join(', ');
}

/** `stockwatch: 3 new, 1 still firing, 2 resolved` */
export function alertsHeadline(alerts: readonly NoticeAlert[], omitted: readonly OmittedAlerts[] = []): string {
  const counts = formatKindCounts(countKinds(alerts, omitted));
  return `stockwatch: ${counts === '' ? 'no changes' : counts}`;
}

export interface RuleSum {
  rule: string;
  severity: Severity;
  total: number;
  counts: KindCounts;
}

/** Alerts summed up per rule, most severe rule first, then the biggest, then by name. */
export function sumPerRule(alerts: readonly NoticeAlert[], omitted: readonly OmittedAlerts[] = []): RuleSum[] {
  const byRule = new Map<string, RuleSum>();
  const add = (a: Pick<OmittedAlerts, 'rule' | 'severity' | 'kind'>, count: number): void => {
    let sum = byRule.get(a.rule);
    if (sum === undefined) {
      sum = { rule: a.rule, severity: a.severity, total: 0, counts: { new: 0, repeat: 0, resolved: 0 } };
      byRule.set(a.rule, sum);
    }
    sum.total += count;
    sum.counts[a.kind] += count;
    // One rule has one severity; should a notice mix them, sort the rule by its most severe alert.
    if (SEVERITY_RANK[a.severity] < SEVERITY_RANK[sum.severity]) sum.severity = a.severity;
  };
  for (const a of alerts) add(a, 1);
  for (const o of omitted) add(o, o.count);
  return [...byRule.values()].sort(
    (x, y) => SEVERITY_RANK[x.severity] - SEVERITY_RANK[y.severity] || y.total - x.total || compareText(x.rule, y.rule),
  );
}

/** `low-available 25,000 new, 4,980 resolved` */
export function formatRuleSum(sum: RuleSum): string {
  return `${oneLineText(sum.rule)} ${formatKindCounts(sum.counts)}`;
}

/**
 * Joins parts with `sep` while the result stays within `maxChars`; when parts are left over,
 * ends with `more(leftOver)` (which must be short). Measured after `measure` (e.g. escaping).
 */
export function joinWithin(
  parts: readonly string[],
  sep: string,
  maxChars: number,
  more: (leftOver: number) => string,
  measure: (s: string) => string = (s) => s,
): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const next = out === '' ? parts[i] : out + sep + parts[i];
    const tail = i + 1 < parts.length ? sep + more(parts.length - i - 1) : '';
    if (measure(next + tail).length > maxChars) {
      const rest = more(parts.length - i);
      return out === '' ? rest : out + sep + rest;
    }
    out = next;
  }
  return out;
}

/** `… and 29,980 more: low-available 25,000 new, 4,980 resolved; negative-reserved 12 still firing` */
export function restSummary(
  rest: readonly NoticeAlert[],
  maxChars: number,
  measure?: (s: string) => string,
  omitted: readonly OmittedAlerts[] = [],
): string {
  const head = `… and ${formatCount(rest.length + omitted.reduce((n, o) => n + o.count, 0))} more: `;
  const parts = sumPerRule(rest, omitted).map(formatRuleSum);
  const measureWithHead = (s: string) => (measure ?? ((x: string) => x))(head + s);
  return (
    head +
    joinWithin(parts, '; ', maxChars, (n) => `${formatCount(n)} more ${n === 1 ? 'rule' : 'rules'}`, measureWithHead)
  );
}

/** What a source notice is about, as its headline says it. */
export const SOURCE_TITLES: Record<SourceEvent, string> = {
  unreachable: 'S2 source unreachable',
  recovered: 'S2 source recovered',
  suspect: 'suspect overview from S2',
};

/**
 * Parts of a time in an IANA zone; UTC when the zone is not one Intl knows (config should have refused it).
 * UTC is read off the Date itself, the same parts as Intl gives: the first Intl.DateTimeFormat of a
 * process costs ~20 ms (ICU data), and most notices are dated in UTC only (`poll --once` waits for them).
 */
function zonedParts(ms: number, timeZone: string): { parts: Record<string, string>; zone: string } {
  if (timeZone === 'UTC') {
    const parts = utcParts(ms);
    if (parts !== null) return { parts, zone: timeZone };
  }
  let format: Intl.DateTimeFormat;
  let zone = timeZone;
  const options: Intl.DateTimeFormatOptions = {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  };
  try {
    format = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
  } catch {
    zone = 'UTC';
    format = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value;
  return { parts, zone };
}

/** Intl's parts of a UTC time; null for years before 1 (Intl counts them by era) and invalid times (Intl throws). */
function utcParts(ms: number): Record<string, string> | null {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!(year >= 1)) return null;
  const two = (n: number): string => String(n).padStart(2, '0');
  return { year: String(year), month: two(d.getUTCMonth() + 1), day: two(d.getUTCDate()), hour: two(d.getUTCHours()), minute: two(d.getUTCMinutes()) };
}

/** `2026-05-01 08:00 America/Toronto` */
export function formatZonedTime(ms: number, timeZone: string): string {
  const { parts, zone } = zonedParts(ms, timeZone);
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zone}`;
}

/** `2026-05-01`, the calendar date in that zone. */
export function formatZonedDate(ms: number, timeZone: string): string {
  const { parts } = zonedParts(ms, timeZone);
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** `2026-05-01 12:00 UTC` */
export function formatUtcTime(ms: number): string {
  return formatZonedTime(ms, 'UTC');
}

/** `42 firing (5 new, 3 resolved)`, or `all clear` when nothing fires. */
export function digestCounts(d: { firing: readonly unknown[]; newSince: readonly unknown[]; resolvedSince: readonly unknown[] }): string {
  const changes = [
    d.newSince.length > 0 ? `${formatCount(d.newSince.length)} new` : '',
    d.resolvedSince.length > 0 ? `${formatCount(d.resolvedSince.length)} resolved` : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
  const state = d.firing.length === 0 ? 'all clear' : `${formatCount(d.firing.length)} firing`;
  return `${state}${changes === '' ? '' : ` (${changes})`}`;
}
