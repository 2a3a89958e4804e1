// The environment, read and validated once (SPEC section 2). Every problem is reported at once,
// each as one line naming the variable; values of secrets are never echoed.
import { parseDuration } from './duration';
import { UserError } from './errors';

export interface Config {
  apiUrl: string;
  apiToken: string;
  organizationId: string;
  apiTimeoutMs: number;
  redisUrl: string;
  prefix: string;
  rulesDir: string;
  pollEveryMs: number;
  httpPort: number;
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
  STOCKWATCH_PREFIX: { default: 'stockwatch', secret: false },
  RULES_DIR: { default: './rules', secret: false },
  POLL_EVERY: { default: '5m', secret: false },
  HTTP_PORT: { default: '9464', secret: false },
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
  if (apiUrl !== '' && !/^https?:\/\/[^/\s]+/i.test(apiUrl)) problems.push('S2_API_URL: not an http(s) URL');
  const apiToken = required('S2_API_TOKEN');
  const organizationId = required('S2_ORGANIZATION_ID');
  const apiTimeoutMs = duration('S2_API_TIMEOUT');
  const pollEveryMs = duration('POLL_EVERY');
  const jobLockMs = duration('STOCKWATCH_JOB_LOCK');

  const redisUrl = get('REDIS_URL');
  if (!/^rediss?:\/\//i.test(redisUrl)) problems.push('REDIS_URL: not a redis:// or rediss:// URL');

  const prefix = get('STOCKWATCH_PREFIX');
  // BullMQ joins prefix and names with ':'; a ':' or space inside the prefix would blur key boundaries.
  if (!/^[A-Za-z0-9_.{}-]+$/.test(prefix)) problems.push(`STOCKWATCH_PREFIX: "${prefix}" may hold only letters, digits, '.', '_', '-', '{', '}'`);

  const portText = get('HTTP_PORT');
  const httpPort = Number(portText);
  if (!/^\d+$/.test(portText) || httpPort > 65535) problems.push(`HTTP_PORT: "${portText}" is not a port number (0 turns HTTP off)`);

  const logLevel = get('LOG_LEVEL').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);

  const smtp = get('SMTP_URL');
  if (smtp !== '' && !/^smtps?:\/\/[^/\s]+/i.test(smtp)) problems.push('SMTP_URL: not an smtp:// or smtps:// URL');

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
    prefix,
    rulesDir: get('RULES_DIR'),
    pollEveryMs,
    httpPort,
    logLevel,
    smtpUrl: smtp === '' ? null : smtp,
    emailFrom: get('EMAIL_FROM'),
    snapshotDir: snapshotDir === '' ? null : snapshotDir,
    snapshotKeepMs,
    jobLockMs,
  };
}
