// What the fault scenarios share: a small overview whose items the test can turn on and off, the
// rule files, the environment of a child daemon, and the bookkeeping of what was notified.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';
import { childEnv, stockwatch, type ChildRun } from '../support/processes';
import type { Mail, SlackMessage } from '../support/stand-ins';

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

/** A Redis prefix, a rules folder and their cleanup: one per scenario. */
export class Scenario {
  readonly prefix: string;
  readonly rulesDir: string;

  constructor(name: string, rules: string) {
    this.prefix = uniquePrefix(`fault-${name}`);
    this.rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-fault-rules-'));
    fs.writeFileSync(path.join(this.rulesDir, 'rules.yaml'), rules);
  }

  /** Deletes the prefix's keys from the shared Redis (a test's own redis-server goes with its data). */
  async cleanup(redisUrl = REDIS_URL): Promise<void> {
    if (redisUrl === REDIS_URL) await cleanPrefix(this.prefix);
    fs.rmSync(this.rulesDir, { recursive: true, force: true });
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

/** Starts `stockwatch run` and resolves once it has started (rules loaded, Redis reached). */
export async function startDaemon(env: NodeJS.ProcessEnv, name = 'daemon'): Promise<ChildRun> {
  const run = stockwatch(['run'], env, name);
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
