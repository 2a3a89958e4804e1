// `npm run demo`: the real daemon (Daemon.start, the code path of `stockwatch run`) polling the
// bundled S2 simulator, with the repo's rules/, every notice printed to the console exactly as it
// would be sent (Slack message or email), and the status page on HTTP_PORT. No S2 account, Slack
// or SMTP needed; Redis is REDIS_URL's, or a throwaway redis-server when nothing answers there.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { loadConfig, type Config } from '../config';
import { Daemon, redisAddress } from '../daemon/daemon';
import type { Transports } from '../delivery/worker';
import { oneLine, ProblemList, UserError } from '../errors';
import { createLogger } from '../log';
import { renderConsole } from '../notify';
import { createRedis, describeRedis, scanKeys, type RedisSettings } from '../state/redis';
import { demoRedis, freeLocalPort, type ThrowawayRedis } from './redis';
import { STORY, startSimulator, type Simulator } from './simulator';

/**
 * One fixed prefix whose keys are deleted at start: every demo starts from nothing, so its first
 * poll shows the sample's alerts again (with state kept from the last run the daemon would rightly
 * stay quiet about what it already told), and runs never pile up prefixes in a shared Redis.
 */
export const DEMO_PREFIX = 'stockwatch-demo';
const DEFAULT_POLL_EVERY = '5s';
const DEFAULT_HTTP_PORT = '9464';
const DEMO_ORGANIZATION = 'demo-organization';
const REPO_RULES = path.join(__dirname, '..', '..', 'rules');

export interface DemoOptions {
  /** Default process.env. REDIS_URL, RULES_DIR, POLL_EVERY, HTTP_PORT, LOG_LEVEL are honoured; the S2_* settings are the simulator's. */
  env?: NodeJS.ProcessEnv;
  /** Where the banner, the notices and the daemon's log lines go. Default process.stdout. */
  out?: NodeJS.WritableStream;
  /** Redis key prefix, cleared at start. Default DEMO_PREFIX. */
  prefix?: string;
  /** How often the simulator's inventory changes. Default 5000 ms. */
  stepEveryMs?: number;
}

export interface Demo {
  /** The status page, or null with HTTP_PORT=0. */
  statusUrl: string | null;
  simulatorUrl: string;
  prefix: string;
  /** Stops the daemon (finishing the work in hand), the simulator and a throwaway Redis. Idempotent. */
  stop(): Promise<void>;
}

/** Transports that print each notice as its channel would receive it. */
export function consoleTransports(out: NodeJS.WritableStream): Transports {
  return {
    send: async (channel, notice) => void out.write(renderConsole(notice, channel) + '\n'),
    close: async () => undefined,
  };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const QUIET_FIELDS = new Set(['level', 'time', 'name', 'msg', 'pid', 'hostname']);

/** pino's JSON lines as one short readable line each (pino-pretty is a dev dependency, not a runtime one). */
function readableLog(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      for (const text of line.split('\n')) {
        if (text.trim() === '') continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(text) as Record<string, unknown>;
        } catch {
          out.write(`  daemon: ${text}\n`);
          continue;
        }
        const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
        const fields = Object.entries(entry)
          .filter(([key]) => !QUIET_FIELDS.has(key))
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
        out.write(`  daemon ${level}: ${String(entry.msg ?? '')}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}\n`);
      }
    },
  };
}

/** Whether something already listens on host:port. */
async function portTaken(port: number, host: string): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never KEYS), on whichever topology the config names. */
async function clearPrefix(settings: RedisSettings, prefix: string): Promise<number> {
  const redis = createRedis(settings, 'admin');
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    // One key per UNLINK, which a Cluster takes whatever slot each key is in.
    for (const key of await scanKeys(redis, `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`)) deleted += await redis.unlink(key);
  } finally {
    redis.disconnect();
  }
  return deleted;
}

function storyPreview(stepEveryMs: number): string[] {
  if (stepEveryMs === 0) return [];
  return STORY.map((e) => `    +${String(Math.round((e.step * stepEveryMs) / 1000)).padStart(3)}s  ${e.sku}: ${e.what}`);
}

