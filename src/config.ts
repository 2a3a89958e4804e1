// The environment, read and validated once (SPEC section 2). Every problem is reported at once,
// each as one line naming the variable; values of secrets are never echoed.
import { isIP } from 'node:net';
import { MAX_TIMER_MS, parseDuration } from './duration';
import { UserError } from './errors';
import { parseSmtpUrl } from './notify/email/send';
import { checkSourceConfig } from './source/client';

export interface HostPort {
  host: string;
  port: number;
}

/** Which Redis every connection goes through (SPEC section 2): one server, a Cluster, or Sentinel-managed. */
export type RedisTopology =
  /** REDIS_URL (`Config.redisUrl`). */
  | { kind: 'server' }
  | { kind: 'cluster'; nodes: HostPort[] }
  | { kind: 'sentinel'; sentinels: HostPort[]; masterName: string };

export interface HttpCredentials {
  user: string;
  password: string;
}

export interface Config {
  apiUrl: string;
  apiToken: string;
  organizationId: string;
  apiTimeoutMs: number;
  /** REDIS_URL; used only when `redis.kind` is 'server'. */
  redisUrl: string;
  redis: RedisTopology;
  /** REDIS_USERNAME / REDIS_PASSWORD: for cluster nodes and the sentinel-managed master (REDIS_URL carries its own). */
  redisUsername: string | null;
  redisPassword: string | null;
  prefix: string;
  rulesDir: string;
  pollEveryMs: number;
  httpPort: number;
  httpHost: string;
  /** HTTP_AUTH: Basic credentials for every path but /healthz; null leaves HTTP open. */
  httpAuth: HttpCredentials | null;
  logLevel: string;
  smtpUrl: string | null;
  emailFrom: string;
  /** SNAPSHOT_DIR: where `run` saves every good overview; null: not saved. */
  snapshotDir: string | null;
  /** SNAPSHOT_KEEP: snapshots older than this are deleted. */
  snapshotKeepMs: number;
  /** How long a job (a poll, a delivery) stays locked to a daemon that stopped answering. */
  jobLockMs: number;
}

