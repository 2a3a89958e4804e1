// Email messages: a subject that says what happened, a text part (one line per alert, SPEC
// section 5) and an HTML part built from tables with inline styles only, which common mail
// clients render alike (no external CSS, fonts or images). Pure: notice in, message out.
import type { Severity } from '../../model';
import type { Notice, NoticeAlert, SourceEvent } from '../notice';
import { alertsCsv } from './csv';
import {
  statusWords,
  alertLine,
  alertsHeadline,
  compareByRule,
  countKinds,
  digestCounts,
  firingFor,
  formatAlertLine,
  formatCount,
  formatKindCounts,
  formatUtcTime,
  formatZonedDate,
  formatZonedTime,
  isolate,
  itemLabel,
  oneLineText,
  placeLabel,
  productLabel,
  restSummary,
  sortAlerts,
  summaryText,
  truncate,
  warehouseLabel,
  alertExtras,
} from '../text';

export interface EmailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  attachments?: EmailAttachment[];
}

export interface EmailRenderOptions {
  /** How many alerts of one rule a message lists before it counts the rest (default 50). */
  maxPerRule?: number;
}

const DEFAULT_MAX_PER_RULE = 50;
/** Subjects longer than this are cut; mail clients show far less anyway. */
const SUBJECT_MAX = 200;
/** How many SKUs an alerts subject names. */
const SUBJECT_ITEMS = 3;
const CSV_TYPE = 'text/csv; charset=utf-8';

/** HTML escaping for text and attribute values. */
export function htmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function subject(text: string): string {
  return truncate(oneLineText(`[stockwatch] ${text}`), SUBJECT_MAX);
}

// ---- HTML pieces ------------------------------------------------------------------------------

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const COLORS = {
  text: '#18181b',
  muted: '#52525b',
  border: '#e4e4e7',
  head: '#f4f4f5',
  negative: '#b91c1c',
};
const SEVERITY_COLOR: Record<Severity, string> = { critical: '#b91c1c', warning: '#b45309', info: '#1d4ed8' };
const STATUS_COLOR: Record<string, string> = { firing: '#b91c1c', 'still firing': '#b45309', resolved: '#15803d' };

function page(title: string, body: string): string {
  return (
    '<!DOCTYPE html>\n' +
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${htmlEscape(title)}</title></head>\n` +
    `<body style="margin:0;padding:0;background:${COLORS.head};">\n` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:${COLORS.head};"><tr><td align="center" style="padding:16px;">\n` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:1000px;background:#ffffff;border:1px solid ${COLORS.border};"><tr>` +
    `<td style="padding:16px 20px;${FONT}font-size:14px;line-height:1.4;color:${COLORS.text};">\n` +
    body +
    '</td></tr></table>\n</td></tr></table>\n</body></html>\n'
  );
}

function h1(text: string): string {
  return `<h1 style="margin:0 0 8px;${FONT}font-size:20px;font-weight:bold;color:${COLORS.text};">${htmlEscape(text)}</h1>\n`;
}

function h2(text: string): string {
  return `<h2 style="margin:24px 0 8px;${FONT}font-size:17px;font-weight:bold;color:${COLORS.text};border-bottom:1px solid ${COLORS.border};padding-bottom:4px;">${htmlEscape(text)}</h2>\n`;
}

function h3(html: string): string {
  return `<h3 style="margin:16px 0 6px;${FONT}font-size:15px;font-weight:bold;color:${COLORS.text};">${html}</h3>\n`;
}

function para(text: string, muted = false): string {
  return `<p style="margin:0 0 8px;${FONT}font-size:14px;color:${muted ? COLORS.muted : COLORS.text};">${htmlEscape(text)}</p>\n`;
}

function colored(text: string, color: string): string {
  return `<span style="color:${color};font-weight:bold;">${htmlEscape(text)}</span>`;
}

interface Column {
  title: string;
  numeric?: boolean;
  /** Cell HTML for an alert. */
  html: (a: NoticeAlert) => string;
}

