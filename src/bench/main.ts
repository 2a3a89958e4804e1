// `npm run bench`: how much a poll costs next to the unavoidable part, fetching and parsing the
// overview (issues 6 and 14).
//
// For each size and alert share (the share of items that fire: 10 %, 50 %, 95 %, or the
// generator's natural ~9 %): generate a sample-shaped overview, serve it from a local HTTP server,
// and run the real thing as whole processes, timed from spawn to exit:
//   floor  node dist/bench/floor.js URL        (fetch + JSON.parse, nothing else)
//   cold   stockwatch poll --once, fresh prefix (no previous state)
//   warm   stockwatch poll --once, same prefix, 1% of the levels changed
// `reps` times each (median reported), against the local Redis, with a rule set of 10 rules and a
// Slack channel whose webhook is a local stand-in. Then, untimed: Redis memory per item and per
// firing alert, the writes of one more warm poll (MONITOR), and a mass event of ~30,000 new alerts.
// Then the running daemon: one process (steady.ts) polls --steady times in a row, 1 % of the
// levels changing between polls, each poll timed in process against an in-process fetch + parse.
//
// Output: a table per size, and one JSON line at the end (`{"bench":"stockwatch",...}`).
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { generate, massEvent, mutate, overviewBuffers, withAlertShare, type BenchOverview, type Mutation } from './generate';
import type { SteadyResult } from './steady';
import { decodeId, parseLayout } from '../state/alert-records';
import { stateKeys } from '../state/keys';
import { killRunning, median, runNode, type ProcessRun } from './measure';
import { connect, monitorWrites, prefixMemory, removePrefix, type PrefixMemory, type WriteAccount } from './redis';
import { WEBHOOK_ENV, writeRulesDir } from './rules';
import { startSlack, startSource, type Body, type SlackMessage, type SlackStandIn, type SourceServer } from './servers';

const REPO = path.resolve(__dirname, '../..');
const BIN = path.join(REPO, 'bin/stockwatch.js');
const FLOOR = path.join(__dirname, 'floor.js');
const STEADY = path.join(__dirname, 'steady.js');

const USAGE = `Usage: npm run bench -- [options]      (or: node --expose-gc dist/bench/main.js [options])

Options:
  --sizes LIST       item counts, e.g. 10k,100k,200k (default); products = items / warehouses
  --shares LIST      alert shares: percent of the items that fire, e.g. 10,50,95 (default), or
                     "natural" (the generator's own levels: ~9 %)
  --million          add the 1,000,000-item run (~290 MB of JSON) at 95 % firing
  --steady N         polls of the in-process daemon run (default 6; the first is not counted; 0 skips it)
  --warehouses N     warehouses per overview (default 10)
  --reps N           timed repetitions of each run (default 3; the median is reported)
  --mass N           new alerts of the mass event (default 30000; 0 skips it); runs at sizes >= 100k,
                     at the lowest share only
  --seed N           generator seed (default 1)
  --timeout SECONDS  limit per process (default 60 + 1 per 2,000 items)
  --cpu-prof DIR     run the polls under --cpu-prof, profiles in DIR (slows them: for finding hot spots)
  --poll-flags=FLAGS extra node flags for the stockwatch processes only, e.g.
                     --poll-flags="--max-semi-space-size=64" (to try a flag against the unchanged floor)
  --help

Environment: REDIS_URL (default redis://127.0.0.1:6379). Every key the benchmark creates is removed.`;

interface Options {
  sizes: number[];
  /** Alert shares (0..1); null: the generator's natural levels. */
  shares: Array<number | null>;
  /** The 1,000,000-item run (at 95 %). */
  million: boolean;
  steadyPolls: number;
  warehouses: number;
  reps: number;
  massAlerts: number;
  seed: number;
  timeoutSeconds: number | null;
  cpuProfDir: string | null;
  pollFlags: string[];
  redisUrl: string;
}

/** `10k` -> 10000, `1m` -> 1000000, `2500` -> 2500. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`--sizes: "${text}" is not a size like 10k, 200k or 1m`);
  const n = Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--sizes: "${text}" is not a positive whole number of items`);
  return n;
}

/** `10` -> 0.1, `natural` -> null. */
export function parseShare(text: string): number | null {
  const t = text.trim();
  if (t === 'natural') return null;
  const n = Number(t.replace(/%$/, ''));
  if (t === '' || !(n >= 0 && n <= 100)) throw new Error(`--shares: "${text}" is not a percentage (0..100) or "natural"`);
  return n / 100;
}

