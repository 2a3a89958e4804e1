// Real processes for the fault suite: `stockwatch run` / `poll --once` from the compiled dist/
// (what `npm test` builds first), and a private redis-server the test may stop and restart.
// Every process started here is tracked, so a failing test cannot leave one behind.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import IORedis from 'ioredis';

export const REPO_ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'stockwatch.js');

/** One line of a child's output: its pino JSON, or `{ msg }` for anything else. */
export interface LogLine {
  level?: number;
  msg?: string;
  /** 'stdout' or 'stderr'. */
  stream: string;
  /** When the test process read it. */
  atMs: number;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port nobody listens on right now (the OS picks it; a race with other programs is possible but rare). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A child process whose output is kept line by line, for assertions and for waiting on a log line. */
export class ChildRun {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    live.add(child);
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) this.push(stream, text);
      });
      child[stream]!.on('end', () => {
        if (rest !== '') this.push(stream, rest);
        rest = '';
      });
    }
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        // 'exit' may come before the last output; 'close' comes after it, but not when a grandchild holds the pipes.
        setTimeout(() => {
          this.wake();
          resolve({ code, signal });
        }, 50);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private push(stream: string, text: string): void {
    if (text.trim() === '') return;
    let line: LogLine;
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      line = typeof parsed === 'object' && parsed !== null ? { ...parsed, stream, atMs: Date.now() } : { msg: text, stream, atMs: Date.now() };
    } catch {
      line = { msg: text, stream, atMs: Date.now() };
    }
    this.lines.push(line);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Everything the process wrote, stdout and stderr, as raw-ish text (one JSON line per log line). */
  output(): string {
    return this.lines.map(({ stream: _s, atMs: _a, ...rest }) => JSON.stringify(rest)).join('\n');
  }

  /** Messages (pino `msg`) in order. */
  messages(): string[] {
    return this.lines.map((l) => String(l.msg ?? ''));
  }

  /**
   * Resolves with the first line (from `from` on) that `match` accepts; rejects when the process
   * exits first or `ms` passes, with the output so far in the message.
   */
  waitForLine(match: RegExp | ((line: LogLine) => boolean), ms = 15_000, from = 0): Promise<LogLine> {
    const test = typeof match === 'function' ? match : (l: LogLine) => match.test(String(l.msg ?? ''));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const check = (): void => {
        const found = this.lines.slice(from).find(test);
        if (found) {
          done();
          resolve(found);
        } else if (this.exit !== null) {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before logging ${String(match)}; output:\n${this.output()}`));
        }
      };
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} did not log ${String(match)} within ${ms} ms; output:\n${this.output()}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  /** kill -9, and wait until it is gone. */
  async kill9(): Promise<Exit> {
    if (this.exit === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (a clean stop); SIGKILL when it has not exited after `graceMs`. */
  async stop(graceMs = 15_000): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** The environment of a child: PATH and what the test gives, nothing else inherited (no stray REDIS_URL or LOG_LEVEL). */
export function childEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir() };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  return env;
}

/** `node bin/stockwatch.js ARGS` with exactly `env`. */
export function stockwatch(args: string[], env: NodeJS.ProcessEnv, name = `stockwatch ${args.join(' ')}`): ChildRun {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'stockwatch.js'))) {
    throw new Error('dist/stockwatch.js is missing: run `npm run build` first (`npm test` does)');
  }
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new ChildRun(name, child);
}

/** Kills (-9) every child still running; for afterEach/afterAll. */
export async function killAll(): Promise<void> {
  const children = [...live];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}

/**
 * A redis-server of the test's own, on its own port, configured as the README recommends (AOF with
 * `appendfsync everysec`, noeviction) in a temp dir. `stop()` (a clean shutdown, as `docker stop`
 * does) and `start()` again keep the port and the data.
 */
export class RedisServer {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-redis-'));
  private run: ChildRun | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.run !== null && this.run.exit === null;
  }

  async start(): Promise<void> {
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--maxmemory-policy', 'noeviction', '--protected-mode', 'no', '--loglevel', 'warning',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.run = new ChildRun(`redis-server :${this.port}`, child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new IORedis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet (or still loading the AOF)
      } finally {
        probe.disconnect();
      }
      if (this.run.exit !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}:\n${this.run.output()}`);
      await sleep(50);
    }
  }

  /** Stops the server: SIGTERM (clean shutdown) by default, or kill -9. */
  async stop(opts: { hard?: boolean } = {}): Promise<void> {
    if (this.run === null) return;
    if (opts.hard) await this.run.kill9();
    else await this.run.stop(10_000);
    this.run = null;
  }

  async destroy(): Promise<void> {
    await this.stop({ hard: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
