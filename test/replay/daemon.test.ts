// replay and the daemon agree: the real daemon (in process, its clock stepped 5 minutes a poll)
// polls an S2 stand-in that serves overviews in turn, saves them through SNAPSHOT_DIR and sends
// to Slack and SMTP stand-ins; then replay, over the saved files, must tell the same notices.
import * as fs from 'node:fs';
import { Daemon } from '../../src/daemon/daemon';
import { compileRuleSet } from '../../src/engine/evaluate';
import { renderEmail, renderSlack } from '../../src/notify';
import { loadRules } from '../../src/rules/load';
import { listSnapshots } from '../../src/source/snapshots';
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
  type FakeS2,
  type FakeSlack,
  type FakeSmtp,
} from '../support/stand-ins';
import { MIN, START, replayFolder, runBin, tempFolder } from './helpers';

// Plain rules (the loader of today and of tomorrow both take them). `stale` against 2024 levels
// at 2026 times fires on every item: a mass event, so Slack's summing-up is compared too.
const RULES = `
channels:
  ops:
    slack:
      webhook_url: \${TEST_SLACK_URL}
  buyers:
    email:
      to: [buyers@example.com]
defaults:
  channels: [ops, buyers]
  repeat_every: 20m
rules:
  - name: negative-reserved
    type: negative_reserved
    severity: critical
    summary: "{{sku}} reserved {{reserved}}"
  - name: out-of-stock
    type: low_available
    below: 1
  - name: stale-level
    type: stale
    older_than: 800d
    channels: [ops]
`;

const BLACK = 'f4053402-e79b-45c2-8621-377d28060888';

/** The overviews served in turn: quiet, a fix, a new sell-out, a suspect shrink, back again, time passing. */
function series(): object[] {
  const base = sampleOverview();
  const fixed = sampleOverview();
  const black = fixed.items.find((i) => i.level.productId === BLACK)!;
  black.level.reserved = 0;
  black.level.available = 25;
  const soldOut = structuredClone(fixed);
  const other = soldOut.items.find((i) => i.level.available > 0 && i.level.productId !== BLACK)!;
  other.level.available = 0;
  const small = structuredClone(soldOut);
  small.items = small.items.slice(0, 2);
  return [base, base, fixed, soldOut, small, soldOut, soldOut, soldOut, soldOut, fixed];
}

