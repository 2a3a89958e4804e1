// Redis goes away and comes back (a redis-server of the test's own, with AOF): the daemon stays up,
// /healthz says 503 while Redis is gone, the work resumes when it is back, nothing is told twice.
import * as http from 'node:http';
import IORedis from 'ioredis';
import { freePort, sleep, type ChildRun, type RedisServer } from '../support/processes';
import type { FakeS2, FakeSlack, FakeSmtp } from '../support/stand-ins';
import { waitFor } from '../support/stand-ins';
import { mailStatuses, overview, rulesYaml, Scenario, slackStatuses } from './helpers';

jest.setTimeout(90_000);

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.on('error', reject);
  });
}

describe('fault: Redis goes away', () => {
  let scenario: Scenario;
  let redis: RedisServer;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('redis', rulesYaml());
    ({ redis, s2, slack, smtp } = await scenario.start({
      overview: overview([{ sku: 'SKU-R', available: 0 }, { sku: 'SKU-S', available: 9 }]),
      slack: true,
      smtp: true,
      redis: true,
    }));
  });

  afterEach(() => scenario.cleanup());

  test('the daemon stays up, reports 503 while Redis is gone, and resumes without telling anything twice', async () => {
    const httpPort = await freePort();
    const daemon: ChildRun = await scenario.startDaemon(scenario.env({ httpPort }));
    expect(await waitFor(() => slack.messages.length === 1 && smtp.mails.length === 1, 15_000)).toBe(true);
    expect(await waitFor(async () => (await get(httpPort, '/healthz')).status === 200, 5000)).toBe(true);

    // Redis goes; meanwhile the item comes back in stock.
    await redis.stop();
    s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-R', available: 40 }, { sku: 'SKU-S', available: 9 }]) };
    let down = { status: 0, body: '' };
    expect(await waitFor(async () => (down = await get(httpPort, '/healthz')).status === 503, 5000)).toBe(true);
    expect(JSON.parse(down.body)).toMatchObject({ status: 'unhealthy', redis: expect.stringMatching(/^not answering/) });
    expect(JSON.parse(down.body).reasons.join(' ')).toMatch(/Redis/);
    // /metrics answers too (without the queue depths it cannot read): a scrape that hung would
    // make every series, the poll-lag alert's among them, vanish for as long as Redis is away.
    const metrics = await get(httpPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^stockwatch_last_successful_poll_timestamp_seconds \d/m);
    // Several poll intervals without Redis: the process is still there and still answers.
    await sleep(4000);
    expect(daemon.exit).toBeNull();
    expect((await get(httpPort, '/healthz')).status).toBe(503);
    expect(slack.messages).toHaveLength(1);

    await redis.start();
    expect(await waitFor(async () => (await get(httpPort, '/healthz')).status === 200, 30_000)).toBe(true);
    expect(await waitFor(() => slack.messages.length >= 2 && smtp.mails.length >= 2, 30_000)).toBe(true);
    await daemon.waitForLine(/Redis answers again/);
    // A few more polls: nothing else to say.
    const seen = daemon.messages().filter((m) => m === 'poll ok').length;
    expect(await waitFor(() => daemon.messages().filter((m) => m === 'poll ok').length >= seen + 3, 15_000)).toBe(true);
    await sleep(500);

    expect(slackStatuses(slack.messages)).toEqual(['firing', 'resolved']);
    expect(mailStatuses(smtp.mails)).toEqual(['firing', 'resolved']);
    expect(new Set(smtp.mails.map((m) => m.noticeId)).size).toBe(2);
    // One line when Redis went, one when it came back: not a line per retry.
    expect(daemon.messages().filter((m) => /^Redis error/.test(m))).toHaveLength(1);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
  test('a Redis that comes back empty gets its schedulers again, and polling goes on', async () => {
    const daemon: ChildRun = await scenario.startDaemon(scenario.env());
    expect(await waitFor(() => slack.messages.length === 1, 15_000)).toBe(true);
    const admin = new IORedis(redis.url);
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    await daemon.waitForLine(/the poll scheduler is gone from Redis/);
    const seen = daemon.messages().filter((m) => m === 'poll ok').length;
    expect(await waitFor(() => daemon.messages().filter((m) => m === 'poll ok').length >= seen + 2, 20_000)).toBe(true);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  test('notices queued but never taken out of the outbox (a crash just after queueing, made to last) go out once', async () => {
    // A Redis user that may do everything but take entries out of the outbox: every poll commits,
    // queues its notices, and then fails, as a daemon killed between the two steps would; every
    // later poll, and the periodic sweep, moves the same entries again.
    const admin = new IORedis(redis.url);
    const p = scenario.prefix;
    try {
      await admin.call('ACL', 'SETUSER', 'faulty', 'on', '>faulty-pw', '+@all', '&*', `~${p}:[^s]*`, `~${p}:s[^t]*`, `~${p}:state:[^o]*`, `~${p}:state:o[^u]*`, `(+@all -hdel ~${p}:state:outbox)`);
      const redisUrl = redis.url.replace('redis://', 'redis://faulty:faulty-pw@');
      const daemon = await scenario.startDaemon(scenario.env({ redisUrl }));
      expect(await waitFor(() => daemon.messages().filter((m) => /^notices committed but not queued yet \(the outbox sweep will retry\): .*NOPERM/.test(m)).length >= 5, 20_000)).toBe(true);
      expect(await admin.hlen(`${p}:state:outbox`)).toBe(2);
      await sleep(500);
      expect(slackStatuses(slack.messages)).toEqual(['firing']);
      expect(mailStatuses(smtp.mails)).toEqual(['firing']);
      await daemon.stop();
    } finally {
      admin.disconnect();
    }
  });
});