function table(columns: readonly Column[], alerts: readonly NoticeAlert[]): string {
  // Cell styles are kept short (fonts are set once on the table): Gmail clips messages past ~100 kB.
  const cellStyle = `padding:3px 6px;border-bottom:1px solid ${COLORS.border};`;
  const head = columns
    .map(
      (c) =>
        `<th align="${c.numeric ? 'right' : 'left'}" valign="bottom" style="${cellStyle}background:${COLORS.head};white-space:nowrap;">${htmlEscape(c.title)}</th>`,
    )
    .join('');
  const rows = alerts
    .map(
      (a) =>
        '<tr>' +
        columns
          .map((c) =>
            c.numeric
              ? `<td align="right" valign="top" style="${cellStyle}white-space:nowrap;">${c.html(a)}</td>`
              : `<td dir="auto" valign="top" style="${cellStyle}">${c.html(a)}</td>`,
          )
          .join('') +
        '</tr>\n',
    )
    .join('');
  return (
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;margin:0 0 8px;${FONT}font-size:13px;color:${COLORS.text};">\n` +
    `<tr>${head}</tr>\n${rows}</table>\n`
  );
}

function number(n: number): string {
  return n < 0 ? colored(String(n), COLORS.negative) : String(n);
}


const COL = {
  status: (status: (a: NoticeAlert) => string): Column => ({
    title: 'Status',
    html: (a) => colored(status(a), STATUS_COLOR[status(a)] ?? COLORS.text),
  }),
  rule: { title: 'Rule', html: (a) => htmlEscape(oneLineText(a.rule)) } as Column,
  severity: { title: 'Severity', html: (a) => colored(a.severity, SEVERITY_COLOR[a.severity]) } as Column,
  item: { title: 'SKU', html: (a) => htmlEscape(itemLabel(a)) } as Column,
  product: { title: 'Product', html: (a) => htmlEscape(productLabel(a)) } as Column,
  warehouse: { title: 'Warehouse', html: (a) => htmlEscape(warehouseLabel(a)) } as Column,
  available: { title: 'Available', numeric: true, html: (a) => number(a.available) } as Column,
  reserved: { title: 'Reserved', numeric: true, html: (a) => number(a.reserved) } as Column,
  incoming: { title: 'Incoming', numeric: true, html: (a) => number(a.incoming) } as Column,
  summary: { title: 'Summary', html: (a) => htmlEscape(summaryText(a) ?? '') } as Column,
  /** Stock elsewhere, the forecast of a runs_out alert, an inhibition (alertExtras without its leading ` · `). */
  note: { title: 'Note', html: (a) => htmlEscape(alertExtras(a).replace(/^ · /, '')) } as Column,
};

/** Columns of a list of alerts events; the summary column only when some alert has a summary. */
function eventColumns(alerts: readonly NoticeAlert[], status: (a: NoticeAlert) => string): Column[] {
  const columns = [
    COL.status(status),
    COL.rule,
    COL.severity,
    COL.item,
    COL.product,
    COL.warehouse,
    COL.available,
    COL.reserved,
    COL.incoming,
  ];
  if (alerts.some((a) => alertExtras(a) !== '')) columns.push(COL.note);
  if (alerts.some((a) => summaryText(a) !== null)) columns.push(COL.summary);
  return columns;
}

// ---- listing with a per-rule cap --------------------------------------------------------------

/** Splits sorted alerts into those listed (at most `maxPerRule` of each rule) and the rest. */
function capPerRule(sorted: readonly NoticeAlert[], maxPerRule: number): { listed: NoticeAlert[]; rest: NoticeAlert[] } {
  const seen = new Map<string, number>();
  const listed: NoticeAlert[] = [];
  const rest: NoticeAlert[] = [];
  for (const a of sorted) {
    const n = seen.get(a.rule) ?? 0;
    seen.set(a.rule, n + 1);
    (n < maxPerRule ? listed : rest).push(a);
  }
  return { listed, rest };
}

function footerText(n: Notice): string {
  return `Sent by stockwatch at ${formatUtcTime(n.createdAtMs)} (notice ${oneLineText(n.id)}).`;
}

// ---- alerts -----------------------------------------------------------------------------------

function subjectItems(sorted: readonly NoticeAlert[]): string {
  const names: string[] = [];
  for (const a of sorted) {
    const raw = a.sku !== null && a.sku.trim() !== '' ? a.sku : (a.productId ?? a.warehouse ?? a.warehouseId ?? '');
    const name = isolate(oneLineText(raw));
    if (!names.includes(name)) {
      if (names.length === SUBJECT_ITEMS) return `${names.join(', ')}, …`;
      names.push(name);
    }
  }
  return names.join(', ');
}

