// A digest tick on real Redis and real BullMQ queues: what goes in, what is consumed, and that a
// tick run again (after a crash at any point) queues nothing twice and loses no event.
import type { Queue } from 'bullmq';
import { Digests, digestJobId, type DigestDeps } from '../../src/digest/digest';
import type { DeliveryJobData } from '../../src/delivery/route';
import type { Notice, NoticeAlert } from '../../src/notify';
import { StateStore } from '../../src/state/store';
import { captureLog, cleanPrefix, uniquePrefix } from '../support/stand-ins';
import { alert, asNotice } from '../support/alerts';
import { atMain, compileRules, queues, record } from './helpers';

const RULES = `
channels:
  buyers:
    email:
      to: [buyer@example.com]
      digest: "0 8 * * *"
      timezone: Europe/Berlin
  quiet:
    email:
      to: [quiet@example.com]
      digest: "0 8 * * *"
  heartbeat:
    email:
      to: [heartbeat@example.com]
      digest: "0 8 * * *"
      send_empty: true
  ops:
    email:
      to: [ops@example.com]
rules:
  - name: low-stock
    type: low_available
    below: 5
    channels: [buyers]
  - name: negative-reserved
    type: negative_reserved
    severity: critical
    channels: [buyers]
  - name: stale-level
    type: stale
    older_than: 1d
    channels: [ops]
  - name: unknown
    type: unknown_product
    channels: [quiet, heartbeat]
silences:
  - where: { sku: "TEST-*" }
    rule: low-stock
    until: 2099-01-01T00:00:00Z
`;

/** 2026-01-15 08:00 in Berlin. */
const T1 = Date.UTC(2026, 0, 15, 7, 0, 0);
const T2 = Date.UTC(2026, 0, 16, 7, 0, 0);
const T3 = Date.UTC(2026, 0, 17, 7, 0, 0);
const EARLIER = T1 - 3_600_000;

type DigestNotice = Extract<Notice, { type: 'digest' }>;
const skus = (alerts: readonly NoticeAlert[]) => alerts.map((a) => a.sku).sort();

