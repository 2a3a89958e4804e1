// Digest schedules: the tick times BullMQ computes (cron-parser, in the channel's zone), the
// schedulers following the rules, and a tick missed while no daemon ran not being sent late.
import { CronExpressionParser } from 'cron-parser';
import type { Worker } from 'bullmq';
import { Digests, digestJobId, digestSchedulerId, isMissedTick, nextTicks, type DigestDeps } from '../../src/digest/digest';
import type { CompiledRuleSet } from '../../src/engine/evaluate';
import { StateStore } from '../../src/state/store';
import { captureLog, cleanPrefix, uniquePrefix, waitFor } from '../support/stand-ins';
import { compileRules, queues } from './helpers';

const iso = (ms: number) => new Date(ms).toISOString();

describe('digest tick times', () => {
  it('08:00 in Berlin is 07:00 UTC in winter and 06:00 UTC in summer', () => {
    expect(nextTicks('0 8 * * *', 'Europe/Berlin', Date.parse('2026-01-15T00:00:00Z'), 2).map(iso)).toEqual([
      '2026-01-15T07:00:00.000Z',
      '2026-01-16T07:00:00.000Z',
    ]);
    expect(nextTicks('0 8 * * *', 'Europe/Berlin', Date.parse('2026-07-15T00:00:00Z'), 2).map(iso)).toEqual([
      '2026-07-15T06:00:00.000Z',
      '2026-07-16T06:00:00.000Z',
    ]);
  });

  it('follows the daylight-saving changes on the days they happen', () => {
    // Berlin moves to summer time on 2026-03-29 and back on 2026-10-25.
    expect(nextTicks('0 8 * * *', 'Europe/Berlin', Date.parse('2026-03-27T12:00:00Z'), 3).map(iso)).toEqual([
      '2026-03-28T07:00:00.000Z',
      '2026-03-29T06:00:00.000Z',
      '2026-03-30T06:00:00.000Z',
    ]);
    expect(nextTicks('0 8 * * *', 'Europe/Berlin', Date.parse('2026-10-23T12:00:00Z'), 3).map(iso)).toEqual([
      '2026-10-24T06:00:00.000Z',
      '2026-10-25T07:00:00.000Z',
      '2026-10-26T07:00:00.000Z',
    ]);
  });

  it('weekdays in Toronto, 6 fields with seconds first, and UTC', () => {
    // Friday 2026-01-16, then Monday: the weekend is skipped.
    expect(nextTicks('0 8 * * 1-5', 'America/Toronto', Date.parse('2026-01-16T00:00:00Z'), 2).map(iso)).toEqual([
      '2026-01-16T13:00:00.000Z',
      '2026-01-19T13:00:00.000Z',
    ]);
    expect(nextTicks('30 0 8 * * *', 'Europe/Berlin', Date.parse('2026-01-15T00:00:00Z'), 1).map(iso)).toEqual(['2026-01-15T07:00:30.000Z']);
    expect(nextTicks('*/2 * * * * *', 'UTC', Date.parse('2026-01-15T00:00:00.500Z'), 3).map(iso)).toEqual([
      '2026-01-15T00:00:02.000Z',
      '2026-01-15T00:00:04.000Z',
      '2026-01-15T00:00:06.000Z',
    ]);
    expect(nextTicks('0 8 * * *', 'UTC', Date.parse('2026-01-15T08:00:00Z'), 1).map(iso)).toEqual(['2026-01-16T08:00:00.000Z']);
  });

  it('are what cron-parser itself says (the library BullMQ schedules with)', () => {
    const from = Date.parse('2026-05-01T12:34:56Z');
    const parsed = CronExpressionParser.parse('15 */3 * * *', { tz: 'Asia/Kolkata', currentDate: new Date(from) });
    const expected = [1, 2, 3].map(() => parsed.next().getTime());
    expect(nextTicks('15 */3 * * *', 'Asia/Kolkata', from, 3)).toEqual(expected);
  });
});

const rulesWith = (channels: string) => `
channels:
${channels}
  ops:
    email:
      to: [ops@example.com]
defaults:
  channels: [ops]
rules:
  - name: unknown
    type: unknown_product
`;