/** Every variable stockwatch reads, with its default; the README, .env.example and docker-compose follow this list. */
export const ENV_VARS = {
  S2_API_URL: { default: null, secret: false },
  S2_API_TOKEN: { default: null, secret: true },
  S2_ORGANIZATION_ID: { default: null, secret: false },
  S2_API_TIMEOUT: { default: '30s', secret: false },
  REDIS_URL: { default: 'redis://127.0.0.1:6379', secret: true },
  REDIS_CLUSTER_NODES: { default: null, secret: false },
  REDIS_SENTINELS: { default: null, secret: false },
  REDIS_SENTINEL_MASTER: { default: 'mymaster', secret: false },
  REDIS_USERNAME: { default: null, secret: false },
  REDIS_PASSWORD: { default: null, secret: true },
  STOCKWATCH_PREFIX: { default: 'stockwatch', secret: false },
  RULES_DIR: { default: './rules', secret: false },
  POLL_EVERY: { default: '5m', secret: false },
  HTTP_PORT: { default: '9464', secret: false },
  HTTP_HOST: { default: '127.0.0.1', secret: false },
  HTTP_AUTH: { default: null, secret: true },
  LOG_LEVEL: { default: 'info', secret: false },
  SMTP_URL: { default: null, secret: true },
  EMAIL_FROM: { default: 'stockwatch@localhost', secret: false },
  SNAPSHOT_DIR: { default: null, secret: false },
  SNAPSHOT_KEEP: { default: '7d', secret: false },
  STOCKWATCH_JOB_LOCK: { default: '30s', secret: false },
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoadConfigOptions {
  /** `run` and `poll` need the S2 source; other commands do not. */
  needSource: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv, opts: LoadConfigOptions): Config {
  const problems: string[] = [];
  const get = (name: keyof typeof ENV_VARS): string => {
    const v = env[name];
    return v !== undefined && v.trim() !== '' ? v.trim() : (ENV_VARS[name].default ?? '');
  };
  const required = (name: keyof typeof ENV_VARS): string => {
    const v = get(name);
    if (opts.needSource && v === '') problems.push(`${name} is not set`);
    return v;
  };
  const duration = (name: keyof typeof ENV_VARS): number => {
    const v = get(name);
    const ms = parseDuration(v);
    if (ms === null) problems.push(`${name}: "${v}" is not a duration (like 90s, 5m, 1h30m)`);
    return ms ?? 0;
  };

  const apiUrl = required('S2_API_URL');
  const apiToken = required('S2_API_TOKEN');
  const organizationId = required('S2_ORGANIZATION_ID');
  const apiTimeoutMs = duration('S2_API_TIMEOUT');
  if (apiUrl !== '') {
    const problem = httpUrlProblem(apiUrl);
    if (problem) problems.push(`S2_API_URL: ${problem}`);
    // Everything a request needs, checked now rather than at every poll (where a failure would
    // count towards "source unreachable" and notify the ops channels of a typo).
    else if (opts.needSource && apiToken !== '' && organizationId !== '') {
      const source = checkSourceConfig({ apiUrl, token: apiToken, organizationId, timeoutMs: apiTimeoutMs || 1 });
      if (source !== null) problems.push(source);
    }
  }
  const pollEveryMs = duration('POLL_EVERY');
  const jobLockMs = duration('STOCKWATCH_JOB_LOCK');
  // BullMQ renews a job's lock on a timer at half its length; Node's timers stop at 2^31 ms.
  if (jobLockMs > MAX_TIMER_MS) problems.push(`STOCKWATCH_JOB_LOCK: "${get('STOCKWATCH_JOB_LOCK')}" is longer than 24d, the longest a lock can be held`);

  const redisUrl = get('REDIS_URL');
  const clusterText = get('REDIS_CLUSTER_NODES');
  const sentinelText = get('REDIS_SENTINELS');
  const masterName = get('REDIS_SENTINEL_MASTER');
  let redis: RedisTopology = { kind: 'server' };
  if (clusterText !== '' && sentinelText !== '') {
    problems.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: a deployment uses one topology, unset one of them');
  } else if (clusterText !== '') {
    const nodes = hostPortList('REDIS_CLUSTER_NODES', clusterText, problems);
    if (nodes) redis = { kind: 'cluster', nodes };
  } else if (sentinelText !== '') {
    const sentinels = hostPortList('REDIS_SENTINELS', sentinelText, problems);
    if (!/^[A-Za-z0-9_.-]+$/.test(masterName)) problems.push(`REDIS_SENTINEL_MASTER: "${masterName}" is not a master name (letters, digits, '.', '_', '-')`);
    if (sentinels) redis = { kind: 'sentinel', sentinels, masterName };
  } else if (!/^rediss?:\/\/[^\s]*$/i.test(redisUrl) || !parsesAsUrl(redisUrl)) {
    // No echo: the URL may hold a password.
    problems.push('REDIS_URL: not a redis:// or rediss:// URL');
  } else if (redisDatabase(redisUrl) === null) {
    problems.push('REDIS_URL: the database (the path after host:port, or ?db=) must be a whole number, like redis://127.0.0.1:6379/0');
  }
  const redisUsername = get('REDIS_USERNAME');
  const redisPassword = get('REDIS_PASSWORD');
  if (redisUsername !== '' && redisPassword === '') problems.push('REDIS_USERNAME is set but REDIS_PASSWORD is not');

  const prefix = get('STOCKWATCH_PREFIX');
  // BullMQ joins prefix and names with ':'; a ':' or space inside the prefix would blur key boundaries.
  if (!/^[A-Za-z0-9_.{}-]+$/.test(prefix)) problems.push(`STOCKWATCH_PREFIX: "${prefix}" may hold only letters, digits, '.', '_', '-', '{', '}'`);
  else if (redis.kind === 'cluster' && hashTagOf(prefix) === null) {
    problems.push(`STOCKWATCH_PREFIX: "${prefix}" has no hash tag; on Redis Cluster every key of a deployment must land in one slot: use e.g. {${prefix.replace(/[{}]/g, '') || 'stockwatch'}}`);
  }

  const portText = get('HTTP_PORT');
  const httpPort = Number(portText);
  if (!/^\d+$/.test(portText) || httpPort > 65535) problems.push(`HTTP_PORT: "${portText}" is not a port number (0 turns HTTP off)`);
  const httpHost = get('HTTP_HOST');
  if (!isHost(httpHost)) problems.push(`HTTP_HOST: "${httpHost}" is not an IP address or host name (0.0.0.0 listens on every IPv4 interface)`);
  const authText = get('HTTP_AUTH');
  let httpAuth: HttpCredentials | null = null;
  if (authText !== '') {
    const colon = authText.indexOf(':');
    // No echo of the value: it is the password.
    if (colon <= 0 || colon === authText.length - 1) problems.push('HTTP_AUTH: expected user:password, with a non-empty user name and password');
    else httpAuth = { user: authText.slice(0, colon), password: authText.slice(colon + 1) };
  }

  const logLevel = get('LOG_LEVEL').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);

  const smtp = get('SMTP_URL');
  if (smtp !== '') {
    const problem = parseSmtpUrl(smtp);
    if (problem !== null) problems.push(`SMTP_URL: ${problem}`);
  }

  const snapshotDir = get('SNAPSHOT_DIR');
  const snapshotKeepMs = duration('SNAPSHOT_KEEP');
  if (parseDuration(get('SNAPSHOT_KEEP')) === 0) problems.push('SNAPSHOT_KEEP: must be longer than 0');

  if (problems.length > 0) throw new UserError(`configuration: ${problems.join('; ')}`);
  return {
    apiUrl,
    apiToken,
    organizationId,
    apiTimeoutMs,
    redisUrl,
    redis,
    redisUsername: redisUsername === '' ? null : redisUsername,
    redisPassword: redisPassword === '' ? null : redisPassword,
    prefix,
    rulesDir: get('RULES_DIR'),
    pollEveryMs,
    httpPort,
    httpHost,
    httpAuth,
    logLevel,
    smtpUrl: smtp === '' ? null : smtp,
    emailFrom: get('EMAIL_FROM'),
    snapshotDir: snapshotDir === '' ? null : snapshotDir,
    snapshotKeepMs,
    jobLockMs,
  };
}

