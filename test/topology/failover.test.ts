// `stockwatch run` on a real Redis Cluster (3 masters + 3 replicas) and on a real Sentinel setup
// (master + replica + 3 sentinels): polls, Slack notices, digests and the status page work; then the master
// that holds the deployment's keys is killed -9, and the daemon resumes within two poll intervals
// of the promotion, with every event notified exactly once.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { killAll, sleep, type ChildRun, freePort } from '../support/processes';
import { startFakeS2, startFakeSlack, startFakeSmtp, waitFor, type FakeS2, type FakeSlack, type FakeSmtp } from '../support/stand-ins';
import { daemonEnv, overview, Scenario, slackStatuses, startDaemon } from '../faults/helpers';
import { ask, infoFields, RedisClusterUnderTest, replicaCaughtUp, requireBinaries, SentinelSetUnderTest, until } from './topologies';

jest.setTimeout(60_000);

const POLL_EVERY_MS = 1000;

/** Out-of-stock to Slack (`ops`) as it happens, and a digest mail every 2 s (`digests`, sent even when quiet). */
const RULES = [
  'channels:',
  '  ops:',
  '    slack:',
  '      webhook_url: ${TEST_SLACK_URL}',
  '  digests:',
  '    email:',
  '      to: [buyers@example.com]',
  '      digest: "*/2 * * * * *"',
  '      send_empty: true',
  'defaults:',
  '  channels: [ops, digests]',
  '  repeat_every: never',
  '  send_resolved: true',
  'rules:',
  '  - name: out-of-stock',
  '    type: low_available',
  '    below: 1',
  '    severity: critical',
  '',
].join('\n');

interface Topology {
  /** The variables that point the daemon at it. */
  env: Record<string, string>;
  /** Kills -9 the master holding the deployment's keys (once the replica has all its writes); resolves to its port. */
  killMaster(): Promise<number>;
  /** Resolves once a replica has been promoted in its place. */
  promoted(): Promise<void>;
}

interface Measured {
  promotionMs: number;
  resumeAfterPromotionMs: number;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/**
 * Two events before the failover, one while the master is dead (seen by the first poll after the
 * promotion), one after: Slack must get exactly firing, resolved, firing, resolved.
 */
async function scenario(name: string, topology: () => Promise<Topology>, s2: FakeS2, slack: FakeSlack, smtp: FakeSmtp, prefix: string): Promise<Measured> {
  const t = await topology();
  const httpPort = await freePort();
  const scenarioFiles = new Scenario(name, RULES);
  try {
    const env = {
      ...daemonEnv({ scenario: scenarioFiles, s2, slackUrl: slack.webhookUrl, smtpUrl: smtp.url, pollEvery: `${POLL_EVERY_MS / 1000}s`, httpPort }),
      // Nothing answers there: the daemon must not use REDIS_URL once a topology is set.
      REDIS_URL: 'redis://127.0.0.1:1',
      STOCKWATCH_PREFIX: prefix,
      ...t.env,
    };
    const setAvailable = (available: number): void => {
      s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-M', available }]) };
    };
    const notified = (n: number): Promise<boolean> => waitFor(() => slackStatuses(slack.messages).length >= n, 15_000);
    const digests = (): typeof smtp.mails => smtp.mails.filter((m) => /digest/.test(m.subject));

    setAvailable(20);
    const daemon: ChildRun = await startDaemon(env, `daemon on ${name}`);
    await daemon.waitForLine(/^poll ok$/, 15_000);
    setAvailable(0);
    expect(await notified(1)).toBe(true);

    // The status page and health, served from this topology.
    const base = `http://127.0.0.1:${httpPort}`;
    const api = await get(`${base}/api/status`);
    expect(api.status).toBe(200);
    expect(api.body).toContain('SKU-M');
    const page = await get(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('SKU-M');
    expect((await get(`${base}/healthz`)).status).toBe(200);

    setAvailable(20);
    expect(await notified(2)).toBe(true);
    // A quiet moment: just after a digest went out (the next is 2 s away), nothing in delivery, and
    // (killMaster) every write on the replica. A delivery in flight when the master dies may be
    // repeated, as after any crash: its completion was written to the master only.
    const digestsBefore = digests().length;
    expect(await waitFor(() => digests().length > digestsBefore, 10_000)).toBe(true);
    await sleep(300);

    const killedAt = Date.now();
    await t.killMaster();
    setAvailable(0);
    await t.promoted();
    const promotedAt = Date.now();
    const resumed = await daemon.waitForLine((l) => l.msg === 'poll ok' && l.atMs > promotedAt, 20_000);
    expect(await notified(3)).toBe(true);
    setAvailable(20);
    expect(await notified(4)).toBe(true);
    // Digests go on after the failover too.
    expect(await waitFor(() => digests().some((m) => m.atMs > promotedAt), 10_000)).toBe(true);
    // Room for a duplicate to arrive, were there one.
    await sleep(3 * POLL_EVERY_MS);
    expect(slackStatuses(slack.messages)).toEqual(['firing', 'resolved', 'firing', 'resolved']);
    // One mail per digest tick: no tick sent twice (a tick lost to the outage is skipped, not sent late).
    const ticks = digests().map((m) => m.noticeId);
    expect(ticks.every((id) => id !== null && id.startsWith('d-digests-'))).toBe(true);
    expect(new Set(ticks).size).toBe(ticks.length);
    const health = await get(`${base}/healthz`);
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: expect.stringContaining('"status": "ok"') });

    const stopped = await daemon.stop();
    if (stopped.code !== 0) process.stdout.write(daemon.output().split('\n').filter((l) => !/poll ok|delivered|digest queued/.test(l)).slice(-25).join('\n') + '\n');
    expect(stopped).toEqual({ code: 0, signal: null });
    const measured = { promotionMs: promotedAt - killedAt, resumeAfterPromotionMs: resumed.atMs - promotedAt };
    // The figures docs/operating.md quotes.
    process.stdout.write(`${name} failover: promotion ${measured.promotionMs} ms after the kill; first poll ${measured.resumeAfterPromotionMs} ms after the promotion\n`);
    // "Within two poll intervals after the promotion".
    expect(measured.resumeAfterPromotionMs).toBeLessThanOrEqual(2 * POLL_EVERY_MS);
    return measured;
  } finally {
    // Only the rules folder: the keys go with the topology's temp dirs.
    fs.rmSync(scenarioFiles.rulesDir, { recursive: true, force: true });
  }
}

