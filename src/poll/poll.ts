// One poll: fetch -> load the state -> stepPoll() (the engine decides everything) -> commit state and
// notices together -> queue them. This file only does the I/O around the engine and reports.
import type { CompiledRuleSet, EvaluationMemo } from '../engine/evaluate';
import type { AlertRecord, LifecycleResult } from '../engine/lifecycle';
import { stepPoll } from '../engine/step';
import { oneLine } from '../errors';
import type { Logger } from '../log';
import type { Overview } from '../model';
import type { Commit, OutboxEntry, StateStore } from '../state/store';
import { alertNotices, routeEvents, sourceNotices, type PollTag } from '../delivery/route';

/** Malformed items logged one by one per poll; past that, a count (a broken feed must not flood the logs). */
const MALFORMED_LOGGED = 20;

export interface PollDeps {
  store: StateStore;
  /** The overview, with how long the exchange and the parse took when the source measures them. */
  fetchOverview: () => Promise<{ overview: Overview & { malformedEntries?: readonly string[] }; fetchMs?: number; parseMs?: number }>;
  rules: () => CompiledRuleSet;
  /**
   * Takes secrets out of the lines logged about what the overview left out: they quote the body's
   * values, which may echo the API token. Applied to the few lines logged, not to every message.
   */
  redact?: (text: string) => string;
  /** Moves committed outbox entries to their queues (idempotent: job id = entry id). */
  flushOutbox: () => Promise<string[]>;
  log: Logger;
  /**
   * The previous poll's evaluation, kept by a daemon whose source reuses the Item objects of
   * unchanged items (only those can be taken again); absent, every alert is made anew. A shortcut
   * only: the poll's result does not depend on it.
   */
  memo?: EvaluationMemo;
  /**
   * Called once the overview is parsed and again once the poll has decided what to commit, when
   * what the stage before made is garbage: `poll --once` collects it there (src/heap.ts).
   */
  betweenStages?: () => void;
}

export interface PollReport {
  ok: boolean;
  /** false when another poll committed first (this one's results were dropped). */
  committed: boolean;
  error?: string;
  items: number;
  malformed: number;
  firing: number;
  pending: number;
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
  const clock = phaseClock();
  const { report, commit, failStreak } = await decide(deps, nowMs, clock);
  deps.betweenStages?.();
  commit.meta.lastPollDurationMs = Math.round(performance.now() - started);
  clock.lap('evaluate');

  report.committed = await deps.store.commit(commit);
  clock.lap('commit');
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
  clock.lap('queue');
  report.durationMs = Math.round(performance.now() - started);

  if (report.ok) {
    deps.log.info(
      {
        items: report.items,
        malformed: report.malformed,
        firing: report.firing,
        pending: report.pending,
        new: report.newCount,
        repeat: report.repeatCount,
        resolved: report.resolvedCount,
        notices: report.notices.length,
        suspect: report.suspect,
        durationMs: report.durationMs,
        phases: report.phases,
      },
      'poll ok',
    );
  } else {
    deps.log.error({ failStreak, durationMs: report.durationMs }, `poll failed: ${report.error}`);
  }
  return report;
}

/**
 * Fetch, load, evaluate: the poll up to what it commits. An async function of its own so that its
 * values die with it: a suspended async function keeps every value it ever held in a register
 * (V8 saves them all), and runPoll would otherwise carry the overview, the evaluation and the
 * events (~100 MB at 200,000 items, 95 % firing) through the commit, when memory peaks.
 */
