// The status page's data: what fires now, how the last poll went, the rules in force (and a
// refused reload), silences, and the recent notices with their delivery state. `GET /` renders it
// as HTML (status-page.ts), `GET /api/status` serves it as JSON. Read-only, and secret-free by
// construction: a Slack channel is shown by name and kind only, never its webhook URL.
import { compareAlerts } from '../engine/sort';
import type { AlertRecord } from '../engine/lifecycle';
import { formatDuration } from '../duration';
import { oneLine } from '../errors';
import type { Channel, Rule, RuleType, Severity, Silence, Where } from '../model';
import type { PollMeta, RuleLookup } from '../state/store';
import type { Response, Route } from './http';
import type { DeliveryJob, JobState, QueueJobs } from '../delivery/jobs';
import type { RulesHolder } from '../daemon/rules-holder';
import { renderStatusPage, searchText } from './status-page';

/** What the status page reads; the Daemon is one. */
export interface StatusSource {
  readonly store: { loadMeta(): Promise<PollMeta>; firingAlerts(rules?: RuleLookup): Promise<AlertRecord[]> };
  readonly rules: Pick<RulesHolder, 'current' | 'refused' | 'loadedAtMs'>;
  readonly jobs: Pick<QueueJobs, 'recent'>;
}

/** Firing alerts listed by default (HTML always, JSON unless `?limit=`): a mass event must not make a 50 MB page. */
export const DEFAULT_ALERT_LIMIT = 1000;
/** Recent notices listed, across the delivery queues. */
export const RECENT_NOTICES = 50;
/** Queue reads go through BullMQ's connection, which waits for Redis forever; the page does not. */
const QUEUE_READ_TIMEOUT_MS = 3000;

export interface StatusAlert {
  rule: string;
  type: RuleType;
  severity: Severity;
  /** 'pending' while a rule's `for` has not passed yet: shown, never notified. */
  status: 'pending' | 'firing';
  silenced: boolean;
  inhibited: boolean;
  sku: string | null;
  productId: string | null;
  product: string | null;
  warehouse: string | null;
  warehouseId: string | null;
  available: number;
  reserved: number;
  incoming: number;
  updatedAt: string;
  summary: string | null;
  firingSince: string;
  lastNotifiedAt: string | null;
}

export interface StatusRule {
  name: string;
  type: RuleType;
  severity: Severity;
  channels: string[];
  /** The condition in words, e.g. `available < 10`, `updatedAt older than 2d`. */
  condition: string;
  where: Where | null;
  repeatEvery: string;
  sendResolved: boolean;
  summary: string | null;
  /** FILE:LINE:COL of the rule in the rule files. */
  definedAt: string;
}

/** A channel as the page shows it: a Slack channel's webhook URL is a secret and never leaves the daemon. */
export type StatusChannel =
  | { name: string; kind: 'slack' }
  | { name: string; kind: 'webhook' }
  | { name: string; kind: 'email'; to: string[]; digest: string | null; timezone: string | null };

export interface StatusSilence {
  where: Where | null;
  rule: string | null;
  until: string;
  reason: string | null;
  definedAt: string;
}

export interface StatusNotice {
  jobId: string;
  /** The delivery queue: `slack` or `email`. */
  queue: string;
  channel: string | null;
  /** alerts | source | digest | test */
  type: string;
  /** alerts: new/repeat/resolved; digest: firing/new/resolved. null when not read (too large) or not applicable. */
  counts: Record<string, number> | null;
  /** source notices: unreachable | recovered | suspect, and what was seen. */
  event: string | null;
  detail: string | null;
  state: JobState;
  /** Tries made so far, and how many it gets. */
  attempts: number;
  maxAttempts: number | null;
  /** The last failure; delivery errors never hold a secret. */
  failedReason: string | null;
  createdAt: string | null;
  finishedAt: string | null;
  /** Set when the job's data was too large to read whole. */
  dataBytes: number | null;
}

export interface LastPoll {
  state: 'no poll yet' | 'ok' | 'failed';
  at: string | null;
  durationMs: number | null;
  error: string | null;
  failedInARow: number;
  lastSuccessAt: string | null;
}

export interface StatusReport {
  generatedAt: string;
  /** 'ok', or why not: then lastPoll, firing and notices are null. */
  redis: string;
  lastPoll: LastPoll | null;
  firing: {
    /** Firing alerts (pending ones not counted). */
    total: number;
    bySeverity: Record<Severity, number>;
    silenced: number;
    inhibited: number;
    /** Alerts whose condition holds but whose rule's `for` has not passed yet. */
    pending: number;
    /** The `q` filter applied, if any, and how many alerts it matched. */
    query: string | null;
    matched: number;
    /** The first `limit` matched alerts, most severe first, then by rule, SKU and warehouse. */
    alerts: StatusAlert[];
    limit: number | null;
  } | null;
  rules: {
    loadedAt: string;
    files: string[];
    defaultChannels: string[];
    channels: StatusChannel[];
    rules: StatusRule[];
  };
  /** The last rule change that did not pass `check` (the previous rules stay in force), until a good one replaces it. */
  refusedChange: { at: string; errors: string[] } | null;
  silences: { inForce: StatusSilence[]; expired: number };
  notices: { recent: StatusNotice[]; error: string | null } | null;
}