export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  const prefix = opts.prefix ?? DEMO_PREFIX;
  const stepEveryMs = opts.stepEveryMs ?? 5000;
  const say = (text = ''): void => void out.write(text + '\n');
  const value = (name: string): string | undefined => (env[name]?.trim() ? env[name]!.trim() : undefined);

  // The environment as the daemon will read it, checked before anything starts. The S2 settings
  // are placeholders here; the simulator's real ones come once it listens.
  const demoEnv: NodeJS.ProcessEnv = {
    ...env,
    S2_API_URL: 'http://127.0.0.1:9',
    S2_API_TOKEN: `demo-${randomBytes(12).toString('hex')}`,
    S2_ORGANIZATION_ID: DEMO_ORGANIZATION,
    STOCKWATCH_PREFIX: prefix,
    RULES_DIR: value('RULES_DIR') ?? REPO_RULES,
    POLL_EVERY: value('POLL_EVERY') ?? DEFAULT_POLL_EVERY,
    HTTP_PORT: value('HTTP_PORT') ?? DEFAULT_HTTP_PORT,
    // The daemon's info lines would bury the notices; warnings and errors still show.
    LOG_LEVEL: value('LOG_LEVEL') ?? 'warn',
  };
  let config: Config = loadConfig(demoEnv, { needSource: true });

  // A Cluster or Sentinel is used as configured; a single server may be replaced by a throwaway one.
  const redis = config.redis.kind === 'server' ? await demoRedis(config.redisUrl, redisAddress(config.redisUrl), env.PATH) : { url: config.redisUrl, throwaway: null };
  let throwaway: ThrowawayRedis | null = redis.throwaway;
  let sim: Simulator | null = null;
  let daemon: Daemon | null = null;
  let storyTimer: NodeJS.Timeout | null = null;
  let stopping: Promise<void> | null = null;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (storyTimer) clearInterval(storyTimer);
      // The daemon first: it still needs Redis and the simulator to finish the work in hand.
      await daemon?.stop();
      await sim?.close();
      await throwaway?.stop();
    })());

  try {
    const cleared = await clearPrefix({ ...config, redisUrl: redis.url }, prefix);
    sim = await startSimulator({ token: demoEnv.S2_API_TOKEN, organizationId: DEMO_ORGANIZATION, stepEveryMs });

    let httpPort = config.httpPort;
    let portNote = '';
    if (httpPort !== 0 && (await portTaken(httpPort, '127.0.0.1'))) {
      const taken = httpPort;
      httpPort = await freeLocalPort();
      portNote = `port ${taken} is taken (set HTTP_PORT to choose another); using ${httpPort}`;
    }
    config = { ...config, apiUrl: sim.url, redisUrl: redis.url, httpPort };

    const log = createLogger(config.logLevel, readableLog(out));
    daemon = await Daemon.start({ config, env: demoEnv, log, schedule: true, transports: consoleTransports(out), httpHost: '127.0.0.1' });
    const statusUrl = daemon.httpPort === null ? null : `http://127.0.0.1:${daemon.httpPort}/`;

    const redisLine = throwaway
      ? `a throwaway redis-server on 127.0.0.1:${throwaway.port} (nothing answered at ${redisAddress(env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379')}; stopped on exit)`
      : `${describeRedis(config)}, keys under ${prefix}:* (${cleared > 0 ? `${cleared} left from an earlier demo cleared` : 'cleared at start'})`;
    say('stockwatch demo: the real daemon against a simulated S2 API; notices are printed, not sent.');
    say();
    say(`  S2 simulator  ${sim.url}/inventory/overview  (the vendor's sample; it changes every ${stepEveryMs / 1000} s)`);
    say(`  status page   ${statusUrl === null ? 'off (HTTP_PORT=0)' : `${statusUrl}  (JSON: ${statusUrl}api/status, ${statusUrl}healthz, ${statusUrl}metrics)`}`);
    if (portNote) say(`                ${portNote}`);
    say(`  rules         ${config.rulesDir}  (edit a file: the next poll uses it, or shows why not)`);
    say(`  Redis         ${redisLine}`);
    say(`  polls every   ${demoEnv.POLL_EVERY}`);
    say();
    say("What to watch for: the first poll prints the sample's alerts at once: TEST-BLACK's negative reserved");
    say('(-13) and out of stock, items of products the overview does not know, stale levels. Then the');
    say('simulator plays a story and each poll prints what changed, new and resolved:');
    for (const line of storyPreview(stepEveryMs)) say(line);
    say();
    say('Ctrl-C stops everything.');
    say();

    // Say what the simulator just did, so each notice that follows has its cause above it.
    let reported = 0;
    const simulator = sim;
    storyTimer = setInterval(() => {
      const now = simulator.steps();
      for (; reported < now; reported++) {
        for (const e of STORY.filter((s) => s.step === reported + 1)) say(`>>> simulator, step ${e.step}: ${e.sku}: ${e.what}`);
      }
    }, 250);
    storyTimer.unref();

    return { statusUrl, simulatorUrl: sim.url, prefix, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Resolves with the first SIGINT or SIGTERM; a second one forces the exit. */
function untilSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (signal: NodeJS.Signals): void => {
      if (seen) return onSecond();
      seen = true;
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function main(): Promise<number> {
  let demo: Demo;
  try {
    demo = await startDemo();
  } catch (err) {
    const text = err instanceof ProblemList ? err.message : oneLine(err);
    process.stderr.write(`stockwatch demo: ${text}\n`);
    if (!(err instanceof UserError) && process.env.STOCKWATCH_DEBUG) process.stderr.write(String((err as Error).stack) + '\n');
    return 1;
  }
  await untilSignal(() => {
    process.stderr.write('stockwatch demo: stopped without waiting for the work in hand\n');
    process.exit(1);
  });
  process.stdout.write('\nstopping: finishing the work in hand (Ctrl-C again to force)...\n');
  await demo.stop();
  process.stdout.write('stopped.\n');
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`stockwatch demo: ${oneLine(err)}\n`);
      process.exit(1);
    },
  );
}
