// Real Redis topologies for the tests, started from Debian's redis-server / redis-sentinel on free
// loopback ports in temp dirs: a 6-node Redis Cluster (3 masters, 3 replicas) and a master with a
// replica watched by 3 sentinels. Every process is a ChildRun of support/processes.ts, so a test
// that fails cannot leave one behind (killAll, and process exit, kill them).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { ChildRun, freePort, sleep } from '../support/processes';

/** One line, not a skip: a missing binary must fail the suite where CI forgot to install it. */
export function requireBinaries(...names: string[]): void {
  for (const name of names) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
    } catch {
      throw new Error(`${name} is not installed: .ci/run installs it (apt-get install redis-server redis-sentinel faketime)`);
    }
  }
}

/** A client that fails at once (no retries) against a node that may be dead. */
export function probe(port: number): IORedis {
  const redis = new IORedis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 1000, disconnectTimeout: 100 });
  redis.on('error', () => undefined);
  return redis;
}

export async function ask<T>(port: number, fn: (r: IORedis) => Promise<T>): Promise<T> {
  const r = probe(port);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError = '';
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = String((err as Error).message);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${lastError ? ` (last error: ${lastError})` : ''}`);
    await sleep(50);
  }
}

/** `field:value` lines of INFO, as a map. */
export function infoFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

class RedisNode {
  run: ChildRun | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
    private readonly command = 'redis-server',
  ) {}

  start(): void {
    const child = spawn(this.command, this.args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.run = new ChildRun(`${this.command} :${this.port}`, child);
  }

  get alive(): boolean {
    return this.run !== null && this.run.exit === null;
  }

  async kill9(): Promise<void> {
    await this.run?.kill9();
  }

  async waitUp(): Promise<void> {
    await until(`${this.command} on ${this.port} answers`, 10_000, async () => {
      if (this.run?.exit) throw new Error(`exited: ${this.run.output()}`);
      return (await ask(this.port, (r) => r.ping())) === 'PONG';
    });
  }
}

// repl-diskless-sync-delay 0: a replica's first sync starts at once, not after Redis 7's default 5 s.
const COMMON_ARGS = ['--bind', '127.0.0.1', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', '--repl-diskless-sync-delay', '0'];

function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `swtest-${name}-`));
}

/** 3 masters + 3 replicas; `cluster-node-timeout` 1 s, so a replica takes over a dead master within a few seconds. */
export class RedisClusterUnderTest {
  readonly nodes: RedisNode[] = [];
  private readonly root = tempDir('cluster');

  static async start(): Promise<RedisClusterUnderTest> {
    const c = new RedisClusterUnderTest();
    try {
      await c.boot();
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  private async boot(): Promise<void> {
    for (let i = 0; i < 6; i++) {
      const port = await clusterPort(this.nodes.map((n) => n.port));
      const dir = path.join(this.root, String(port));
      fs.mkdirSync(dir);
      const node = new RedisNode(port, dir, [
        '--port', String(port), ...COMMON_ARGS, '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000',
      ]);
      this.nodes.push(node);
    }
    for (const n of this.nodes) n.start();
    await Promise.all(this.nodes.map((n) => n.waitUp()));
    execFileSync('redis-cli', ['--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { stdio: 'pipe', timeout: 30_000 });
    await until('every node sees cluster_state:ok', 20_000, async () => {
      for (const n of this.nodes) {
        const info = infoFields(await ask(n.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>));
        if (info.cluster_state !== 'ok') return false;
        const replication = infoFields(await ask(n.port, (r) => r.info('replication')));
        // A replica that never finished its first sync cannot take over.
        if (replication.role === 'slave' && replication.master_link_status !== 'up') return false;
        // And every node tells clients the whole map: 3 slot ranges, each with its master and replica.
        const slots = (await ask(n.port, (r) => r.call('CLUSTER', 'SLOTS'))) as unknown[][];
        if (slots.length !== 3 || slots.some((range) => range.length !== 4)) return false;
      }
      return true;
    });
  }

  /** REDIS_CLUSTER_NODES: two seed nodes are enough, ioredis learns the rest. */
  get seeds(): string {
    return this.nodes.slice(0, 2).map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** The live node that is master of the slot of `key` (as seen by any live node), and its replica. */
  async ownerOf(key: string): Promise<{ master: RedisNode; replicas: RedisNode[] }> {
    const live = this.nodes.filter((n) => n.alive);
    const slot = (await ask(live[0].port, (r) => r.call('CLUSTER', 'KEYSLOT', key))) as number;
    const lines = ((await ask(live[0].port, (r) => r.call('CLUSTER', 'NODES'))) as string).trim().split('\n');
    const rows = lines.map((l) => l.split(' '));
    const masterRow = rows.find((r) => r[2].includes('master') && !r[2].includes('fail') && r.slice(8).some((range) => inRange(range, slot)));
    if (!masterRow) throw new Error(`no master owns slot ${slot}:\n${lines.join('\n')}`);
    const portOf = (row: string[]): number => Number(row[1].split('@')[0].split(':')[1]);
    const byPort = (p: number): RedisNode => this.nodes.find((n) => n.port === p)!;
    const replicas = rows.filter((r) => r[3] === masterRow[0]).map((r) => byPort(portOf(r)));
    return { master: byPort(portOf(masterRow)), replicas };
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill9()));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too, below the ephemeral range. */
async function clusterPort(taken: number[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port) || taken.includes(port - 10_000) || taken.includes(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node');
}

function inRange(range: string, slot: number): boolean {
  if (range.startsWith('[')) return false;
  const [a, b] = range.split('-').map(Number);
  return slot >= a && slot <= (b ?? a);
}

/** A master, its replica and 3 sentinels (quorum 2, master down after 1 s) watching it as `mymaster`. */
export class SentinelSetUnderTest {
  readonly masterName = 'mymaster';
  master!: RedisNode;
  replica!: RedisNode;
  readonly sentinels: RedisNode[] = [];
  private readonly root = tempDir('sentinel');

  static async start(): Promise<SentinelSetUnderTest> {
    const s = new SentinelSetUnderTest();
    try {
      await s.boot();
    } catch (err) {
      await s.destroy();
      throw err;
    }
    return s;
  }

  private async boot(): Promise<void> {
    const dataNode = async (name: string, extra: string[]): Promise<RedisNode> => {
      const port = await freePort();
      const dir = path.join(this.root, name);
      fs.mkdirSync(dir);
      return new RedisNode(port, dir, ['--port', String(port), ...COMMON_ARGS, '--dir', dir, ...extra]);
    };
    this.master = await dataNode('master', []);
    this.master.start();
    await this.master.waitUp();
    this.replica = await dataNode('replica', ['--replicaof', '127.0.0.1', String(this.master.port)]);
    this.replica.start();
    await this.replica.waitUp();
    await until('the replica is in sync', 10_000, async () => infoFields(await ask(this.replica.port, (r) => r.info('replication'))).master_link_status === 'up');
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = path.join(this.root, `sentinel-${i}`);
      fs.mkdirSync(dir);
      // A sentinel rewrites its config file as it learns: each needs its own, writable.
      const conf = path.join(dir, 'sentinel.conf');
      fs.writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${this.masterName} 127.0.0.1 ${this.master.port} 2`,
          `sentinel down-after-milliseconds ${this.masterName} 1000`,
          `sentinel failover-timeout ${this.masterName} 5000`,
          `sentinel parallel-syncs ${this.masterName} 1`,
          '',
        ].join('\n'),
      );
      const node = new RedisNode(port, dir, [conf, '--loglevel', 'warning'], 'redis-sentinel');
      this.sentinels.push(node);
      node.start();
    }
    await Promise.all(this.sentinels.map((s) => s.waitUp()));
    // Ready when every sentinel knows the replica and the other two sentinels.
    await until('the sentinels know each other and the replica', 20_000, async () => {
      for (const s of this.sentinels) {
        const m = (await ask(s.port, (r) => r.call('SENTINEL', 'MASTER', this.masterName))) as string[];
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < m.length; i += 2) fields[m[i]] = m[i + 1];
        if (fields['num-slaves'] !== '1' || fields['num-other-sentinels'] !== '2') return false;
      }
      return true;
    });
  }

  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The master's port as the first live sentinel tells it. */
  async currentMasterPort(): Promise<number> {
    const live = this.sentinels.find((s) => s.alive)!;
    const [, port] = (await ask(live.port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName))) as string[];
    return Number(port);
  }

  async destroy(): Promise<void> {
    await Promise.all([this.master, this.replica, ...this.sentinels].filter(Boolean).map((n) => n.kill9()));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Resolves once `replicaPort` has every write `masterPort` had when this was called (so a kill -9 of the master loses nothing). */
export async function replicaCaughtUp(masterPort: number, replicaPort: number, ms = 10_000): Promise<void> {
  await until(`replica ${replicaPort} caught up with ${masterPort}`, ms, async () => {
    const m = Number(infoFields(await ask(masterPort, (r) => r.info('replication'))).master_repl_offset);
    const r = Number(infoFields(await ask(replicaPort, (x) => x.info('replication'))).slave_repl_offset);
    return r >= m;
  });
}

export { until };