export interface StatusQuery {
  /** Alerts to list; null = all. */
  limit: number | null;
  /** Words that must all appear in an alert (case-insensitive); null = every alert. */
  q: string | null;
}

/** The two routes; `daemon.ts` adds them to its HTTP server. */
export function statusRoutes(source: StatusSource): Record<string, Route> {
  return {
    '/': async (url) => {
      const q = parseQuery(url.searchParams.get('q'));
      const report = await collectStatus(source, { limit: DEFAULT_ALERT_LIMIT, q }, Date.now());
      return { status: 200, contentType: 'text/html; charset=utf-8', body: renderStatusPage(report) };
    },
    '/api/status': async (url) => {
      const limit = parseLimit(url.searchParams.get('limit'));
      if (typeof limit === 'string') return safeJson(400, { error: limit });
      const report = await collectStatus(source, { limit, q: parseQuery(url.searchParams.get('q')) }, Date.now());
      return safeJson(200, report);
    },
  };
}

/** `?limit=`: a whole number, or `all`; default DEFAULT_ALERT_LIMIT. A string is the one-line error. */
export function parseLimit(text: string | null): number | null | string {
  if (text === null || text.trim() === '') return DEFAULT_ALERT_LIMIT;
  const t = text.trim();
  if (t === 'all') return null;
  if (!/^\d{1,9}$/.test(t)) return `limit: "${t.slice(0, 40)}" is not a number of alerts (or "all")`;
  return Number(t);
}

function parseQuery(text: string | null): string | null {
  const t = (text ?? '').trim().slice(0, 200);
  return t === '' ? null : t;
}

/** JSON with <, > and & as \u escapes: the same value, and no way for a sniffing client to see markup in it. */
function safeJson(status: number, value: unknown): Response {
  const body = JSON.stringify(value, null, 2).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { status, contentType: 'application/json; charset=utf-8', body: body + '\n' };
}

export function matchesQuery(a: StatusAlert, q: string | null): boolean {
  if (q === null) return true;
  const text = searchText(a);
  return q.toLowerCase().split(/\s+/).every((word) => text.includes(word));
}

