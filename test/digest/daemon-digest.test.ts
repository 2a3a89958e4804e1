// Digests end to end: a daemon on real Redis polls a local S2 stand-in every second and mails
// digests on a 2-second cron through a real SMTP server.
import * as fs from 'node:fs';
import * as path from 'node:path';
import IORedis from 'ioredis';
import type { Config } from '../../src/config';
import { Daemon } from '../../src/daemon/daemon';
import { CSV_COLUMNS } from '../../src/notify';
import {
  captureLog,
  cleanPrefix,
  REDIS_URL,
  rulesDir,
  startFakeS2,
  startFakeSmtp,
  testConfig,
  uniquePrefix,
  waitFor,
  type Mail,
  type FakeS2,
  type FakeSmtp,
} from '../support/stand-ins';
import { parseCsv } from '../support/csv';
import { overview, WAREHOUSE } from './helpers';

const RECIPIENTS = ['buyer@example.com', 'manager@example.com'];

const RULES = `
channels:
  buyers:
    email:
      to: [${RECIPIENTS.join(', ')}]
      digest: "*/2 * * * * *"
      timezone: Europe/Berlin
defaults:
  channels: [buyers]
  repeat_every: never
rules:
  - name: low-stock
    type: low_available
    below: 5
  - name: negative-reserved
    type: negative_reserved
    severity: critical
`;

/** The tick time a digest mail names in its footer (`notice d-<channel>-<ms>`). */
function tickOf(mail: Mail): { channel: string; ms: number } {
  const m = /notice d-([A-Za-z0-9_-]+)-(\d+)\)/.exec(mail.text);
  if (!m) throw new Error(`no digest id in: ${mail.subject}`);
  return { channel: m[1], ms: Number(m[2]) };
}

