// `poll --once` as a real process exits as soon as its poll and deliveries are done (src/cli.ts,
// exitWhenDone), not when Node's event loop has drained, and loses no log line doing so.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { overview, rulesYaml, Scenario } from './helpers';

jest.setTimeout(30_000);

describe('poll --once exits when done', () => {
  let scenario: Scenario;
  let preloadDir: string;

  beforeEach(async () => {
    scenario = new Scenario('poll-exit', rulesYaml());
    await scenario.start({ overview: overview([{ sku: 'GONE', available: 0 }]), slack: true, smtp: true });
    preloadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-poll-exit-'));
  });

  afterEach(async () => {
    await scenario.cleanup();
    fs.rmSync(preloadDir, { recursive: true, force: true });
  });

  test('a handle that would keep Node alive for a minute does not hold the exit; every notice and log line is out', async () => {
    // Stands in for whatever a library leaves behind (a timer, a socket still closing).
    const preload = path.join(preloadDir, 'linger.js');
    fs.writeFileSync(preload, 'setTimeout(() => {}, 60_000);\n');
    const started = Date.now();
    const poll = scenario.stockwatch(['poll', '--once', '--wait', '15s'], { ...scenario.env(), NODE_OPTIONS: `--require ${preload}` });
    expect(await poll.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(scenario.slack.messages).toHaveLength(1);
    expect(scenario.smtp.mails).toHaveLength(1);
    // The log is written synchronously: the lines logged last, right before the exit, are there.
    const messages = poll.lines.filter((l) => l.stream === 'stdout').map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['poll ok', 'slack notice delivered', 'email notice delivered']));
  });

  test('a failed poll still exits 1 with its one line on stderr', async () => {
    const preload = path.join(preloadDir, 'linger.js');
    fs.writeFileSync(preload, 'setTimeout(() => {}, 60_000);\n');
    const env = { ...scenario.env(), S2_API_TOKEN: 'not-the-token', NODE_OPTIONS: `--require ${preload}` };
    const poll = scenario.stockwatch(['poll', '--once'], env);
    expect(await poll.exited).toEqual({ code: 1, signal: null });
    const stderr = poll.lines.filter((l) => l.stream === 'stderr').map((l) => l.msg);
    expect(stderr).toEqual([expect.stringMatching(/^stockwatch: poll failed: /)]);
  });
});
