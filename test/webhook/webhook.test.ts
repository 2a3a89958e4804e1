// The webhook channel end to end (SPEC section 5), against a real local receiver that verifies the
// HMAC signature over the raw bytes: from `poll --once` through the real CLI entry point, and from
// running daemons (dist/, as deployed) through retries, Retry-After, a permanent 4xx and a restart.
import * as fs from 'node:fs';
import { runCli } from '../cli/helpers';
import { killAll, type ChildRun } from '../support/processes';
import { cleanPrefix, REDIS_URL, rulesDir, startFakeS2, startFakeWebhook, uniquePrefix, waitFor, type FakeS2, type FakeWebhook } from '../support/stand-ins';
import { daemonEnv, overview, Scenario, startDaemon } from '../faults/helpers';

jest.setTimeout(90_000);

const SECRET = 'erp-signing-secret-7f3a9c';

/** The SPEC's YAML form of a webhook channel. */
const RULES = `channels:
  erp:
    webhook:
      url: \${ERP_WEBHOOK_URL}
      secret: \${ERP_WEBHOOK_SECRET}
defaults:
  channels: [erp]
  repeat_every: never
  send_resolved: true
rules:
  - name: out-of-stock
    type: low_available
    below: 1
    severity: critical
`;

const inStock = () => overview([{ sku: 'SKU-W', available: 5 }]);
const outOfStock = () => overview([{ sku: 'SKU-W', available: 0 }]);

function events(body: any): string[] {
  return body.alerts.map((a: any) => `${a.event} ${a.sku}`);
}

