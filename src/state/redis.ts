// The one place that makes Redis connections from the configuration (SPEC section 2): one server
// (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES) or a Sentinel-managed master (REDIS_SENTINELS),
// each with the options its purpose needs. Nothing here logs; descriptions never hold a password.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config, HostPort } from '../config';

/** A connection to whatever topology the config names; both kinds run the same commands. */
export type RedisConnection = Redis | Cluster;

/**
 * - `queue`: BullMQ queues and workers. Commands wait for Redis to come back (BullMQ requires
 *   `maxRetriesPerRequest: null`; its blocking calls must not be cut short by a retry limit).
 * - `state`: the state store, locks, health and the status page. Fails fast (no offline queue, one
 *   retry), so a poll or a health check reports a dead Redis instead of hanging on it. Opened by
 *   the caller (`lazyConnect`), so that start-up can tell "unreachable" apart.
 * - `admin`: short-lived tools (the demo's cleanup): connects at once, commands wait for the
 *   connection but are not retried.
 */
export type RedisPurpose = 'queue' | 'state' | 'admin';

export type RedisSettings = Pick<Config, 'redis' | 'redisUrl' | 'redisUsername' | 'redisPassword'>;

const CONNECT_TIMEOUT_MS = 5000;

export function createRedis(settings: RedisSettings, purpose: RedisPurpose): RedisConnection {
  const fast = purpose !== 'queue';
  const offlineQueue = purpose !== 'state';
  const perConnection: RedisOptions = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: fast ? 1 : null,
    lazyConnect: purpose === 'state',
    // ioredis keeps a closed connection's process alive this long after a refused connect (default 2 s).
    disconnectTimeout: 500,
  };
  const credentials: RedisOptions = {
    ...(settings.redisUsername !== null ? { username: settings.redisUsername } : {}),
    ...(settings.redisPassword !== null ? { password: settings.redisPassword } : {}),
  };
  const topology = settings.redis;
  switch (topology.kind) {
    case 'server':
      return new Redis(settings.redisUrl, { ...perConnection, enableOfflineQueue: offlineQueue });
    case 'cluster': {
      const options: ClusterOptions = {
        redisOptions: { ...clusterNodeOptions(perConnection), ...credentials },
        enableOfflineQueue: offlineQueue,
        lazyConnect: purpose === 'state',
        // After a master dies its replica takes the slots over (cluster-node-timeout plus an
        // election): commands to that slot are retried meanwhile, and the slot map is asked for
        // again often enough that a failover or a resharding is seen within seconds.
        retryDelayOnFailover: 300,
        retryDelayOnClusterDown: 300,
        retryDelayOnTryAgain: 300,
        maxRedirections: 16,
        slotsRefreshTimeout: 2000,
        slotsRefreshInterval: 1000,
        clusterRetryStrategy: (times) => Math.min(200 * times, 2000),
      };
      return new Cluster(topology.nodes.map(nodeOf), options);
    }
    case 'sentinel':
      return new Redis({
        ...perConnection,
        ...credentials,
        enableOfflineQueue: offlineQueue,
        sentinels: topology.sentinels.map(nodeOf),
        name: topology.masterName,
        role: 'master',
        // Listen to the sentinels' +switch-master and reconnect at once, rather than only when the
        // old master's socket fails: a master that hangs instead of dying would otherwise keep
        // BullMQ's blocking connection waiting (bullmq#3088).
        failoverDetector: true,
        sentinelRetryStrategy: (times) => Math.min(200 * times, 2000),
        retryStrategy: (times) => Math.min(100 * times, 2000),
        // A demoted master answers writes with READONLY: reconnect (through the sentinels, to the
        // new master) and resend the command.
        reconnectOnError: (err) => (/^READONLY\b/.test(err.message) ? 2 : false),
      });
  }
}

/** The per-node options of a Cluster: ioredis connects to each node when it first needs it (lazyConnect is its own). */
function clusterNodeOptions(options: RedisOptions): RedisOptions {
  const { lazyConnect: _lazy, ...rest } = options;
  return rest;
}

function nodeOf(n: HostPort): { host: string; port: number } {
  return { host: n.host, port: n.port };
}

/** What the config connects to, for log lines and error messages: never a password. */
export function describeRedis(settings: RedisSettings): string {
  const list = (nodes: HostPort[]): string => nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(', ');
  const topology = settings.redis;
  switch (topology.kind) {
    case 'server':
      return `Redis at ${redisAddress(settings.redisUrl)}`;
    case 'cluster':
      return `Redis Cluster (seed nodes ${list(topology.nodes)})`;
    case 'sentinel':
      return `Redis master "${topology.masterName}" (sentinels ${list(topology.sentinels)})`;
  }
}

/** host:port[/db] of a Redis URL, never its password. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/**
 * Opens a `state` connection (made with `lazyConnect`) and waits until it answers, at most
 * `timeoutMs`: a Cluster whose seed nodes all refuse rejects at once, but ioredis keeps asking
 * unreachable sentinels forever, so start-up needs its own limit.
 */
export async function openConnection(conn: RedisConnection, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      conn.connect().then(() => conn.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every key matching `pattern`, from every master (a Cluster's keys are spread over its masters). */
export async function scanKeys(conn: RedisConnection, pattern: string): Promise<string[]> {
  if (conn instanceof Cluster && conn.status !== 'ready') {
    // The masters are known once the slot map is.
    await new Promise<void>((resolve, reject) => {
      conn.once('ready', () => resolve());
      conn.once('end', () => reject(new Error('the cluster connection closed before it was ready')));
    });
  }
  const nodes = conn instanceof Cluster ? conn.nodes('master') : [conn];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * The Redis server's clock, in ms, read on the node that holds `key` (on a Cluster, the slot's
 * master: the same node for every daemon of a deployment). Daemons that take their "now" from here
 * agree on it however far apart their own clocks are.
 */
export async function redisClockMs(conn: RedisConnection, key: string): Promise<number> {
  const [seconds, micros] = (await conn.eval("return redis.call('TIME')", 1, key)) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
