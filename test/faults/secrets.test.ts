// Secrets under failure: a full poll cycle at LOG_LEVEL=debug in which everything fails once —
// S2 401, 500, timeout, a body that is not JSON (and quotes the token back); Slack 500 and 404
// (with the webhook path echoed in its answer); SMTP login refused (with the password echoed) and
// a recipient refused — then `poll --once` and `notify-test` failing the same ways. The API token,
// the SMTP password and the webhook's secret path appear in no output line of any process, in no
// error message kept in Redis (job failures, last poll error) and in no HTTP answer.
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { freePort, type ChildRun } from '../support/processes';
import type { S2Answer, FakeS2, FakeSlack, FakeSmtp } from '../support/stand-ins';
import { REDIS_URL, waitFor } from '../support/stand-ins';
import { overview, Scenario } from './helpers';

jest.setTimeout(90_000);

const SMTP_USER = 'stockwatch';
// Characters that must be percent-encoded in SMTP_URL, so both forms are checked.
const SMTP_PASSWORD = `pw/${randomBytes(9).toString('hex')}@:x`;

const RULES = `
channels:
  ops:
    slack:
      webhook_url: \${TEST_SLACK_URL}
  buyers:
    email:
      to: [buyers@example.com]
  blocked:
    email:
      to: [refused@example.com]
defaults:
  channels: [ops, buyers, blocked]
  repeat_every: never
rules:
  - name: out-of-stock
    type: low_available
    below: 1
`;

function get(port: number, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Every value under a prefix, as text: job data, failure reasons and stack traces, the poll state. */
async function dumpPrefix(prefix: string): Promise<string> {
  const redis = new IORedis(REDIS_URL);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') out.push(key, String(await redis.get(key)));
        else if (type === 'hash') out.push(key, JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') out.push(key, JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') out.push(key, JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') out.push(key, JSON.stringify(await redis.zrange(key, '0', '-1')));
        else if (type === 'stream') out.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return out.join('\n');
}

/** The secret and the forms it could take on its way out (encoded, or a long piece of it). */
function forms(secret: string): string[] {
  const out = new Set([secret, encodeURIComponent(secret)]);
  for (let i = 0; i + 12 <= secret.length; i++) out.add(secret.slice(i, i + 12));
  return [...out];
}

describe('secrets stay out of logs and error messages, whatever fails', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('secrets', RULES);
    ({ s2, slack, smtp } = await scenario.start({
      overview: overview([{ sku: 'SKU-X', available: 0 }]),
      slack: true,
      smtp: { auth: { user: SMTP_USER, pass: SMTP_PASSWORD }, refuseRecipients: ['refused@example.com'] },
    }));
  });

  afterEach(() => scenario.cleanup());

  test('a debug-level cycle with every kind of failure, then poll --once and notify-test failing', async () => {
    expect(smtp.url).toContain(encodeURIComponent(SMTP_PASSWORD));
    slack.echoPath = true;
    slack.script = [{ status: 500 }, { status: 404 }];
    smtp.refuseLogins = true;
    const start = s2.requests.length;
    const script: S2Answer[] = [
      { kind: 'json', body: overview([{ sku: 'SKU-X', available: 0 }]) },
      { kind: 'status', status: 401 },
      { kind: 'status', status: 500 },
      { kind: 'slow', ms: 2500, body: {} },
      // Not JSON, and it quotes the request back, token and all.
      { kind: 'raw', text: `Authorization: Bearer ${s2.token} -- upstream said no` },
    ];
    s2.answer = (n) => script[n - start] ?? { kind: 'json', body: overview([{ sku: 'SKU-X', available: 0 }]) };

    const httpPort = await freePort();
    const env = scenario.env({ logLevel: 'debug', apiTimeout: '1s', httpPort });
    const runs: ChildRun[] = [];
    const daemon = await scenario.startDaemon(env);
    runs.push(daemon);

    // The first event's mails meet a server that refuses the login.
    await waitFor(() => daemon.messages().filter((m) => /email notice failed for good: SMTP authentication failed/.test(m)).length === 2, 20_000);
    smtp.refuseLogins = false;
    // Then the failures, "unreachable", and "recovered" (whose mail to refused@ is refused).
    expect(await waitFor(() => daemon.messages().some((m) => /slack notice failed for good/.test(m)), 30_000)).toBe(true);
    expect(await waitFor(() => s2.requests.length >= start + script.length + 1, 30_000)).toBe(true);
    expect(await waitFor(() => daemon.messages().filter((m) => /email notice failed for good: SMTP server refused the message/.test(m)).length >= 2, 30_000)).toBe(true);
    const health = await get(httpPort, '/healthz');
    const metrics = await get(httpPort, '/metrics');
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });

    // One-shot commands failing: a poll whose token is refused; test notices to a deleted webhook and a refused login.
    s2.answer = { kind: 'status', status: 401 };
    const poll = scenario.stockwatch(['poll', '--once'], env, 'poll --once');
    runs.push(poll);
    expect((await poll.exited).code).toBe(1);
    slack.script = [{ status: 404 }];
    smtp.refuseLogins = true;
    for (const channel of ['ops', 'buyers']) {
      const test = scenario.stockwatch(['notify-test', channel], env, `notify-test ${channel}`);
      runs.push(test);
      expect((await test.exited).code).toBe(1);
    }

    // The failures really happened, each of them (else this test would prove nothing).
    const output = runs.map((r) => r.output()).join('\n');
    for (const seen of [
      /S2 API rejected the token \(HTTP 401\)/,
      /S2 API answered HTTP 500/,
      /S2 API timed out after 1s/,
      /S2 API body is not JSON/,
      /slack notice not delivered, will retry: Slack webhook failed: HTTP 500/,
      /slack notice failed for good: Slack webhook rejected the message: HTTP 404/,
      /email notice failed for good: SMTP authentication failed/,
      /email notice failed for good: SMTP server refused the message/,
      /stockwatch: poll failed: S2 API rejected the token/,
      /notify-test: channel ops \(slack\): Slack webhook rejected the message: HTTP 404/,
      /notify-test: channel buyers \(email\): SMTP authentication failed/,
    ]) {
      expect(output).toMatch(seen);
    }
    // The servers did echo the secrets back: the daemon had them in hand and kept them in.
    expect(smtp.refusedLogins).toBeGreaterThanOrEqual(3);

    const kept = await dumpPrefix(scenario.prefix);
    expect(kept).toMatch(/failedReason/);
    const secrets: Array<[string, string[]]> = [
      ['S2 token', forms(s2.token)],
      ['SMTP password', forms(SMTP_PASSWORD)],
      ['webhook path', [slack.secretPath, ...forms(path.basename(slack.secretPath))]],
    ];
    const places: Array<[string, string]> = [
      ['process output', output],
      ['Redis (job failures, poll state)', kept],
      ['/healthz', health],
      ['/metrics', metrics],
    ];
    const leaks: string[] = [];
    for (const [what, list] of secrets) {
      for (const [where, text] of places) {
        const line = text.split('\n').find((l) => list.some((s) => l.includes(s)));
        if (line !== undefined) leaks.push(`${what} in ${where}: ${line}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
