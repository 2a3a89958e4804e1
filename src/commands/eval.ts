// `stockwatch eval`: what the rules make of a saved overview, offline. No Redis, nothing sent, and
// nothing imported that talks to either (BullMQ, ioredis, nodemailer), so it starts fast.
import * as fs from 'node:fs';
import { UserError } from '../errors';
import { alertKey, RULE_TYPES, SEVERITIES, specAlert, type Alert, type Overview } from '../model';
import { compileRuleSet, evaluate, type CompiledRuleSet } from '../engine/evaluate';
import { EMPTY_HISTORY } from '../engine/forecast';
import type { AlertRecord } from '../engine/lifecycle';
import { compareAlerts } from '../engine/sort';
import { EMPTY_BOOKS, stepPoll, type PollBooks } from '../engine/step';
import { oneLineText } from '../engine/template';
import { formatRuleError, loadRules } from '../rules/load';
import { describeValue, jsonErrorReason, OverviewError, stripBom, toOverview, type SourceOverview } from '../source/overview';
import { parseCommandArgs, printUsage } from './args';
import { plural, rulesDirOf } from './check';

const USAGE = `Usage: stockwatch eval --overview FILE [--previous FILE] [--now ISO] [--rules DIR] [--json]

Shows what the rules make of a saved S2 overview (the body of GET /inventory/overview), offline:
no Redis, nothing sent. Silenced alerts are listed too, marked as such.

Options:
  --overview FILE   the overview to evaluate (required)
  --previous FILE   an earlier overview, or the output of an earlier \`eval --json\`: alerts that
                    fired there and not here are listed as resolved
  --now ISO         evaluate as if it were this moment, e.g. 2024-06-05T12:00:00Z
                    (default: the current time; a time without an offset is UTC)
  --rules DIR       folder of rule files (default: $RULES_DIR, or ./rules)
  --json            print one JSON array of alerts (firing, then resolved) and nothing else
  -h, --help        show this help

Items the overview cannot use are reported on stderr, one line each, and left out.
Exit status: 0 when evaluated (alerts or not), 1 on bad input.`;

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** `--now`: an ISO 8601 date or date-time; without an offset it is taken as UTC. Null when it is not one. */
export function parseIsoTime(text: string): number | null {
  const m = ISO_TIME.exec(text.trim());
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 2024-02-30 over into March: refuse days the month does not have.
  if (new Date(ms).getUTCDate() !== day) return null;
  let offsetMs = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2));
    if (hours > 23 || minutes > 59) return null;
    offsetMs = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  const result = ms - offsetMs;
  return Number.isFinite(result) ? result : null;
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ERR_STRING_TOO_LONG') return 'too large';
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function readJsonFile(option: string, file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`eval: cannot read ${option} ${file}: ${describeReadError(err)}`);
  }
  try {
    return JSON.parse(stripBom(text));
  } catch (err) {
    throw new UserError(`eval: ${file}: not JSON: ${jsonErrorReason(err)}`);
  }
}

function readOverview(file: string, body: unknown): SourceOverview {
  try {
    return toOverview(body);
  } catch (err) {
    if (err instanceof OverviewError) throw new UserError(`eval: ${file}: ${err.message}`);
    throw err;
  }
}

/** What the source left out of an overview, one stderr line each: the rest is still evaluated. */
function reportLeftOut(file: string, overview: SourceOverview): void {
  const lines = overview.malformedEntries.map((message) => `${file}: ${message}`);
  for (const m of overview.malformed) lines.push(`${file}: ${m.message}${/left out\s*$/.test(m.message) ? '' : ' (item left out)'}`);
  if (lines.length > 0) process.stderr.write(lines.join('\n') + '\n');
}

const ALERT_STRING_FIELDS = ['rule', 'updatedAt'] as const;
const ALERT_NULLABLE_FIELDS = ['warehouseId', 'productId', 'warehouse', 'sku', 'product', 'summary'] as const;
const ALERT_NUMBER_FIELDS = ['available', 'incoming', 'reserved'] as const;