describe('Redis topologies: a real failover under a running daemon', () => {
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(() => requireBinaries('redis-server', 'redis-sentinel', 'redis-cli'));

  beforeEach(async () => {
    [s2, slack, smtp] = await Promise.all([startFakeS2(overview([{ sku: 'SKU-M', available: 20 }])), startFakeSlack(), startFakeSmtp()]);
  });

  afterEach(async () => {
    await killAll();
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    await Promise.all([s2.close(), slack.close(), smtp.close()]);
  });

  test('Redis Cluster: the master owning the prefix hash tag dies; its replica takes over', async () => {
    const tag = `swtest-${randomBytes(4).toString('hex')}`;
    const prefix = `{${tag}}`;
    await scenario(
      'cluster',
      async () => {
        const cluster = await RedisClusterUnderTest.start();
        cleanups.push(() => cluster.destroy());
        let replicaPort = 0;
        return {
          env: { REDIS_CLUSTER_NODES: cluster.seeds },
          killMaster: async () => {
            const { master, replicas } = await cluster.ownerOf(`${prefix}:state:meta`);
            replicaPort = replicas[0].port;
            // The deployment's keys really live on the node about to die.
            expect(await ask(master.port, (r) => r.exists(`${prefix}:state:meta`))).toBe(1);
            await replicaCaughtUp(master.port, replicaPort);
            await master.kill9();
            return master.port;
          },
          promoted: () => until('the replica is promoted', 20_000, async () => infoFields(await ask(replicaPort, (r) => r.info('replication'))).role === 'master').then(() => undefined),
        };
      },
      s2,
      slack,
      smtp,
      prefix,
    );
  });

  test('Sentinel: the master dies; the sentinels promote the replica', async () => {
    await scenario(
      'sentinel',
      async () => {
        const set = await SentinelSetUnderTest.start();
        cleanups.push(() => set.destroy());
        return {
          env: { REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_MASTER: set.masterName },
          killMaster: async () => {
            await replicaCaughtUp(set.master.port, set.replica.port);
            await set.master.kill9();
            return set.master.port;
          },
          promoted: () => until('the sentinels name the replica as master', 20_000, async () => (await set.currentMasterPort()) === set.replica.port).then(() => undefined),
        };
      },
      s2,
      slack,
      smtp,
      `swtest-sentinel-${randomBytes(4).toString('hex')}`,
    );
  });
});