function renderAlerts(n: Extract<Notice, { type: 'alerts' }>, maxPerRule: number): RenderedEmail {
  const sorted = sortAlerts(n.alerts);
  const counts = formatKindCounts(countKinds(n.alerts));
  const headline = alertsHeadline(n.alerts);
  const { listed, rest } = capPerRule(sorted, maxPerRule);
  const restLine = rest.length > 0 ? `${restSummary(rest, Infinity)} (every alert is in the attached CSV)` : null;

  const text = [headline, '', ...listed.map(alertLine), ...(restLine === null ? [] : [restLine]), '', footerText(n), ''].join('\n');

  let body = h1(headline);
  if (listed.length > 0) body += table(eventColumns(listed, statusWords), listed);
  if (restLine !== null) body += para(restLine);
  body += para(footerText(n), true);

  const email: RenderedEmail = {
    subject: subject(counts === '' ? 'no changes' : `${counts}: ${subjectItems(sorted)}`),
    text,
    html: page(headline, body),
  };
  if (rest.length > 0) {
    email.attachments = [
      { filename: `stockwatch-alerts-${formatZonedDate(n.createdAtMs, 'UTC')}.csv`, content: alertsCsv(sorted), contentType: CSV_TYPE },
    ];
  }
  return email;
}

// ---- source and test --------------------------------------------------------------------------

const SOURCE: Record<SourceEvent, { subject: string; title: string; after: string }> = {
  unreachable: {
    subject: 'S2 source unreachable',
    title: 'stockwatch cannot reach the S2 inventory API',
    after: 'Alerts stay as they were, none is raised or resolved, until a poll succeeds again. You will get a "source recovered" notice then.',
  },
  recovered: {
    subject: 'S2 source recovered',
    title: 'stockwatch reaches the S2 inventory API again',
    after: 'Alerts are evaluated again from this poll on.',
  },
  suspect: {
    subject: 'S2 source: suspect overview',
    title: 'The S2 inventory API sent an overview that looks incomplete',
    after: 'It lost more than half of the items of the last good one; no alert is resolved from it meanwhile.',
  },
};

function renderSource(n: Extract<Notice, { type: 'source' }>): RenderedEmail {
  const s = SOURCE[n.event];
  const detail = oneLineText(n.detail);
  return {
    subject: subject(s.subject),
    text: [s.title, '', detail, s.after, '', footerText(n), ''].join('\n'),
    html: page(s.title, h1(s.title) + para(detail) + para(s.after) + para(footerText(n), true)),
  };
}

function renderTest(n: Extract<Notice, { type: 'test' }>): RenderedEmail {
  const channel = oneLineText(n.channel);
  const title = `stockwatch test notice for channel ${channel}`;
  const body = 'It was sent by `stockwatch notify-test`. No alert is behind it; if you can read it, delivery to this channel works.';
  return {
    subject: subject(`test notice for channel ${channel}`),
    text: [title, '', body, '', footerText(n), ''].join('\n'),
    html: page(title, h1(title) + para(body) + para(footerText(n), true)),
  };
}

// ---- digest -----------------------------------------------------------------------------------

interface RuleGroup {
  severity: Severity;
  rule: string;
  alerts: NoticeAlert[];
}

/** Firing alerts grouped by severity, then rule (input sorted by compareByRule). */
function groupByRule(sorted: readonly NoticeAlert[]): RuleGroup[] {
  const groups: RuleGroup[] = [];
  for (const a of sorted) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.rule === a.rule && last.severity === a.severity) last.alerts.push(a);
    else groups.push({ severity: a.severity, rule: a.rule, alerts: [a] });
  }
  return groups;
}

