// What the fault scenarios share: a small overview whose items the test can turn on and off, the
// rule files, the environment of a child daemon, and the bookkeeping of what was notified.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanPrefix, REDIS_URL, startFakeS2, startFakeSlack, startFakeSmtp, uniquePrefix } from '../support/stand-ins';
import type { FakeS2, FakeSlack, FakeSmtp, Mail, SlackMessage, SmtpOptions } from '../support/stand-ins';
import { childEnv, RedisServer, stockwatch, type ChildRun } from '../support/processes';

export const ORG = 'org-faults';
export const WAREHOUSE_ID = 'wh-0001';
export const WAREHOUSE_NAME = 'Main warehouse';

export interface ItemSpec {
  sku: string;
  available: number;
  reserved?: number;
  incoming?: number;
  /** Product name; default `Product <sku>`. */
  name?: string;
}

export const productId = (sku: string): string => `p-${sku.toLowerCase()}`;

/** An S2 overview body with one warehouse and one product per item. */
export function overview(items: ItemSpec[]): { warehouses: unknown[]; products: unknown[]; items: unknown[] } {
  const updatedAt = new Date().toISOString();
  return {
    warehouses: [{ id: WAREHOUSE_ID, name: WAREHOUSE_NAME }],
    products: items.map((i) => ({ id: productId(i.sku), sku: i.sku, name: i.name ?? `Product ${i.sku}`, brand: { name: 'Acme' } })),
    items: items.map((i) => ({
      warehouseId: WAREHOUSE_ID,
      level: { productId: productId(i.sku), available: i.available, incoming: i.incoming ?? 0, reserved: i.reserved ?? 0, updatedAt },
    })),
  };
}

/**
 * Rules: `ops` (Slack) and `buyers` (immediate email), both default channels; `out-of-stock`
 * fires when available < 1 and is never repeated, so every notice is a change.
 */
export function rulesYaml(opts: { slack?: boolean; email?: boolean; summary?: string } = {}): string {
  const slack = opts.slack ?? true;
  const email = opts.email ?? true;
  const channels = [slack ? 'ops' : null, email ? 'buyers' : null].filter(Boolean);
  return [
    'channels:',
    ...(slack ? ['  ops:', '    slack:', '      webhook_url: ${TEST_SLACK_URL}'] : []),
    ...(email ? ['  buyers:', '    email:', '      to: [buyers@example.com]'] : []),
    'defaults:',
    `  channels: [${channels.join(', ')}]`,
    '  repeat_every: never',
    '  send_resolved: true',
    'rules:',
    '  - name: out-of-stock',
    '    type: low_available',
    '    below: 1',
    '    severity: critical',
    ...(opts.summary ? [`    summary: ${JSON.stringify(opts.summary)}`] : []),
    '',
  ].join('\n');
}

/** The stand-ins a scenario may start; the S2 stand-in is always there (every daemon polls it). */
export interface StandInRequest {
  /** The body S2 answers at first; default the sample overview. */
  overview?: unknown;
  slack?: boolean;
  /** An SMTP stand-in, with these options when an object. */
  smtp?: boolean | SmtpOptions;
  /** A redis-server of the scenario's own (to stop and restart); daemons use it instead of the shared Redis. */
  redis?: boolean;
}

/** The stand-ins a scenario has running. */
interface StandIns {
  s2?: FakeS2;
  slack?: FakeSlack;
  smtp?: FakeSmtp;
  redis?: RedisServer;
}

/** What `Scenario.env` fills in from the scenario's stand-ins unless told otherwise. */
export type EnvOverrides = Partial<Omit<DaemonEnvOptions, 'scenario'>>;

/**
 * One scenario of the suite: a Redis prefix and a rules folder, the stand-ins it was asked to
 * start, and the processes it started; `cleanup()` takes all of it down, so that a test's setup
 * and teardown are one call each.
 */
export class Scenario {
  readonly prefix: string;
  readonly rulesDir: string;
  private started: StandIns = {};
  private readonly extraSmtp: FakeSmtp[] = [];
  private readonly runs: ChildRun[] = [];