describe('digest tick', () => {
  let prefix: string;
  let q: ReturnType<typeof queues>;
  let store: StateStore;
  let gen: number;
  const compiled = compileRules(RULES);

  beforeEach(() => {
    prefix = uniquePrefix('digest-tick');
    q = queues(prefix);
    store = new StateStore(q.redis, prefix);
    gen = 0;
  });

  afterEach(async () => {
    await q.close();
    await cleanPrefix(prefix);
  });

  function digests(over: Partial<DigestDeps> = {}): Digests {
    return new Digests({
      queue: q.digest,
      emailQueue: q.email,
      workerConnection: q.workerRedis,
      redis: q.redis,
      store,
      rules: () => compiled,
      prefix,
      log: captureLog('warn').log,
      ...over,
    });
  }

  /** A poll's commit, as the poll writes it: alert state plus the events routed to digest channels. */
  async function commit(c: { firing?: ReturnType<typeof record>[]; buyers?: NoticeAlert[]; quiet?: NoticeAlert[] }): Promise<void> {
    const ok = await store.commit({
      expectedGen: gen,
      meta: {},
      alertsSet: c.firing ?? [],
      digest: (['buyers', 'quiet'] as const).flatMap((channel) => (c[channel] ?? []).map((e) => ({ channel, json: JSON.stringify(e) }))),
    });
    expect(ok).toBe(true);
    gen++;
  }

  async function queued(channel: string, tickMs: number): Promise<DigestNotice | null> {
    const job = await q.email.getJob(digestJobId(channel, tickMs));
    if (!job) return null;
    const data = job.data as DeliveryJobData;
    expect(data.channel).toBe(channel);
    expect(data.notice.type).toBe('digest');
    return data.notice as DigestNotice;
  }

  const eventsLeft = () => q.redis.llen(`${prefix}:state:digest:buyers`);

  it('fixes what fires for the channel and what changed since, then consumes exactly those events', async () => {
    const low1 = alert(atMain('low-stock', 'LOW-001'));
    const low2 = alert(atMain('low-stock', 'LOW-002'));
    const neg = alert({ ...atMain('negative-reserved', 'NEG-1'), type: 'negative_reserved', severity: 'critical', available: 50, reserved: -3 });
    await commit({
      firing: [
        record(low1, EARLIER),
        record(low2, EARLIER),
        record(neg, EARLIER),
        // another channel's rule
        record(alert({ ...atMain('stale-level', 'LOW-001'), type: 'stale' }), EARLIER),
        // silenced when the poll ran
        record(alert({ ...atMain('low-stock', 'QUIET-1'), silenced: true }), EARLIER),
        // matches a silence the last poll did not know yet
        record(alert(atMain('low-stock', 'TEST-1')), EARLIER),
      ],
      buyers: [
        asNotice(low2, 'new', EARLIER),
        asNotice(low1, 'repeat', EARLIER),
        asNotice(alert(atMain('low-stock', 'LOW-009')), 'resolved', EARLIER),
        asNotice(neg, 'new', EARLIER),
      ],
    });

    expect(await digests().runTick('buyers', T1)).toEqual({ result: 'queued', jobId: digestJobId('buyers', T1), firing: 3, newSince: 2, resolvedSince: 1 });
    const notice = await queued('buyers', T1);
    expect(notice).not.toBeNull();
    expect(notice!.id).toBe(`d-buyers-${T1}`);
    expect(notice!.createdAtMs).toBe(T1);
    expect(notice!.sinceMs).toBeNull();
    expect(notice!.timezone).toBe('Europe/Berlin');
    expect(skus(notice!.firing)).toEqual(['LOW-001', 'LOW-002', 'NEG-1']);
    expect(notice!.firing.every((a) => a.firstSeenMs === EARLIER && a.status === 'firing')).toBe(true);
    expect(skus(notice!.newSince)).toEqual(['LOW-002', 'NEG-1']);
    expect(skus(notice!.resolvedSince)).toEqual(['LOW-009']);
    expect(await eventsLeft()).toBe(0);

    // The next digest covers only what happened since this one, and says since when.
    await commit({ buyers: [asNotice(alert(atMain('low-stock', 'LOW-003')), 'new', T1 + 60_000)] });
    expect((await digests().runTick('buyers', T2)).result).toBe('queued');
    const next = await queued('buyers', T2);
    expect(next!.sinceMs).toBe(T1);
    expect(skus(next!.newSince)).toEqual(['LOW-003']);
    expect(next!.resolvedSince).toEqual([]);
    // The firing list is the alerts hash at the tick: LOW-003 was only an event here, not stored.
    expect(skus(next!.firing)).toEqual(['LOW-001', 'LOW-002', 'NEG-1']);
  });

  it('lists an alert once per section when it came and went several times between digests', async () => {
    const a = alert(atMain('low-stock', 'LOW-007'));
    await commit({
      buyers: [asNotice(a, 'new', EARLIER), asNotice(a, 'resolved', EARLIER), asNotice({ ...a, available: 1 }, 'new', EARLIER + 1000)],
    });
    await digests().runTick('buyers', T1);
    const notice = await queued('buyers', T1);
    expect(notice!.newSince).toHaveLength(1);
    expect(notice!.newSince[0].available).toBe(1);
    expect(notice!.newSince[0].firstSeenMs).toBe(EARLIER + 1000);
    expect(notice!.resolvedSince).toHaveLength(1);
  });

  it('a tick run again queues nothing twice', async () => {
    await commit({ firing: [record(alert(atMain('low-stock', 'LOW-001')), EARLIER)], buyers: [asNotice(alert(atMain('low-stock', 'LOW-001')), 'new', EARLIER)] });
    const d = digests();
    expect((await d.runTick('buyers', T1)).result).toBe('queued');
    expect(await d.runTick('buyers', T1)).toEqual({ result: 'done' });
    // An older tick arriving late is done too: a later one covered it.
    expect(await d.runTick('buyers', T1 - 86_400_000)).toEqual({ result: 'done' });
    const counts = await q.email.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    expect(Object.values(counts).reduce((s, n) => s + n, 0)).toBe(1);
  });

  it('after a crash between queueing the digest and recording the tick, the re-run adds nothing and keeps later events', async () => {
    const first = alert(atMain('low-stock', 'LOW-001'));
    await commit({ firing: [record(first, EARLIER)], buyers: [asNotice(first, 'new', EARLIER)] });
    const crashAfterAdd: Pick<Queue, 'add' | 'getJobState'> = {
      add: async (...args: Parameters<Queue['add']>) => {
        await q.email.add(...args);
        throw new Error('killed after add');
      },
      getJobState: (id: string) => q.email.getJobState(id),
    };
    await expect(digests({ emailQueue: crashAfterAdd }).runTick('buyers', T1)).rejects.toThrow('killed after add');

    // A poll commits while the tick is down.
    const later = alert(atMain('low-stock', 'LOW-002'));
    await commit({ firing: [record(later, T1 + 1000)], buyers: [asNotice(later, 'new', T1 + 1000)] });

    expect((await digests().runTick('buyers', T1)).result).toBe('queued');
    const notice = await queued('buyers', T1);
    // The job queued before the crash is the one that stays: its content, once.
    expect(skus(notice!.newSince)).toEqual(['LOW-001']);
    expect(skus(notice!.firing)).toEqual(['LOW-001']);
    expect(await q.email.getJobCountByTypes('waiting', 'delayed', 'active', 'completed')).toBe(1);
    // The event that came after the claim waits for the next tick.
    expect(await eventsLeft()).toBe(1);
    await digests().runTick('buyers', T2);
    const next = await queued('buyers', T2);
    expect(next!.sinceMs).toBe(T1);
    expect(skus(next!.newSince)).toEqual(['LOW-002']);
  });

  it('events claimed by a tick that died before queueing go to the next tick, with what came after', async () => {
    const first = alert(atMain('low-stock', 'LOW-001'));
    await commit({ firing: [record(first, EARLIER)], buyers: [asNotice(first, 'new', EARLIER)] });
    const crashBeforeAdd: Pick<Queue, 'add' | 'getJobState'> = {
      add: async () => {
        throw new Error('killed before add');
      },
      getJobState: (id: string) => q.email.getJobState(id),
    };
    await expect(digests({ emailQueue: crashBeforeAdd }).runTick('buyers', T1)).rejects.toThrow('killed before add');
    const later = alert(atMain('low-stock', 'LOW-002'));
    await commit({ firing: [record(later, T1 + 1000)], buyers: [asNotice(later, 'new', T1 + 1000)] });

    expect((await digests().runTick('buyers', T2)).result).toBe('queued');
    expect(await queued('buyers', T1)).toBeNull();
    const notice = await queued('buyers', T2);
    expect(notice!.sinceMs).toBeNull();
    expect(skus(notice!.newSince)).toEqual(['LOW-001', 'LOW-002']);
    expect(await eventsLeft()).toBe(0);

    // And the tick after that starts from the digest that was sent.
    await commit({ buyers: [asNotice(alert(atMain('low-stock', 'LOW-004')), 'new', T2 + 1000)] });
    await digests().runTick('buyers', T3);
    expect((await queued('buyers', T3))!.sinceMs).toBe(T2);
    expect(skus((await queued('buyers', T3))!.newSince)).toEqual(['LOW-004']);
  });

  it('a quiet tick sends nothing without send_empty, and an "all clear" with it', async () => {
    const d = digests();
    expect(await d.runTick('quiet', T1)).toEqual({ result: 'quiet' });
    expect(await queued('quiet', T1)).toBeNull();
    expect(await d.runTick('heartbeat', T1)).toMatchObject({ result: 'queued', firing: 0, newSince: 0, resolvedSince: 0 });
    const clear = await queued('heartbeat', T1);
    expect(clear).toMatchObject({ type: 'digest', firing: [], newSince: [], resolvedSince: [], sinceMs: null, timezone: 'UTC' });
    expect(await d.runTick('heartbeat', T2)).toMatchObject({ result: 'queued' });
    expect((await queued('heartbeat', T2))!.sinceMs).toBe(T1);

    // A quiet tick is no digest: the next one sent still says it is the channel's first.
    const gone = alert({ ...atMain('unknown', 'X-1'), type: 'unknown_product', sku: null, product: null });
    await commit({ quiet: [asNotice(gone, 'resolved', EARLIER)] });
    expect(await d.runTick('quiet', T2)).toMatchObject({ result: 'queued', firing: 0, newSince: 0, resolvedSince: 1 });
    expect((await queued('quiet', T2))!.sinceMs).toBeNull();
  });

  it('a tick whose channel lost its digest sends nothing', async () => {
    expect(await digests().runTick('ops', T1)).toEqual({ result: 'no-channel' });
    expect(await digests().runTick('nowhere', T1)).toEqual({ result: 'no-channel' });
  });
});
