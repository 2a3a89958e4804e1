// The daemon end to end: real Redis, a real SMTP server and local HTTP servers for S2 and Slack.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Daemon } from '../../src/daemon/daemon';
import type { Config } from '../../src/config';
import {
  captureLog,
  cleanPrefix,
  rulesDir,
  sampleOverview,
  startFakeS2,
  startFakeSlack,
  startFakeSmtp,
  testConfig,
  uniquePrefix,
  waitFor,
  type FakeS2,
  type FakeSlack,
  type FakeSmtp,
} from '../support/stand-ins';

const RULES = `
channels:
  ops:
    slack:
      webhook_url: \${TEST_SLACK_URL}
  buyers:
    email:
      to: [buyers@example.com, boss@example.com]
defaults:
  channels: [ops, buyers]
  repeat_every: never
rules:
  - name: negative-reserved
    type: negative_reserved
    severity: critical
    summary: "{{sku}} reserved {{reserved}}"
  - name: unknown-product
    type: unknown_product
  - name: out-of-stock
    type: low_available
    below: 1
`;

describe('daemon', () => {
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;
  let prefix: string;
  let dir: string;
  const daemons: Daemon[] = [];

  beforeEach(async () => {
    [s2, slack, smtp] = await Promise.all([startFakeS2(), startFakeSlack(), startFakeSmtp()]);
    prefix = uniquePrefix('daemon');
    dir = rulesDir({ 'rules.yaml': RULES });
  });

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await Promise.all([s2.close(), slack.close(), smtp.close()]);
    await cleanPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function config(over: Partial<Config> = {}): Config {
    return testConfig({ apiUrl: s2.url, apiToken: s2.token, prefix, rulesDir: dir, smtpUrl: smtp.url, ...over });
  }

  async function start(opts: { schedule?: boolean; config?: Partial<Config>; log?: ReturnType<typeof captureLog> } = {}): Promise<Daemon> {
    const log = opts.log ?? captureLog('warn');
    const daemon = await Daemon.start({
      config: config(opts.config),
      env: { TEST_SLACK_URL: slack.webhookUrl },
      log: log.log,
      schedule: opts.schedule ?? false,
      httpHost: '127.0.0.1',
    });
    daemons.push(daemon);
    return daemon;
  }

  async function pollAndDeliver(daemon: Daemon): Promise<Awaited<ReturnType<Daemon['pollNow']>>> {
    const report = await daemon.pollNow();
    const { pending, failed } = await daemon.waitForDelivery(report.notices, 20_000);
    expect({ pending, failed }).toEqual({ pending: [], failed: [] });
    return report;
  }

  test('the sample gives one Slack message and one email per channel, then nothing while nothing changes', async () => {
    const daemon = await start();
    const first = await pollAndDeliver(daemon);
    expect(first.ok).toBe(true);
    // 4 negative reserved + 3 unknown products + 3 items with available 0 (TEST-BLACK, test, and one unknown product).
    expect(first.newCount).toBe(first.firing);
    expect(slack.messages).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].to.sort()).toEqual(['boss@example.com', 'buyers@example.com']);

    const text = JSON.stringify(slack.messages[0]);
    expect(text).toContain('TEST-BLACK');
    expect(text).toContain('negative-reserved');
    expect(text).toContain('reserved -13');
    expect(smtp.mails[0].subject).toMatch(/^\[stockwatch\] \d+ new: /);
    expect(smtp.mails[0].text).toContain('TEST-BLACK');

    const second = await pollAndDeliver(daemon);
    expect(second.newCount + second.repeatCount + second.resolvedCount).toBe(0);
    expect(second.notices).toEqual([]);
    expect(slack.messages).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
  });

  test('a fixed item resolves, once; a restarted daemon does not notify again what it already did', async () => {
    let daemon = await start();
    await pollAndDeliver(daemon);
    await daemon.stop();

    daemon = await start();
    const again = await pollAndDeliver(daemon);
    expect(again.notices).toEqual([]);

    const fixed = sampleOverview();
    const black = fixed.items.find((i) => i.level.productId === 'f4053402-e79b-45c2-8621-377d28060888')!;
    black.level.reserved = 0;
    black.level.available = 25;
    s2.answer = { kind: 'json', body: fixed };
    const report = await pollAndDeliver(daemon);
    expect(report.resolvedCount).toBe(2); // negative-reserved and out-of-stock of TEST-BLACK
    expect(slack.messages).toHaveLength(2);
    const resolvedText = slack.messages[1].text + JSON.stringify(slack.messages[1].blocks);
    expect(resolvedText).toContain('resolved');
    expect(resolvedText).toContain('TEST-BLACK');
    expect(resolvedText).toContain('available 25');

    const quiet = await pollAndDeliver(daemon);
    expect(quiet.notices).toEqual([]);
  });

  test('3 failed polls give one unreachable notice and resolve nothing; recovery gives one recovered notice', async () => {
    const daemon = await start();
    const first = await pollAndDeliver(daemon);
    s2.answer = { kind: 'status', status: 500 };
    for (let i = 0; i < 5; i++) {
      const r = await pollAndDeliver(daemon);
      expect(r.ok).toBe(false);
      expect(r.error).toContain('HTTP 500');
      expect(r.notices).toHaveLength(i === 2 ? 2 : 0); // the third failure tells ops (Slack) and buyers (email)
    }
    expect(slack.messages.map((m) => m.text).filter((t) => /unreachable/i.test(t))).toHaveLength(1);
    expect((await daemon.health()).status).toBe(503);

    s2.answer = { kind: 'json', body: sampleOverview() };
    const back = await pollAndDeliver(daemon);
    expect(back.ok).toBe(true);
    expect(back.resolvedCount + back.newCount).toBe(0); // the alerts survived the outage untouched
    expect(back.firing).toBe(first.firing);
    expect(slack.messages.map((m) => m.text).filter((t) => /recovered/i.test(t))).toHaveLength(1);
    expect((await daemon.health()).status).toBe(200);
  });

  test('an overview that lost more than half its items resolves nothing until it persists for 3 polls', async () => {
    const daemon = await start();
    const first = await pollAndDeliver(daemon);
    const small = sampleOverview();
    small.items = small.items.slice(0, 2);
    s2.answer = { kind: 'json', body: small };
    for (let i = 0; i < 2; i++) {
      const r = await pollAndDeliver(daemon);
      expect(r.suspect).toBe(true);
      expect(r.resolvedCount).toBe(0);
      expect(r.firing).toBe(first.firing);
    }
    expect(slack.messages.filter((m) => /suspect/i.test(m.text))).toHaveLength(1);
    const accepted = await pollAndDeliver(daemon);
    expect(accepted.suspect).toBe(false);
    expect(accepted.resolvedCount).toBeGreaterThan(0);
  });

  test('Slack 429 with Retry-After twice, then success: delivered exactly once, not before Retry-After', async () => {
    slack.script = [{ status: 429, retryAfter: 1 }, { status: 429, retryAfter: 1 }];
    const daemon = await start();
    await pollAndDeliver(daemon);
    expect(slack.messages).toHaveLength(1);
    expect(slack.attempts.map((a) => a.status)).toEqual([429, 429, 200]);
    expect(slack.attempts[1].atMs - slack.attempts[0].atMs).toBeGreaterThanOrEqual(950);
    expect(slack.attempts[2].atMs - slack.attempts[1].atMs).toBeGreaterThanOrEqual(950);
  });

  test('a notice delivered late says what happened since, so it never contradicts a newer one', async () => {
    slack.script = [{ status: 500 }, { status: 500 }];
    const daemon = await start();
    const first = await daemon.pollNow(); // the firing notice fails once and waits for its retry
    const fixed = sampleOverview();
    const black = fixed.items.find((i) => i.level.productId === 'f4053402-e79b-45c2-8621-377d28060888')!;
    black.level.reserved = 0;
    black.level.available = 25;
    s2.answer = { kind: 'json', body: fixed };
    const second = await daemon.pollNow();
    const all = [...first.notices, ...second.notices];
    expect(await daemon.waitForDelivery(all, 20_000)).toMatchObject({ pending: [], failed: [] });
    const lines = slack.messages.flatMap((m) => JSON.stringify(m.blocks).split('\\n'));
    const late = lines.filter((l) => l.includes('negative-reserved') && l.includes('TEST-BLACK'));
    expect(late.some((l) => l.includes('firing (resolved since)'))).toBe(true);
    expect(late.some((l) => l.includes('resolved') && !l.includes('since'))).toBe(true);
  });

  test('Slack 500s are retried until delivered; a 404 fails for good and shows in metrics', async () => {
    slack.script = [{ status: 500 }, { status: 502 }, { status: 503 }];
    const log = captureLog('warn');
    const daemon = await start({ log });
    await pollAndDeliver(daemon);
    expect(slack.attempts.map((a) => a.status)).toEqual([500, 502, 503, 200]);
    expect(slack.messages).toHaveLength(1);

    slack.script = [{ status: 404 }];
    s2.answer = { kind: 'status', status: 500 };
    for (let i = 0; i < 3; i++) await daemon.pollNow();
    const report = await waitFor(async () => (await daemon.metrics.registry.getSingleMetricAsString('stockwatch_notices_total')).includes('channel_type="slack",outcome="failed"'));
    expect(report).toBe(true);
    expect(log.text()).toMatch(/slack notice failed for good: .*HTTP 404/);
    expect(log.text()).not.toContain(new URL(slack.webhookUrl).pathname);
  });

  test('two daemons on one Redis: one poll per interval, one notice per event', async () => {
    const a = await start({ schedule: true, config: { pollEveryMs: 1000 } });
    const b = await start({ schedule: true, config: { pollEveryMs: 1000 } });
    const startedAt = Date.now();
    await waitFor(() => slack.messages.length >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 3500));
    const elapsedS = (Date.now() - startedAt) / 1000;
    // One scheduler whatever the number of daemons: about one poll a second, not two.
    expect(s2.requests.length).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
    expect(s2.requests.length).toBeGreaterThanOrEqual(2);
    expect(slack.messages).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    void a;
    void b;
  });

  test('API text that could mention, link or inject arrives escaped', async () => {
    const hostile = sampleOverview();
    hostile.products.find((p) => p.sku === 'TEST-BLACK')!.name = '<!channel> <script>alert(1)</script> & co';
    hostile.products.find((p) => p.sku === 'TEST-BLACK')!.sku = '<!here>BLACK';
    s2.answer = { kind: 'json', body: hostile };
    const daemon = await start();
    await pollAndDeliver(daemon);
    const slackText = JSON.stringify(slack.messages[0]);
    expect(slackText).not.toContain('<!here>');
    expect(slackText).toContain('&lt;!here&gt;BLACK');
    expect(smtp.mails[0].html).not.toContain('<script>');
    expect(smtp.mails[0].html).toContain('&lt;script&gt;');
    expect(smtp.mails[0].text).toContain('<!here>BLACK'); // the text part is plain text: intact
  });

  test('hot reload: a changed rule file takes effect at the next poll; a broken one keeps the old rules', async () => {
    const log = captureLog('info');
    const daemon = await start({ log });
    await pollAndDeliver(daemon);
    const file = path.join(dir, 'rules.yaml');

    fs.writeFileSync(file, RULES + '\n  - name: low-stock\n    type: low_available\n    below: 12\n');
    const report = await pollAndDeliver(daemon);
    expect(report.newCount).toBeGreaterThan(0);
    expect(JSON.stringify(slack.messages[1])).toContain('low-stock');

    fs.writeFileSync(file, RULES + '\n  - name: broken\n    type: low_availble\n');
    const kept = await pollAndDeliver(daemon);
    expect(kept.ok).toBe(true);
    expect(kept.newCount + kept.resolvedCount).toBe(0); // low-stock still in force, nothing resolved
    expect(daemon.rules.refused?.errors.join('\n')).toMatch(/rules\.yaml:\d+:\d+: .*low_availble/);
    expect(log.text()).toMatch(/rule change refused/);
    // The gauge operating.md has ops alert on: 1 while the change is refused, 0 once fixed.
    const metrics = async (): Promise<string> => (await daemon.routes['/metrics'](new URL('http://localhost/metrics'))).body;
    expect(await metrics()).toMatch(/^stockwatch_rules_refused 1$/m);
    fs.writeFileSync(file, RULES);
    await pollAndDeliver(daemon);
    expect(await metrics()).toMatch(/^stockwatch_rules_refused 0$/m);
  });

  test('an invalid rule folder stops the daemon from starting, with FILE:LINE:COL lines', async () => {
    fs.writeFileSync(path.join(dir, 'rules.yaml'), 'rules:\n  - name: x\n    type: nope\n');
    await expect(start()).rejects.toThrow(/rules\.yaml:3:11: /);
  });

  test('health reports 200 after a good poll and the token never reaches the logs', async () => {
    const log = captureLog('debug');
    const daemon = await start({ log, config: { httpPort: 0 } });
    await pollAndDeliver(daemon);
    const health = await daemon.health();
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).lastPoll.state).toBe('ok');
    s2.answer = { kind: 'status', status: 401 };
    await daemon.pollNow();
    expect(log.text()).not.toContain(s2.token);
    expect(log.text()).toMatch(/rejected the token/);
    // What the overview leaves out is logged quoting the body's values, which may echo the token.
    const echoing = sampleOverview();
    (echoing.items[0].level as Record<string, unknown>).available = s2.token;
    s2.answer = { kind: 'json', body: echoing };
    await daemon.pollNow();
    expect(log.text()).toMatch(/item left out: items\[0\]\.level\.available: expected an integer, got \\"\[token\]\\"/);
    expect(log.text()).not.toContain(s2.token);
  });
});
