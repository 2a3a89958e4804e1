// What a runs_out rule costs (issue 12), in-process: `npm run build && node --expose-gc dist/bench/forecast.js`.
//
// A generated overview (default 200,000 items: 20,000 products x 10 warehouses) is parsed once;
// then the real poll (runPoll on a real StateStore on the local Redis, no HTTP, no queues) runs a
// cold poll and `reps` warm polls, each 5 minutes later with 1 % of the levels changed, with the
// benchmark's 10 rules, and again with the same rules plus `runs-out-soon` (runs_out, within 7d).
// Reported: the median warm poll and its phases for each, the parse time of the overview for
// scale, and the rate history's size in Redis (MEMORY USAGE ... SAMPLES 0) per item.
import { parseArgs } from 'node:util';
import { compileRuleSet, type CompiledRuleSet } from '../engine/evaluate';
import { createLogger } from '../log';
import type { Overview, Rule } from '../model';
import { runPoll, type PollReport } from '../poll/poll';
import { loadRuleFiles } from '../rules';
import { parseOverview } from '../source/overview';
import { StateStore } from '../state/store';
import { generate, mutate, overviewJson, type BenchOverview } from './generate';
import { connect, removePrefix } from './redis';
import { BENCH_RULES, WEBHOOK_ENV } from './rules';

const DAY = 86_400_000;
const POLL = 5 * 60_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function benchRules(withRunsOut: boolean): CompiledRuleSet {
  const loaded = loadRuleFiles([{ name: 'bench.yaml', text: BENCH_RULES }], { [WEBHOOK_ENV]: 'http://127.0.0.1:9/services/T/B/bench' });
  if (!loaded.ok) throw new Error(`bench rules: ${JSON.stringify(loaded.errors)}`);
  const ruleSet = loaded.ruleSet;
  if (withRunsOut) {
    // Built here: loading runs_out keys is the rule loader's business (branch `rules`).
    const base = ruleSet.rules[0];
    const runsOut: Rule = {
      ...base,
      name: 'runs-out-soon',
      type: 'runs_out',
      where: undefined,
      summary: undefined,
      below: undefined,
      countIncoming: undefined,
      withinMs: 7 * DAY,
    };
    ruleSet.rules = [...ruleSet.rules, runsOut];
  }
  return compileRuleSet(ruleSet);
}

interface Run {
  label: string;
  warmMs: number;
  phases: PollReport['phases'];
  firing: number;
  /** Firing after each poll (the same for both runs but for the runs_out alerts). */
  firingByPoll: number[];
  historyBytes: number;
}

async function run(label: string, compiled: CompiledRuleSet, overviews: Overview[], start: number, redisUrl: string): Promise<Run> {
  const redis = connect(redisUrl);
  const prefix = `swbench-forecast-${process.pid}-${label}`;
  const store = new StateStore(redis, prefix);
  const log = createLogger('silent');
  const reports: PollReport[] = [];
  try {
    for (const [i, overview] of overviews.entries()) {
      (globalThis as { gc?: () => void }).gc?.();
      const report = await runPoll({ store, rules: () => compiled, flushOutbox: async () => [], log, fetchOverview: async () => ({ overview, fetchMs: 0, parseMs: 0 }) }, start + i * POLL);
      if (!report.ok || !report.committed) throw new Error(`poll ${i} failed: ${report.error ?? 'not committed'}`);
      reports.push(report);
    }
    const warm = reports.slice(1);
    const mid = warm.find((r) => r.durationMs === median(warm.map((w) => w.durationMs)))!;
    const historyBytes = Number((await redis.call('MEMORY', 'USAGE', store.keys.history, 'SAMPLES', '0')) ?? 0);
    return { label, warmMs: mid.durationMs, phases: mid.phases, firing: mid.firing, firingByPoll: reports.map((r) => r.firing), historyBytes };
  } finally {
    await removePrefix(redis, prefix);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { items: { type: 'string' }, warehouses: { type: 'string' }, reps: { type: 'string' } } });
  const warehouses = Number(values.warehouses ?? 10);
  const items = Number(values.items ?? 200_000);
  const reps = Number(values.reps ?? 5);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const start = Date.parse('2026-11-30T08:00:00Z');

  const generated: BenchOverview[] = [generate({ products: Math.round(items / warehouses), warehouses, seed: 1, nowMs: start })];
  for (let i = 1; i <= reps; i++) generated.push(mutate(generated[i - 1], 0.01, 100 + i, start + i * POLL).overview);
  const parseMs: number[] = [];
  const overviews = generated.map((o) => {
    const text = overviewJson(o);
    const t = performance.now();
    const parsed = parseOverview(text);
    parseMs.push(performance.now() - t);
    return parsed;
  });
  const count = overviews[0].items.length;

  const without = await run('without', benchRules(false), overviews, start, redisUrl);
  const withRule = await run('with', benchRules(true), overviews, start, redisUrl);

  const line = (r: Run): string =>
    `${r.label.padEnd(8)} warm poll ${String(r.warmMs).padStart(5)} ms  (load ${r.phases.load}, evaluate ${r.phases.evaluate}, commit ${r.phases.commit})  firing ${r.firingByPoll.join('/')}  history ${r.historyBytes} B`;
  process.stdout.write(`runs_out cost at ${count} items (${warehouses} warehouses), median of ${reps} warm polls; parsing the overview took ${Math.round(median(parseMs))} ms\n`);
  process.stdout.write(`${line(without)}\n${line(withRule)}\n`);
  const perItem = withRule.historyBytes / count;
  process.stdout.write(`rate history: ${withRule.historyBytes} bytes in Redis = ${perItem.toFixed(2)} bytes per item (target <= 24)\n`);
  process.stdout.write(
    JSON.stringify({ bench: 'forecast', items: count, parseMs: Math.round(median(parseMs)), withoutMs: without.warmMs, withMs: withRule.warmMs, historyBytes: withRule.historyBytes, bytesPerItem: Number(perItem.toFixed(2)) }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