describe('digests from a running daemon', () => {
  let s2: FakeS2;
  let smtp: FakeSmtp;
  let prefix: string;
  let dir: string;
  const daemons: Daemon[] = [];

  beforeEach(async () => {
    [s2, smtp] = await Promise.all([startFakeS2(overview({ low: 60, negative: 2 })), startFakeSmtp()]);
    prefix = uniquePrefix('digest-daemon');
    dir = rulesDir({ 'rules.yaml': RULES });
  });

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await Promise.all([s2.close(), smtp.close()]);
    await cleanPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(over: Partial<Config> = {}): Promise<Daemon> {
    const config = testConfig({ apiUrl: s2.url, apiToken: s2.token, prefix, rulesDir: dir, smtpUrl: smtp.url, pollEveryMs: 1000, ...over });
    const daemon = await Daemon.start({ config, env: {}, log: captureLog('warn').log, schedule: true, httpHost: '127.0.0.1' });
    daemons.push(daemon);
    return daemon;
  }

  it('mails a digest on its cron, not per poll, to every recipient, with the firing rules, the changes and a CSV of every firing alert', async () => {
    await start();
    const withNews = () => smtp.mails.find((m) => m.text.includes('NEW SINCE THE LAST DIGEST (62)'));
    expect(await waitFor(() => withNews() !== undefined, 15_000)).toBe(true);
    const first = withNews()!;

    expect(first.subject).toBe('[stockwatch] digest: 62 firing (62 new)');
    expect([...first.to].sort()).toEqual(RECIPIENTS);
    // Both rules, grouped by severity then rule; past 50 alerts of one rule the rest is counted.
    expect(first.text).toContain('critical · negative-reserved (2)');
    expect(first.text).toContain('warning · low-stock (60)');
    expect(first.text).toContain('… and 10 more low-stock alerts (every firing alert is in the attached CSV)');
    expect(first.text).toMatch(/firing for \d+s · |firing for 0s/);
    expect(first.text).toContain('RESOLVED SINCE THE LAST DIGEST (0)');
    expect(first.html).toContain('Firing now (62)');

    expect(first.attachments).toHaveLength(1);
    expect(first.attachments[0].filename).toMatch(/^stockwatch-digest-\d{4}-\d{2}-\d{2}\.csv$/);
    const [header, ...rows] = parseCsv(first.attachments[0].content);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(62);
    const col = (name: string) => header.indexOf(name);
    const keys = rows.map((r) => `${r[col('rule')]}|${r[col('warehouseId')]}|${r[col('sku')]}`).sort();
    const expected = [
      ...Array.from({ length: 60 }, (_, i) => `low-stock|${WAREHOUSE.id}|LOW-${String(i + 1).padStart(3, '0')}`),
      `negative-reserved|${WAREHOUSE.id}|NEG-1`,
      `negative-reserved|${WAREHOUSE.id}|NEG-2`,
    ].sort();
    expect(keys).toEqual(expected);
    expect(rows.every((r) => r[col('status')] === 'firing' && r[col('warehouse')] === WAREHOUSE.name)).toBe(true);

    // One alert resolves (its item is gone) and one is new: the next digest says so, in its own lines.
    const firstTick = tickOf(first).ms;
    s2.answer = { kind: 'json', body: overview({ low: 61, negative: 1 }) };
    const withChanges = () => smtp.mails.find((m) => tickOf(m).ms > firstTick && m.text.includes('RESOLVED SINCE THE LAST DIGEST (1)'));
    expect(await waitFor(() => withChanges() !== undefined, 15_000)).toBe(true);
    const changed = withChanges()!;
    expect(changed.subject).toBe('[stockwatch] digest: 62 firing (1 new, 1 resolved)');
    expect(changed.text).toContain('NEW SINCE THE LAST DIGEST (1)');
    // Names from the API sit in Unicode isolates (U+2068 … U+2069).
    expect(changed.text).toMatch(/\nfiring · low-stock \(warning\) · \u2068LOW-061\u2069 @ \u2068Main warehouse\u2069 · /);
    expect(changed.text).toMatch(/\nresolved · negative-reserved \(critical\) · \u2068NEG-2\u2069 @ \u2068Main warehouse\u2069 · /);
    expect(changed.text).toMatch(/the last digest was at \d{4}-\d{2}-\d{2} \d{2}:\d{2} /);

    // Every mail is a digest on a 2-second tick, one per tick, to both recipients: polls (every
    // second) mailed nothing of their own.
    expect(s2.requests.length).toBeGreaterThan(2);
    const ticks = smtp.mails.map(tickOf);
    for (const mail of smtp.mails) {
      expect(mail.subject).toMatch(/^\[stockwatch\] digest: /);
      expect([...mail.to].sort()).toEqual(RECIPIENTS);
    }
    for (const t of ticks) {
      expect(t.channel).toBe('buyers');
      expect(t.ms % 2000).toBe(0);
    }
    expect(new Set(ticks.map((t) => t.ms)).size).toBe(ticks.length);
  }, 40_000);

  it('a quiet tick mails nothing without send_empty and an "all clear" with it', async () => {
    fs.writeFileSync(
      path.join(dir, 'rules.yaml'),
      `
channels:
  quiet:
    email:
      to: [quiet@example.com]
      digest: "*/2 * * * * *"
  heartbeat:
    email:
      to: [heartbeat@example.com]
      digest: "*/2 * * * * *"
      send_empty: true
defaults:
  channels: [quiet, heartbeat]
rules:
  - name: nothing-fires
    type: low_available
    below: 5
    where: { sku: "NO-SUCH-*" }
`,
    );
    await start();
    const heartbeats = () => smtp.mails.filter((m) => m.to.includes('heartbeat@example.com'));
    expect(await waitFor(() => heartbeats().length >= 2, 15_000)).toBe(true);
    for (const mail of heartbeats()) {
      expect(mail.subject).toBe('[stockwatch] digest: all clear');
      expect(mail.text).toContain('Nothing is firing.');
      expect(mail.attachments).toEqual([]);
    }
    // The quiet channel's ticks ran (the same ticks) and sent nothing.
    const lastHeartbeat = Math.max(...heartbeats().map((m) => tickOf(m).ms));
    const book = `${prefix}:state:digest-last`;
    const redis = new IORedis(REDIS_URL);
    try {
      expect(await waitFor(async () => Number(await redis.hget(book, 'quiet.done')) >= lastHeartbeat, 10_000)).toBe(true);
      expect(await redis.hget(book, 'quiet.sent')).toBeNull();
    } finally {
      redis.disconnect();
    }
    expect(smtp.mails.filter((m) => m.to.includes('quiet@example.com'))).toEqual([]);
  }, 40_000);

  it('hot reload adds, changes and removes digest schedulers', async () => {
    const daemon = await start({ pollEveryMs: 60_000 });
    const digestQueue = daemon.queues.digest;
    expect((await digestQueue.getJobSchedulers()).map((s) => [s.key, s.pattern, s.tz])).toEqual([['digest-buyers', '*/2 * * * * *', 'Europe/Berlin']]);

    fs.writeFileSync(
      path.join(dir, 'rules.yaml'),
      RULES.replace('digest: "*/2 * * * * *"\n      timezone: Europe/Berlin', 'digest: "0 8 * * 1-5"\n      timezone: America/Toronto').replace(
        'defaults:',
        `  weekly:
    email:
      to: [boss@example.com]
      digest: "0 7 * * 1"
defaults:`,
      ),
    );
    daemon.rules.refresh();
    const schedulers = async () => (await digestQueue.getJobSchedulers()).map((s) => [s.key, s.pattern, s.tz]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const changed = [
      ['digest-buyers', '0 8 * * 1-5', 'America/Toronto'],
      ['digest-weekly', '0 7 * * 1', 'UTC'],
    ];
    expect(await waitFor(async () => JSON.stringify(await schedulers()) === JSON.stringify(changed), 10_000)).toBe(true);

    fs.writeFileSync(path.join(dir, 'rules.yaml'), RULES.replace('\n      digest: "*/2 * * * * *"\n      timezone: Europe/Berlin', ''));
    daemon.rules.refresh();
    expect(await waitFor(async () => (await schedulers()).length === 0, 10_000)).toBe(true);
  }, 40_000);
});
