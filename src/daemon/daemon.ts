// The daemon: wires config, rules, state, queues, workers and HTTP together, and takes them apart
// again on shutdown. `stockwatch run` starts it with the poll scheduler; `poll --once` without.
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker, type Job } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';
import type { Config } from '../config';
import { oneLine, ProblemList, UserError } from '../errors';
import type { Logger } from '../log';
import { formatRuleError } from '../rules';
import { fetchOverview } from '../source/client';
import { StateStore, type OutboxEntry } from '../state/store';
import { deliveryJobOptions, deliveryProcessor, realTransports, retryDelayMs, type Transports } from '../delivery/worker';
import { DIGEST_QUEUE, Digests } from '../digest/digest';
import { closeHttp, json, startHttp, type Route } from '../web/http';
import type { Metrics } from '../web/metrics';
import { ChannelOrder } from '../delivery/channel-order';
import { runPoll, type PollReport } from '../poll/poll';
import { DELIVERY_QUEUES } from '../delivery/route';
import { RulesHolder } from './rules-holder';
import { statusRoutes } from '../web/status';

export const POLL_QUEUE = 'poll';
const POLL_SCHEDULER_ID = 'poll';
/** How long shutdown waits for the job in hand before it stops anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How often the rule files are checked for changes (a poll also checks before it starts). */
const RULES_CHECK_MS = 2_000;
/** How often the outbox is swept for notices a crashed poll committed but did not queue. */
const OUTBOX_SWEEP_MS = 15_000;

export interface DaemonOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** true for `run`: keep the poll scheduler and a poll worker. false for `poll --once`. */
  schedule: boolean;
  /** Default: Slack webhooks and SMTP. The demo prints instead. */
  transports?: Transports;
  /** Where HTTP binds (HTTP_PORT gives the port). Default 0.0.0.0. */
  httpHost?: string;
  /** false: keep no Prometheus metrics (`poll --once`: the process exits before anyone could read them). Default true. */
  metrics?: boolean;
}