/** The output of an earlier `eval --json`, checked field by field (it may have been edited by hand). */
function readAlerts(file: string, body: unknown[]): Alert[] {
  const fail = (path: string, what: string, got: unknown): never => {
    throw new UserError(`eval: ${file}: ${path}: expected ${what}, got ${describeValue(got)}`);
  };
  return body.map((raw, i): Alert => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`[${i}]`, 'an alert object', raw);
    const a = raw as Record<string, unknown>;
    for (const f of ALERT_STRING_FIELDS) if (typeof a[f] !== 'string') fail(`[${i}].${f}`, 'a string', a[f]);
    for (const f of ALERT_NULLABLE_FIELDS) if (a[f] !== null && typeof a[f] !== 'string') fail(`[${i}].${f}`, 'a string or null', a[f]);
    for (const f of ALERT_NUMBER_FIELDS) if (typeof a[f] !== 'number') fail(`[${i}].${f}`, 'a number', a[f]);
    if (!(RULE_TYPES as readonly unknown[]).includes(a.type)) fail(`[${i}].type`, RULE_TYPES.join(' | '), a.type);
    if (!(SEVERITIES as readonly unknown[]).includes(a.severity)) fail(`[${i}].severity`, SEVERITIES.join(' | '), a.severity);
    if (a.status !== 'pending' && a.status !== 'firing' && a.status !== 'resolved') fail(`[${i}].status`, 'pending | firing | resolved', a.status);
    if (typeof a.silenced !== 'boolean') fail(`[${i}].silenced`, 'true or false', a.silenced);
    for (const f of ['availableElsewhere', 'ratePerDay'] as const) if (a[f] !== undefined && typeof a[f] !== 'number') fail(`[${i}].${f}`, 'a number', a[f]);
    if (a.runsOutAt !== undefined && typeof a.runsOutAt !== 'string') fail(`[${i}].runsOutAt`, 'an ISO time', a.runsOutAt);
    // Rebuilt so that the output keeps SPEC's field order and nothing else.
    return specAlert({ ...(a as unknown as Alert), inhibited: a.inhibited === true });
  });
}

/** A previous state as `eval --previous` builds it: what fired there, as fired and notified. */
export interface PreviousState {
  books: PollBooks;
  alerts: Map<string, AlertRecord>;
}

/**
 * What `eval` reports: the daemon's own step (stepPoll) from the state the previous file
 * describes, or from none. `firing` holds pending and firing alerts; `resolved` is null without
 * a previous state.
 */
export function evaluateAgainst(
  overview: Overview,
  before: PreviousState | null,
  compiled: CompiledRuleSet,
  nowMs: number,
): { firing: Alert[]; resolved: Alert[] | null } {
  const step = stepPoll({
    books: before?.books ?? EMPTY_BOOKS,
    alerts: before?.alerts ?? new Map(),
    compiled,
    nowMs,
    outcome: { overview },
    // One overview has no history: runs_out learns nothing here (SPEC section 4).
    history: EMPTY_HISTORY,
  });
  const lifecycle = step.lifecycle!;
  return {
    firing: [...lifecycle.alerts].sort(compareAlerts),
    resolved: before === null ? null : [...lifecycle.resolved].sort(compareAlerts),
  };
}

/**
 * The state of a previous overview (or of alerts read from an earlier --json): each alert as
 * firing and notified, or, when its status says 'pending', as pending and never notified.
 */
export function previousStateOf(held: readonly Alert[], overview: Overview | null, nowMs: number): PreviousState {
  const alerts = new Map<string, AlertRecord>();
  for (const alert of held) {
    const key = alertKey(alert.rule, alert.warehouseId, alert.productId);
    if (alerts.has(key)) continue;
    if (alert.status === 'pending') alerts.set(key, { alert, firstSeenMs: nowMs, lastNotifiedMs: null });
    else alerts.set(key, { alert: { ...alert, status: 'firing' }, firstSeenMs: nowMs, lastNotifiedMs: nowMs });
  }
  const lastGoodItems = overview === null ? null : overview.items.length + overview.malformed.length;
  return { books: { ...EMPTY_BOOKS, lastGoodItems }, alerts };
}

/** The state the --previous file describes. */
function previousState(file: string, compiled: CompiledRuleSet, nowMs: number): PreviousState {
  const body = readJsonFile('--previous', file);
  if (Array.isArray(body)) return previousStateOf(readAlerts(file, body).filter((a) => a.status === 'firing'), null, nowMs);
  const overview = readOverview(file, body);
  reportLeftOut(file, overview);
  // One overview has no history: an alert of a rule with `for` only began to hold there (pending,
  // as `eval` of that overview alone shows it), so it can be dropped but never resolve.
  const held = evaluate(overview.items, compiled, nowMs).map((a): Alert => ((compiled.ruleByName.get(a.rule)?.forMs ?? 0) > 0 ? { ...a, status: 'pending' } : a));
  return previousStateOf(held, overview, nowMs);
}

// ---------------------------------------------------------------------------------------------
// The table

