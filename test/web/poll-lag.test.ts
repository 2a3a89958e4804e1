// The failure BullMQ users report most: a scheduler that silently stops. Here it is removed from
// under a running daemon; /healthz must turn 503 with a reason once no poll has succeeded for 3
// intervals, /metrics must show the last success standing still, and polls run by another daemon
// must count again.
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { freePort, killAll, sleep } from '../support/processes';
import { REDIS_URL, startFakeS2, waitFor, type FakeS2 } from '../support/stand-ins';
import { daemonEnv, overview, rulesYaml, Scenario, startDaemon } from '../faults/helpers';

jest.setTimeout(60_000);

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

const lastSuccessMetric = (text: string): number => Number(/^stockwatch_last_successful_poll_timestamp_seconds (\S+)$/m.exec(text)?.[1] ?? NaN);

describe('/healthz on poll lag', () => {
  let s2: FakeS2;
  let scenario: Scenario;
  let connection: IORedis;

  beforeAll(async () => {
    s2 = await startFakeS2(overview([{ sku: 'SKU-M', available: 20 }]));
    scenario = new Scenario('lag', rulesYaml({ email: false }));
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    await killAll();
    connection.disconnect();
    await s2.close();
    await scenario.cleanup();
  });

  test('a scheduler removed under the daemon: 503 after 3 intervals, the metric stands still; another daemon polling: 200 again', async () => {
    const port = await freePort();
    const env = daemonEnv({ scenario, s2, httpPort: port, pollEvery: '1s' });
    const daemon = await startDaemon(env, 'daemon A');
    await daemon.waitForLine(/^poll ok$/);
    expect((await get(port, '/healthz')).status).toBe(200);
    const before = lastSuccessMetric((await get(port, '/metrics')).body);
    expect(Math.abs(before * 1000 - Date.now())).toBeLessThan(5000);

    const queue = new Queue('poll', { connection, prefix: scenario.prefix });
    try {
      await queue.removeJobScheduler('poll');
      const stoppedAt = Date.now();
      // The job already delayed may still run once; after that, nothing.
      expect(await waitFor(async () => (await get(port, '/healthz')).status === 503, 10_000)).toBe(true);
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(3000 - 1000);
      const health = JSON.parse((await get(port, '/healthz')).body);
      expect(health).toMatchObject({ status: 'unhealthy', redis: 'ok', lastPoll: { state: 'ok' } });
      expect(health.reasons).toEqual([expect.stringMatching(/^no poll has succeeded for \d+ s \(limit: 3 poll intervals, 3 s\): is the scheduler running\?$/)]);
      const stuck = lastSuccessMetric((await get(port, '/metrics')).body);
      await sleep(1500);
      expect(lastSuccessMetric((await get(port, '/metrics')).body)).toBe(stuck);

      // A second daemon upserts the scheduler again at start; its polls count for the first one too.
      const other = await startDaemon({ ...env, HTTP_PORT: '0' }, 'daemon B');
      expect(await waitFor(async () => (await get(port, '/healthz')).status === 200, 15_000)).toBe(true);
      expect(lastSuccessMetric((await get(port, '/metrics')).body)).toBeGreaterThan(stuck);
      expect(await other.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await queue.close();
    }
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