describe('replay tells what the daemon sent', () => {
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;
  let prefix: string;
  let rules: string;
  let snapshots: string;
  let daemon: Daemon | null = null;

  beforeEach(async () => {
    [s2, slack, smtp] = await Promise.all([startFakeS2(), startFakeSlack(), startFakeSmtp()]);
    prefix = uniquePrefix('replay');
    rules = rulesDir({ 'rules.yaml': RULES });
    snapshots = tempFolder('swtest-snapdir-');
  });

  afterEach(async () => {
    await daemon?.stop();
    await Promise.all([s2.close(), slack.close(), smtp.close()]);
    await cleanPrefix(prefix);
    fs.rmSync(rules, { recursive: true, force: true });
    fs.rmSync(snapshots, { recursive: true, force: true });
  });

  test('same notices, poll by poll, channel by channel', async () => {
    let now = START;
    daemon = await Daemon.start({
      config: testConfig({ apiUrl: s2.url, apiToken: s2.token, prefix, rulesDir: rules, smtpUrl: smtp.url, snapshotDir: snapshots }),
      env: { TEST_SLACK_URL: slack.webhookUrl },
      log: captureLog('warn').log,
      schedule: false,
      incrementalParse: true, // as `stockwatch run` parses: each body only where it changed
      now: () => now,
    });
    // What each channel received at each poll, in order.
    const sent: Array<{ at: string; channel: string; slack?: FakeSlack['messages'][number]; mail?: FakeSmtp['mails'][number] }> = [];
    for (const [i, body] of series().entries()) {
      now = START + i * 5 * MIN;
      s2.answer = { kind: 'json', body };
      const slackBefore = slack.messages.length;
      const mailBefore = smtp.mails.length;
      const report = await daemon.pollNow();
      expect(report.ok).toBe(true);
      const { pending, failed } = await daemon.waitForDelivery(report.notices, 20_000);
      expect({ pending, failed }).toEqual({ pending: [], failed: [] });
      const at = new Date(now).toISOString();
      // Within a poll the daemon delivers a source notice before the alerts; replay lists them so too.
      for (const m of slack.messages.slice(slackBefore)) sent.push({ at, channel: 'ops', slack: m });
      for (const m of smtp.mails.slice(mailBefore)) sent.push({ at, channel: 'buyers', mail: m });
    }
    await daemon.stop();
    daemon = null;
    // The series has something of each: new, resolved, still firing, a suspect notice, a mass event.
    expect(sent.length).toBeGreaterThanOrEqual(10);
    expect(sent.some((s) => /suspect/i.test(s.slack?.text ?? ''))).toBe(true);
    expect(sent.some((s) => /still firing/i.test(JSON.stringify(s.slack?.blocks ?? '')))).toBe(true);
    expect(listSnapshots(snapshots)).toHaveLength(series().length);

    // 1. replay's core, rendered as the delivery worker renders: byte for byte what was sent.
    const loaded = loadRules(rules, { TEST_SLACK_URL: slack.webhookUrl });
    if (!loaded.ok) throw new Error('rules did not load');
    const polls = await replayFolder(snapshots, compileRuleSet(loaded.ruleSet));
    const told = polls.flatMap((p) => p.told.map((t) => ({ at: new Date(p.atMs).toISOString(), ...t })));
    // Slack and email are delivered by separate queues: compare each channel's sequence.
    for (const channel of ['ops', 'buyers']) {
      const expected = sent.filter((s) => s.channel === channel);
      const got = told.filter((t) => t.channel === channel);
      expect(got.map((t) => t.at)).toEqual(expected.map((s) => s.at));
      got.forEach((t, i) => {
        if (channel === 'ops') {
          const { text, blocks } = expected[i].slack!;
          expect(renderSlack(t.notice)).toEqual({ text, blocks });
        } else {
          const mail = renderEmail(t.notice);
          expect(mail.subject).toBe(expected[i].mail!.subject);
          expect(mail.text.replace(/\r\n/g, '\n').trim()).toBe(expected[i].mail!.text.replace(/\r\n/g, '\n').trim());
        }
      });
    }

    // 2. The real bin over the same files: the same polls and channels, and the same messages.
    const env = { TEST_SLACK_URL: slack.webhookUrl };
    const json = await runBin(['replay', snapshots, '--rules', rules, '--json'], env);
    expect(json.code).toBe(0);
    const entries = JSON.parse(json.stdout);
    const byChannel = (list: Array<{ at: string; channel: string }>) =>
      ['ops', 'buyers'].flatMap((c) => list.filter((x) => x.channel === c).map((x) => `${x.at} ${x.channel}`));
    expect(byChannel(entries)).toEqual(byChannel(sent));
    // Every alert a notice told, with its event: the email (which lists them all) names each one.
    const buyersEntries = entries.filter((e: any) => e.channel === 'buyers' && e.source === undefined);
    const buyersMails = sent.filter((s) => s.channel === 'buyers' && !/suspect|unreachable|recovered/i.test(s.mail!.subject));
    expect(buyersEntries).toHaveLength(buyersMails.length);
    buyersEntries.forEach((e: any, i: number) => {
      for (const a of e.alerts) {
        const word = a.event === 'new' ? 'firing' : a.event === 'resolved' ? 'resolved' : 'still firing';
        expect(buyersMails[i].mail!.text).toMatch(new RegExp(`${word}.*${a.rule}`));
      }
    });

    const text = await runBin(['replay', snapshots, '--rules', rules], env);
    expect(text.code).toBe(0);
    const out = text.stdout;
    let from = 0;
    for (const s of sent) {
      // In the order sent (per channel), each message's own text appears in replay's output.
      const needle = s.slack ? s.slack.text.split('\n')[0] : `Subject: ${s.mail!.subject}`;
      const found = out.indexOf(needle, s.channel === 'ops' ? from : 0);
      expect(found).toBeGreaterThanOrEqual(0);
      if (s.channel === 'ops') from = found + 1;
    }
  });
});
