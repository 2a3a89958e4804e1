// `stockwatch poll --once` through the real CLI entry point.
import * as fs from 'node:fs';
import { runCli } from './helpers';
import { childEnv, stockwatch } from '../support/processes';
import { cleanPrefix, rulesDir, startFakeS2, startFakeSlack, uniquePrefix, REDIS_URL, type FakeS2, type FakeSlack } from '../support/stand-ins';

describe('stockwatch poll --once', () => {
  let s2: FakeS2;
  let slack: FakeSlack;
  let dir: string;
  const prefix = uniquePrefix('cli-poll');

  beforeAll(async () => {
    [s2, slack] = await Promise.all([startFakeS2(), startFakeSlack()]);
    dir = rulesDir({
      'r.yaml': 'channels:\n  ops:\n    slack:\n      webhook_url: ${HOOK}\ndefaults:\n  channels: [ops]\nrules:\n  - name: neg\n    type: negative_reserved\n',
    });
  });
  afterAll(async () => {
    await Promise.all([s2.close(), slack.close(), cleanPrefix(prefix)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = (over: Record<string, string | undefined> = {}) => ({
    S2_API_URL: s2.url,
    S2_API_TOKEN: s2.token,
    S2_ORGANIZATION_ID: 'org',
    REDIS_URL,
    STOCKWATCH_PREFIX: prefix,
    RULES_DIR: dir,
    HOOK: slack.webhookUrl,
    LOG_LEVEL: 'silent',
    ...over,
  });

  test('polls, delivers the notices it caused, exits 0', async () => {
    const r = await runCli(['poll', '--once', '--wait', '20s'], env());
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(slack.messages).toHaveLength(1);
    expect(JSON.stringify(slack.messages[0])).toContain('TEST-BLACK');
  });

  test('a wrong token: exit 1 and a line saying the token was rejected, without the token', async () => {
    const r = await runCli(['poll', '--once'], env({ S2_API_TOKEN: 'wrong-token-value' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stockwatch: poll failed: S2 API rejected the token \(HTTP 401\)\n$/);
    expect(r.stderr).not.toContain('wrong-token-value');
  });

  test('missing configuration and bad arguments: one line, exit 1', async () => {
    const missing = await runCli(['poll', '--once'], env({ S2_API_URL: undefined, S2_ORGANIZATION_ID: '' }));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('stockwatch: configuration: S2_API_URL is not set; S2_ORGANIZATION_ID is not set\n');
    const noOnce = await runCli(['poll'], env());
    expect(noOnce).toMatchObject({ code: 1, stderr: expect.stringMatching(/--once is required/) });
    const badWait = await runCli(['poll', '--once', '--wait', 'soon'], env());
    expect(badWait).toMatchObject({ code: 1, stderr: expect.stringMatching(/--wait "soon" is not a duration/) });
    const unknown = await runCli(['poll', '--once', '--bogus'], env());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    // parseArgs takes "-5m" for an option: the line says what happened and how to write it.
    const dashed = await runCli(['poll', '--once', '--wait', '-5m'], env());
    expect(dashed).toMatchObject({
      code: 1,
      stderr: 'stockwatch: poll: --wait needs a value, and "-5m" looks like an option; a value that starts with "-" is written --wait=-VALUE\n',
    });
    const none = await runCli([], env());
    expect(none).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^stockwatch: no command given \(try: run, poll, .*; or stockwatch --help\)\n$/) });
  });

  test("a library's console warning is a log line, not raw text on stderr beside the error", async () => {
    // The test Redis is no cluster and has no password: ioredis warns that one was supplied.
    const vars = env({ REDIS_CLUSTER_NODES: REDIS_URL.replace(/^redis:\/\/|\/\d*$/g, ''), REDIS_PASSWORD: 'hunter2', STOCKWATCH_PREFIX: `{${prefix}}`, LOG_LEVEL: 'warn' });
    const run = stockwatch(['poll', '--once'], childEnv(vars));
    expect((await run.exited).code).toBe(1);
    expect(run.lines.filter((l) => l.stream === 'stderr').map((l) => l.msg)).toEqual([expect.stringMatching(/^stockwatch: cannot reach Redis Cluster /)]);
    expect(run.lines.filter((l) => l.level === 40).map((l) => l.msg)).toContainEqual(expect.stringMatching(/^\[WARN\] .*does not require a password/));
    expect(JSON.stringify(run.lines)).not.toContain('hunter2');
  });

  test('Redis that does not answer: one line naming where, no password', async () => {
    const r = await runCli(['poll', '--once'], env({ REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }));
    expect(r.code).toBe(1);
    // The connection's own error, not ioredis's "Connection is closed." (docs/operating.md quotes it).
    expect(r.stderr).toMatch(/^stockwatch: cannot reach Redis at 127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

test('email channels without SMTP_URL: refuses to start, naming them', async () => {
  const dir = rulesDir({ 'r.yaml': 'channels:\n  buyers:\n    email:\n      to: [a@example.com]\ndefaults:\n  channels: [buyers]\nrules:\n  - name: neg\n    type: negative_reserved\n' });
  const r = await runCli(['poll', '--once'], { S2_API_URL: 'http://127.0.0.1:9', S2_API_TOKEN: 't', S2_ORGANIZATION_ID: 'o', RULES_DIR: dir, SMTP_URL: undefined, LOG_LEVEL: 'silent' });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('stockwatch: SMTP_URL is not set, but the rules have email channels (buyers): set SMTP_URL or remove them\n');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('rule files that do not pass check: one FILE:LINE:COL line per problem, exit 1', async () => {
  const dir = rulesDir({ 'r.yaml': 'rules:\n  - name: neg\n    type: negative_reservd\n  - name: low\n    type: low_available\n' });
  const r = await runCli(['poll', '--once'], { S2_API_URL: 'http://127.0.0.1:9', S2_API_TOKEN: 't', S2_ORGANIZATION_ID: 'o', RULES_DIR: dir, LOG_LEVEL: 'silent' });
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^stockwatch: the rule files do not pass check \(\d+ problems?\):$/);
  expect(lines.slice(1).length).toBeGreaterThanOrEqual(2);
  for (const line of lines.slice(1)) expect(line).toMatch(/r\.yaml:\d+:\d+: \S/);
  fs.rmSync(dir, { recursive: true, force: true });
});