async function decide(deps: PollDeps, nowMs: number, clock: PhaseClock): Promise<{ report: PollReport; commit: Commit; failStreak: number }> {
  const compiled = deps.rules();
  const ruleSet = compiled.ruleSet;
  let overview: Overview | null = null;
  let fetchError: string | null = null;
  try {
    const fetched = await deps.fetchOverview();
    overview = fetched.overview;
    if (fetched.fetchMs !== undefined && fetched.parseMs !== undefined) {
      clock.phases.fetch = Math.round(fetched.fetchMs);
      clock.phases.parse = Math.round(fetched.parseMs);
      clock.restart();
    } else clock.lap('fetch');
  } catch (err) {
    fetchError = oneLine(err);
    clock.lap('fetch');
  }
  deps.betweenStages?.();

  const state = await deps.store.load(compiled.ruleByName);
  clock.lap('load');
  const { meta } = state;
  for (const line of state.historyProblems) deps.log.warn(line);
  const poll: PollTag = { id: `${meta.gen + 1}-${nowMs.toString(36)}`, gen: meta.gen + 1, nowMs };
  const report: PollReport = {
    ok: overview !== null,
    committed: false,
    items: 0,
    malformed: 0,
    firing: 0,
    pending: 0,
    newCount: 0,
    repeatCount: 0,
    resolvedCount: 0,
    suspect: false,
    notices: [],
    firingByRule: [],
    durationMs: 0,
    phases: clock.phases,
  };

  const step = stepPoll({
    books: meta,
    alerts: state.alerts,
    compiled,
    nowMs,
    outcome: overview !== null ? { overview } : { error: fetchError ?? 'unknown error' },
    history: state.history,
    memo: deps.memo,
  });
  for (const line of step.warnings) deps.log.warn(line);
  // Delivery order comes from each entry's `order` (a poll's source notices before its alerts), not from here.
  const outbox: OutboxEntry[] = step.source.flatMap((s) => sourceNotices(ruleSet, s.event, s.detail, poll));
  const commit: Commit = {
    expectedGen: meta.gen,
    rules: compiled.ruleByName,
    meta: { ...step.books, lastPollAtMs: nowMs, lastPollOk: overview !== null },
    outbox,
  };
  // The rates learned by this poll, in its own commit (nothing to write when there is none, before or after).
  if (step.history !== state.history && (step.history.size > 0 || state.history.size > 0)) commit.history = step.history;
  const lifecycle = step.lifecycle;
  if (lifecycle === null) {
    commit.meta.lastPollError = fetchError;
    report.error = fetchError ?? 'unknown error';
    report.firing = countFiring(state.alerts.values());
  } else {
    overview = overview!;
    logMalformed(overview, deps.log, deps.redact);
    const routed = routeEvents(lifecycle.events, ruleSet);
    outbox.push(...alertNotices(routed, ruleSet, poll));
    commit.digest = [...routed.digest].flatMap(([channel, alerts]) => alerts.map((a) => ({ channel, json: JSON.stringify(a) })));
    commit.alertsSet = lifecycle.changed;
    commit.alertsDel = lifecycle.removed;
    commit.alertsNext = lifecycle.next;
    commit.meta.lastPollError = null;
    commit.meta.lastSuccessAtMs = nowMs;
    fillReport(report, overview, step.suspect, lifecycle);
  }
  return { report, commit, failStreak: meta.failStreak + 1 };
}

interface PhaseClock {
  phases: PollReport['phases'];
  /** Adds the time since the previous lap (or restart) to `phase`. */
  lap(phase: keyof PollReport['phases']): void;
  restart(): void;
}

function phaseClock(): PhaseClock {
  const phases: PollReport['phases'] = { fetch: 0, parse: 0, load: 0, evaluate: 0, commit: 0, queue: 0 };
  let mark = performance.now();
  return {
    phases,
    lap(phase) {
      const t = performance.now();
      phases[phase] += Math.round(t - mark);
      mark = t;
    },
    restart() {
      mark = performance.now();
    },
  };
}

function logMalformed(overview: Overview & { malformedEntries?: readonly string[] }, log: Logger, redact: (text: string) => string = (t) => t): void {
  // Bad warehouse and product entries: few, and each can turn many items malformed.
  overview.malformedEntries?.slice(0, MALFORMED_LOGGED).forEach((m) => log.warn(redact(`entry left out: ${m}`)));
  overview.malformed.slice(0, MALFORMED_LOGGED).forEach((m) => log.warn(redact(`item left out: ${m.message}`)));
  if (overview.malformed.length > MALFORMED_LOGGED) {
    log.warn(`${overview.malformed.length - MALFORMED_LOGGED} more items left out (the first ${MALFORMED_LOGGED} are logged)`);
  }
}

function countFiring(records: Iterable<AlertRecord>): number {
  let n = 0;
  for (const r of records) if (r.alert.status === 'firing') n++;
  return n;
}

function fillReport(report: PollReport, overview: Overview, suspect: boolean, lifecycle: LifecycleResult): void {
  report.items = overview.items.length;
  report.malformed = overview.malformed.length;
  report.suspect = suspect;
  for (const e of lifecycle.events) {
    if (e.kind === 'new') report.newCount++;
    else if (e.kind === 'repeat') report.repeatCount++;
    else report.resolvedCount++;
  }
  report.firing = lifecycle.counts.firing;
  report.pending = lifecycle.counts.pending;
  report.firingByRule = lifecycle.counts.firingByRule;
}
