// The status page's data and HTML, from a real daemon on real Redis polling a local S2 stand-in
// whose sample carries hostile product and warehouse names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { Daemon } from '../../src/daemon/daemon';
import { QueueJobs } from '../../src/delivery/jobs';
import { collectStatus, type StatusReport } from '../../src/web/status';
import { renderStatusPage } from '../../src/web/status-page';
import { startSimulator, type Simulator } from '../../src/demo/simulator';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { createLogger } from '../../src/log';
import type { Alert } from '../../src/model';
import { DeliveryError } from '../../src/notify';
import { StateStore } from '../../src/state/store';
import { RulesHolder } from '../../src/daemon/rules-holder';
import {
  HOSTILE_PRODUCT,
  HOSTILE_WAREHOUSE,
  cleanPrefix,
  hostileSample,
  recordingTransports,
  rulesDir,
  testConfig,
  uniquePrefix,
  waitFor,
} from './helpers';

const SLACK_SECRET = `https://hooks.slack.com/services/T000/B000/sw-${Math.random().toString(36).slice(2)}`;

const RULES = `
channels:
  ops:
    slack:
      webhook_url: \${TEST_SLACK_URL}
  buyers:
    email:
      to: [buyers@example.com]
  weekly:
    email:
      to: [boss@example.com]
      digest: "0 8 * * 1"
      timezone: America/Toronto
defaults:
  channels: [ops, buyers]
rules:
  - name: negative-reserved
    type: negative_reserved
    severity: critical
  - name: out-of-stock
    type: low_available
    below: 1
    where: { warehouse: ["*"] }
  - name: unknown-product
    type: unknown_product
    severity: info
silences:
  - where: { sku: "test" }
    rule: out-of-stock
    until: 2099-01-01T00:00:00Z
    reason: "a <b>test</b> product"
  - where: { sku: "old-*" }
    until: 2020-01-01T00:00:00Z
`;

const log = createLogger('silent');