  constructor(name: string, rules: string) {
    this.prefix = uniquePrefix(`fault-${name}`);
    this.rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-fault-rules-'));
    fs.writeFileSync(path.join(this.rulesDir, 'rules.yaml'), rules);
  }

  /**
   * Starts the S2 stand-in and those asked for, in parallel, and keeps them for `env` and
   * `cleanup`. Resolves with the scenario, whose stand-ins can be taken out by name.
   */
  async start(want: StandInRequest = {}): Promise<this> {
    const smtpOptions = typeof want.smtp === 'object' ? want.smtp : {};
    const [s2, slack, smtp, redis] = await Promise.allSettled([
      want.overview === undefined ? startFakeS2() : startFakeS2(want.overview),
      want.slack ? startFakeSlack() : undefined,
      want.smtp ? startFakeSmtp(smtpOptions) : undefined,
      want.redis ? RedisServer.start() : undefined,
    ]);
    // Keep whatever did start, so that cleanup() closes it even when another one failed.
    const value = <T>(r: PromiseSettledResult<T | undefined>): T | undefined => (r.status === 'fulfilled' ? r.value : undefined);
    this.started = { s2: value(s2), slack: value(slack), smtp: value(smtp), redis: value(redis) };
    const failed = [s2, slack, smtp, redis].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return this;
  }

  get s2(): FakeS2 {
    return this.standIn('s2', 'start()');
  }

  get slack(): FakeSlack {
    return this.standIn('slack', 'start({ slack: true })');
  }

  get smtp(): FakeSmtp {
    return this.standIn('smtp', 'start({ smtp: true })');
  }

  get redis(): RedisServer {
    return this.standIn('redis', 'start({ redis: true })');
  }

  private standIn<K extends keyof StandIns>(name: K, how: string): NonNullable<StandIns[K]> {
    const found = this.started[name];
    if (found === undefined) throw new Error(`scenario ${this.prefix} has no ${name} stand-in: ${how} starts one`);
    return found as NonNullable<StandIns[K]>;
  }

  /** An SMTP stand-in started later in the test (e.g. back on a port that was down); closed by cleanup(). */
  async startSmtp(opts: SmtpOptions = {}): Promise<FakeSmtp> {
    const smtp = await startFakeSmtp(opts);
    this.extraSmtp.push(smtp);
    return smtp;
  }

  /** A daemon's environment (see daemonEnv) with this scenario's stand-ins filled in; `over` wins. */
  env(over: EnvOverrides = {}): NodeJS.ProcessEnv {
    const s2 = over.s2 ?? this.started.s2;
    if (s2 === undefined) throw new Error(`scenario ${this.prefix} has no S2 stand-in: start() it or pass s2`);
    return daemonEnv({
      slackUrl: this.started.slack?.webhookUrl,
      smtpUrl: this.started.smtp?.url,
      redisUrl: this.started.redis?.url,
      ...over,
      s2,
      scenario: this,
    });
  }

  /** startDaemon, and the daemon is killed by cleanup() should it still run. */
  async startDaemon(env: NodeJS.ProcessEnv, name?: string): Promise<ChildRun> {
    return startDaemon(env, name, (run) => this.runs.push(run));
  }

  /** `stockwatch ARGS` (see processes.ts), killed by cleanup() should it still run. */
  stockwatch(args: string[], env: NodeJS.ProcessEnv, name?: string): ChildRun {
    const run = stockwatch(args, env, name);
    this.runs.push(run);
    return run;
  }

