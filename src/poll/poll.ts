// One poll: fetch -> validate -> evaluate -> diff -> commit state and notices together -> queue them.
// Everything that decides is in the engine; this file sequences it and keeps the books
// (failure streaks, suspect overviews) that SPEC section 4 asks for.
import { diffAlerts } from '../engine/diff';
import { evaluate, silenceChecker, type CompiledRuleSet } from '../engine/evaluate';
import { oneLine } from '../errors';
import type { Logger } from '../log';
import { itemKey, type Item, type Overview } from '../model';
import type { AlertRecord } from '../engine/diff';
import type { Commit, OutboxEntry, StateStore } from '../state/store';
import { alertNotices, routeEvents, sourceNotices, type PollTag } from '../delivery/route';

/** Failed polls in a row before the default channels hear "source unreachable". */
export const UNREACHABLE_AFTER = 3;
/** Polls in a row an overview that lost more than half of its items is held before it is accepted. */
export const SUSPECT_POLLS = 3;
/** Malformed items logged one by one per poll; past that, a count (a broken feed must not flood the logs). */
const MALFORMED_LOGGED = 20;

export interface PollDeps {
  store: StateStore;
  /** The overview, with how long the exchange and the parse took when the source measures them. */
  fetchOverview: () => Promise<{ overview: Overview; fetchMs?: number; parseMs?: number }>;
  rules: () => CompiledRuleSet;
  /** Moves committed outbox entries to their queues (idempotent: job id = entry id). */
  flushOutbox: () => Promise<string[]>;
  log: Logger;
}

export interface PollReport {
  ok: boolean;
  /** false when another poll committed first (this one's results were dropped). */
  committed: boolean;
  error?: string;
  items: number;
  malformed: number;
  firing: number;
  newCount: number;
  repeatCount: number;
  resolvedCount: number;
  suspect: boolean;
  /** Job ids of the notices this poll caused. */
  notices: string[];
  /** Firing alerts by `rule` and `severity` after this poll, for the metrics. */
  firingByRule: Array<{ rule: string; severity: string; count: number }>;
  durationMs: number;
  /** Milliseconds per phase, for the logs and the benchmark. */
  phases: Record<'fetch' | 'parse' | 'load' | 'evaluate' | 'commit' | 'queue', number>;
}

export async function runPoll(deps: PollDeps, nowMs: number): Promise<PollReport> {
  const started = performance.now();
  const compiled = deps.rules();
  const ruleSet = compiled.ruleSet;

  const phases: PollReport['phases'] = { fetch: 0, parse: 0, load: 0, evaluate: 0, commit: 0, queue: 0 };
  let mark = performance.now();
  const lap = (phase: keyof PollReport['phases']): void => {
    const t = performance.now();
    phases[phase] += Math.round(t - mark);
    mark = t;
  };

  let overview: Overview | null = null;
  let fetchError: string | null = null;
  try {
    const fetched = await deps.fetchOverview();
    overview = fetched.overview;
    if (fetched.fetchMs !== undefined && fetched.parseMs !== undefined) {
      phases.fetch = Math.round(fetched.fetchMs);
      phases.parse = Math.round(fetched.parseMs);
      mark = performance.now();
    } else lap('fetch');
  } catch (err) {
    fetchError = oneLine(err);
    lap('fetch');
  }

  const state = await deps.store.load();
  lap('load');
  const { meta } = state;
  const poll: PollTag = { id: `${meta.gen + 1}-${nowMs.toString(36)}`, gen: meta.gen + 1, nowMs };
  const report: PollReport = {
    ok: overview !== null,
    committed: false,
    items: 0,
    malformed: 0,
    firing: 0,
    newCount: 0,
    repeatCount: 0,
    resolvedCount: 0,
    suspect: false,
    notices: [],
    firingByRule: [],
    durationMs: 0,
    phases,
  };

  let commit: Commit;
  if (overview === null) {
    // A failed poll changes no alert: only the books.
    const failStreak = meta.failStreak + 1;
    const tellNow = failStreak >= UNREACHABLE_AFTER && !meta.unreachableNotified;
    const detail = `${failStreak} polls failed in a row; last error: ${fetchError}`;
    commit = {
      expectedGen: meta.gen,
      meta: {
        failStreak,
        unreachableNotified: meta.unreachableNotified || tellNow,
        lastPollAtMs: nowMs,
        lastPollOk: false,
        lastPollError: fetchError,
        lastPollDurationMs: Math.round(performance.now() - started),
      },
      outbox: tellNow ? sourceNotices(ruleSet, 'unreachable', detail, poll) : [],
    };
    report.error = fetchError ?? 'unknown error';
    report.firing = state.alerts.size;
  } else {
    commit = planSuccess(overview, compiled, state, poll, deps.log, report);
    commit.meta.lastPollDurationMs = Math.round(performance.now() - started);
  }
  lap('evaluate');

  report.committed = await deps.store.commit(commit);
  lap('commit');
  if (!report.committed) {
    deps.log.warn('another poll committed first; this poll changed nothing');
  } else {
    report.notices = (commit.outbox ?? []).map((e) => e.id);
  }
  // Also moves what an earlier, crashed poll committed but never queued. The poll itself is done
  // either way: what cannot be queued now stays in the outbox for the sweep.
  try {
    await deps.flushOutbox();
  } catch (err) {
    deps.log.error(`notices committed but not queued yet (the outbox sweep will retry): ${oneLine(err)}`);
  }
  lap('queue');
  report.durationMs = Math.round(performance.now() - started);

  if (report.ok) {
    deps.log.info(
      {
        items: report.items,
        malformed: report.malformed,
        firing: report.firing,
        new: report.newCount,
        repeat: report.repeatCount,
        resolved: report.resolvedCount,
        notices: report.notices.length,
        suspect: report.suspect,
        durationMs: report.durationMs,
        phases,
      },
      'poll ok',
    );
  } else {
    deps.log.error({ failStreak: meta.failStreak + 1, durationMs: report.durationMs }, `poll failed: ${report.error}`);
  }
  return report;
}