describe('status page', () => {
  let sim: Simulator;
  let prefix: string;
  let dir: string;
  const daemons: Daemon[] = [];

  beforeEach(async () => {
    sim = await startSimulator({ stepEveryMs: 0, sample: hostileSample(), token: 'tok-status' });
    prefix = uniquePrefix('status');
    dir = rulesDir({ 'rules.yaml': RULES });
  });

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await sim.close();
    await cleanPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(transports = recordingTransports()): Promise<Daemon> {
    const daemon = await Daemon.start({
      config: testConfig({ prefix, rulesDir: dir, apiUrl: sim.url, apiToken: 'tok-status' }),
      env: { TEST_SLACK_URL: SLACK_SECRET },
      log,
      schedule: false,
      transports,
    });
    daemons.push(daemon);
    return daemon;
  }

  async function api(daemon: Daemon, query = ''): Promise<{ status: number; text: string; json: StatusReport }> {
    const res = await daemon.routes['/api/status'](new URL(`http://localhost/api/status${query}`));
    return { status: res.status, text: res.body, json: JSON.parse(res.body) };
  }

  async function page(daemon: Daemon, query = ''): Promise<string> {
    const res = await daemon.routes['/'](new URL(`http://localhost/${query}`));
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/html; charset=utf-8');
    return res.body;
  }

  test('before any poll: no poll yet, nothing firing, the rules in force', async () => {
    const daemon = await start();
    const { json } = await api(daemon);
    expect(json.redis).toBe('ok');
    expect(json.lastPoll?.state).toBe('no poll yet');
    expect(json.firing?.total).toBe(0);
    expect(json.rules.rules.map((r) => r.name)).toEqual(['negative-reserved', 'out-of-stock', 'unknown-product']);
    expect(await page(daemon)).toContain('No poll yet');
  });

  test('after a poll: alerts most severe first, the poll, channels without the webhook URL, silences in force, delivered notices', async () => {
    const transports = recordingTransports();
    const daemon = await start(transports);
    const report = await daemon.pollNow();
    expect(report.ok).toBe(true);
    const { pending, failed } = await daemon.waitForDelivery(report.notices, 15_000);
    expect({ pending, failed }).toEqual({ pending: [], failed: [] });

    const { status, text, json } = await api(daemon);
    expect(status).toBe(200);
    expect(json.lastPoll).toMatchObject({ state: 'ok', error: null, failedInARow: 0 });
    expect(Date.parse(json.lastPoll!.at!)).toBeGreaterThan(Date.now() - 60_000);

    const firing = json.firing!;
    expect(firing.total).toBe(report.firing);
    expect(firing.alerts).toHaveLength(report.firing);
    expect(firing.bySeverity.critical + firing.bySeverity.warning + firing.bySeverity.info).toBe(firing.total);
    const severities = firing.alerts.map((a) => a.severity);
    expect(severities).toEqual([...severities].sort((a, b) => ['critical', 'warning', 'info'].indexOf(a) - ['critical', 'warning', 'info'].indexOf(b)));
    expect(firing.alerts).toContainEqual(
      expect.objectContaining({ rule: 'negative-reserved', severity: 'critical', sku: 'TEST-BLACK', product: HOSTILE_PRODUCT, warehouse: HOSTILE_WAREHOUSE, reserved: -13 }),
    );
    // The silence covers sku "test" for out-of-stock: still listed, marked silenced.
    expect(firing.alerts).toContainEqual(expect.objectContaining({ rule: 'out-of-stock', sku: 'test', silenced: true }));
    expect(firing.silenced).toBe(firing.alerts.filter((a) => a.silenced).length);

    expect(json.rules.channels).toEqual([
      { name: 'ops', kind: 'slack' },
      { name: 'buyers', kind: 'email', to: ['buyers@example.com'], digest: null, timezone: null },
      { name: 'weekly', kind: 'email', to: ['boss@example.com'], digest: '0 8 * * 1', timezone: 'America/Toronto' },
    ]);
    expect(json.rules.rules[1]).toMatchObject({ name: 'out-of-stock', condition: 'available < 1', where: { warehouse: ['*'] }, repeatEvery: '1d', definedAt: path.join(dir, 'rules.yaml:20:5') });
    expect(json.silences.inForce).toEqual([
      { where: { sku: ['test'] }, rule: 'out-of-stock', until: '2099-01-01T00:00:00.000Z', reason: 'a <b>test</b> product', definedAt: path.join(dir, 'rules.yaml:28:5') },
    ]);
    expect(json.silences.expired).toBe(1);
    expect(json.refusedChange).toBeNull();

    // One alerts notice per immediate channel, both delivered on the first try.
    const recent = json.notices!.recent;
    expect(recent.map((n) => [n.channel, n.queue, n.type, n.state, n.attempts]).sort()).toEqual([
      ['buyers', 'email', 'alerts', 'completed', 1],
      ['ops', 'slack', 'alerts', 'completed', 1],
    ]);
    const newCount = report.newCount;
    for (const n of recent) {
      expect(n.counts).toEqual({ new: newCount, repeat: 0, resolved: 0 });
      expect(n.failedReason).toBeNull();
      expect(n.maxAttempts).toBeGreaterThan(1);
    }
    expect(transports.sent).toHaveLength(2);

    // The webhook URL (the whole of it is a secret) is nowhere; markup in API text is \u-escaped JSON.
    const secretPath = new URL(SLACK_SECRET).pathname;
    expect(text).not.toContain(secretPath);
    expect(text).not.toMatch(/[<>]/);
    expect(text).toContain('\\u003cimg src=x onerror=alert(1)\\u003e');
    const html = await page(daemon);
    expect(html).not.toContain(secretPath);
  });

  test('the HTML escapes API and rule text: no element or script from the data', async () => {
    const daemon = await start();
    await daemon.pollNow();
    const html = await page(daemon);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Main &lt;script&gt;alert(2)&lt;/script&gt; &amp; &quot;co&quot;');
    expect(html).toContain('a &lt;b&gt;test&lt;/b&gt; product');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>test');
    // The page's own script is the only one.
    expect(html.match(/<script/g)).toHaveLength(1);
    // The hostile names also sit in the rows' filter text, escaped for an attribute.
    expect(html).toMatch(/data-search="[^"]*&lt;img src=x onerror=alert\(1\)&gt;[^"]*"/);
  });

  test('?limit= and ?q= narrow the JSON; a bad limit is a one-line 400', async () => {
    const daemon = await start();
    const report = await daemon.pollNow();
    expect(report.firing).toBeGreaterThan(3);

    const two = (await api(daemon, '?limit=2')).json.firing!;
    expect(two).toMatchObject({ total: report.firing, matched: report.firing, limit: 2 });
    expect(two.alerts).toHaveLength(2);
    expect((await api(daemon, '?limit=all')).json.firing!.alerts).toHaveLength(report.firing);

    const black = (await api(daemon, '?q=test-black')).json.firing!;
    expect(black.alerts.length).toBeGreaterThan(0);
    expect(black.matched).toBe(black.alerts.length);
    expect(black.alerts.every((a) => a.sku === 'TEST-BLACK')).toBe(true);
    // Every word must match.
    const both = (await api(daemon, '?q=' + encodeURIComponent('TEST-BLACK negative'))).json.firing!;
    expect(both.alerts.map((a) => [a.sku, a.rule])).toEqual([['TEST-BLACK', 'negative-reserved']]);

    const bad = await api(daemon, '?limit=lots');
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: 'limit: "lots" is not a number of alerts (or "all")' });

    // The HTML takes q too (the filter box's Enter), and says what it shows.
    const html = await page(daemon, '?q=TEST-BLACK');
    expect(html.match(/<tr data-search=/g)).toHaveLength(black.alerts.length);
    expect(html).toContain(`Showing the ${black.alerts.length} of ${report.firing} alerts that match “TEST-BLACK”`);
  });

  test('a refused rule change shows its FILE:LINE:COL errors while the last good rules stay', async () => {
    const daemon = await start();
    fs.writeFileSync(path.join(dir, 'zz-bad.yaml'), 'rules:\n  - name: broken\n    type: <script>alert(3)</script>\n');
    daemon.rules.refresh();

    const { json } = await api(daemon);
    expect(json.refusedChange).not.toBeNull();
    expect(json.refusedChange!.errors.length).toBeGreaterThan(0);
    for (const line of json.refusedChange!.errors) expect(line.startsWith(`${path.join(dir, 'zz-bad.yaml')}:3:11: `)).toBe(true);
    expect(json.rules.rules.map((r) => r.name)).toEqual(['negative-reserved', 'out-of-stock', 'unknown-product']);

    const html = await page(daemon);
    expect(html).toContain('A rule change was refused');
    expect(html).toContain(json.refusedChange!.errors[0].replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
    expect(html).not.toContain('<script>alert(3)');

    // Fixed: the refusal goes away.
    fs.rmSync(path.join(dir, 'zz-bad.yaml'));
    daemon.rules.refresh();
    expect((await api(daemon)).json.refusedChange).toBeNull();
  });

  test('failed and retried deliveries show their state, tries and reason', async () => {
    const transports = recordingTransports({
      email: () => new DeliveryError('550 5.1.1 mailbox unavailable', true),
      slack: () => new DeliveryError('Slack answered 503', false),
    });
    const daemon = await start(transports);
    await daemon.pollNow();

    let notices: StatusReport['notices'] = null;
    const settled = await waitFor(async () => {
      notices = (await api(daemon)).json.notices;
      const email = notices?.recent.find((n) => n.queue === 'email');
      const slack = notices?.recent.find((n) => n.queue === 'slack');
      return email?.state === 'failed' && slack?.state === 'delayed' && slack.failedReason !== null;
    });
    expect(settled).toBe(true);
    const email = notices!.recent.find((n) => n.queue === 'email')!;
    const slack = notices!.recent.find((n) => n.queue === 'slack')!;
    expect(email).toMatchObject({ channel: 'buyers', failedReason: '550 5.1.1 mailbox unavailable', attempts: 1 });
    expect(slack).toMatchObject({ channel: 'ops', failedReason: 'Slack answered 503' });
    expect(slack.attempts).toBeGreaterThanOrEqual(1);

    const html = await page(daemon);
    expect(html).toMatch(/<span class="badge failed">failed<\/span>[\s\S]*550 5\.1\.1 mailbox unavailable/);
    expect(html).toContain('<span class="badge retrying">retrying</span>');
    expect(transports.sent).toEqual([]);
  });

  test("a mass event's notice is listed without reading its data whole", async () => {
    const transports = recordingTransports();
    const daemon = await start(transports);
    const alerts = Array.from({ length: 6000 }, (_, i) => ({
      rule: 'out-of-stock', type: 'low_available', severity: 'warning', status: 'firing', warehouseId: 'wh-1', warehouse: 'Main',
      productId: `p-${i}`, sku: `SKU-${i}`, product: `A product with a long enough name ${i}`, available: 0, incoming: 0, reserved: 0,
      updatedAt: '2026-01-01T00:00:00Z', summary: null, silenced: false, inhibited: false, kind: 'new', firstSeenMs: 0,
    }));
    const job = await daemon.queues.email.add('alerts', { channel: 'buyers', notice: { type: 'alerts', id: 'mass-1', createdAtMs: Date.now(), alerts } }, { jobId: 'mass-1' });
    expect(await waitFor(() => transports.sent.length === 1)).toBe(true);
    expect(await daemon.waitForDelivery([job.id!], 10_000)).toMatchObject({ delivered: ['mass-1'] });

    const mass = (await api(daemon)).json.notices!.recent.find((n) => n.jobId === 'mass-1')!;
    expect(mass).toMatchObject({ channel: 'buyers', type: 'alerts', counts: null, state: 'completed' });
    expect(mass.dataBytes).toBeGreaterThan(1_000_000);
    expect(await page(daemon)).toMatch(/alerts <span class="muted">\(\d+ MB, not read\)<\/span>/);
  });
});

