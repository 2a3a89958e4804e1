// Slack answers 429 with Retry-After, then 500s for a while (8 s here, standing for "a minute"),
// then accepts: the message is posted once. A later message answered 404 (a deleted webhook) fails
// for good at once: one log line that says so, and the failed counter of the metrics.
import * as http from 'node:http';
import IORedis from 'ioredis';
import { freePort, sleep, type ChildRun } from '../support/processes';
import { REDIS_URL } from '../support/stand-ins';
import type { FakeS2, FakeSlack, FakeSmtp } from '../support/stand-ins';
import { waitFor } from '../support/stand-ins';
import { mailStatuses, overview, rulesYaml, Scenario, slackStatuses } from './helpers';

jest.setTimeout(90_000);

/** How long Slack keeps answering 500 (the "a minute", shortened to keep the suite fast). */
const OUTAGE_MS = 8000;
const RETRY_AFTER_S = 2;

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('fault: Slack 429, 500s, then 404', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('slack', rulesYaml());
    ({ s2, slack, smtp } = await scenario.start({ overview: overview([{ sku: 'SKU-K', available: 5 }]), slack: true, smtp: true }));
  });

  afterEach(() => scenario.cleanup());

  test('retried through 429 and an outage, posted once; a 404 fails for good with a log line and a metric', async () => {
    const httpPort = await freePort();
    const daemon: ChildRun = await scenario.startDaemon(scenario.env({ httpPort }));
    await daemon.waitForLine(/poll ok/);

    let outageEnd = Number.POSITIVE_INFINITY;
    slack.answer = (n) => {
      if (n === 0) return { status: 429, retryAfter: RETRY_AFTER_S };
      if (n === 1) outageEnd = Date.now() + OUTAGE_MS;
      return Date.now() < outageEnd ? { status: [500, 502, 503][n % 3] } : { status: 200 };
    };
    s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-K', available: 0 }]) };

    expect(await waitFor(() => slack.messages.length === 1, OUTAGE_MS + 40_000)).toBe(true);
    const statuses = slack.attempts.map((a) => a.status);
    expect(statuses[0]).toBe(429);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(1, -1).length).toBeGreaterThanOrEqual(2);
    expect(statuses.slice(1, -1).every((s) => s >= 500)).toBe(true);
    // Retry-After was honoured: no request to the webhook before it ran out.
    expect(slack.attempts[1].atMs - slack.attempts[0].atMs).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 50);
    // The email channel was not held up by Slack's trouble.
    expect(smtp.mails[0].atMs).toBeLessThan(slack.messages[0].atMs);
    expect(daemon.messages().filter((m) => /slack notice not delivered, will retry/.test(m)).length).toBe(statuses.length - 1);

    // The webhook is deleted: 404 from now on. The item comes back in stock.
    slack.answer = () => ({ status: 404 });
    s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-K', available: 30 }]) };
    const failed = await daemon.waitForLine(/slack notice failed for good/, 20_000);
    expect(String(failed.msg)).toMatch(/^slack notice failed for good: Slack webhook rejected the message: HTTP 404 no_service$/);
    expect(failed).toMatchObject({ level: 50, channel: 'ops' });
    // Not retried: a few polls later there was still one 404.
    const seen = daemon.messages().filter((m) => m === 'poll ok').length;
    expect(await waitFor(() => daemon.messages().filter((m) => m === 'poll ok').length >= seen + 3, 15_000)).toBe(true);
    await sleep(300);
    expect(slack.attempts.filter((a) => a.status === 404)).toHaveLength(1);
    expect(slackStatuses(slack.messages)).toEqual(['firing']);
    expect(mailStatuses(smtp.mails)).toEqual(['firing', 'resolved']);

    const metrics = await getText(httpPort, '/metrics');
    expect(metrics).toMatch(/^stockwatch_notices_total\{channel_type="slack",outcome="failed"\} 1$/m);
    expect(metrics).toMatch(/^stockwatch_notices_total\{channel_type="slack",outcome="sent"\} 1$/m);
    expect(metrics).toMatch(new RegExp(`^stockwatch_notices_total\\{channel_type="slack",outcome="retried"\\} ${statuses.length - 1}$`, 'm'));
    expect(daemon.output()).not.toContain(slack.secretPath);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  test("a Retry-After of a day holds the webhook for an hour at most, as the job's own retry", async () => {
    const daemon: ChildRun = await scenario.startDaemon(scenario.env());
    await daemon.waitForLine(/poll ok/);
    slack.answer = () => ({ status: 429, retryAfter: 86_400 });
    s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-K', available: 0 }]) };
    await daemon.waitForLine(/slack notice not delivered, will retry: .*retry after 86400s/, 20_000);
    const redis = new IORedis(REDIS_URL);
    try {
      const paceKeys: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${scenario.prefix}:pace:*`, 'COUNT', 1000);
        paceKeys.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(paceKeys).toHaveLength(1);
      const ttl = await redis.pttl(paceKeys[0]);
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    } finally {
      redis.disconnect();
    }
  });
});