const BUYERS = `
  buyers:
    email:
      to: [buyers@example.com]
      digest: "0 8 * * *"
      timezone: Europe/Berlin`;

describe('digest schedulers', () => {
  let prefix: string;
  let q: ReturnType<typeof queues>;
  let store: StateStore;
  let rules: CompiledRuleSet;
  let log: ReturnType<typeof captureLog>;
  const workers: Worker[] = [];
  const services: Digests[] = [];

  beforeEach(() => {
    prefix = uniquePrefix('digest-sched');
    q = queues(prefix);
    store = new StateStore(q.redis, prefix);
    log = captureLog('debug');
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
    await q.close();
    await cleanPrefix(prefix);
  });

  function digests(over: Partial<DigestDeps> = {}): Digests {
    const d = new Digests({
      queue: q.digest,
      emailQueue: q.email,
      workerConnection: q.workerRedis,
      redis: q.redis,
      store,
      rules: () => rules,
      prefix,
      log: log.log,
      ...over,
    });
    services.push(d);
    return d;
  }

  const pendingTickJobs = async () => (await q.digest.getJobCounts('delayed', 'waiting', 'prioritized', 'active')) as Record<string, number>;
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((s, n) => s + n, 0);

  it('a scheduler per digest channel, its next tick at 08:00 Berlin time, one however many daemons upsert it', async () => {
    rules = compileRules(rulesWith(BUYERS));
    const before = Date.now();
    await Promise.all([digests().sync(), digests().sync(), digests().sync()]);
    const after = Date.now();

    const schedulers = await q.digest.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toEqual([digestSchedulerId('buyers')]);
    const s = schedulers[0];
    expect(s).toMatchObject({ pattern: '0 8 * * *', tz: 'Europe/Berlin', template: { data: { channel: 'buyers' } } });
    // The time the scheduler stored is the cron's next 08:00 in Berlin, whatever today's offset is.
    let expected = nextTicks('0 8 * * *', 'Europe/Berlin', before, 1)[0];
    if (expected <= after) expected = nextTicks('0 8 * * *', 'Europe/Berlin', after, 1)[0];
    expect(s.next).toBe(expected);
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(s.next!);
    expect(berlin).toBe('08:00');
    expect([6, 7]).toContain(new Date(s.next!).getUTCHours());
    expect(total(await pendingTickJobs())).toBe(1);
    // The ops channel mails at once: no scheduler.
    expect(await q.digest.getJobScheduler(digestSchedulerId('ops'))).toBeUndefined();
  });

  it('follows the rules: added, changed and removed channels; an unchanged one is left alone', async () => {
    rules = compileRules(rulesWith(BUYERS));
    const d = digests();
    await d.sync();
    const first = await q.digest.getJobScheduler(digestSchedulerId('buyers'));

    // Nothing changed: the same pending tick job, not a new one.
    await d.sync();
    const again = await q.digest.getJobScheduler(digestSchedulerId('buyers'));
    expect(again!.next).toBe(first!.next);
    expect(log.lines.filter((l) => /^digest schedule/.test(l.msg) || l.msg === 'digest scheduled')).toHaveLength(1);

    // Changed cron and zone, and a second channel.
    rules = compileRules(
      rulesWith(`
  buyers:
    email:
      to: [buyers@example.com]
      digest: "0 9 * * 1-5"
      timezone: America/Toronto
  managers:
    email:
      to: [boss@example.com]
      digest: "0 0 7 * * 1"
      send_empty: true`),
    );
    await d.sync();
    const byKey = new Map((await q.digest.getJobSchedulers()).map((s) => [s.key, s]));
    expect([...byKey.keys()].sort()).toEqual(['digest-buyers', 'digest-managers']);
    expect(byKey.get('digest-buyers')).toMatchObject({ pattern: '0 9 * * 1-5', tz: 'America/Toronto' });
    expect(byKey.get('digest-managers')).toMatchObject({ pattern: '0 0 7 * * 1', tz: 'UTC' });
    expect(total(await pendingTickJobs())).toBe(2);

    // buyers loses its digest and managers goes away: both schedulers and what was kept for them go.
    await q.redis.rpush(`${prefix}:state:digest:buyers`, '{}', '{}');
    await q.redis.hset(`${prefix}:state:digest-last`, 'buyers.sent', '1');
    rules = compileRules(rulesWith(`
  buyers:
    email:
      to: [buyers@example.com]`));
    await d.sync();
    expect(await q.digest.getJobSchedulers()).toEqual([]);
    expect(total(await pendingTickJobs())).toBe(0);
    expect(await q.redis.exists(`${prefix}:state:digest:buyers`)).toBe(0);
    expect(await q.redis.hget(`${prefix}:state:digest-last`, 'buyers.sent')).toBeNull();
    expect(log.lines.find((l) => l.msg.startsWith('digest schedule removed') && l.channel === 'buyers')).toMatchObject({ droppedEvents: 2 });
  });

  it('repairs a scheduler whose tick job was lost', async () => {
    rules = compileRules(rulesWith(BUYERS));
    const d = digests();
    await d.sync();
    // As when BullMQ failed to add the next tick's job, or the key was lost: gone from Redis.
    const { next } = (await q.digest.getJobScheduler(digestSchedulerId('buyers')))!;
    const jobId = `repeat:${digestSchedulerId('buyers')}:${next}`;
    await q.redis.zrem(`${prefix}:digest:delayed`, jobId);
    await q.redis.del(`${prefix}:digest:${jobId}`);
    expect(total(await pendingTickJobs())).toBe(0);
    await d.sync();
    expect(total(await pendingTickJobs())).toBe(1);
    expect(log.lines.some((l) => l.msg === 'digest schedule repaired')).toBe(true);
  });

  it('a tick a daemon started in time is finished however late its re-run comes (its daemon killed mid-build)', () => {
    // Passed while no daemon ran: skipped.
    expect(isMissedTick(61_000, { attemptsStarted: 1, attemptsMade: 0 })).toBe(true);
    expect(isMissedTick(59_000, { attemptsStarted: 1, attemptsMade: 0 })).toBe(false);
    // Taken by a daemon that died (BullMQ hands it on once its lock lapsed: started twice), or
    // failed once waiting for that daemon's channel lock: built, not lost.
    expect(isMissedTick(95_000, { attemptsStarted: 2, attemptsMade: 0 })).toBe(false);
    expect(isMissedTick(95_000, { attemptsStarted: 2, attemptsMade: 1 })).toBe(false);
  });

  it('ticks missed while no daemon ran do not pile up, and the one left is not sent late', async () => {
    rules = compileRules(
      rulesWith(`
  heartbeat:
    email:
      to: [heartbeat@example.com]
      digest: "* * * * * *"
      send_empty: true`),
    );
    // Only the scheduler, no worker: several ticks pass.
    await digests().sync();
    const stale = (await q.digest.getJobScheduler(digestSchedulerId('heartbeat')))!.next!;
    expect(await waitFor(() => Date.now() > stale + 2500, 5000)).toBe(true);
    expect(total(await pendingTickJobs())).toBe(1);

    // A daemon comes back (grace shortened for the test; the default is a minute).
    workers.push(await digests({ missedTickGraceMs: 1000 }).start());
    const book = `${prefix}:state:digest-last`;
    expect(await waitFor(async () => Number(await q.redis.hget(book, 'heartbeat.done')) > stale, 10_000)).toBe(true);

    expect(await q.email.getJob(digestJobId('heartbeat', stale))).toBeUndefined();
    expect(log.lines.find((l) => String(l.msg).startsWith('digest tick missed'))).toMatchObject({ channel: 'heartbeat', tick: iso(stale) });
    const sent = (await q.email.getJobs(['waiting', 'delayed', 'active', 'completed'])).map((j) => j.id!);
    expect(sent.length).toBeGreaterThan(0);
    for (const id of sent) expect(Number(id.split('-').pop())).toBeGreaterThan(stale);
  });
});