function positiveInt(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name}: "${text}" is not a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return n;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      shares: { type: 'string' },
      steady: { type: 'string' },
      million: { type: 'boolean' },
      warehouses: { type: 'string' },
      reps: { type: 'string' },
      mass: { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'poll-flags': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const sizes = (values.sizes ?? '10k,100k,200k').split(',').filter((s) => s.trim() !== '').map(parseSize);
  const shares = (values.shares ?? '10,50,95').split(',').filter((s) => s.trim() !== '').map(parseShare);
  const warehouses = positiveInt('warehouses', values.warehouses, 10);
  for (const n of sizes) {
    if (n % warehouses !== 0) throw new Error(`--sizes: ${n} items is not a whole number of products x ${warehouses} warehouses`);
  }
  if (values.million && 1e6 % warehouses !== 0) throw new Error(`--million: 1,000,000 items is not a whole number of products x ${warehouses} warehouses`);
  return {
    sizes,
    shares,
    million: values.million === true,
    steadyPolls: positiveInt('steady', values.steady, 6, true),
    warehouses,
    reps: positiveInt('reps', values.reps, 3),
    massAlerts: positiveInt('mass', values.mass, 30_000, true),
    seed: positiveInt('seed', values.seed, 1, true),
    timeoutSeconds: values.timeout === undefined ? null : positiveInt('timeout', values.timeout, 0),
    cpuProfDir: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null,
    pollFlags: (values['poll-flags'] ?? '').split(/\s+/).filter((f) => f !== ''),
    redisUrl: process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
  };
}

// ---- one process -----------------------------------------------------------------------------

interface Phases {
  fetch: number;
  parse: number;
  load: number;
  evaluate: number;
  commit: number;
  queue: number;
}

interface PollRun {
  wallMs: number;
  peakRssBytes: number | null;
  /** From the "poll ok" log line. */
  durationMs: number;
  phases: Phases;
  /** Spawn to the "stockwatch starting" line: loading the code, config, rules, connecting to Redis. */
  startupMs: number;
  /** End of the poll (its "poll ok" line) to exit: delivering its notices and shutting down. */
  tailMs: number;
  items: number;
  firing: number;
  newAlerts: number;
  resolved: number;
  notices: number;
  /** Warnings and errors the process logged (other than per-item notes). */
  warnings: string[];
}

interface FloorRun {
  wallMs: number;
  peakRssBytes: number | null;
}

interface LogLine {
  level: number;
  time: string;
  msg: string;
  [field: string]: unknown;
}

function logLines(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  }
  return lines;
}

function failure(what: string, run: ProcessRun): Error {
  const why = run.timedOut ? 'timed out' : `exited with ${run.signal ?? run.code}`;
  const tail = (run.stderr.trim() || run.stdout.trim()).split('\n').slice(-5).join('\n  ');
  return new Error(`${what} ${why}\n  ${tail}`);
}

