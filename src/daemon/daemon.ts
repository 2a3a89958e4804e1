// The daemon: wires config, rules, state, queues, workers and HTTP together, and takes them apart
// again on shutdown. `stockwatch run` starts it with the poll scheduler; `poll --once` without.
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker, type Job } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';
import { redisDatabase, type Config } from '../config';
import { oneLine, ProblemList, UserError } from '../errors';
import type { Logger } from '../log';
import { formatRuleError } from '../rules';
import { fetchOverview, redact, type FetchResult } from '../source/client';
import { EvaluationMemo } from '../engine/evaluate';
import { OverviewReader } from '../source/incremental';
import { ensureSnapshotDir, keepSnapshot } from '../source/snapshots';
import { StateStore, type OutboxEntry } from '../state/store';
import { createRedis, describeRedis, openConnection, redisClockMs, type RedisConnection } from '../state/redis';
import { deliveryJobOptions, deliveryProcessor, realTransports, retryDelayMs, type Transports } from '../delivery/worker';
import { DIGEST_QUEUE, Digests } from '../digest/digest';
import { closeHttp, json, startHttp, type Route } from '../web/http';
import type { Metrics } from '../web/metrics';
import { ChannelOrder } from '../delivery/channel-order';
import { QueueJobs } from '../delivery/jobs';
import { runPoll, type PollReport } from '../poll/poll';
import { DELIVERY_QUEUES } from '../delivery/route';
import { CHANNEL_KINDS } from '../notify';
import { RulesHolder } from './rules-holder';
import { statusRoutes } from '../web/status';

export const POLL_QUEUE = 'poll';
const POLL_SCHEDULER_ID = 'poll';
/** How long /metrics waits for the queue depths before it answers with the last ones. */
const QUEUE_DEPTH_TIMEOUT_MS = 2000;
/** How long shutdown waits for the job in hand before it stops anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long a forced close may take before its connection is just cut. */
const FORCED_CLOSE_MS = 3000;
/** How often the rule files are checked for changes (a poll also checks before it starts). */
const RULES_CHECK_MS = 2_000;
/** How often the outbox is swept for notices a crashed poll committed but did not queue. */
const OUTBOX_SWEEP_MS = 15_000;
/** How long start-up waits for Redis (an unreachable Sentinel is otherwise retried forever). */
const REDIS_START_TIMEOUT_MS = 10_000;
/** /healthz turns 503 when no poll has succeeded for this many poll intervals (SPEC section 6). */
export const POLL_LAG_INTERVALS = 3;
/** At most this long between two looks at the last successful poll (any daemon's), for the lag check. */
const POLL_LAG_CHECK_MS = 10_000;

