// Redis for the demo: the one at REDIS_URL when it answers; else a throwaway `redis-server` (no
// persistence, loopback only) started for the demo and stopped with it; else one line on how to get one.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { oneLine, UserError } from '../errors';

const PING_TIMEOUT_MS = 1500;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

export interface DemoRedis {
  url: string;
  /** Set when the demo started its own redis-server. */
  throwaway: ThrowawayRedis | null;
}

export interface ThrowawayRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL); resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Whether a Redis answers PING at `url` within a second or so. */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new IORedis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: PING_TIMEOUT_MS,
    retryStrategy: () => null,
    // ioredis keeps a closed probe's process alive this long after a refused connection (default 2 s).
    disconnectTimeout: 100,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The full path of an executable on `searchPath` (a PATH value), or null. */
export function findOnPath(command: string, searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A port nothing listens on now, on loopback. */
export async function freeLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `redis-server` on a free loopback port, without persistence, and waits until it answers.
 * It runs in its own process group, so a Ctrl-C in the terminal reaches the demo, not Redis: the
 * demo stops its daemon first (which still needs Redis), then the server.
 */
export async function startThrowawayRedis(executable: string): Promise<ThrowawayRedis> {
  const port = await freeLocalPort();
  const child = spawn(
    executable,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'],
    { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  // Should the demo die without stopping it, the server must not outlive it.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let ready = false;
  while (!ready && Date.now() < deadline) {
    const early = await Promise.race([exited.then((code) => `exited with code ${code}`), spawnFailed.then((err) => oneLine(err)), sleep(100).then(() => null)]);
    if (early !== null) {
      process.off('exit', killOnExit);
      const lastLine = output.trim().split('\n').pop() ?? '';
      throw new UserError(`the throwaway redis-server ${early}${lastLine ? `: ${oneLine(lastLine)}` : ''}`);
    }
    ready = await redisAnswers(url);
  }
  if (!ready) {
    killOnExit();
    process.off('exit', killOnExit);
    throw new UserError(`the throwaway redis-server did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
  }
  // The server's own log is not the demo's business once it runs.
  child.stdout?.removeListener('data', keep);
  child.stderr?.removeListener('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();

  let stopping: Promise<void> | null = null;
  return {
    port,
    url,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(force);
        }
        process.off('exit', killOnExit);
      })()),
  };
}

export const NO_REDIS_HELP =
  'install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) so that redis-server is on the PATH, ' +
  'or start one with Docker (docker run --rm -p 6379:6379 redis:7), or point REDIS_URL at one';

/**
 * Redis for the demo. `address` is REDIS_URL without its password (for messages). Throws a
 * one-line UserError when nothing answers and there is no redis-server to start.
 */
export async function demoRedis(url: string, address: string, searchPath: string | undefined): Promise<DemoRedis> {
  if (await redisAnswers(url)) return { url, throwaway: null };
  const executable = findOnPath('redis-server', searchPath);
  if (executable === null) throw new UserError(`no Redis answers at ${address} and redis-server is not on the PATH: ${NO_REDIS_HELP}`);
  const throwaway = await startThrowawayRedis(executable);
  return { url: throwaway.url, throwaway };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