export class Daemon {
  private metricsLoaded: Metrics | null = null;
  /** The Prometheus metrics; prom-client loads on first use (`poll --once` never uses it). */
  get metrics(): Metrics {
    return (this.metricsLoaded ??= new (require('../web/metrics') as typeof import('../web/metrics')).Metrics());
  }
  /** The metrics to record into, null when the options say nobody will read them. */
  private get recording(): Metrics | null {
    return this.opts.metrics === false ? null : this.metrics;
  }
  readonly rules: RulesHolder;
  readonly store: StateStore;
  private readonly queueConn: Redis;
  private readonly fastConn: Redis;
  readonly queues: Record<string, Queue>;
  private readonly workers: Worker[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly transports: Transports;
  private server: http.Server | null = null;
  private digests: Digests | null = null;
  private stopping: Promise<void> | null = null;
  private redisDownSince: number | null = null;
  private lastRedisError: string | null = null;
  /** Routes other modules add to the HTTP server (the status page). */
  readonly routes: Record<string, Route> = {};

  private constructor(
    private readonly opts: DaemonOptions,
    rules: RulesHolder,
  ) {
    const { config, log } = opts;
    this.rules = rules;
    // BullMQ needs maxRetriesPerRequest: null (its blocking calls wait for Redis to come back).
    this.queueConn = new IORedis(config.redisUrl, { maxRetriesPerRequest: null });
    // State, health and pacing fail fast instead, so a poll or a health check never hangs on a dead Redis.
    this.fastConn = new IORedis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, lazyConnect: true });
    for (const conn of [this.queueConn, this.fastConn]) conn.on('error', (err) => this.redisError(err));
    this.fastConn.on('ready', () => this.redisBack());
    this.store = new StateStore(this.fastConn, config.prefix);
    const queueOpts = { connection: this.queueConn, prefix: config.prefix };
    this.queues = {
      [POLL_QUEUE]: new Queue(POLL_QUEUE, queueOpts),
      [DELIVERY_QUEUES.slack]: new Queue(DELIVERY_QUEUES.slack, queueOpts),
      [DELIVERY_QUEUES.email]: new Queue(DELIVERY_QUEUES.email, queueOpts),
      [DIGEST_QUEUE]: new Queue(DIGEST_QUEUE, queueOpts),
    };
    for (const q of Object.values(this.queues)) q.on('error', (err) => this.redisError(err));
    this.transports = opts.transports ?? realTransports(config.smtpUrl, config.emailFrom);
  }

  /** Loads the rules (refusing to start on errors) and starts everything. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config, log } = opts;
    const rules = RulesHolder.open(config.rulesDir, opts.env, log);
    if (Array.isArray(rules)) {
      throw new ProblemList(`the rule files do not pass check (${rules.length} problem${rules.length === 1 ? '' : 's'}):`, rules.map(formatRuleError));
    }
    const emailChannels = Object.values(rules.current.ruleSet.channels).filter((c) => c.kind === 'email');
    if (!opts.transports && config.smtpUrl === null && emailChannels.length > 0) {
      throw new UserError(`SMTP_URL is not set, but the rules have email channels (${emailChannels.map((c) => c.name).join(', ')}): set SMTP_URL or remove them`);
    }
    const daemon = new Daemon(opts, rules);
    try {
      await daemon.connect();
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  private async connect(): Promise<void> {
    const { config, log, schedule } = this.opts;
    try {
      // BullMQ connects the queue connection itself; the fast one is ours to open.
      await this.fastConn.connect();
      await Promise.all(Object.values(this.queues).map((q) => q.waitUntilReady()));
    } catch (err) {
      throw new UserError(`cannot reach Redis at ${redisAddress(config.redisUrl)}: ${this.lastRedisError ?? oneLine(err)}`);
    }
    const rs = this.rules.current.ruleSet;
    log.info(
      { rules: rs.rules.length, channels: Object.keys(rs.channels).length, silences: rs.silences.length, prefix: config.prefix, pollEveryMs: config.pollEveryMs },
      'stockwatch starting',
    );

    const workerOpts = {
      connection: this.queueConn,
      prefix: config.prefix,
      settings: { backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => retryDelayMs(attemptsMade, err) },
      // A job whose daemon died is taken over once its lock lapses. A notice may go through that
      // many times (each kill is a stall: daemons in a crash loop, a host that keeps dying) and must
      // still be delivered; only a job that kills every daemon that takes it should give up.
      lockDuration: config.jobLockMs,
      stalledInterval: config.jobLockMs,
      maxStalledCount: 50,
    };
    const order = new ChannelOrder(this.fastConn, this.store, (id) => this.jobState(id));
    const deliveryDeps = { rules: () => this.rules.current.ruleSet, store: this.store, order, transports: this.transports, redis: this.fastConn, prefix: config.prefix, log };
    for (const kind of ['slack', 'email'] as const) {
      const worker = new Worker(DELIVERY_QUEUES[kind], deliveryProcessor(kind, deliveryDeps), { ...workerOpts, concurrency: kind === 'email' ? 4 : 2 });
      this.watchWorker(worker, kind);
    }

    if (schedule) {
      const worker = new Worker(POLL_QUEUE, () => this.pollNow(), { ...workerOpts, concurrency: 1 });
      worker.on('failed', (_job, err) => log.error(`poll job failed: ${oneLine(err)}`));
      worker.on('error', (err) => this.redisError(err));
      this.workers.push(worker);
      // One scheduler however many daemons upsert it (one atomic script): one poll per interval.
      await this.queues[POLL_QUEUE].upsertJobScheduler(
        POLL_SCHEDULER_ID,
        { every: config.pollEveryMs },
        { name: 'poll', opts: { attempts: 1, removeOnComplete: 50, removeOnFail: 50 } },
      );
      this.every(RULES_CHECK_MS, () => this.rules.refresh());
      this.every(OUTBOX_SWEEP_MS, () => this.flushOutbox().then(() => undefined));
      // Digest schedulers follow the email channels with `digest`: at start, and on every rules change.
      this.digests = new Digests({
        queue: this.queues[DIGEST_QUEUE],
        emailQueue: this.queues[DELIVERY_QUEUES.email],
        workerConnection: this.queueConn,
        redis: this.fastConn,
        store: this.store,
        rules: () => this.rules.current,
        prefix: config.prefix,
        log,
        onRedisError: (err) => this.redisError(err),
      });
      this.workers.push(await this.digests.start());
      this.rules.onChange = () => void this.digests?.sync();
    }
    // A crash may have left committed notices unqueued.
    await this.flushOutbox();

    this.routes['/healthz'] = () => this.health();
    Object.assign(this.routes, statusRoutes(this));
    this.routes['/metrics'] = async () => {
      await this.collectQueueDepths();
      return { status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
    };
    if (config.httpPort !== 0 && schedule) {
      this.server = await startHttp(config.httpPort, this.opts.httpHost ?? '0.0.0.0', this.routes, log);
    }
  }

  get httpPort(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }

  /** One poll, now. The poll worker calls this on every tick; `poll --once` calls it directly. */
  async pollNow(): Promise<PollReport> {
    const { config, log } = this.opts;
    if (this.fastConn.status !== 'ready') {
      // Just after an outage BullMQ's connection may be back before ours: say so plainly.
      throw new Error(`Redis at ${redisAddress(config.redisUrl)} is not answering yet; poll skipped`);
    }
    this.rules.refresh();
    const end = this.recording?.pollDuration.startTimer();
    const report = await runPoll(
      {
        store: this.store,
        rules: () => this.rules.current,
        flushOutbox: () => this.flushOutbox(),
        log,
        fetchOverview: () =>
          fetchOverview({ apiUrl: config.apiUrl, token: config.apiToken, organizationId: config.organizationId, timeoutMs: config.apiTimeoutMs }),
      },
      Date.now(),
    );
    end?.();
    const metrics = this.recording;
    metrics?.polls.inc({ outcome: report.ok ? 'ok' : 'failed' });
    if (metrics && report.ok && report.committed) {
      metrics.items.set(report.items);
      metrics.malformed.set(report.malformed);
      metrics.setFiring(report.firingByRule);
    }
    return report;
  }

  /** Moves committed notices from the outbox to their queues; the job id makes a second move a no-op. */
  async flushOutbox(): Promise<string[]> {
    let entries: OutboxEntry[];
    try {
      entries = await this.store.pendingOutbox();
    } catch (err) {
      this.redisError(err as Error);
      return [];
    }
    if (entries.length === 0) return [];
    const byQueue = new Map<string, OutboxEntry[]>();
    for (const e of entries) {
      const list = byQueue.get(e.queue) ?? [];
      list.push(e);
      byQueue.set(e.queue, list);
    }
    for (const [name, list] of byQueue) {
      const queue = this.queues[name];
      await queue.addBulk(list.map((e) => ({ name: (e.data as { notice: { type: string } }).notice.type, data: e.data, opts: { ...deliveryJobOptions, jobId: e.id } })));
    }
    await this.store.removeFromOutbox(entries.map((e) => e.id));
    return entries.map((e) => e.id);
  }

  /**
   * Waits until each job has been delivered or given up, or `timeoutMs` passed; returns the ids
   * still pending (they stay queued, for a daemon to deliver).
   */
  async waitForDelivery(jobIds: string[], timeoutMs: number): Promise<{ delivered: string[]; failed: string[]; pending: string[] }> {
    const deadline = Date.now() + timeoutMs;
    const result = { delivered: [] as string[], failed: [] as string[], pending: [...jobIds] };
    while (result.pending.length > 0 && Date.now() < deadline) {
      const still: string[] = [];
      for (const id of result.pending) {
        const state = await this.jobState(id);
        if (state === 'completed') result.delivered.push(id);
        else if (state === 'failed') result.failed.push(id);
        else still.push(id);
      }
      result.pending = still;
      if (still.length > 0) await sleep(20);
    }
    return result;
  }

  private async jobState(id: string): Promise<string> {
    for (const name of Object.values(DELIVERY_QUEUES)) {
      const state = await this.queues[name].getJobState(id);
      if (state !== 'unknown') return state;
    }
    return 'unknown';
  }

  async health(): Promise<{ status: number; contentType: string; body: string }> {
    let redis: string;
    try {
      await withTimeout(this.fastConn.ping(), 1000);
      redis = 'ok';
    } catch (err) {
      redis = `not answering: ${oneLine(err)}`;
    }
    let lastPoll: Record<string, unknown> = { state: 'unknown (Redis not answering)' };
    let pollOk = true;
    if (redis === 'ok') {
      const meta = await this.store.loadMeta();
      pollOk = meta.lastPollOk !== false;
      lastPoll = {
        state: meta.lastPollOk === null ? 'no poll yet' : meta.lastPollOk ? 'ok' : 'failed',
        at: meta.lastPollAtMs === null ? null : new Date(meta.lastPollAtMs).toISOString(),
        error: meta.lastPollError,
        failedInARow: meta.failStreak,
        lastSuccessAt: meta.lastSuccessAtMs === null ? null : new Date(meta.lastSuccessAtMs).toISOString(),
      };
    }
    const ok = redis === 'ok' && pollOk;
    const reasons = [redis !== 'ok' ? `Redis ${redis}` : null, !pollOk ? `last poll failed: ${lastPoll.error}` : null].filter(Boolean);
    return json(ok ? 200 : 503, {
      status: ok ? 'ok' : 'unhealthy',
      reasons,
      redis,
      lastPoll,
      rules: { loadedAt: new Date(this.rules.loadedAtMs).toISOString(), refusedChange: this.rules.refused },
    });
  }

  private async collectQueueDepths(): Promise<void> {
    try {
      for (const [name, queue] of Object.entries(this.queues)) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ queue: name, state }, n);
      }
    } catch (err) {
      this.redisError(err as Error);
    }
  }

  private watchWorker(worker: Worker, channelType: string): void {
    const { log } = this.opts;
    worker.on('completed', (job: Job) => {
      this.recording?.notice(channelType, 'sent');
      log.info({ job: job.id, channel: job.data.channel, attempts: job.attemptsMade }, `${channelType} notice delivered`);
    });
    worker.on('failed', (job: Job | undefined, err: Error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const finalFailure = err.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
      this.recording?.notice(channelType, finalFailure ? 'failed' : 'retried');
      const fields = { job: job.id, channel: job.data.channel, attempt: job.attemptsMade };
      if (finalFailure) log.error(fields, `${channelType} notice failed for good: ${oneLine(err)}`);
      else log.warn(fields, `${channelType} notice not delivered, will retry: ${oneLine(err)}`);
    });
    worker.on('error', (err) => this.redisError(err));
    this.workers.push(worker);
  }

  private every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => {
      try {
        const r = fn();
        if (r instanceof Promise) r.catch((err) => this.opts.log.warn(oneLine(err)));
      } catch (err) {
        this.opts.log.warn(oneLine(err));
      }
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private redisError(err: Error): void {
    this.lastRedisError = oneLine(err);
    // ioredis retries every few hundred ms while Redis is away: one line when it goes, then quiet.
    if (this.redisDownSince === null) {
      this.redisDownSince = Date.now();
      this.opts.log.error(`Redis error (will keep retrying): ${oneLine(err)}`);
    }
  }

  private redisBack(): void {
    if (this.redisDownSince !== null) {
      this.opts.log.info({ downForMs: Date.now() - this.redisDownSince }, 'Redis answers again');
      this.redisDownSince = null;
    }
  }

  /** Stops taking work, lets the job in hand finish (at most ~10 s), closes everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.digests?.close();
    if (this.server) await closeHttp(this.server);
    await Promise.all(
      this.workers.map(async (w) => {
        const closed = await withTimeout(w.close(), SHUTDOWN_GRACE_MS).then(() => true, () => false);
        if (!closed) {
          this.opts.log.warn('a job did not finish within the shutdown grace period; it will be retried');
          await w.close(true).catch(() => undefined);
        }
      }),
    );
    await Promise.all(Object.values(this.queues).map((q) => q.close().catch(() => undefined)));
    await this.transports.close().catch(() => undefined);
    for (const conn of [this.queueConn, this.fastConn]) conn.disconnect();
  }
}

/** host:port of a Redis URL, never its password. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
