// `stockwatch notify-test CHANNEL` against real receivers: a local HTTP server in place of a Slack
// webhook and a real SMTP server (smtp-server), plus ports nobody listens on. No Redis involved.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { startFakeSlack, startFakeSmtp, startFakeWebhook, type FakeSlack, type FakeSmtp, type FakeWebhook } from '../support/stand-ins';
import { REPO, runCli, tempDir } from './helpers';

const RULES = `
channels:
  ops:
    slack:
      webhook_url: \${SLACK_URL}
  buyers:
    email:
      to: [buyer@example.com, manager@example.com]
      digest: "0 8 * * 1-5"
      timezone: Europe/Berlin
defaults:
  channels: [ops]
rules:
  - name: negative-reserved
    type: negative_reserved
`;

const PASSWORD = 'pa55-w0rd-secret';

/** A port that refuses connections: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('stockwatch notify-test', () => {
  let slack: FakeSlack;
  let smtp: FakeSmtp;
  let rules: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    [slack, smtp] = await Promise.all([startFakeSlack(), startFakeSmtp()]);
    rules = tempDir();
    rules.write('rules.yaml', RULES);
  });

  afterEach(async () => {
    await Promise.all([slack.close(), smtp.close()]);
    rules.cleanup();
  });

  /** The environment of an operator who has set up channels, but no S2 and no reachable Redis. */
  function env(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
      RULES_DIR: rules.dir,
      SLACK_URL: slack.webhookUrl,
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'stockwatch@test.local',
      REDIS_URL: 'redis://127.0.0.1:1',
      S2_API_URL: undefined,
      S2_API_TOKEN: undefined,
      S2_ORGANIZATION_ID: undefined,
      ...over,
    };
  }

  const secretPath = () => new URL(slack.webhookUrl).pathname;

  it('delivers a labelled test message to a Slack channel and exits 0', async () => {
    const r = await runCli(['notify-test', 'ops'], env());
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`test notice delivered to channel ops (Slack webhook at ${new URL(slack.webhookUrl).host})\n`);
    expect(slack.messages).toHaveLength(1);
    expect(JSON.stringify(slack.messages[0])).toMatch(/test notice/i);
    expect(JSON.stringify(slack.messages[0])).toContain('ops');
    expect(r.stdout).not.toContain(secretPath());
  });

  it('delivers a labelled test email to every address of an email channel and exits 0', async () => {
    const r = await runCli(['notify-test', 'buyers'], env());
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`test notice delivered to channel buyers (email to buyer@example.com, manager@example.com via 127.0.0.1:${smtp.port})\n`);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect([...mail.to].sort()).toEqual(['buyer@example.com', 'manager@example.com']);
    expect(mail.from).toBe('stockwatch@test.local');
    expect(mail.subject).toBe('[stockwatch] test notice for channel buyers');
    expect(mail.text).toContain('No alert is behind it');
    expect(mail.html).toContain('stockwatch test notice for channel buyers');
  });

  it.each([404, 403])('a webhook answering %i gives one clear line and exit 1, without the webhook path', async (status) => {
    slack.script.push({ status });
    const r = await runCli(['notify-test', 'ops'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^stockwatch: notify-test: channel ops \\(slack\\): Slack webhook rejected the message: HTTP ${status}\\b[^\\n]*\\n$`));
    expect(r.stderr).not.toContain(secretPath());
    expect(r.stderr).not.toContain(slack.webhookUrl);
    expect(slack.messages).toHaveLength(0);
  });

  it('a Slack webhook nobody listens at gives one line and exit 1', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/services/T0/B0/very-secret-token`;
    const r = await runCli(['notify-test', 'ops'], env({ SLACK_URL: url }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stockwatch: notify-test: channel ops \(slack\): Slack webhook request to 127\.0\.0\.1:\d+ failed: [^\n]*ECONNREFUSED[^\n]*\n$/);
    expect(r.stderr).not.toContain('very-secret-token');
  });

  it('an SMTP server that refuses the connection gives one line and exit 1', async () => {
    const port = await closedPort();
    const r = await runCli(['notify-test', 'buyers'], env({ SMTP_URL: `smtp://stock:${PASSWORD}@127.0.0.1:${port}?ignoreTLS=true` }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^stockwatch: notify-test: channel buyers \\(email\\): SMTP server 127\\.0\\.0\\.1:${port} connection failed: [^\\n]*\\n$`));
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('an SMTP server that rejects the credentials gives one line and exit 1, without the password', async () => {
    const server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as net.AddressInfo;
    try {
      const r = await runCli(['notify-test', 'buyers'], env({ SMTP_URL: `smtp://stock:${PASSWORD}@127.0.0.1:${port}?ignoreTLS=true` }));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^stockwatch: notify-test: channel buyers \\(email\\): SMTP authentication failed at 127\\.0\\.0\\.1:${port}: [^\\n]*\\n$`));
      expect(r.stderr).not.toContain(PASSWORD);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an email channel without SMTP_URL is one line and exit 1', async () => {
    const r = await runCli(['notify-test', 'buyers'], env({ SMTP_URL: undefined }));
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe('stockwatch: notify-test: channel buyers is an email channel, but SMTP_URL is not set\n');
  });

  it('an unknown or missing channel lists the channels there are', async () => {
    const unknown = await runCli(['notify-test', 'opps'], env());
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toBe('stockwatch: notify-test: unknown channel "opps" (did you mean "ops"?) (channels: buyers, ops)\n');
    const missing = await runCli(['notify-test'], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('stockwatch: notify-test: name the channel to test, e.g. `stockwatch notify-test buyers` (channels: buyers, ops)\n');
    expect(slack.attempts).toHaveLength(0);
    expect(smtp.mails).toHaveLength(0);
  });

  it('rule files that do not pass check are reported like check does', async () => {
    const other = tempDir();
    try {
      other.write('bad.yaml', 'channels:\n  ops:\n    slak: {}\n');
      const r = await runCli(['notify-test', 'ops', '--rules', other.dir], env());
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/bad\.yaml:3:5: /);
      expect(lines[lines.length - 1]).toBe(`stockwatch: notify-test: the rule files in ${other.dir} do not pass check; fix them first`);
    } finally {
      other.cleanup();
    }
  });

  it('--help explains the command; extra arguments are refused', async () => {
    const help = await runCli(['notify-test', '--help'], env());
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: stockwatch notify-test CHANNEL/);
    const extra = await runCli(['notify-test', 'ops', 'buyers'], env());
    expect(extra.code).toBe(1);
    expect(extra.stderr).toBe('stockwatch: notify-test: unexpected argument "buyers" (see `stockwatch notify-test --help`)\n');
  });

  it('loads neither BullMQ nor ioredis (it works where Redis is not reachable)', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = fs.readFileSync(file, 'utf8');
      const specs = [
        ...source.matchAll(/^\s*import\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
        ...source.matchAll(/^\s*export\s+(?!type\b)[^'";]*?\sfrom\s+['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]);
      for (const spec of specs) {
        if (!spec.startsWith('.')) {
          packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
          continue;
        }
        const base = path.resolve(path.dirname(file), spec);
        const local = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
        if (local) visit(local);
      }
    };
    visit(path.join(REPO, 'src/commands/notify-test.ts'));
    // The scan reaches the real senders...
    expect(packages.has('nodemailer')).toBe(true);
    expect(seen.has(path.join(REPO, 'src/notify/slack/send.ts'))).toBe(true);
    // ...and nothing that talks to Redis.
    expect(packages.has('bullmq')).toBe(false);
    expect(packages.has('ioredis')).toBe(false);
  });
});

describe('stockwatch notify-test on a webhook channel', () => {
  const SECRET = 'notify-test-secret-42';
  let hook: FakeWebhook;
  let rules: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    hook = await startFakeWebhook({ secret: SECRET });
    rules = tempDir();
    rules.write('rules.yaml', 'channels:\n  erp:\n    webhook:\n      url: ${ERP_URL}\n      secret: ${ERP_SECRET}\ndefaults:\n  channels: [erp]\nrules:\n  - name: neg\n    type: negative_reserved\n');
  });
  afterEach(async () => {
    await hook.close();
    rules.cleanup();
  });

  const env = () => ({ RULES_DIR: rules.dir, ERP_URL: hook.url, ERP_SECRET: SECRET, REDIS_URL: 'redis://127.0.0.1:1', SMTP_URL: undefined, S2_API_URL: undefined });
  const host = () => new URL(hook.url).host;

  it('posts a signed test body and exits 0 on 2xx', async () => {
    const r = await runCli(['notify-test', 'erp'], env());
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `test notice delivered to channel erp (webhook at ${host()})\n` });
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0].verified).toBe(true);
    expect(hook.delivered[0]).toMatchObject({ kind: 'alerts', alerts: [] });
    expect(hook.delivered[0].notice).toMatch(/^t-erp-\d+$/);
    expect(hook.delivered[0].text).toMatch(/test notice for channel erp/);
  });

  it.each([
    [500, 'did not take the notice: HTTP 500 nope'],
    [429, 'did not take the notice: HTTP 429 nope'],
    [404, 'rejected the notice: HTTP 404 nope'],
    [401, 'rejected the notice: HTTP 401 nope'],
  ])('a receiver answering %i: one line, exit 1, no URL path, token or secret', async (status, what) => {
    hook.answer = () => ({ status });
    const r = await runCli(['notify-test', 'erp'], env());
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`stockwatch: notify-test: channel erp (webhook): webhook at ${host()} ${what}\n`);
    const url = new URL(hook.url);
    for (const secret of [url.pathname, url.searchParams.get('token')!, SECRET]) expect(r.stderr).not.toContain(secret);
    // notify-test waits for no retry: one request.
    expect(hook.requests).toHaveLength(1);
  });
});