class Bench {
  private readonly prefixes = new Set<string>();
  private polls = 0;
  private readonly runId = `swbench-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

  constructor(
    private readonly opts: Options,
    private readonly redis: Redis,
    private readonly source: SourceServer,
    private readonly slack: SlackStandIn,
    private readonly rulesDir: string,
  ) {}

  private timeoutMs(items: number): number {
    return (this.opts.timeoutSeconds ?? 60 + Math.ceil(items / 2000)) * 1000;
  }

  prefix(label: string): string {
    const p = `${this.runId}-${label}`;
    this.prefixes.add(p);
    return p;
  }

  async cleanup(prefix?: string): Promise<void> {
    for (const p of prefix === undefined ? [...this.prefixes] : [prefix]) {
      await removePrefix(this.redis, p);
      this.prefixes.delete(p);
    }
  }

  async floor(body: Body, items: number): Promise<FloorRun> {
    this.source.serve(body);
    const run = await runNode([FLOOR, `${this.source.url}/inventory/overview`], process.env, this.timeoutMs(items));
    if (run.code !== 0) throw failure('the floor process', run);
    const out = JSON.parse(run.stdout) as { bytes: number; items: number };
    if (out.items !== items) throw new Error(`the floor process parsed ${out.items} items, expected ${items}`);
    return { wallMs: run.wallMs, peakRssBytes: run.peakRssBytes };
  }

  private pollEnv(prefix: string, items: number): NodeJS.ProcessEnv {
    return {
      ...process.env,
      S2_API_URL: this.source.url,
      S2_API_TOKEN: 'bench-token',
      S2_ORGANIZATION_ID: 'bench-organization',
      S2_API_TIMEOUT: `${Math.ceil(this.timeoutMs(items) / 1000)}s`,
      REDIS_URL: this.opts.redisUrl,
      STOCKWATCH_PREFIX: prefix,
      RULES_DIR: this.rulesDir,
      LOG_LEVEL: 'info',
      HTTP_PORT: '0',
      // A webhook of its own per process: stockwatch paces each webhook to one message a second,
      // and polls seconds apart here (minutes apart in production) must not wait on that.
      [WEBHOOK_ENV]: `${this.slack.webhookUrl}-${++this.polls}`,
    };
  }

  async poll(body: Body, prefix: string, items: number): Promise<PollRun> {
    this.source.serve(body);
    const env = this.pollEnv(prefix, items);
    const profile = this.opts.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${this.opts.cpuProfDir}`];
    const run = await runNode([...this.opts.pollFlags, ...profile, BIN, 'poll', '--once'], env, this.timeoutMs(items));
    if (run.code !== 0) throw failure('stockwatch poll --once', run);
    const lines = logLines(run.stdout);
    const ok = lines.find((l) => l.msg === 'poll ok');
    const starting = lines.find((l) => l.msg === 'stockwatch starting');
    if (ok === undefined || starting === undefined) throw failure('stockwatch poll --once (no "poll ok" line)', run);
    const exitAtMs = run.spawnedAtMs + run.wallMs;
    return {
      wallMs: run.wallMs,
      peakRssBytes: run.peakRssBytes,
      durationMs: Number(ok.durationMs),
      phases: ok.phases as Phases,
      startupMs: Date.parse(starting.time) - run.spawnedAtMs,
      tailMs: exitAtMs - Date.parse(ok.time),
      items: Number(ok.items),
      firing: Number(ok.firing),
      newAlerts: Number(ok.new),
      resolved: Number(ok.resolved),
      notices: Number(ok.notices),
      warnings: lines.filter((l) => l.level >= 40 && !l.msg.startsWith('item left out')).map((l) => l.msg),
    };
  }

  async size(items: number, share: number | null, withMass: boolean): Promise<SizeResult> {
    const { warehouses, reps, seed } = this.opts;
    const products = items / warehouses;
    const sizeLabel = items >= 1e6 && items % 1e6 === 0 ? `${items / 1e6}m` : items % 1000 === 0 ? `${items / 1000}k` : String(items);
    const label = `${sizeLabel}-${share === null ? "natural" : Math.round(share * 100) + "pct"}`;
    log(`\n${label}: generating ${products} products x ${warehouses} warehouses…`);
    const nowMs = Date.now();
    const generated = generate({ products, warehouses, seed, nowMs });
    const base = share === null ? generated : withAlertShare(generated, share, seed + 7);
    const baseBody = overviewBuffers(base);
    const warm = mutate(base, 0.01, seed + 1);
    const warmBody = overviewBuffers(warm.overview);
    log(`${label}: body ${mb(baseBody.bytes)}; ${reps} x (floor, cold poll, floor, warm poll)`);

    const floors: FloorRun[] = [];
    const colds: PollRun[] = [];
    const warms: PollRun[] = [];
    let memoryAfterCold: PrefixMemory | null = null;
    let memoryAfterWarm: PrefixMemory | null = null;
    let writes: WritesResult | null = null;
    let mass: MassResult | null = null;
    let steady: SteadySummary | null = null;
    let slackCold: SlackMessage[] = [];

    for (let rep = 1; rep <= reps; rep++) {
      const prefix = this.prefix(`${label}-r${rep}`);
      try {
        floors.push(await this.floor(baseBody, items));
        this.slack.take();
        colds.push(await this.poll(baseBody, prefix, items));
        slackCold = this.slack.take();
        if (rep === 1) memoryAfterCold = await prefixMemory(this.redis, prefix);
        floors.push(await this.floor(warmBody, items));
        warms.push(await this.poll(warmBody, prefix, items));
        this.slack.take();
        progress(label, rep, floors, colds, warms);
        if (rep === reps) {
          memoryAfterWarm = await prefixMemory(this.redis, prefix);
          const next = mutate(warm.overview, 0.01, seed + 2);
          writes = await this.monitoredWarm(next, prefix, items);
          if (withMass && this.opts.massAlerts > 0 && items >= 100_000) {
            mass = await this.massEvent(next.overview, prefix, items);
          }
        }
      } finally {
        await this.cleanup(prefix);
      }
    }
    if (this.opts.steadyPolls > 0) {
      const prefix = this.prefix(`${label}-steady`);
      try {
        steady = await this.steady([baseBody, warmBody], prefix, items);
        log(`${label} steady daemon: poll ${round(steady.pollMs)} ms vs in-process floor ${round(steady.floorMs)} ms (${steady.ratio.toFixed(2)}x)`);
      } finally {
        await this.cleanup(prefix);
      }
    }

    const floorMs = median(floors.map((f) => f.wallMs));
    return {
      label,
      items,
      share,
      products,
      warehouses,
      bodyBytes: baseBody.bytes,
      floor: { wallMs: floorMs, runsMs: floors.map((f) => round(f.wallMs)), peakRssBytes: max(floors.map((f) => f.peakRssBytes)) },
      cold: summarize(colds, floorMs),
      warm: summarize(warms, floorMs),
      coldSlack: slackCold.map((m) => ({ bytes: m.bytes, blocks: m.blocks })),
      redisAfterCold: memoryAfterCold,
      redisAfterWarm: memoryAfterWarm,
      writes,
      mass,
      steady,
    };
  }

  /** The running daemon: `steadyPolls` polls in one process, the bodies in turn (1 % of the levels change each time). */
  private async steady(bodies: Body[], prefix: string, items: number): Promise<SteadySummary> {
    this.source.serveInTurn(bodies);
    const polls = this.opts.steadyPolls + 1;
    const profile = this.opts.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${this.opts.cpuProfDir}`];
    const run = await runNode([...this.opts.pollFlags, ...profile, STEADY, String(polls)], { ...this.pollEnv(prefix, items), LOG_LEVEL: 'warn' }, this.timeoutMs(items) * polls);
    this.slack.take();
    if (run.code !== 0) throw failure('the steady daemon process', run);
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as SteadyResult;
    // The first poll reads the state a fresh process finds; the daemon lives in the ones after.
    const pollsMs = r.pollsMs.slice(1);
    const floorsMs = r.floorsMs.slice(1);
    const pollMs = median(pollsMs);
    const floorMs = median(floorsMs);
    const m = (f: (p: Record<string, number>) => number): number => round(median(r.phases.slice(1).map(f)));
    return {
      polls: pollsMs.length,
      pollMs,
      floorMs,
      ratio: pollMs / floorMs,
      pollsMs: pollsMs.map(round),
      floorsMs: floorsMs.map(round),
      firstPollMs: round(r.pollsMs[0]),
      phases: { fetch: m((p) => p.fetch), parse: m((p) => p.parse), load: m((p) => p.load), evaluate: m((p) => p.evaluate), commit: m((p) => p.commit), queue: m((p) => p.queue) },
      firing: r.firing.at(-1) ?? 0,
      changes: r.changes.slice(1),
      rssAfterBytes: r.rssBytes.at(-1) ?? null,
      peakRssBytes: run.peakRssBytes,
    };
  }

  /** One more warm poll, untimed, under MONITOR: what it writes, and whether that is only what changed. */
  private async monitoredWarm(next: Mutation, prefix: string, items: number): Promise<WritesResult> {
    const body = overviewBuffers(next.overview);
    const monitor = await monitorWrites(this.opts.redisUrl, prefix);
    let run: PollRun;
    let written: WriteAccount;
    try {
      run = await this.poll(body, prefix, items);
    } finally {
      this.slack.take();
      written = await monitor.stop();
    }
    const { snapshotFields, alertFields: rawAlertFields, ...account } = written;
    const alertFields = await alertKeysOf(this.redis, prefix, rawAlertFields);
    const o = next.overview;
    const changedItems = new Set(next.changed.map((i) => itemKeyOf(o, i)));
    const outside = (keys: string[], toItem: (k: string) => string): number => keys.filter((k) => !changedItems.has(toItem(k))).length;
    return {
      changedLevels: next.changed.length,
      poll: { newAlerts: run.newAlerts, resolved: run.resolved, firing: run.firing },
      account,
      snapshotFieldsWritten: snapshotFields.length,
      alertFieldsWritten: alertFields.length,
      snapshotFieldsOfUnchangedItems: outside(snapshotFields, (k) => k),
      // An alert field is `rule\x1fwarehouseId\x1fproductId`; its item is what follows the rule.
      alertFieldsOfUnchangedItems: outside(alertFields, (k) => k.slice(k.indexOf('\u001f') + 1)),
    };
  }

  /** ~`massAlerts` new alerts at once: one Slack message expected, and the poll's cost. */
  private async massEvent(before: BenchOverview, prefix: string, items: number): Promise<MassResult> {
    // A zeroed item fires ~2.64 rules of the benchmark set that notify (both unfiltered
    // low_available rules and the filtered ones that cover it; TEST-* SKUs are silenced); the
    // poll's log gives the exact count, which is what the report shows.
    const zeroed = Math.round(this.opts.massAlerts / ALERTS_PER_ZEROED_ITEM);
    const event = massEvent(before, zeroed, this.opts.seed + 3);
    const body = overviewBuffers(event.overview);
    const floor = await this.floor(body, items);
    this.slack.take();
    const run = await this.poll(body, prefix, items);
    const messages = this.slack.take();
    const memory = await prefixMemory(this.redis, prefix);
    return {
      zeroedItems: event.changed.length,
      newAlerts: run.newAlerts,
      wallMs: round(run.wallMs),
      floorMs: round(floor.wallMs),
      ratio: run.wallMs / floor.wallMs,
      peakRssBytes: run.peakRssBytes,
      phases: run.phases,
      startupMs: round(run.startupMs),
      tailMs: round(run.tailMs),
      slackMessages: messages.length,
      slackLargestBytes: Math.max(0, ...messages.map((m) => m.bytes)),
      slackMaxBlocks: Math.max(0, ...messages.map((m) => m.blocks)),
      slackLongestBlockText: Math.max(0, ...messages.map((m) => m.longestBlockText)),
      slackText: messages[0]?.text ?? '',
      queueBytesAfter: memory.queueBytes,
      warnings: run.warnings,
    };
  }
}

/** Compact alert fields (`rule.warehouse.product`, see src/state/alert-records.ts) back to `rule\x1fwarehouseId\x1fproductId`. */
async function alertKeysOf(redis: Redis, prefix: string, fields: string[]): Promise<string[]> {
  const layout = parseLayout((await redis.hget(stateKeys(prefix).meta, 'layout')) ?? undefined);
  return fields.map((f) => {
    const [r, w] = f.split('.', 2).map((c) => parseInt(c, 36));
    const product = decodeId(f.slice(f.indexOf('.', f.indexOf('.') + 1) + 1));
    return `${layout.rules[r]}\u001f${layout.warehouses[w]?.[0] ?? ''}\u001f${product ?? ''}`;
  });
}

/** Calibrated on the benchmark rules and generator (seed 1, 100k and 200k items): new alerts per zeroed item. */
const ALERTS_PER_ZEROED_ITEM = 2.64;

function itemKeyOf(o: BenchOverview, i: number): string {
  return `${o.warehouseIds[Math.floor(i / o.products)]}\u001f${o.productIds[i % o.products]}`;
}

// ---- results ---------------------------------------------------------------------------------

interface RunSummary {
  wallMs: number;
  runsMs: number[];
  ratio: number;
  peakRssBytes: number | null;
  durationMs: number;
  phases: Phases;
  startupMs: number;
  tailMs: number;
  items: number;
  firing: number;
  newAlerts: number;
  resolved: number;
  notices: number;
  warnings: string[];
}

interface WritesResult {
  changedLevels: number;
  poll: { newAlerts: number; resolved: number; firing: number };
  account: Omit<WriteAccount, 'snapshotFields' | 'alertFields'>;
  snapshotFieldsWritten: number;
  alertFieldsWritten: number;
  snapshotFieldsOfUnchangedItems: number;
  alertFieldsOfUnchangedItems: number;
}

interface MassResult {
  zeroedItems: number;
  newAlerts: number;
  wallMs: number;
  floorMs: number;
  ratio: number;
  peakRssBytes: number | null;
  phases: Phases;
  startupMs: number;
  tailMs: number;
  slackMessages: number;
  slackLargestBytes: number;
  slackMaxBlocks: number;
  slackLongestBlockText: number;
  slackText: string;
  queueBytesAfter: number;
  warnings: string[];
}

interface SteadySummary {
  /** Polls counted (the first of the process is not). */
  polls: number;
  /** Median in-process poll (daemon.pollNow()). */
  pollMs: number;
  /** Median in-process fetch + JSON.parse of the same bodies. */
  floorMs: number;
  ratio: number;
  pollsMs: number[];
  floorsMs: number[];
  firstPollMs: number;
  phases: Phases;
  firing: number;
  changes: Array<{ new: number; resolved: number }>;
  rssAfterBytes: number | null;
  peakRssBytes: number | null;
}

interface SizeResult {
  label: string;
  items: number;
  /** Share of items made to fire (0..1); null: the generator's natural levels. */
  share: number | null;
  products: number;
  warehouses: number;
  bodyBytes: number;
  floor: { wallMs: number; runsMs: number[]; peakRssBytes: number | null };
  cold: RunSummary;
  warm: RunSummary;
  coldSlack: Array<{ bytes: number; blocks: number }>;
  redisAfterCold: PrefixMemory | null;
  redisAfterWarm: PrefixMemory | null;
  writes: WritesResult | null;
  mass: MassResult | null;
  steady: SteadySummary | null;
}

function shareLabel(share: number | null): string {
  return share === null ? 'natural' : `${Math.round(share * 100)}%`;
}

const round = (n: number): number => Math.round(n);

function max(values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
}

function summarize(runs: PollRun[], floorMs: number): RunSummary {
  const m = (f: (r: PollRun) => number): number => round(median(runs.map(f)));
  const wallMs = median(runs.map((r) => r.wallMs));
  const last = runs[runs.length - 1];
  return {
    wallMs: round(wallMs),
    runsMs: runs.map((r) => round(r.wallMs)),
    ratio: wallMs / floorMs,
    peakRssBytes: max(runs.map((r) => r.peakRssBytes)),
    durationMs: m((r) => r.durationMs),
    phases: {
      fetch: m((r) => r.phases.fetch),
      parse: m((r) => r.phases.parse),
      load: m((r) => r.phases.load),
      evaluate: m((r) => r.phases.evaluate),
      commit: m((r) => r.phases.commit),
      queue: m((r) => r.phases.queue),
    },
    startupMs: m((r) => r.startupMs),
    tailMs: m((r) => r.tailMs),
    items: last.items,
    firing: last.firing,
    newAlerts: last.newAlerts,
    resolved: last.resolved,
    notices: last.notices,
    warnings: [...new Set(runs.flatMap((r) => r.warnings))],
  };
}

// ---- targets (issue 6, at 200,000 items) -------------------------------------------------------

interface Target {
  name: string;
  value: string;
  met: boolean;
}

const GB = 1024 ** 3;

/** Issue 14's targets: 200,000 items at every share up to 95 %, 10,000 items, 1,000,000 items at 95 %. */
function targets(r: SizeResult): Target[] {
  const t: Target[] = [];
  const rss = max([r.cold.peakRssBytes, r.warm.peakRssBytes, r.mass?.peakRssBytes ?? null]);
  if (r.items >= 1e6) {
    if (rss !== null) t.push({ name: 'peak RSS <= 2.5 GB', value: mb(rss), met: rss <= 2.5 * GB });
    return t;
  }
  if (r.items <= 10_000) {
    t.push({ name: 'warm <= 2.5x floor', value: `${r.warm.ratio.toFixed(2)}x`, met: r.warm.ratio <= 2.5 });
    t.push({ name: 'cold <= 2.5x floor', value: `${r.cold.ratio.toFixed(2)}x`, met: r.cold.ratio <= 2.5 });
    return t;
  }
  t.push({ name: 'warm <= 1.6x floor', value: `${r.warm.ratio.toFixed(2)}x`, met: r.warm.ratio <= 1.6 });
  t.push({ name: 'cold <= 2.0x floor', value: `${r.cold.ratio.toFixed(2)}x`, met: r.cold.ratio <= 2.0 });
  if (rss !== null) t.push({ name: 'peak RSS <= 700 MB', value: mb(rss), met: rss <= 700 * 1024 * 1024 });
  const mem = r.redisAfterWarm ?? r.redisAfterCold;
  if (mem !== null && r.warm.firing > 0) {
    const perAlert = (mem.stateBytes - mem.historyBytes) / r.warm.firing;
    t.push({ name: 'Redis <= 100 B per firing alert', value: `${perAlert.toFixed(0)} B (${r.warm.firing} firing)`, met: perAlert <= 100 });
  }
  if (mem !== null && mem.historyBytes > 0) {
    const perItem = mem.historyBytes / r.items;
    t.push({ name: 'forecast history <= 24 B/item', value: `${perItem.toFixed(1)} B/item`, met: perItem <= 24 });
  }
  if (r.steady !== null) {
    t.push({ name: 'daemon steady poll <= 1.25x', value: `${r.steady.ratio.toFixed(2)}x (${round(r.steady.pollMs)} vs ${round(r.steady.floorMs)} ms in process)`, met: r.steady.ratio <= 1.25 });
  }
  if (r.writes !== null) {
    const w = r.writes;
    t.push({
      name: 'warm writes only what changed',
      value: `${w.changedLevels} levels changed: ${w.alertFieldsWritten} alert fields written, ${w.alertFieldsOfUnchangedItems} of them for unchanged items`,
      met: w.alertFieldsOfUnchangedItems === 0,
    });
  }
  if (r.mass !== null) {
    t.push({ name: 'mass event: 1 Slack message', value: `${r.mass.newAlerts} alerts -> ${r.mass.slackMessages} message(s)`, met: r.mass.slackMessages === 1 });
    // A mass event is a warm poll (state exists), so it gets the warm budget.
    t.push({ name: 'mass event poll <= 1.6x floor', value: `${r.mass.ratio.toFixed(2)}x (floor measured on its own body)`, met: r.mass.ratio <= 1.6 });
  }
  return t;
}

// ---- output ----------------------------------------------------------------------------------

function log(line: string): void {
  process.stderr.write(line + '\n');
}

function mb(bytes: number | null): string {
  return bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function kb(bytes: number): string {
  return bytes >= 1024 * 1024 ? mb(bytes) : `${(bytes / 1024).toFixed(1)} KB`;
}

function progress(label: string, rep: number, floors: FloorRun[], colds: PollRun[], warms: PollRun[]): void {
  const f = floors.slice(-2).map((x) => round(x.wallMs)).join('/');
  log(`${label} rep ${rep}: floor ${f} ms, cold ${round(colds[colds.length - 1].wallMs)} ms, warm ${round(warms[warms.length - 1].wallMs)} ms`);
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

function table(r: SizeResult): string {
  const out: string[] = [];
  out.push(`${r.label} items (${r.products} products x ${r.warehouses} warehouses, ${mb(r.bodyBytes)} of JSON); median of ${r.cold.runsMs.length} runs, ms`);
  const head = ['', 'wall', 'ratio', 'start', 'fetch', 'parse', 'load', 'eval', 'commit', 'queue', 'tail', 'peak RSS'];
  const widths = [7, 7, 6, 6, 6, 6, 6, 6, 7, 6, 6, 10];
  const row = (cells: Array<string | number>): string => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[0]) : pad(c, widths[i]))).join(' ');
  out.push(row(head));
  out.push(row(['floor', round(r.floor.wallMs), '1.00', '', '', '', '', '', '', '', '', mb(r.floor.peakRssBytes)]));
  const pollRow = (name: string, s: { wallMs: number; ratio: number; startupMs: number; phases: Phases; tailMs: number; peakRssBytes: number | null }): string =>
    row([name, s.wallMs, s.ratio.toFixed(2), s.startupMs, s.phases.fetch, s.phases.parse, s.phases.load, s.phases.evaluate, s.phases.commit, s.phases.queue, s.tailMs, mb(s.peakRssBytes)]);
  out.push(pollRow('cold', r.cold));
  out.push(pollRow('warm', r.warm));
  if (r.mass !== null) out.push(pollRow('mass', r.mass));
  if (r.steady !== null) {
    const st = r.steady;
    out.push(row(['floor*', round(st.floorMs), '1.00', '', '', '', '', '', '', '', '', '']));
    out.push(row(['daemon*', round(st.pollMs), st.ratio.toFixed(2), '', st.phases.fetch, st.phases.parse, st.phases.load, st.phases.evaluate, st.phases.commit, st.phases.queue, '', mb(st.peakRssBytes)]));
    out.push(
      `  * in one process: the daemon's polls ${st.pollsMs.join('/')} ms against fetch + JSON.parse ${st.floorsMs.join('/')} ms ` +
        `(its first poll, reading the state back: ${st.firstPollMs} ms; RSS after ${mb(st.rssAfterBytes)})`,
    );
  }
  out.push(
    `  runs: floor ${r.floor.runsMs.join('/')}, cold ${r.cold.runsMs.join('/')}, warm ${r.warm.runsMs.join('/')}` +
      `; cold: ${r.cold.firing} firing, ${r.cold.notices} notice(s); warm: ${r.warm.newAlerts} new, ${r.warm.resolved} resolved`,
  );
  const mem = r.redisAfterWarm ?? r.redisAfterCold;
  if (mem !== null) {
    const parts = Object.entries(mem.byStateKey)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${kb(v)}${mem.lengthByStateKey[k] !== undefined ? ` (${mem.lengthByStateKey[k]} fields)` : ''}`);
    const perAlert = r.warm.firing > 0 ? `, ${((mem.stateBytes - mem.historyBytes) / r.warm.firing).toFixed(1)} bytes per firing alert` : '';
    const history = mem.historyBytes > 0 ? `, forecast history ${(mem.historyBytes / r.items).toFixed(1)} bytes/item` : '';
    out.push(`  Redis state: ${(mem.stateBytes / r.items).toFixed(1)} bytes/item${perAlert}${history}, ${kb(mem.stateBytes)} [${parts.join(', ')}]; queue keys ${kb(mem.queueBytes)}`);
  }
  if (r.writes !== null) {
    const w = r.writes;
    const groups = Object.entries(w.account.byGroup)
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .map(([g, v]) => `${g} ${v.elements} in ${v.commands} cmd, ${kb(v.bytes)}`);
    out.push(
      `  warm writes (one more poll under MONITOR, ${w.changedLevels} levels changed, ${w.poll.newAlerts} new, ${w.poll.resolved} resolved): ` +
        `${w.account.keys} keys, ${kb(w.account.totalBytes)} [${groups.join('; ')}]`,
    );
  }
  if (r.mass !== null) {
    const m = r.mass;
    out.push(
      `  mass event: ${m.zeroedItems} items zeroed -> ${m.newAlerts} new alerts -> ${m.slackMessages} Slack message(s), ` +
        `largest ${kb(m.slackLargestBytes)}, ${m.slackMaxBlocks} blocks, longest block ${m.slackLongestBlockText} chars; floor ${m.floorMs} ms; queue keys after ${kb(m.queueBytesAfter)}`,
    );
  }
  const warnings = [...new Set([...r.cold.warnings, ...r.warm.warnings, ...(r.mass?.warnings ?? [])])];
  if (warnings.length > 0) out.push(`  warnings logged: ${warnings.join(' | ')}`);
  out.push(`  targets${r.items === 200_000 ? '' : ' (set for 200k; shown for comparison)'}:`);
  for (const t of targets(r)) out.push(`    ${t.met ? 'met   ' : 'MISSED'} ${t.name.padEnd(32)} ${t.value}`);
  return out.join('\n');
}

/** Issue 14's table: alert share x items, warm and cold against the floor, peak RSS, Redis per firing alert, the daemon in process. */
function summaryTable(results: SizeResult[]): string {
  const out = ['| items | firing | warm | cold | peak RSS | Redis per firing alert | daemon steady poll (in process) |', '|---|---|---|---|---|---|---|'];
  for (const r of results) {
    const share = r.items > 0 ? r.warm.firing : 0;
    const firingItems = r.share === null ? 'natural' : shareLabel(r.share);
    const mem = r.redisAfterWarm ?? r.redisAfterCold;
    const perAlert = mem !== null && r.warm.firing > 0 ? `${((mem.stateBytes - mem.historyBytes) / r.warm.firing).toFixed(0)} B` : 'n/a';
    const rss = max([r.cold.peakRssBytes, r.warm.peakRssBytes, r.mass?.peakRssBytes ?? null]);
    const steady = r.steady === null ? 'n/a' : `${r.steady.ratio.toFixed(2)}x (${round(r.steady.pollMs)} / ${round(r.steady.floorMs)} ms)`;
    out.push(
      `| ${r.items.toLocaleString('en-US')} | ${firingItems} of items (${share.toLocaleString('en-US')} alerts) | ${r.warm.ratio.toFixed(2)}x | ${r.cold.ratio.toFixed(2)}x | ${mb(rss)} | ${perAlert} | ${steady} |`,
    );
  }
  return out.join('\n');
}

async function machine(redis: Redis): Promise<Record<string, unknown>> {
  const info = String(await redis.info('server'));
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / GB),
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    platform: `${os.platform()} ${os.release()}`,
  };
}

// ---- main ------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    log(`bench: ${(err as Error).message}`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!existsSync(path.join(REPO, 'dist/stockwatch.js'))) {
    log('bench: dist/stockwatch.js is missing; run `npm run build` first (npm run bench does)');
    return 2;
  }

  const redis = connect(opts.redisUrl);
  redis.on('error', () => undefined); // reported by the first command instead
  const rules = writeRulesDir();
  const source = await startSource();
  const slack = await startSlack();
  const bench = new Bench(opts, redis, source, slack, rules.dir);
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    log('bench: interrupted; stopping the process under test and removing the keys');
    killRunning();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: SizeResult[] = [];
  let code = 0;
  try {
    await redis.ping();
    const about = await machine(redis);
    log(`stockwatch benchmark: ${about.cpus} x ${about.cpuModel}, node ${about.node}, redis ${about.redis}`);
    for (const items of opts.sizes) {
      if (interrupted) break;
      for (const [i, share] of opts.shares.entries()) {
        if (interrupted) break;
        const result = await bench.size(items, share, i === 0);
        results.push(result);
        process.stdout.write('\n' + table(result) + '\n');
        (globalThis as { gc?: () => void }).gc?.();
      }
    }
    if (opts.million && !interrupted) {
      const result = await bench.size(1e6, 0.95, false);
      results.push(result);
      process.stdout.write('\n' + table(result) + '\n');
    }
    process.stdout.write('\n' + summaryTable(results) + '\n');
    process.stdout.write(
      '\n' +
        JSON.stringify({
          bench: 'stockwatch',
          at: new Date().toISOString(),
          machine: about,
          options: { sizes: opts.sizes, shares: opts.shares, million: opts.million, steadyPolls: opts.steadyPolls, warehouses: opts.warehouses, reps: opts.reps, seed: opts.seed, massAlerts: opts.massAlerts, cpuProf: opts.cpuProfDir !== null, pollFlags: opts.pollFlags },
          results: results.map((r) => ({ ...r, targets: targets(r) })),
        }) +
        '\n',
    );
  } catch (err) {
    log(`bench: ${interrupted ? 'interrupted' : (err as Error).message}`);
    code = 1;
  } finally {
    await bench.cleanup().catch((err: unknown) => log(`bench: could not remove every key: ${(err as Error).message}`));
    rules.cleanup();
    await Promise.all([source.close(), slack.close()]);
    redis.disconnect();
  }
  return interrupted ? 130 : code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      log(`bench: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    },
  );
}