/**
 * The database a REDIS_URL selects, read as ioredis reads it (the path, else `?db=`): 0 when it
 * names none, null when what it names is not a whole number (ioredis would send SELECT NaN).
 */
export function redisDatabase(url: string): number | null {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/^\//, '');
  const text = path !== '' ? path : (parsed.searchParams.get('db') ?? '');
  if (text === '') return 0;
  return /^\d{1,6}$/.test(text) ? Number(text) : null;
}

/**
 * The hash tag Redis Cluster hashes a key starting with `prefix` by: the text between the first
 * `{` and the first `}` after it, when not empty (redis.io/docs/reference/cluster-spec, "Hash tags").
 * null when keys under this prefix would hash whole, and so spread over the cluster.
 */
export function hashTagOf(prefix: string): string | null {
  const open = prefix.indexOf('{');
  if (open < 0) return null;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return null;
  return prefix.slice(open + 1, close);
}

function parsesAsUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function httpUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL (expected e.g. https://api.example.com)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme "${url.protocol.replace(/:$/, '')}" is not http or https`;
  if (url.hostname === '') return 'has no host';
  return null;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function isHost(text: string): boolean {
  return isIP(text) !== 0 || HOST_NAME.test(text);
}

/** `host:port,host:port,…` (an IPv6 address in brackets: `[::1]:7000`); null after pushing the problems. */
function hostPortList(name: string, text: string, problems: string[]): HostPort[] | null {
  const out: HostPort[] = [];
  let bad = false;
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(entry);
    const host = m ? (m[1] ?? m[2]) : '';
    const port = m ? Number(m[3]) : 0;
    if (!m || !isHost(host) || port < 1 || port > 65535) {
      problems.push(`${name}: "${entry}" is not host:port (expected e.g. 10.0.0.1:6379,10.0.0.2:6379)`);
      bad = true;
    } else out.push({ host, port });
  }
  return bad ? null : out;
}