describe('webhook channel from poll --once', () => {
  let s2: FakeS2;
  let hook: FakeWebhook;
  let dir: string;
  const prefix = uniquePrefix('webhook-once');

  beforeAll(async () => {
    [s2, hook] = await Promise.all([startFakeS2(outOfStock()), startFakeWebhook({ secret: SECRET })]);
    dir = rulesDir({ 'rules.yaml': RULES });
  });
  afterAll(async () => {
    await Promise.all([s2.close(), hook.close(), cleanPrefix(prefix)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    S2_API_URL: s2.url,
    S2_API_TOKEN: s2.token,
    S2_ORGANIZATION_ID: 'org',
    REDIS_URL,
    STOCKWATCH_PREFIX: prefix,
    RULES_DIR: dir,
    ERP_WEBHOOK_URL: hook.url,
    ERP_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'silent',
  });

  test('posts one signed JSON body per poll, retried through a 500 with the same notice id', async () => {
    hook.answer = (n) => (n === 0 ? { status: 500 } : { status: 200 });
    const first = await runCli(['poll', '--once', '--wait', '30s'], env());
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(hook.requests.map((r) => r.status)).toEqual([500, 200]);
    for (const r of hook.requests) expect(r).toMatchObject({ verified: true, contentType: 'application/json' });
    // The retry is the same notice: same id, same bytes.
    expect(hook.requests[1].raw).toBe(hook.requests[0].raw);
    const body = hook.delivered[0];
    expect(body).toMatchObject({ kind: 'alerts', text: 'stockwatch: 1 new' });
    expect(body.notice).toMatch(/^a-.*-erp$/);
    expect(Date.parse(body.at)).not.toBeNaN();
    expect(events(body)).toEqual(['new SKU-W']);
    expect(body.alerts[0]).toMatchObject({ rule: 'out-of-stock', type: 'low_available', severity: 'critical', status: 'firing', available: 0, warehouse: 'Main warehouse' });

    // The next poll: back in stock, a resolved notice under a new id; nothing new is sent twice.
    hook.answer = () => ({ status: 200 });
    s2.answer = { kind: 'json', body: inStock() };
    const second = await runCli(['poll', '--once', '--wait', '30s'], env());
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(hook.delivered.map(events)).toEqual([['new SKU-W'], ['resolved SKU-W']]);
    expect(hook.delivered[1].notice).not.toBe(body.notice);
    const third = await runCli(['poll', '--once', '--wait', '30s'], env());
    expect(third.code).toBe(0);
    expect(hook.delivered).toHaveLength(2);
  });
});

describe('webhook channel from running daemons', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let hook: FakeWebhook;

  beforeEach(async () => {
    scenario = new Scenario('webhook', RULES);
    [s2, hook] = await Promise.all([startFakeS2(inStock()), startFakeWebhook({ secret: SECRET })]);
  });
  afterEach(async () => {
    await killAll();
    await Promise.all([s2.close(), hook.close()]);
    await scenario.cleanup();
  });

  const env = () => ({ ...daemonEnv({ scenario, s2 }), ERP_WEBHOOK_URL: hook.url, ERP_WEBHOOK_SECRET: SECRET });
  const requestsFor = (id: string) => hook.requests.filter((r) => r.body?.notice === id);

  test('retries 500 and 429 (honouring Retry-After) with the same id; a 400 fails for good, once, with a log line', async () => {
    const daemon: ChildRun = await startDaemon(env());
    await daemon.waitForLine(/poll ok/);

    hook.answer = (n) => (n === 0 ? { status: 500 } : n === 1 ? { status: 429, retryAfter: '2' } : { status: 200 });
    s2.answer = { kind: 'json', body: outOfStock() };
    expect(await waitFor(() => hook.delivered.length === 1, 30_000)).toBe(true);
    const id = hook.delivered[0].notice;
    expect(hook.requests.map((r) => [r.status, r.body.notice])).toEqual([
      [500, id],
      [429, id],
      [200, id],
    ]);
    expect(hook.requests.every((r) => r.verified)).toBe(true);
    expect(hook.requests[2].atMs - hook.requests[1].atMs).toBeGreaterThanOrEqual(2000 - 50);
    expect(daemon.messages().filter((m) => /^webhook notice not delivered, will retry: /.test(m))).toHaveLength(2);
    expect(events(hook.delivered[0])).toEqual(['new SKU-W']);

    // The receiver refuses what comes next: no retry, one error line naming the channel.
    hook.answer = () => ({ status: 400, reply: 'unknown field' });
    s2.answer = { kind: 'json', body: inStock() };
    const failed = await daemon.waitForLine(/webhook notice failed for good/, 20_000);
    expect(failed).toMatchObject({ level: 50, channel: 'erp' });
    expect(String(failed.msg)).toMatch(/^webhook notice failed for good: webhook at 127\.0\.0\.1:\d+ rejected the notice: HTTP 400 unknown field$/);
    const seen = daemon.messages().filter((m) => m === 'poll ok').length;
    expect(await waitFor(() => daemon.messages().filter((m) => m === 'poll ok').length >= seen + 3, 15_000)).toBe(true);
    expect(hook.requests.filter((r) => r.status === 400)).toHaveLength(1);
    expect(hook.requests.at(-1)!.body.alerts.map((a: any) => a.event)).toEqual(['resolved']);

    // Neither the URL's path and token nor the secret reach a log line.
    const url = new URL(hook.url);
    expect(daemon.output()).not.toContain(url.pathname);
    expect(daemon.output()).not.toContain(url.searchParams.get('token')!);
    expect(daemon.output()).not.toContain(SECRET);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  test('a notice still retrying when its daemon stops is delivered once, under the same id, by the next daemon', async () => {
    const first = await startDaemon(env(), 'first daemon');
    await first.waitForLine(/poll ok/);
    hook.answer = () => ({ status: 503 });
    s2.answer = { kind: 'json', body: outOfStock() };
    expect(await waitFor(() => hook.requests.length >= 2, 20_000)).toBe(true);
    const id = hook.requests[0].body.notice;
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const before = hook.requests.length;
    expect(hook.delivered).toHaveLength(0);

    hook.answer = () => ({ status: 200 });
    const second = await startDaemon(env(), 'second daemon');
    expect(await waitFor(() => hook.delivered.length === 1, 30_000)).toBe(true);
    // A few more polls: the event is not notified again under another id, nor delivered twice.
    const seen = second.messages().filter((m) => m === 'poll ok').length;
    expect(await waitFor(() => second.messages().filter((m) => m === 'poll ok').length >= seen + 3, 15_000)).toBe(true);
    expect(hook.delivered.map((b) => b.notice)).toEqual([id]);
    expect(hook.requests.slice(before).map((r) => r.body.notice)).toEqual([id]);
    expect(requestsFor(id).every((r) => r.verified && r.raw === hook.requests[0].raw)).toBe(true);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });
});