export async function collectStatus(source: StatusSource, query: StatusQuery, nowMs: number): Promise<StatusReport> {
  const ruleSet = source.rules.current.ruleSet;
  const refused = source.rules.refused;
  const report: StatusReport = {
    generatedAt: iso(nowMs),
    redis: 'ok',
    lastPoll: null,
    firing: null,
    rules: {
      loadedAt: iso(source.rules.loadedAtMs),
      files: ruleSet.files,
      defaultChannels: ruleSet.defaultChannels,
      channels: Object.values(ruleSet.channels).map(channelView),
      rules: ruleSet.rules.map(ruleView),
    },
    refusedChange: refused === null ? null : { at: iso(refused.atMs), errors: refused.errors },
    silences: {
      inForce: ruleSet.silences.filter((s) => s.untilMs > nowMs).map(silenceView),
      expired: ruleSet.silences.filter((s) => s.untilMs <= nowMs).length,
    },
    notices: null,
  };

  let meta: PollMeta;
  let records: AlertRecord[];
  try {
    // The state store's connection fails fast when Redis is away, so these two tell whether it answers.
    [meta, records] = await Promise.all([source.store.loadMeta(), source.store.firingAlerts(source.rules.current.ruleByName)]);
  } catch (err) {
    report.redis = `not answering: ${oneLine(err)}`;
    return report;
  }
  report.lastPoll = {
    state: meta.lastPollOk === null ? 'no poll yet' : meta.lastPollOk ? 'ok' : 'failed',
    at: meta.lastPollAtMs === null ? null : iso(meta.lastPollAtMs),
    durationMs: meta.lastPollDurationMs,
    error: meta.lastPollError,
    failedInARow: meta.failStreak,
    lastSuccessAt: meta.lastSuccessAtMs === null ? null : iso(meta.lastSuccessAtMs),
  };

  records.sort((a, b) => compareAlerts(a.alert, b.alert));
  const bySeverity: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  let silenced = 0;
  let inhibited = 0;
  let pending = 0;
  const matched: StatusAlert[] = [];
  let matchedCount = 0;
  for (const r of records) {
    if (r.alert.status === 'pending') pending += 1;
    else {
      bySeverity[r.alert.severity] += 1;
      if (r.alert.silenced) silenced += 1;
      if (r.alert.inhibited) inhibited += 1;
    }
    const view = alertView(r);
    if (!matchesQuery(view, query.q)) continue;
    matchedCount += 1;
    if (query.limit === null || matched.length < query.limit) matched.push(view);
  }
  report.firing = { total: records.length - pending, bySeverity, silenced, inhibited, pending, query: query.q, matched: matchedCount, alerts: matched, limit: query.limit };

  try {
    report.notices = { recent: await withTimeout(recentNotices(source.jobs, RECENT_NOTICES), QUEUE_READ_TIMEOUT_MS), error: null };
  } catch (err) {
    report.notices = { recent: [], error: oneLine(err) };
  }
  return report;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function alertView(r: AlertRecord): StatusAlert {
  const a = r.alert;
  return {
    rule: a.rule,
    type: a.type,
    severity: a.severity,
    status: a.status === 'pending' ? 'pending' : 'firing',
    silenced: a.silenced,
    inhibited: a.inhibited,
    sku: a.sku,
    productId: a.productId,
    product: a.product,
    warehouse: a.warehouse,
    warehouseId: a.warehouseId,
    available: a.available,
    reserved: a.reserved,
    incoming: a.incoming,
    updatedAt: a.updatedAt,
    summary: a.summary,
    firingSince: iso(r.firstSeenMs),
    lastNotifiedAt: r.lastNotifiedMs === null ? null : iso(r.lastNotifiedMs),
  };
}

function channelView(c: Channel): StatusChannel {
  if (c.kind === 'slack') return { name: c.name, kind: 'slack' };
  if (c.kind === 'webhook') return { name: c.name, kind: 'webhook' };
  return { name: c.name, kind: 'email', to: c.to, digest: c.digest ?? null, timezone: c.digest !== undefined ? c.timezone : null };
}

function conditionOf(r: Rule): string {
  switch (r.type) {
    case 'low_available':
      return r.countIncoming ? `available + incoming < ${r.below}` : `available < ${r.below}`;
    case 'negative_reserved':
      return 'reserved < 0';
    case 'stale':
      return `updatedAt older than ${formatDuration(r.olderThanMs ?? 0)}`;
    case 'unknown_product':
      return 'productId or warehouseId not in the overview';
    case 'stale_warehouse':
      return `no level of the warehouse updated for ${formatDuration(r.olderThanMs ?? 0)}`;
    case 'runs_out':
      return `projected to run out within ${formatDuration(r.withinMs ?? 0)}`;
  }
}

function ruleView(r: Rule): StatusRule {
  return {
    name: r.name,
    type: r.type,
    severity: r.severity,
    channels: r.channels,
    condition: conditionOf(r),
    where: r.where ?? null,
    repeatEvery: r.repeatEveryMs === null ? 'never' : formatDuration(r.repeatEveryMs),
    sendResolved: r.sendResolved,
    summary: r.summary ?? null,
    definedAt: `${r.pos.file}:${r.pos.line}:${r.pos.col}`,
  };
}

function silenceView(s: Silence): StatusSilence {
  return {
    where: s.where ?? null,
    rule: s.rule ?? null,
    until: s.until,
    reason: s.reason ?? null,
    definedAt: `${s.pos.file}:${s.pos.line}:${s.pos.col}`,
  };
}

// ---- recent notices --------------------------------------------------------------------------

async function recentNotices(jobs: Pick<QueueJobs, 'recent'>, count: number): Promise<StatusNotice[]> {
  return (await jobs.recent(count)).map(noticeView);
}

interface NoticeData {
  channel?: unknown;
  notice?: {
    type?: unknown;
    event?: unknown;
    detail?: unknown;
    alerts?: Array<{ kind?: unknown }>;
    firing?: unknown[];
    newSince?: unknown[];
    resolvedSince?: unknown[];
  };
}

function noticeView(h: DeliveryJob): StatusNotice {
  const { data: text, partial } = h;
  const view: StatusNotice = {
    jobId: h.id,
    queue: h.queue,
    channel: null,
    type: h.name ?? 'unknown',
    counts: null,
    event: null,
    detail: null,
    state: h.state,
    attempts: h.attempts,
    maxAttempts: h.maxAttempts,
    failedReason: h.failedReason,
    createdAt: h.timestamp === null ? null : iso(h.timestamp),
    finishedAt: h.finishedOn === null ? null : iso(h.finishedOn),
    dataBytes: partial ? h.dataBytes : null,
  };
  if (text === null) return view;
  if (partial) {
    view.channel = /^\{"channel":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? null;
    return view;
  }
  let data: NoticeData;
  try {
    data = JSON.parse(text) as NoticeData;
  } catch {
    return view;
  }
  if (typeof data.channel === 'string') view.channel = data.channel;
  const n = data.notice;
  if (n === undefined) return view;
  if (typeof n.type === 'string') view.type = n.type;
  if (Array.isArray(n.alerts)) {
    const counts: Record<string, number> = { new: 0, repeat: 0, resolved: 0 };
    for (const a of n.alerts) if (typeof a.kind === 'string' && a.kind in counts) counts[a.kind] += 1;
    view.counts = counts;
  } else if (Array.isArray(n.firing)) {
    view.counts = { firing: n.firing.length, new: n.newSince?.length ?? 0, resolved: n.resolvedSince?.length ?? 0 };
  }
  if (typeof n.event === 'string') view.event = n.event;
  if (typeof n.detail === 'string') view.detail = n.detail;
  return view;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms / 1000} s`)), ms);
    }),
  ]);
}
