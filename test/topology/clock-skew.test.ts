// Two `stockwatch run` replicas whose clocks disagree (Debian's faketime moves one of them): they
// still poll once per interval, notify each event once, and record alert times on one clock
// (Redis's). What skew costs when the replica with the fastest clock stops is measured too.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import IORedis from 'ioredis';
import { BIN, ChildRun, killAll, REPO_ROOT, sleep } from '../support/processes';
import { REDIS_URL, startFakeS2, startFakeSlack, waitFor, type FakeS2, type FakeSlack } from '../support/stand-ins';
import { daemonEnv, overview, rulesYaml, Scenario, slackStatuses } from '../faults/helpers';
import { requireBinaries } from './topologies';

jest.setTimeout(60_000);

/** Debian's libfaketime (package faketime), preloaded straight into node rather than through the
 * `faketime` wrapper, so that signals reach the daemon itself. */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f));

/** `stockwatch run` whose clock (Date.now, the wall time) runs `offsetSeconds` ahead of this host's. */
function skewedDaemon(env: NodeJS.ProcessEnv, offsetSeconds: number, name: string): ChildRun {
  const faked = { ...env, LD_PRELOAD: LIBFAKETIME, FAKETIME: `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}s`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  const child = spawn(process.execPath, [BIN, 'run'], { cwd: REPO_ROOT, env: faked, stdio: ['ignore', 'pipe', 'pipe'] });
  return new ChildRun(name, child);
}

const pollOks = (d: ChildRun): number[] => d.lines.filter((l) => l.msg === 'poll ok').map((l) => l.atMs);

describe('replicas with skewed clocks', () => {
  let s2: FakeS2;
  let slack: FakeSlack;
  let scenario: Scenario;
  let redis: IORedis;

  beforeAll(() => {
    requireBinaries('faketime');
    if (LIBFAKETIME === undefined) throw new Error('libfaketime.so.1 not found: .ci/run installs it (apt-get install faketime)');
  });

  beforeEach(async () => {
    [s2, slack] = await Promise.all([startFakeS2(overview([{ sku: 'SKU-M', available: 20 }])), startFakeSlack()]);
    scenario = new Scenario('skew', rulesYaml({ email: false }));
    redis = new IORedis(REDIS_URL);
  });

  afterEach(async () => {
    await killAll();
    redis.disconnect();
    await Promise.all([s2.close(), slack.close()]);
    await scenario.cleanup();
  });

  test('2 minutes apart: one poll per interval, each event notified once, alert times on one clock', async () => {
    const env = daemonEnv({ scenario, s2, slackUrl: slack.webhookUrl, pollEvery: '1s' });
    const onTime = skewedDaemon(env, 0, 'daemon on time');
    const ahead = skewedDaemon(env, 120, 'daemon 2 minutes ahead');
    await Promise.all([onTime, ahead].map((d) => d.waitForLine(/stockwatch starting/, 20_000)));
    await sleep(1500);

    // Every poll's time as committed: sampled all along, it must be Redis's clock (this host's), never 2 minutes off.
    const offsets: number[] = [];
    const sampler = setInterval(() => {
      void redis.hget(`${scenario.prefix}:state:meta`, 'lastPollAtMs').then((v) => v !== null && offsets.push(Number(v) - Date.now()));
    }, 200);

    const startMs = Date.now();
    let episode = 0;
    for (let i = 0; i < 4; i++) {
      episode += 1;
      s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-M', available: episode % 2 === 1 ? 0 : 20 + episode }]) };
      await sleep(2500);
    }
    const endMs = Date.now();
    clearInterval(sampler);
    await waitFor(() => slackStatuses(slack.messages).length >= 4, 10_000);
    await sleep(1500);

    const seconds = (endMs - startMs) / 1000;
    const polls = s2.requests.filter((r) => r.atMs >= startMs && r.atMs < endMs).length;
    expect({ polls, atMost: polls <= Math.ceil(seconds) + 1, atLeast: polls >= Math.floor(seconds / 2) }).toEqual({ polls, atMost: true, atLeast: true });
    expect(slackStatuses(slack.messages)).toEqual(['firing', 'resolved', 'firing', 'resolved']);
    expect(offsets.length).toBeGreaterThan(10);
    expect(offsets.filter((o) => Math.abs(o) > 5000)).toEqual([]);
    process.stdout.write(`skew 120 s: ${polls} polls in ${seconds.toFixed(1)} s; polls run by the daemon on time: ${pollOks(onTime).length}, by the one ahead: ${pollOks(ahead).length}\n`);

    for (const d of [onTime, ahead]) expect(await d.stop()).toEqual({ code: 0, signal: null });
  });

  test('10 s apart: when the replica whose clock is ahead stops, polls go on within about the skew', async () => {
    const SKEW_S = 10;
    const env = daemonEnv({ scenario, s2, pollEvery: '1s' });
    const onTime = skewedDaemon(env, 0, 'daemon on time');
    const ahead = skewedDaemon(env, SKEW_S, `daemon ${SKEW_S} s ahead`);
    await Promise.all([onTime, ahead].map((d) => d.waitForLine(/stockwatch starting/, 20_000)));
    await sleep(3000);
    await ahead.kill9();
    const killedAt = Date.now();
    expect(await waitFor(() => s2.requests.some((r) => r.atMs > killedAt + 500), 30_000)).toBe(true);
    const gapMs = s2.requests.find((r) => r.atMs > killedAt + 500)!.atMs - Math.max(...s2.requests.filter((r) => r.atMs <= killedAt + 500).map((r) => r.atMs));
    process.stdout.write(`skew ${SKEW_S} s: after the replica ahead stopped, no poll for ${(gapMs / 1000).toFixed(1)} s\n`);
    // Polls go on. The gap is at most about the skew (the schedule was on the stopped replica's
    // clock), give or take an interval; it is shorter when the survivor promotes an overdue poll
    // first (daemon.ts), which depends on when the kill lands, so only the bound is a promise.
    expect(gapMs).toBeLessThan((SKEW_S + 3) * 1000);
    expect(await onTime.stop()).toEqual({ code: 0, signal: null });
  });
});