function renderDigest(n: Extract<Notice, { type: 'digest' }>, maxPerRule: number): RenderedEmail {
  const counts = digestCounts(n);
  const headline = `stockwatch digest: ${counts}`;
  const at = formatZonedTime(n.createdAtMs, n.timezone);
  const since = n.sinceMs === null ? 'this is the first digest of this channel' : `the last digest was at ${formatZonedTime(n.sinceMs, n.timezone)}`;
  const intro = `Alerts firing at ${at}; ${since}.`;
  const firing = [...n.firing].sort(compareByRule);
  const groups = groupByRule(firing);
  const lineFor = (a: NoticeAlert) => formatAlertLine(a, `firing for ${firingFor(a, n.createdAtMs)}`, { productName: true });
  const moreOfRule = (k: number, rule: string) =>
    `… and ${formatCount(k)} more ${oneLineText(rule)} ${k === 1 ? 'alert' : 'alerts'} (every firing alert is in the attached CSV)`;

  // The "new" and "resolved" sections say it in their own lines, whatever the last poll called them.
  const added = sortAlerts(n.newSince.map((a) => ({ ...a, kind: 'new' as const })));
  const resolved = sortAlerts(n.resolvedSince.map((a) => ({ ...a, kind: 'resolved' as const })));
  const changes = [
    { title: `New since the last digest (${formatCount(added.length)})`, alerts: added },
    { title: `Resolved since the last digest (${formatCount(resolved.length)})`, alerts: resolved },
  ].map((c) => ({ ...c, ...capPerRule(c.alerts, maxPerRule) }));

  // text part
  const text: string[] = [headline, intro, '', `FIRING NOW (${formatCount(firing.length)})`];
  if (groups.length === 0) text.push('', 'Nothing is firing.');
  for (const g of groups) {
    const shown = g.alerts.slice(0, maxPerRule);
    text.push('', `${g.severity} · ${oneLineText(g.rule)} (${formatCount(g.alerts.length)})`, ...shown.map(lineFor));
    if (g.alerts.length > shown.length) text.push(moreOfRule(g.alerts.length - shown.length, g.rule));
  }
  for (const c of changes) {
    text.push('', '', c.title.toUpperCase());
    if (c.alerts.length === 0) text.push('None.');
    text.push(...c.listed.map(alertLine));
    if (c.rest.length > 0) text.push(restSummary(c.rest, Infinity));
  }
  text.push('', footerText(n), '');

  // HTML part
  let body = h1(headline) + para(intro, true) + h2(`Firing now (${formatCount(firing.length)})`);
  if (groups.length === 0) body += para('Nothing is firing.');
  const firingColumns = (alerts: readonly NoticeAlert[]): Column[] => {
    const columns: Column[] = [
      COL.item,
      COL.product,
      COL.warehouse,
      COL.available,
      COL.reserved,
      COL.incoming,
      { title: 'Firing for', numeric: true, html: (a) => htmlEscape(firingFor(a, n.createdAtMs)) },
    ];
    if (alerts.some((a) => summaryText(a) !== null)) columns.push(COL.summary);
    return columns;
  };
  for (const g of groups) {
    const shown = g.alerts.slice(0, maxPerRule);
    body += h3(
      `${colored(g.severity, SEVERITY_COLOR[g.severity])} · ${htmlEscape(oneLineText(g.rule))} ` +
        `<span style="color:${COLORS.muted};font-weight:normal;">(${formatCount(g.alerts.length)} firing)</span>`,
    );
    body += table(firingColumns(shown), shown);
    if (g.alerts.length > shown.length) body += para(moreOfRule(g.alerts.length - shown.length, g.rule));
  }
  for (const c of changes) {
    body += h2(c.title);
    if (c.alerts.length === 0) body += para('None.');
    if (c.listed.length > 0) body += table(eventColumns(c.listed, statusWords), c.listed);
    if (c.rest.length > 0) body += para(restSummary(c.rest, Infinity));
  }
  body += para(footerText(n), true);

  const email: RenderedEmail = {
    subject: subject(`digest: ${counts}`),
    text: text.join('\n'),
    html: page(headline, body),
  };
  if (firing.length > 0) {
    email.attachments = [
      {
        filename: `stockwatch-digest-${formatZonedDate(n.createdAtMs, n.timezone)}.csv`,
        content: alertsCsv(firing),
        contentType: CSV_TYPE,
      },
    ];
  }
  return email;
}

/** The email for a notice: subject, text and HTML parts, and a CSV of the alerts where the message lists only some. */
export function renderEmail(n: Notice, opts: EmailRenderOptions = {}): RenderedEmail {
  const maxPerRule = Math.max(0, opts.maxPerRule ?? DEFAULT_MAX_PER_RULE);
  switch (n.type) {
    case 'alerts':
      return renderAlerts(n, maxPerRule);
    case 'source':
      return renderSource(n);
    case 'test':
      return renderTest(n);
    case 'digest':
      return renderDigest(n, maxPerRule);
  }
}