describe('status data without the daemon', () => {
  let prefix: string;
  let dir: string;
  let rules: RulesHolder;

  beforeEach(() => {
    prefix = uniquePrefix('status-store');
    dir = rulesDir({ 'rules.yaml': RULES });
    const opened = RulesHolder.open(dir, { TEST_SLACK_URL: SLACK_SECRET }, log);
    if (Array.isArray(opened)) throw new Error(`test rules do not load: ${JSON.stringify(opened)}`);
    rules = opened;
  });

  afterEach(async () => {
    await cleanPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function record(i: number, severity: Alert['severity']): AlertRecord {
    const alert: Alert = {
      rule: severity === 'critical' ? 'negative-reserved' : 'out-of-stock',
      type: severity === 'critical' ? 'negative_reserved' : 'low_available',
      severity,
      status: 'firing',
      warehouseId: 'wh-1',
      warehouse: 'Main',
      productId: `p-${String(i).padStart(5, '0')}`,
      sku: `SKU-${String(i).padStart(5, '0')}`,
      product: `Product ${i}`,
      available: 0,
      incoming: 0,
      reserved: severity === 'critical' ? -1 : 0,
      updatedAt: '2026-01-01T00:00:00Z',
      summary: null,
      silenced: false,
      inhibited: false,
    };
    return { alert, firstSeenMs: Date.parse('2026-01-01T00:00:00Z'), lastNotifiedMs: null };
  }

  test('a mass event: the page lists the first 1000 most severe and says how many more', async () => {
    const redis = new IORedis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const store = new StateStore(redis, prefix);
      // 1200 warnings and 5 criticals: the criticals come first, whatever the order in Redis.
      const records = [...Array.from({ length: 1200 }, (_, i) => record(i, 'warning')), ...Array.from({ length: 5 }, (_, i) => record(5000 + i, 'critical'))];
      expect(await store.commit({ expectedGen: 0, meta: { lastPollAtMs: Date.now(), lastPollOk: true }, alertsSet: records })).toBe(true);

      const report = await collectStatus({ store, rules, jobs: new QueueJobs({}) }, { limit: 1000, q: null }, Date.now());
      expect(report.firing).toMatchObject({ total: 1205, matched: 1205, bySeverity: { critical: 5, warning: 1200, info: 0 } });
      expect(report.firing!.alerts).toHaveLength(1000);
      expect(report.firing!.alerts.slice(0, 5).map((a) => a.severity)).toEqual(Array(5).fill('critical'));
      expect(report.firing!.alerts[5].sku).toBe('SKU-00000');

      const html = renderStatusPage(report);
      expect(html.match(/<tr data-search=/g)).toHaveLength(1000);
      expect(html).toContain('205 more firing — see <a href="/api/status?limit=all">');
    } finally {
      redis.disconnect();
    }
  });

  test('Redis not answering: the page says so and still shows the rules', async () => {
    // A real connection to a port where nothing listens, failing fast like the daemon's own.
    const dead = new IORedis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => undefined);
    try {
      const report = await collectStatus({ store: new StateStore(dead, prefix), rules, jobs: new QueueJobs({}) }, { limit: 1000, q: null }, Date.now());
      expect(report.redis).toMatch(/^not answering: /);
      expect(report.lastPoll).toBeNull();
      expect(report.firing).toBeNull();
      expect(report.rules.rules).toHaveLength(3);
      const html = renderStatusPage(report);
      expect(html).toContain('<strong>Redis not answering: ');
      expect(html).toContain('negative-reserved');
    } finally {
      dead.disconnect();
    }
  });
});
