// Several daemons on one Redis: one poll per interval whatever their number, one notice per event,
// also while one of them is killed; and when polls do race (several `poll --once` at the same
// moment), one of them commits and the others change nothing.
import IORedis from 'ioredis';
import { RedisServer, sleep, type ChildRun } from '../support/processes';
import type { FakeS2, FakeSlack, FakeSmtp } from '../support/stand-ins';
import { waitFor } from '../support/stand-ins';
import { mailStatuses, overview, rulesYaml, Scenario, slackStatuses, type ItemSpec } from './helpers';

jest.setTimeout(90_000);

describe('fault: several daemons on one Redis', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('replicas', rulesYaml());
    ({ s2, slack, smtp } = await scenario.start({ overview: overview([{ sku: 'SKU-M', available: 20 }]), slack: true, smtp: true }));
  });

  afterEach(() => scenario.cleanup());

  test('two, then three daemons, then one killed -9: one poll per interval, one notice per event', async () => {
    const env = scenario.env({ pollEvery: '1s' });
    let episode = 0;
    const flip = (): void => {
      episode += 1;
      const firing = episode % 2 === 1;
      s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-M', available: firing ? 0 : 20 + episode, incoming: episode }]) };
    };
    /** Each state is held for 2.5 s (two polls or more), so every daemon arrangement sees every change. */
    const phase = async (flips: number): Promise<{ startMs: number; endMs: number }> => {
      const startMs = Date.now();
      for (let i = 0; i < flips; i++) {
        flip();
        await sleep(2500);
      }
      return { startMs, endMs: Date.now() };
    };
    const pollsBetween = (w: { startMs: number; endMs: number }): number => s2.requests.filter((r) => r.atMs >= w.startMs && r.atMs < w.endMs).length;
    const daemons: ChildRun[] = [];

    daemons.push(await scenario.startDaemon(env, 'daemon A'), await scenario.startDaemon(env, 'daemon B'));
    await sleep(1500);
    const two = await phase(2);
    daemons.push(await scenario.startDaemon(env, 'daemon C'));
    await sleep(1000);
    const three = await phase(2);

    // Kill the daemon that ran the latest poll, at a quiet moment (nothing in delivery: see kill.test.ts for kills in flight).
    await waitFor(() => Date.now() - Math.max(slack.attempts.at(-1)?.atMs ?? 0, smtp.mails.at(-1)?.atMs ?? 0) > 500, 5000);
    const lastPoll = (d: ChildRun): number => d.lines.filter((l) => l.msg === 'poll ok').at(-1)?.atMs ?? 0;
    const victim = daemons.reduce((a, b) => (lastPoll(b) > lastPoll(a) ? b : a));
    await victim.kill9();
    const survivors = daemons.filter((d) => d !== victim);
    const afterKill = await phase(2);
    await sleep(1500);

    // One scheduler, whatever the number of daemons: at most one poll a second (one more at the
    // edges of a window), never one per daemon; and the polls go on after the kill.
    for (const [what, w] of [['two daemons', two], ['three daemons', three], ['after the kill', afterKill]] as const) {
      const seconds = (w.endMs - w.startMs) / 1000;
      expect({ what, polls: pollsBetween(w) <= Math.ceil(seconds) + 1 }).toEqual({ what, polls: true });
      expect({ what, alive: pollsBetween(w) >= Math.floor(seconds / 2) }).toEqual({ what, alive: true });
    }
    // The work is shared: more than one daemon ran polls.
    expect(daemons.filter((d) => d.lines.some((l) => l.msg === 'poll ok')).length).toBeGreaterThanOrEqual(2);

    // One notice per change and channel, in order.
    const expected = Array.from({ length: episode }, (_, i) => ((i + 1) % 2 === 1 ? 'firing' : 'resolved'));
    expect(slackStatuses(slack.messages)).toEqual(expected);
    expect(mailStatuses(smtp.mails)).toEqual(expected);
    expect(new Set(smtp.mails.map((m) => m.noticeId)).size).toBe(episode);
    for (const d of survivors) expect(await d.stop()).toEqual({ code: 0, signal: null });
  });

  test('polls that race (three `poll --once` at the same moment): one commits, the others change nothing', async () => {
    // Their own Redis, whose writes the test holds back (CLIENT PAUSE … WRITE) while the three
    // polls fetch, load the state and evaluate: all three reach their commit having read the same
    // generation, and only the transaction's WATCH can tell them apart.
    const redis = await RedisServer.start();
    const admin = new IORedis(redis.url);
    try {
      const items: ItemSpec[] = Array.from({ length: 200 }, (_, i) => ({ sku: `SKU-${String(i).padStart(3, '0')}`, available: i % 10 === 0 ? 0 : 20 }));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      s2.answer = { kind: 'held', release: released, body: overview(items) };
      s2.onRequest = () => {
        if (s2.requests.length === 3) void admin.call('CLIENT', 'PAUSE', '1500', 'WRITE').then(() => release());
      };
      const env = scenario.env({ redisUrl: redis.url });
      const polls = [0, 1, 2].map((i) => scenario.stockwatch(['poll', '--once', '--wait', '20s'], env, `poll ${i}`));
      const exits = await Promise.all(polls.map((p) => p.exited));
      expect(exits).toEqual(polls.map(() => ({ code: 0, signal: null })));

      // One poll commits the 20 new alerts and their notices. Each other one found the state
      // moved under it and dropped its result (or, had it loaded the state after that commit, saw
      // nothing new). At least one really raced: else this test would prove nothing.
      const pollOk = (p: ChildRun) => p.lines.find((l) => l.msg === 'poll ok');
      const committedNew = polls.filter((p) => pollOk(p)?.notices === 2);
      const dropped = polls.filter((p) => p.messages().includes('another poll committed first; this poll changed nothing'));
      const sawNothingNew = polls.filter((p) => !dropped.includes(p) && pollOk(p)?.notices === 0);
      expect({ committedNew: committedNew.length, others: dropped.length + sawNothingNew.length }).toEqual({ committedNew: 1, others: 2 });
      expect(dropped.length).toBeGreaterThanOrEqual(1);
      expect(slack.messages).toHaveLength(1);
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0].subject).toMatch(/^\[stockwatch\] 20 new: /);
    } finally {
      admin.disconnect();
      await redis.destroy();
    }
  });
});