function planSuccess(
  overview: Overview,
  compiled: CompiledRuleSet,
  state: Awaited<ReturnType<StateStore['load']>>,
  poll: PollTag,
  log: Logger,
  report: PollReport,
): Commit {
  const { meta } = state;
  const { nowMs } = poll;
  const ruleSet = compiled.ruleSet;
  const outbox: OutboxEntry[] = [];

  // Suspect: an overview that lost more than half of the last good one's items resolves nothing.
  const count = overview.items.length + overview.malformed.length;
  let suspect = meta.lastGoodItems !== null && count < meta.lastGoodItems / 2;
  let suspectStreak = suspect ? meta.suspectStreak + 1 : 0;
  if (suspect && suspectStreak >= SUSPECT_POLLS) {
    log.warn({ items: count, lastGood: meta.lastGoodItems }, `the smaller overview persisted for ${SUSPECT_POLLS} polls: accepted`);
    suspect = false;
    suspectStreak = 0;
  } else if (suspect && suspectStreak === 1) {
    const detail = `the overview has ${count} items, the last good one had ${meta.lastGoodItems}; nothing is resolved until it persists for ${SUSPECT_POLLS} polls`;
    log.warn({ items: count, lastGood: meta.lastGoodItems }, 'suspect overview: resolving nothing');
    outbox.push(...sourceNotices(ruleSet, 'suspect', detail, poll));
  }

  // Malformed items keep their alerts exactly as they were. One we cannot even identify could be
  // any item, so then nothing may resolve at all this poll.
  const held = new Set<string>();
  let unidentified = 0;
  overview.malformed.forEach((m, i) => {
    if (m.warehouseId !== undefined && m.productId !== undefined) held.add(itemKey(m.warehouseId, m.productId));
    else unidentified++;
    if (i < MALFORMED_LOGGED) log.warn(`item left out: ${m.message}`);
  });
  if (overview.malformed.length > MALFORMED_LOGGED) {
    log.warn(`${overview.malformed.length - MALFORMED_LOGGED} more items left out (the first ${MALFORMED_LOGGED} are logged)`);
  }
  const resolveAbsent = !suspect && unidentified === 0;

  const currentItems = itemsWithAlerts(overview.items, state.alerts.values());

  const current = evaluate(overview.items, compiled, nowMs);
  const diff = diffAlerts({
    previous: state.alerts,
    current,
    nowMs,
    rules: compiled.ruleByName,
    heldItems: held,
    resolveAbsent,
    currentItems,
    isSilenced: silenceChecker(compiled, nowMs),
  });

  const routed = routeEvents(diff.events, ruleSet);
  outbox.push(...alertNotices(routed, ruleSet, poll));
  if (meta.unreachableNotified) {
    outbox.push(...sourceNotices(ruleSet, 'recovered', `the S2 API answered again after ${meta.failStreak} failed polls`, poll));
  }
  const digest = [...routed.digest].flatMap(([channel, alerts]) => alerts.map((a) => ({ channel, json: JSON.stringify(a) })));

  report.items = overview.items.length;
  report.malformed = overview.malformed.length;
  report.firing = diff.next.size;
  report.suspect = suspect;
  for (const e of diff.events) {
    if (e.kind === 'new') report.newCount++;
    else if (e.kind === 'repeat') report.repeatCount++;
    else report.resolvedCount++;
  }
  const byRule = new Map<string, { rule: string; severity: string; count: number }>();
  for (const { alert } of diff.next.values()) {
    const k = `${alert.rule}\u001f${alert.severity}`;
    const entry = byRule.get(k);
    if (entry) entry.count++;
    else byRule.set(k, { rule: alert.rule, severity: alert.severity, count: 1 });
  }
  report.firingByRule = [...byRule.values()];

  return {
    expectedGen: meta.gen,
    meta: {
      failStreak: 0,
      unreachableNotified: false,
      suspectStreak,
      lastGoodItems: suspect ? meta.lastGoodItems : count,
      lastPollAtMs: nowMs,
      lastPollOk: true,
      lastPollError: null,
      lastSuccessAtMs: nowMs,
    },
    alertsSet: diff.changed,
    alertsDel: diff.removed,
    outbox,
    digest,
  };
}

/**
 * The current items that had an alert at the previous poll, by itemKey(): all that diffAlerts
 * looks up (a resolved alert reports its item's levels now). Indexed by warehouse then product so
 * that the 200,000 items without an alert cost a lookup each, not a string key.
 */
function itemsWithAlerts(items: readonly Item[], previous: Iterable<AlertRecord>): Map<string, Item> {
  const wanted = new Map<string, Set<string>>();
  for (const { alert } of previous) {
    let products = wanted.get(alert.warehouseId ?? '');
    if (products === undefined) wanted.set(alert.warehouseId ?? '', (products = new Set()));
    products.add(alert.productId ?? '');
  }
  const found = new Map<string, Item>();
  if (wanted.size === 0) return found;
  for (const item of items) {
    if (wanted.get(item.warehouseId)?.has(item.productId)) found.set(itemKey(item.warehouseId, item.productId), item);
  }
  return found;
}