  /**
   * Kills (-9) the processes this scenario started, closes its stand-ins, then deletes the prefix's
   * keys from the shared Redis (a scenario's own redis-server goes with its data) and the rules.
   * Everything is attempted; the first failure is thrown after.
   */
  async cleanup(redisUrl = REDIS_URL): Promise<void> {
    const runs = this.runs.splice(0);
    const { s2, slack, smtp, redis } = this.started;
    const extraSmtp = this.extraSmtp.splice(0);
    this.started = {};
    const steps: Array<() => Promise<unknown>> = [
      () => Promise.all(runs.map((r) => r.kill9())),
      () => Promise.all([s2?.close(), slack?.close(), smtp?.close(), ...extraSmtp.map((m) => m.close())]),
      async () => redis?.destroy(),
      async () => (redis === undefined && redisUrl === REDIS_URL ? cleanPrefix(this.prefix) : undefined),
      async () => fs.rmSync(this.rulesDir, { recursive: true, force: true }),
    ];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** STOCKWATCH_JOB_LOCK for the fault suite (see daemonEnv). */
export const JOB_LOCK = '2s';
/**
 * How long a job held by a killed daemon may take to be picked up again: the lock (2 s) plus up
 * to two stalled-job checks (2 s apart), with room for a busy CI machine.
 */
export const TAKEOVER_MS = 20_000;

export interface DaemonEnvOptions {
  scenario: Scenario;
  s2: { url: string; token: string };
  slackUrl?: string;
  smtpUrl?: string;
  redisUrl?: string;
  pollEvery?: string;
  httpPort?: number;
  logLevel?: string;
  apiTimeout?: string;
}

/**
 * The environment of a child daemon: exactly what a deployment sets, nothing inherited. Polls
 * every second, and a job held by a killed daemon is taken over after 2 s (STOCKWATCH_JOB_LOCK)
 * instead of the 30 s default, so that the scenarios stay short.
 */
export function daemonEnv(o: DaemonEnvOptions): NodeJS.ProcessEnv {
  return childEnv({
    S2_API_URL: o.s2.url,
    S2_API_TOKEN: o.s2.token,
    S2_ORGANIZATION_ID: ORG,
    S2_API_TIMEOUT: o.apiTimeout ?? '5s',
    REDIS_URL: o.redisUrl ?? REDIS_URL,
    STOCKWATCH_PREFIX: o.scenario.prefix,
    RULES_DIR: o.scenario.rulesDir,
    POLL_EVERY: o.pollEvery ?? '1s',
    HTTP_PORT: String(o.httpPort ?? 0),
    LOG_LEVEL: o.logLevel ?? 'info',
    SMTP_URL: o.smtpUrl,
    EMAIL_FROM: 'stockwatch@faults.test',
    TEST_SLACK_URL: o.slackUrl ?? 'http://127.0.0.1:9/unused',
    STOCKWATCH_JOB_LOCK: JOB_LOCK,
  });
}

/**
 * Starts `stockwatch run` and resolves once it has started (rules loaded, Redis reached).
 * `spawned` sees the process as soon as it exists, so that it can be killed even if it never starts.
 */
export async function startDaemon(env: NodeJS.ProcessEnv, name = 'daemon', spawned?: (run: ChildRun) => void): Promise<ChildRun> {
  const run = stockwatch(['run'], env, name);
  spawned?.(run);
  await run.waitForLine(/stockwatch starting/, 20_000);
  return run;
}

/** `out-of-stock` lines of Slack messages and mails, as `firing` / `resolved` with their text. */
export function slackStatuses(messages: SlackMessage[]): Array<'firing' | 'resolved'> {
  return messages.filter((m) => /out-of-stock/.test(m.text)).map((m) => statusOf(m.text));
}

export function mailStatuses(mails: Mail[]): Array<'firing' | 'resolved'> {
  return mails.filter((m) => /out-of-stock/.test(m.text)).map((m) => statusOf(m.text));
}

export function statusOf(text: string): 'firing' | 'resolved' {
  // Alert lines start with their status words: `firing · out-of-stock (critical) · …`. A line
  // delivered after its alert moved on says so, e.g. `firing (resolved since) · …`: what the
  // reader takes as the present is then what happened since.
  const lines = [...text.matchAll(/^(firing|resolved)(?: \((resolved|firing again|resolved and firing again) since\))? · out-of-stock/gm)];
  if (lines.length !== 1) throw new Error(`expected one out-of-stock line in this notice:\n${text}`);
  const [, status, since] = lines[0];
  if (since === undefined) return status as 'firing' | 'resolved';
  return since === 'resolved' ? 'resolved' : 'firing';
}

/** An alert line without what a late delivery added to it: the notice as it was made. */
export function asMade(text: string): string {
  return text.replace(/ \((?:resolved|firing again|resolved and firing again) since\)/g, '');
}