/** Columns wide enough for East Asian wide characters, which take two terminal cells. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x300 && cp <= 0x36f) continue; // combining marks
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

type Align = 'left' | 'right';

function renderTable(header: string[], align: Align[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[c]))));
  const line = (cells: string[]): string =>
    cells
      .map((text, c) => {
        const pad = ' '.repeat(widths[c] - displayWidth(text));
        return align[c] === 'right' ? pad + text : text + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function formatAlertTable(alerts: readonly Alert[]): string {
  // The optional columns appear only when some alert has something to show in them.
  const withSilenced = alerts.some((a) => a.silenced);
  const withInhibited = alerts.some((a) => a.inhibited);
  const withSummary = alerts.some((a) => a.summary !== null);
  const header = ['RULE', 'SEVERITY', 'STATUS', 'SKU', 'WAREHOUSE', 'AVAILABLE', 'RESERVED', 'INCOMING'];
  const align: Align[] = ['left', 'left', 'left', 'left', 'left', 'right', 'right', 'right'];
  if (withSilenced) {
    header.push('SILENCED');
    align.push('left');
  }
  if (withInhibited) {
    header.push('INHIBITED');
    align.push('left');
  }
  if (withSummary) {
    header.push('SUMMARY');
    align.push('left');
  }
  // API text goes into one table cell each: no line breaks or control characters.
  const rows = alerts.map((a) => {
    const row = [
      a.rule,
      a.severity,
      a.status,
      oneLineText(a.sku ?? a.productId ?? '-'),
      oneLineText(a.warehouse ?? a.warehouseId ?? '(all)'),
      String(a.available),
      String(a.reserved),
      String(a.incoming),
    ];
    if (withSilenced) row.push(a.silenced ? 'silenced' : '');
    if (withInhibited) row.push(a.inhibited ? 'inhibited' : '');
    if (withSummary) row.push(oneLineText(a.summary ?? ''));
    return row;
  });
  return renderTable(header, align, rows);
}

function footer(current: readonly Alert[], resolved: readonly Alert[] | null, itemCount: number, ruleCount: number, nowMs: number): string {
  const firing = current.filter((a) => a.status === 'firing');
  const pending = current.length - firing.length;
  const silenced = firing.filter((a) => a.silenced).length;
  const inhibited = firing.filter((a) => a.inhibited).length;
  const notes = [silenced > 0 ? `${silenced} silenced` : '', inhibited > 0 ? `${inhibited} inhibited` : ''].filter(Boolean);
  const parts = [`${firing.length} firing${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`];
  if (pending > 0) parts.push(`${pending} pending`);
  if (resolved !== null) parts.push(`${resolved.length} resolved`);
  return `${parts.join(', ')}; ${plural(itemCount, 'item')}, ${plural(ruleCount, 'rule')}, at ${new Date(nowMs).toISOString()}\n`;
}

// ---------------------------------------------------------------------------------------------

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('eval', argv, {
    overview: { type: 'string' },
    previous: { type: 'string' },
    now: { type: 'string' },
    rules: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (args.help) return printUsage(USAGE);
  const overviewFile = args.values.overview;
  if (typeof overviewFile !== 'string' || overviewFile === '') {
    throw new UserError('eval: --overview FILE is required (see `stockwatch eval --help`)');
  }
  const previousFile = args.values.previous;
  if (previousFile === '') throw new UserError('eval: --previous needs a file');
  let nowMs = Date.now();
  if (typeof args.values.now === 'string') {
    const parsed = parseIsoTime(args.values.now);
    if (parsed === null) {
      throw new UserError(`eval: --now ${JSON.stringify(args.values.now)} is not an ISO 8601 time (e.g. 2024-06-05T12:00:00Z)`);
    }
    nowMs = parsed;
  }

  const loaded = loadRules(rulesDirOf('eval', args.values.rules));
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.map((e) => formatRuleError(e) + '\n').join(''));
    return 1;
  }
  const compiled = compileRuleSet(loaded.ruleSet);

  const overview = readOverview(overviewFile, readJsonFile('--overview', overviewFile));
  const before = typeof previousFile === 'string' ? previousState(previousFile, compiled, nowMs) : null;
  reportLeftOut(overviewFile, overview);

  const { firing, resolved } = evaluateAgainst(overview, before, compiled, nowMs);
  const alerts = resolved === null ? firing : [...firing, ...resolved];
  if (args.values.json === true) {
    process.stdout.write(JSON.stringify(alerts, null, 2) + '\n');
  } else {
    const table = alerts.length > 0 ? formatAlertTable(alerts) : '';
    process.stdout.write(table + footer(firing, resolved, overview.items.length, compiled.rules.length, nowMs));
  }
  return 0;
}