export interface DaemonOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** true for `run`: keep the poll scheduler and a poll worker. false for `poll --once`. */
  schedule: boolean;
  /** Default: each channel kind's own sender (Slack, SMTP, webhook). The demo prints instead. */
  transports?: Transports;
  /** Where HTTP binds (HTTP_PORT gives the port). Default: HTTP_HOST. */
  httpHost?: string;
  /** The poll's clock (default: the Redis server's, see pollNow): tests step it poll by poll. */
  now?: () => number;
  /** false: keep no Prometheus metrics (`poll --once`: the process exits before anyone could read them). Default true. */
  metrics?: boolean;
  /**
   * Parse each overview only where it differs from the previous poll's (OverviewReader). Default:
   * `schedule`. A daemon that polls once gains nothing: its first body is parsed whole anyway.
   */
  incrementalParse?: boolean;
  /** Called between a poll's stages (runPoll's PollDeps.betweenStages). */
  betweenStages?: () => void;
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
  private readonly queueConn: RedisConnection;
  private readonly fastConn: RedisConnection;
  readonly queues: Record<string, Queue>;
  /** What the daemon and its status page read of the queues' jobs. */
  readonly jobs: QueueJobs;
  private readonly workers: Worker[] = [];
  /** The workers restartWorkers may replace, with how to make each again. */
  private readonly restartable: Array<{ make: () => Worker; worker: Worker }> = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly transports: Transports;
  private server: http.Server | null = null;
  private digests: Digests | null = null;
  private digestWorker: Worker | null = null;
  private stopping: Promise<void> | null = null;
  private redisDownSince: number | null = null;
  private lastRedisError: string | null = null;
  /** Kept from poll to poll (incrementalParse): each body is parsed where it differs from the one before. */
  private readonly overviewReader: OverviewReader | undefined;
  /** With the reader: the previous evaluation, whose alerts of Items the reader reused are taken again. */
  private readonly evaluationMemo: EvaluationMemo | undefined;
  /** SNAPSHOT_DIR writes, one after another, off the poll's path; stop() waits for them. */
  private snapshotWrites: Promise<void> = Promise.resolve();
  /** Set once start-up has reached Redis. */
  private connected = false;
  /**
   * The last successful poll (of any daemon) as this daemon saw it: the poll's own time, and this
   * daemon's clock when it first saw it. The lag check uses the latter only, so that daemons whose
   * clocks disagree never judge each other's polls late.
   */
  private lastSuccessSeen: { atMs: number | null; seenAtMs: number } = { atMs: null, seenAtMs: Date.now() };
  /** Called when one of this daemon's delivery workers has finished a job (see waitForDelivery). */
  private readonly settledListeners = new Set<() => void>();
  /** Routes other modules add to the HTTP server (the status page). */
  readonly routes: Record<string, Route> = {};

  private constructor(
    private readonly opts: DaemonOptions,
    rules: RulesHolder,
  ) {
    const { config, log } = opts;
    this.rules = rules;
    this.overviewReader = (opts.incrementalParse ?? opts.schedule) ? new OverviewReader() : undefined;
    this.evaluationMemo = this.overviewReader && new EvaluationMemo();
    // Queues and workers wait for Redis to come back; state, health and pacing fail fast instead,
    // so a poll or a health check never hangs on a dead Redis (see createRedis).
    this.queueConn = createRedis(config, 'queue');
    this.fastConn = createRedis(config, 'state');
    for (const conn of [this.queueConn, this.fastConn]) conn.on('error', (err: Error) => this.redisError(err));
    this.fastConn.on('ready', () => this.redisBack());
    this.store = new StateStore(this.stateRedis, config.prefix);
    const queueOpts = { connection: this.queueConn, prefix: config.prefix };
    this.queues = {
      [POLL_QUEUE]: new Queue(POLL_QUEUE, queueOpts),
      ...Object.fromEntries(Object.values(DELIVERY_QUEUES).map((name) => [name, new Queue(name, queueOpts)])),
      [DIGEST_QUEUE]: new Queue(DIGEST_QUEUE, queueOpts),
    };
    for (const q of Object.values(this.queues)) q.on('error', (err) => this.redisError(err));
    this.jobs = new QueueJobs(this.queues);
    this.transports = opts.transports ?? realTransports({ smtpUrl: config.smtpUrl, emailFrom: config.emailFrom });
  }

  /** Loads the rules (refusing to start on errors) and starts everything. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config, log } = opts;
    let rules: ReturnType<typeof RulesHolder.open>;
    try {
      rules = RulesHolder.open(config.rulesDir, opts.env, log);
    } catch (err) {
      throw err instanceof UserError ? new UserError(`RULES_DIR: ${err.message}`) : err;
    }
    if (Array.isArray(rules)) {
      throw new ProblemList(`the rule files do not pass check (${rules.length} problem${rules.length === 1 ? '' : 's'}):`, rules.map(formatRuleError));
    }
    for (const kind of CHANNEL_KINDS) {
      const missing = opts.transports ? null : (kind.missingSetting?.({ smtpUrl: config.smtpUrl, emailFrom: config.emailFrom }) ?? null);
      const channels = Object.values(rules.current.ruleSet.channels).filter((c) => c.kind === kind.kind);
      if (missing !== null && channels.length > 0) {
        throw new UserError(`${missing} is not set, but the rules have ${kind.kind} channels (${channels.map((c) => c.name).join(', ')}): set ${missing} or remove them`);
      }
    }
    if (config.snapshotDir !== null) ensureSnapshotDir(config.snapshotDir, 'SNAPSHOT_DIR');
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
      await openConnection(this.fastConn, REDIS_START_TIMEOUT_MS);
    } catch (err) {
      throw this.unreachable(err);
    }
    // ioredis carries on in database 0 when its SELECT is refused, logging an error: ask again, and
    // stop, before anything is written to the wrong database.
    const database = config.redis.kind === 'server' ? (redisDatabase(config.redisUrl) ?? 0) : 0;
    if (database !== 0) {
      try {
        await this.stateRedis.select(database);
      } catch (err) {
        throw new UserError(`REDIS_URL: ${describeRedis(config)} refuses database ${database}: ${oneLine(err)}`);
      }
    }
    try {
      await withTimeout(Promise.all(Object.values(this.queues).map((q) => q.waitUntilReady())), REDIS_START_TIMEOUT_MS);
    } catch (err) {
      throw this.unreachable(err);
    }
    this.connected = true;
    await this.followSlotMoves();
    this.lastSuccessSeen = { atMs: (await this.store.loadMeta()).lastSuccessAtMs, seenAtMs: Date.now() };
    const rs = this.rules.current.ruleSet;
    log.info(
      { rules: rs.rules.length, channels: Object.keys(rs.channels).length, silences: rs.silences.length, prefix: config.prefix, pollEveryMs: config.pollEveryMs },
      'stockwatch starting',
    );

    this.routes['/healthz'] = () => this.health();
    Object.assign(this.routes, statusRoutes(this));
    this.routes['/metrics'] = async () => {
      this.recording?.rulesRefused.set(this.rules.refused === null ? 0 : 1);
      await this.collectQueueDepths();
      await this.lookAtLastSuccess().catch((err: Error) => this.redisError(err));
      return { status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
    };
    // Listening comes before any worker: a port that is taken stops start-up before a poll or a
    // delivery has run.
    if (config.httpPort !== 0 && schedule) {
      const host = this.opts.httpHost ?? config.httpHost;
      try {
        this.server = await startHttp({ port: config.httpPort, host, auth: config.httpAuth, routes: this.routes, log });
      } catch (err) {
        throw new UserError(`HTTP_HOST/HTTP_PORT: cannot listen on ${host}:${config.httpPort}: ${oneLine(err)}`);
      }
    }

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
    const order = new ChannelOrder(this.stateRedis, this.store, (id) => this.jobs.state(id));
    const deliveryDeps = { rules: () => this.rules.current.ruleSet, store: this.store, order, transports: this.transports, redis: this.stateRedis, prefix: config.prefix, log };
    for (const kind of CHANNEL_KINDS) {
      this.addWorker(() => {
        const worker = new Worker(kind.queue, deliveryProcessor(kind.kind, deliveryDeps), { ...workerOpts, concurrency: kind.concurrency });
        this.watchWorker(worker, kind.kind);
        return worker;
      });
    }

    if (schedule) {
      this.addWorker(() => {
        const worker = new Worker(POLL_QUEUE, () => this.pollNow(), { ...workerOpts, concurrency: 1 });
        worker.on('failed', (_job, err) => log.error(`poll job failed: ${oneLine(err)}`));
        worker.on('error', (err) => this.redisError(err));
        return worker;
      });
      await this.upsertPollScheduler();
      this.every(RULES_CHECK_MS, () => this.rules.refresh());
      this.every(OUTBOX_SWEEP_MS, () => this.flushOutbox().then(() => undefined));
      this.every(Math.min(config.pollEveryMs, POLL_LAG_CHECK_MS), () =>
        Promise.all([this.lookAtLastSuccess(), this.promoteOverduePoll(), this.restoreSchedulers()]).catch((err: Error) => this.redisError(err)),
      );
      // Digest schedulers follow the email channels with `digest`: at start, and on every rules change.
      await this.startDigests();
      this.rules.onChange = () => void this.digests?.sync();
    }
    // A crash may have left committed notices unqueued.
    await this.flushOutbox();
  }

  /**
   * The state connection as the modules that use it type it. They run only commands that a
   * Cluster connection has too, on keys that share the prefix's hash tag; their parameter types
   * still name the single-server class.
   */
  private get stateRedis(): Redis {
    return this.fastConn as Redis;
  }

  get httpPort(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }

  /** One poll, now. The poll worker calls this on every tick; `poll --once` calls it directly. */
  async pollNow(): Promise<PollReport> {
    const { config, log } = this.opts;
    if (this.fastConn.status !== 'ready') {
      // Just after an outage BullMQ's connection may be back before ours: say so plainly.
      throw new Error(`${describeRedis(config)} is not answering yet; poll skipped`);
    }
    this.rules.refresh();
    // Redis's clock, not this host's: every daemon of a deployment then measures alert times
    // (for, keep_firing_for, repeat_every) on one clock, however far apart theirs are.
    const nowMs = this.opts.now ? this.opts.now() : await redisClockMs(this.fastConn, this.store.keys.meta);
    const end = this.recording?.pollDuration.startTimer();
    const report = await runPoll(
      {
        store: this.store,
        rules: () => this.rules.current,
        flushOutbox: () => this.flushOutbox(),
        log,
        memo: this.evaluationMemo,
        fetchOverview: () => this.fetchForPoll(nowMs),
        redact: (text) => redact(text, this.opts.config.apiToken),
        betweenStages: this.opts.betweenStages,
      },
      nowMs,
    );
    end?.();
    const metrics = this.recording;
    metrics?.polls.inc({ outcome: report.ok ? 'ok' : 'failed' });
    if (metrics && report.ok && report.committed) {
      metrics.items.set(report.items);
      metrics.malformed.set(report.malformed);
      metrics.setFiring(report.firingByRule);
      metrics.pending.set(report.pending);
    }
    if (report.ok) this.sawSuccess(Date.now());
    return report;
  }

  /**
   * Fetches and parses the overview and hands the body to the snapshot, not to the poll: a poll
   * that held on to it would carry its bytes (276 MB at 1M items) into the commit. (An async
   * function of its own: V8 keeps what a suspended one held, and this one is done when it returns.)
   */
  private async fetchForPoll(nowMs: number): Promise<Pick<FetchResult, 'overview' | 'fetchMs' | 'parseMs'>> {
    const { config } = this.opts;
    const source = { apiUrl: config.apiUrl, token: config.apiToken, organizationId: config.organizationId, timeoutMs: config.apiTimeoutMs };
    const { body, overview, fetchMs, parseMs } = await fetchOverview(source, undefined, this.overviewReader);
    this.saveSnapshot(body, nowMs);
    return { overview, fetchMs, parseMs };
  }

  /** SNAPSHOT_DIR: saves a good overview and prunes old ones in the background; a failure is one log line, never a failed poll. */
  private saveSnapshot(body: Buffer, nowMs: number): void {
    const { snapshotDir: dir, snapshotKeepMs } = this.opts.config;
    if (dir === null) return;
    const log = this.opts.log;
    this.snapshotWrites = this.snapshotWrites
      .then(() => keepSnapshot(dir, body, nowMs, snapshotKeepMs))
      .then((problems) => problems.forEach((line) => log.error(line)));
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
  waitForDelivery(jobIds: string[], timeoutMs: number): Promise<{ delivered: string[]; failed: string[]; pending: string[] }> {
    return this.jobs.waitForDelivery(jobIds, timeoutMs, (listener) => {
      this.settledListeners.add(listener);
      return () => this.settledListeners.delete(listener);
    });
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
      this.sawSuccess(meta.lastSuccessAtMs);
      pollOk = meta.lastPollOk !== false;
      lastPoll = {
        state: meta.lastPollOk === null ? 'no poll yet' : meta.lastPollOk ? 'ok' : 'failed',
        at: meta.lastPollAtMs === null ? null : new Date(meta.lastPollAtMs).toISOString(),
        error: meta.lastPollError,
        failedInARow: meta.failStreak,
        lastSuccessAt: meta.lastSuccessAtMs === null ? null : new Date(meta.lastSuccessAtMs).toISOString(),
      };
    }
    const lag = this.pollLag();
    const ok = redis === 'ok' && pollOk && !lag.late;
    const reasons = [
      redis !== 'ok' ? `Redis ${redis}` : null,
      !pollOk ? `last poll failed: ${lastPoll.error}` : null,
      lag.late ? `no poll has succeeded for ${seconds(lag.sinceMs)} (limit: ${POLL_LAG_INTERVALS} poll intervals, ${seconds(lag.limitMs)}): is the scheduler running?` : null,
    ].filter(Boolean);
    return json(ok ? 200 : 503, {
      status: ok ? 'ok' : 'unhealthy',
      reasons,
      redis,
      lastPoll,
      pollLag: { secondsSinceSuccess: Math.round(lag.sinceMs / 1000), limitSeconds: Math.round(lag.limitMs / 1000) },
      rules: { loadedAt: new Date(this.rules.loadedAtMs).toISOString(), refusedChange: this.rules.refused },
    });
  }

  /**
   * How long since this daemon last saw a poll succeed (its own or another daemon's), by its own
   * clock. Right after start it counts from the start: a deployment gets 3 intervals for a first poll.
   */
  private pollLag(): { sinceMs: number; limitMs: number; late: boolean } {
    const limitMs = POLL_LAG_INTERVALS * this.opts.config.pollEveryMs;
    const sinceMs = Math.max(0, Date.now() - this.lastSuccessSeen.seenAtMs);
    return { sinceMs, limitMs, late: this.opts.schedule && sinceMs > limitMs };
  }

  /** Notes a successful poll's time (as written by whichever daemon ran it), once per poll. */
  private sawSuccess(atMs: number | null): void {
    if (atMs === null || atMs === this.lastSuccessSeen.atMs) return;
    this.lastSuccessSeen = { atMs, seenAtMs: Date.now() };
    this.recording?.lastSuccessfulPoll.set(atMs / 1000);
  }

  /**
   * Moves the scheduler's next poll to the waiting list when it is more than an interval overdue.
   * After a failover, BullMQ's workers can sit in a blocking wait that no marker will end, with
   * the delayed poll due but not taken (seen on Redis Cluster): waking them costs one command per
   * check, and no poll is added (a promoted job runs once, like any other).
   */
  private async promoteOverduePoll(): Promise<void> {
    const { pollEveryMs } = this.opts.config;
    for (const job of await this.queues[POLL_QUEUE].getJobs(['delayed'], 0, 5)) {
      const dueMs = job.timestamp + (job.delay ?? 0);
      if (Date.now() - dueMs <= pollEveryMs + 1000) continue;
      try {
        await job.promote();
        this.opts.log.warn({ job: job.id, overdueMs: Date.now() - dueMs }, 'the next poll was overdue and no worker took it: promoted it');
      } catch {
        // Another daemon promoted it first, or a worker just took it.
      }
    }
  }

  private async lookAtLastSuccess(): Promise<void> {
    this.sawSuccess((await this.store.loadMeta()).lastSuccessAtMs);
  }

  private async collectQueueDepths(): Promise<void> {
    try {
      // BullMQ's connection waits for Redis forever: a scrape while Redis is away would hang, and
      // every series (the poll-lag alert's among them) would vanish with it. Keep the last depths.
      for (const [name, counts] of Object.entries(await withTimeout(this.jobs.counts(), QUEUE_DEPTH_TIMEOUT_MS))) {
        for (const [state, n] of Object.entries(counts)) this.recording?.queueDepth.set({ queue: name, state }, n);
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
      this.jobSettled();
    });
    worker.on('failed', (job: Job | undefined, err: Error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const finalFailure = err.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
      this.recording?.notice(channelType, finalFailure ? 'failed' : 'retried');
      const fields = { job: job.id, channel: job.data.channel, attempt: job.attemptsMade };
      if (finalFailure) log.error(fields, `${channelType} notice failed for good: ${oneLine(err)}`);
      else log.warn(fields, `${channelType} notice not delivered, will retry: ${oneLine(err)}`);
      this.jobSettled();
    });
    worker.on('error', (err) => this.redisError(err));
  }

  private jobSettled(): void {
    for (const listener of [...this.settledListeners]) listener();
  }

  /** One scheduler however many daemons upsert it (one atomic script): one poll per interval. */
  private async upsertPollScheduler(): Promise<void> {
    await this.queues[POLL_QUEUE].upsertJobScheduler(
      POLL_SCHEDULER_ID,
      { every: this.opts.config.pollEveryMs },
      { name: 'poll', opts: { attempts: 1, removeOnComplete: 50, removeOnFail: 50 } },
    );
  }

  /**
   * A Redis that came back empty (no persistence, a wiped or failed-over-to-empty server) has lost
   * the schedulers with the state, and nothing would poll again: set them anew, once, and say so.
   * A scheduler lost alone (BullMQ's silent stop) is what /healthz reports as poll lag, for a
   * person to look at; a restart mends it.
   */
  private async restoreSchedulers(): Promise<void> {
    if (await this.queues[POLL_QUEUE].getJobScheduler(POLL_SCHEDULER_ID)) return;
    if (!(await this.store.isEmpty())) return;
    this.opts.log.warn('the poll scheduler is gone from Redis with the alert state (was it emptied?): setting it and the digest schedulers again');
    await this.upsertPollScheduler();
    await this.digests?.sync();
  }

  /** The digest schedulers and their tick worker; again after a slot move (see followSlotMoves). */
  private async startDigests(): Promise<void> {
    const { config, log } = this.opts;
    const digests = new Digests({
      queue: this.queues[DIGEST_QUEUE],
      emailQueue: this.queues[DELIVERY_QUEUES.email],
      // Handed to BullMQ's Worker, which takes a Cluster as well; Digests types it as the single-server class.
      workerConnection: this.queueConn as Redis,
      redis: this.stateRedis,
      store: this.store,
      rules: () => this.rules.current,
      prefix: config.prefix,
      log,
      onRedisError: (err) => this.redisError(err),
    });
    const worker = await digests.start();
    this.digests = digests;
    this.digestWorker = worker;
    this.workers.push(worker);
  }

  /** Starts a worker that `restartWorkers` can replace: `make` builds it with its listeners. */
  private addWorker(make: () => Worker): void {
    const worker = make();
    this.restartable.push({ make, worker });
    this.workers.push(worker);
  }

  /**
   * On Redis Cluster, BullMQ workers can stay blocked on the connection to a master that died,
   * while the slot has moved to its replica: nothing errors, nothing is taken (bullmq#3088 reports
   * the same of Sentinel). When the slot of the deployment's keys moves, this daemon's workers are
   * replaced by new ones, which connect to the new owner; a job in hand stays locked and is
   * finished or taken over as after any stall.
   */
  private async followSlotMoves(): Promise<void> {
    const cluster = this.fastConn;
    if (!(cluster instanceof Cluster)) return;
    const slot = Number(await cluster.cluster('KEYSLOT', this.store.keys.meta));
    let owner = cluster.slots[slot]?.[0] ?? null;
    cluster.on('refresh', () => {
      const now = cluster.slots[slot]?.[0] ?? null;
      if (now === null || now === owner) return;
      const before = owner;
      owner = now;
      if (before === null || this.stopping) return;
      this.opts.log.warn({ slot, from: before, to: now }, 'the Redis Cluster slot of this deployment moved: restarting the workers on the new master');
      this.restartWorkers();
    });
  }

  private restartWorkers(): void {
    const retire = (old: Worker): void => {
      this.workers.splice(this.workers.indexOf(old), 1);
      // Forced: the old worker's blocking call may never return.
      void forceClose(old);
    };
    for (const entry of this.restartable) {
      const old = entry.worker;
      entry.worker = entry.make();
      this.workers.push(entry.worker);
      retire(old);
    }
    const oldDigests = this.digests;
    const oldDigestWorker = this.digestWorker;
    if (oldDigests && oldDigestWorker) {
      void (async () => {
        await oldDigests.close();
        retire(oldDigestWorker);
        if (!this.stopping) await this.startDigests();
      })().catch((err: Error) => this.opts.log.error(`digests not restarted: ${oneLine(err)}`));
    }
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

  /** Why start-up could not use Redis: the connect's own error, or the last connection error when it only timed out or says less. */
  private unreachable(err: unknown): UserError {
    const reason = oneLine(err);
    const last = this.lastRedisError;
    const where = describeRedis(this.opts.config);
    if (last !== null && /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(last)) return new UserError(`${where} refuses the credentials: ${last}`);
    // "no answer within 10 s", ioredis's "Connection is closed.": the connection's own error says why.
    const vague = reason.startsWith('no answer within') || reason === 'Connection is closed.';
    return new UserError(`cannot reach ${where}: ${vague && last !== null ? last : reason}`);
  }

  private redisError(err: Error): void {
    this.lastRedisError = oneLine(err);
    // Before start-up has reached Redis, the error goes into the one line start-up fails with.
    if (!this.connected) return;
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
    // Start-up never reached Redis: nothing is in hand, and closing the queues would wait on connections still retrying.
    if (!this.connected) for (const conn of [this.queueConn, this.fastConn]) conn.disconnect();
    await this.digests?.close();
    if (this.server) await closeHttp(this.server);
    await Promise.all(
      this.workers.map(async (w) => {
        const closed = await withTimeout(w.close(), SHUTDOWN_GRACE_MS).then(() => true, () => false);
        if (!closed) {
          this.opts.log.warn('a job did not finish within the shutdown grace period; it will be retried');
          await forceClose(w);
        }
      }),
    );
    await Promise.all(Object.values(this.queues).map((q) => withTimeout(q.close(), FORCED_CLOSE_MS).catch(() => undefined)));
    await this.transports.close().catch(() => undefined);
    await this.snapshotWrites;
    for (const conn of [this.queueConn, this.fastConn]) conn.disconnect();
  }
}

export { redisAddress } from '../state/redis';

/**
 * Closes a worker without waiting for its job, at most FORCED_CLOSE_MS. (worker.disconnect() is no
 * way out: it also ends the connection the worker shares with the queues.)
 */
async function forceClose(worker: Worker): Promise<void> {
  await withTimeout(worker.close(true), FORCED_CLOSE_MS).catch(() => undefined);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
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
