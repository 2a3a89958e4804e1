// Email digests (SPEC sections 3 and 5). Each email channel with `digest: <cron>` gets a BullMQ Job
// Scheduler on the digest queue; BullMQ computes its ticks with cron-parser in the channel's time
// zone (daylight saving included), and one scheduler serves every daemon on the Redis.
//
// A tick fixes the digest's content and hands it to the email queue, where it is delivered with the
// same retries as immediate mail. The events a poll routes to a digest channel wait in a Redis list
// (written in the poll's own commit). A tick first *claims* them (the list is moved aside, one
// script), builds the notice, adds the delivery job under an id made of channel + tick time, and
// only then drops the claim and records the tick (a second script). A tick run again after a crash
// anywhere in between finds its claim, builds the same digest under the same id (BullMQ adds nothing
// for an id that exists) and loses no event that arrived meanwhile: those are in the list, not the claim.
import { getNextMillis, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AlertRecord } from '../engine/lifecycle';
import { silenceChecker, type CompiledRuleSet } from '../engine/evaluate';
import { oneLine } from '../errors';
import type { Logger } from '../log';
import { alertKey, type EmailChannel, type RuleSet } from '../model';
import type { Notice, NoticeAlert } from '../notify';
import type { StateStore } from '../state/store';
import { deliveryJobOptions } from '../delivery/worker';
import type { DeliveryJobData } from '../delivery/route';

export const DIGEST_QUEUE = 'digest';
const TICK_JOB_NAME = 'digest';

/**
 * A tick that starts later than this after its time is skipped, not sent late: BullMQ keeps the one
 * job of a tick that passed while no daemon ran and runs it as soon as a worker is back.
 */
export const MISSED_TICK_GRACE_MS = 60_000;

/**
 * Whether a tick job is one that passed while no daemon ran (skipped: the next digest covers it).
 * A tick that a daemon started in time is finished however late its re-run comes: a daemon killed
 * while building it holds the channel's lock for a minute, and BullMQ gives the job to another
 * daemon only once its own lock has lapsed, past the grace.
 */
export function isMissedTick(lateMs: number, job: Pick<Job, 'attemptsStarted' | 'attemptsMade'>, graceMs = MISSED_TICK_GRACE_MS): boolean {
  const startedBefore = job.attemptsStarted > 1 || job.attemptsMade > 0;
  return lateMs > graceMs && !startedBefore;
}

/** Two daemons never build one channel's digest at the same time; a crashed holder frees it after this. */
const TICK_LOCK_MS = 60_000;
/** How long a tick waits for another daemon's tick of the same channel before it fails (and is retried). */
const TICK_LOCK_WAIT_MS = 20_000;
/** Schedules are checked this often as well, so that a failed upsert or a lost tick job mends itself. */
const RESYNC_EVERY_MS = 60_000;

/** What a tick job carries. */
export interface DigestTickData {
  channel: string;
}

/** The tick jobs' own options: a tick that failed (Redis away) is tried again soon, within the missed-tick grace. */
const TICK_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 5_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 200 },
};

export type DigestChannel = EmailChannel & { digest: string };

export function digestSchedulerId(channel: string): string {
  return `digest-${channel}`;
}

/** The delivery job (and notice) id of one channel's digest at one tick: a re-run of the tick adds nothing. */
export function digestJobId(channel: string, tickMs: number): string {
  return `d-${channel}-${tickMs}`;
}

/** The email channels that send digests, in name order. */
export function digestChannels(ruleSet: RuleSet): DigestChannel[] {
  return Object.values(ruleSet.channels)
    .filter((c): c is DigestChannel => c.kind === 'email' && c.digest !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The next `count` tick times after `fromMs`, computed the way BullMQ's scheduler computes them. */
export function nextTicks(pattern: string, timezone: string, fromMs: number, count: number): number[] {
  const ticks: number[] = [];
  let from = fromMs;
  while (ticks.length < count) {
    const next = getNextMillis(from, { pattern, tz: timezone });
    if (next === undefined || next <= from) break;
    ticks.push(next);
    from = next;
  }
  return ticks;
}

/** The time a scheduler job was scheduled for (not when it was created or started). */
export function tickTimeOf(job: Pick<Job, 'id' | 'opts' | 'timestamp'>): number {
  if (typeof job.opts.prevMillis === 'number' && job.opts.prevMillis > 0) return job.opts.prevMillis;
  // Scheduler job ids are `repeat:<scheduler id>:<tick millis>`.
  const fromId = Number(String(job.id ?? '').split(':').pop());
  return Number.isInteger(fromId) && fromId > 0 ? fromId : job.timestamp;
}

// ---- content ------------------------------------------------------------------------------------

export type DigestNotice = Extract<Notice, { type: 'digest' }>;

export interface DigestInput {
  channel: EmailChannel;
  compiled: CompiledRuleSet;
  /** Every firing alert as stored (the alerts hash). */
  firing: readonly AlertRecord[];
  /** The events routed to this channel since its last digest, oldest first. */
  events: readonly NoticeAlert[];
  tickMs: number;
  /** When the channel's previous digest was sent; null before its first. */
  sinceMs: number | null;
}

/**
 * The digest of one tick: what fires now for the channel's rules (silenced alerts left out), and
 * what became new or resolved since the last digest. null for a quiet tick (nothing firing, nothing
 * new or resolved) unless the channel has `send_empty`.
 */
export function buildDigest(input: DigestInput): DigestNotice | null {
  const { channel, compiled, tickMs, sinceMs } = input;
  const rules = new Set(compiled.ruleSet.rules.filter((r) => r.channels.includes(channel.name)).map((r) => r.name));
  // The stored flag is the silence as the last poll saw it (with the item's brand); the checker
  // adds silences written since then.
  const silencedNow = silenceChecker(compiled, tickMs);
  const firing: NoticeAlert[] = [];
  for (const r of input.firing) {
    // Pending and inhibited alerts are not notified, in a digest either.
    if (!rules.has(r.alert.rule) || r.alert.status !== 'firing' || r.alert.silenced || r.alert.inhibited || silencedNow(r.alert)) continue;
    const isNew = sinceMs === null || r.firstSeenMs > sinceMs;
    firing.push({ ...r.alert, status: 'firing', kind: isNew ? 'new' : 'repeat', firstSeenMs: r.firstSeenMs });
  }

  // One line per alert and section: an alert that came and went twice is listed once in each.
  // Reminders ('repeat') are not news; the firing section shows those alerts anyway.
  const latest = (kind: 'new' | 'resolved'): NoticeAlert[] => {
    const byAlert = new Map<string, NoticeAlert>();
    for (const e of input.events) {
      if (e.kind !== kind) continue;
      const key = alertKey(e.rule, e.warehouseId, e.productId);
      byAlert.delete(key);
      byAlert.set(key, e);
    }
    return [...byAlert.values()];
  };
  const newSince = latest('new');
  const resolvedSince = latest('resolved');

  if (firing.length === 0 && newSince.length === 0 && resolvedSince.length === 0 && !channel.sendEmpty) return null;
  return {
    type: 'digest',
    id: digestJobId(channel.name, tickMs),
    createdAtMs: tickMs,
    sinceMs,
    timezone: channel.timezone,
    firing,
    newSince,
    resolvedSince,
  };
}

// ---- Redis scripts --------------------------------------------------------------------------------
// They run on the state store's connection, which WATCHes for the poll's commit: scripts and plain
// commands are safe there, a MULTI of ours would not be (EXEC ends every WATCH on the connection).

/**
 * Claims the channel's events for tick ARGV[2]: returns {'done'} when that tick (or a later one)
 * was already recorded, else {'ok', <last sent ms or ''>, <claimed tick or ''>, event...}.
 * A claim left by this same tick is reused as it is; one left by an earlier tick that never queued
 * its digest is taken over, with the events that arrived since added after it.
 * KEYS: events list, claim list, book hash. ARGV: channel, tick ms, earlier claim to take over ('' = none).
 */
const CLAIM_SCRIPT = `
local book = KEYS[3]
local ch = ARGV[1]
local tick = tonumber(ARGV[2])
local done = tonumber(redis.call('HGET', book, ch .. '.done') or '0')
if done >= tick then return {'done'} end
local claimed = redis.call('HGET', book, ch .. '.claim') or ''
if claimed ~= ARGV[2] then
  if claimed ~= '' and claimed ~= ARGV[3] then return {'claimed', claimed} end
  if redis.call('EXISTS', KEYS[2]) == 0 then
    if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end
  else
    while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do end
  end
  redis.call('HSET', book, ch .. '.claim', ARGV[2])
end
local out = {'ok', redis.call('HGET', book, ch .. '.sent') or ''}
local events = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #events do out[#out + 1] = events[i] end
return out
`;

/**
 * Records tick ARGV[2] as done (and as the last digest sent when ARGV[3] is '1') and drops its claim.
 * KEYS: claim list, book hash. ARGV: channel, tick ms, sent flag.
 */
const FINISH_SCRIPT = `
local book = KEYS[2]
local ch = ARGV[1]
if (redis.call('HGET', book, ch .. '.claim') or '') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', book, ch .. '.claim')
end
if tonumber(redis.call('HGET', book, ch .. '.done') or '0') < tonumber(ARGV[2]) then
  redis.call('HSET', book, ch .. '.done', ARGV[2])
end
if ARGV[3] == '1' and tonumber(redis.call('HGET', book, ch .. '.sent') or '0') < tonumber(ARGV[2]) then
  redis.call('HSET', book, ch .. '.sent', ARGV[2])
end
return 1
`;

const UNLOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

// ---- the service ----------------------------------------------------------------------------------

/** What a tick did. */
export type TickOutcome =
  /** A digest was queued for delivery (or was already, by an earlier run of this tick). */
  | { result: 'queued'; jobId: string; firing: number; newSince: number; resolvedSince: number }
  /** Nothing to report and no `send_empty`: nothing sent. */
  | { result: 'quiet' }
  /** This tick (or a later one) was already handled. */
  | { result: 'done' }
  /** The channel is no longer a digest channel in the rules in force. */
  | { result: 'no-channel' };

export interface DigestDeps {
  /** The digest queue: schedulers and their tick jobs. */
  queue: Queue;
  /** The email delivery queue (only `add` and `getJobState` are used). */
  emailQueue: Pick<Queue, 'add' | 'getJobState'>;
  /** The connection the tick worker blocks on (maxRetriesPerRequest: null). */
  workerConnection: Redis;
  /** The state store's connection: scripts and single commands only (see above). */
  redis: Redis;
  store: StateStore;
  rules: () => CompiledRuleSet;
  prefix: string;
  log: Logger;
  onRedisError?: (err: Error) => void;
  /** Default MISSED_TICK_GRACE_MS. */
  missedTickGraceMs?: number;
  now?: () => number;
}

export class Digests {
  private readonly now: () => number;
  private syncing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: DigestDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Brings the schedulers in line with the rules in force, then starts the tick worker; the caller closes the worker. */
  async start(): Promise<Worker> {
    await this.sync();
    const { log } = this.deps;
    const worker = new Worker<DigestTickData>(DIGEST_QUEUE, (job) => this.processTickJob(job), {
      connection: this.deps.workerConnection,
      prefix: this.deps.prefix,
      concurrency: 1,
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const fields = { channel: job.data.channel, tick: iso(tickTimeOf(job)), attempt: job.attemptsMade };
      if (job.attemptsMade >= (job.opts.attempts ?? 1)) {
        log.error(fields, `digest tick failed for good: ${oneLine(err)}; its events wait for the next tick`);
      } else {
        log.warn(fields, `digest tick failed, will retry: ${oneLine(err)}`);
      }
    });
    worker.on('error', (err) => (this.deps.onRedisError ?? ((e: Error) => log.error(oneLine(e))))(err));
    this.timer = setInterval(() => void this.sync(), RESYNC_EVERY_MS);
    this.timer.unref();
    return worker;
  }

  /** Stops the periodic check and waits for a schedule update in hand. The worker is closed by its owner. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
  }

  /**
   * Upserts a scheduler for every digest channel whose schedule is missing or changed (or whose next
   * tick job is gone), and removes the schedulers of channels that are gone or lost their digest,
   * with the events kept for them. Calls are serialized; failures are logged, and the periodic
   * check tries again.
   */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => (this.closed ? undefined : this.doSync())).catch((err) => {
      this.deps.log.error(`digest schedules not updated (will try again): ${oneLine(err)}`);
    });
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const { queue, log } = this.deps;
    const wanted = new Map(digestChannels(this.deps.rules().ruleSet).map((c) => [digestSchedulerId(c.name), c]));
    const existing = await queue.getJobSchedulers();

    for (const s of existing) {
      if (wanted.has(s.key)) continue;
      await queue.removeJobScheduler(s.key);
      const channel = (s.template?.data as Partial<DigestTickData> | undefined)?.channel ?? s.key.replace(/^digest-/, '');
      const dropped = await this.forget(channel);
      log.info({ channel, droppedEvents: dropped }, 'digest schedule removed (the channel is gone or no longer has a digest)');
    }

    for (const [id, channel] of wanted) {
      const current = existing.find((s) => s.key === id);
      const same = current !== undefined && current.pattern === channel.digest && (current.tz ?? 'UTC') === channel.timezone;
      if (same && (await this.tickJobPending(id, current.next))) continue;
      try {
        // One atomic script: several daemons upserting the same id end with one scheduler and one tick job.
        const job = await queue.upsertJobScheduler(
          id,
          { pattern: channel.digest, tz: channel.timezone },
          { name: TICK_JOB_NAME, data: { channel: channel.name } satisfies DigestTickData, opts: TICK_JOB_OPTIONS },
        );
        const next = job?.opts.prevMillis;
        log.info(
          { channel: channel.name, cron: channel.digest, timezone: channel.timezone, next: typeof next === 'number' ? iso(next) : null },
          current === undefined ? 'digest scheduled' : same ? 'digest schedule repaired' : 'digest schedule changed',
        );
      } catch (err) {
        // e.g. "job ID already exists" when the tick job of that very time is still running elsewhere.
        log.error({ channel: channel.name }, `digest schedule not updated (will try again): ${oneLine(err)}`);
      }
    }
  }

  /** Whether the scheduler's next tick job is still waiting to run (or running). */
  private async tickJobPending(schedulerId: string, next: number | undefined): Promise<boolean> {
    if (next === undefined) return false;
    const state = await this.deps.queue.getJobState(`repeat:${schedulerId}:${next}`);
    return state === 'delayed' || state === 'waiting' || state === 'active' || state === 'prioritized';
  }

  /** Drops what was kept for a channel's digests; returns how many events were dropped. */
  private async forget(channel: string): Promise<number> {
    const { redis, store } = this.deps;
    const events = store.keys.digestEvents(channel);
    const claim = store.keys.digestClaim(channel);
    const dropped = (await redis.llen(events)) + (await redis.llen(claim));
    await redis.del(events, claim);
    await redis.hdel(store.keys.digestBook, `${channel}.done`, `${channel}.sent`, `${channel}.claim`);
    return dropped;
  }

  /** The tick worker's processor. */
  private async processTickJob(job: Job<DigestTickData>): Promise<TickOutcome | { result: 'missed' }> {
    const { channel } = job.data;
    const tickMs = tickTimeOf(job);
    const lateMs = this.now() - tickMs;
    if (isMissedTick(lateMs, job, this.deps.missedTickGraceMs)) {
      this.deps.log.warn(
        { channel, tick: iso(tickMs), lateMs },
        'digest tick missed (no daemon could run it in time): not sent late; the next digest covers what happened since the last one',
      );
      return { result: 'missed' };
    }
    const outcome = await this.runTick(channel, tickMs);
    if (outcome.result === 'no-channel') void this.sync();
    return outcome;
  }

  /** One channel's digest at one tick: fix the content, queue it, record the tick. Safe to run again. */
  async runTick(channelName: string, tickMs: number): Promise<TickOutcome> {
    const { redis, log } = this.deps;
    const channel = this.deps.rules().ruleSet.channels[channelName];
    if (channel === undefined || channel.kind !== 'email' || channel.digest === undefined) {
      log.info({ channel: channelName }, 'digest tick for a channel that no longer has a digest: nothing sent');
      return { result: 'no-channel' };
    }
    const lockKey = this.deps.store.keys.digestLock(channelName);
    const token = `${process.pid}-${tickMs}-${Math.random().toString(36).slice(2)}`;
    await this.lock(lockKey, token);
    try {
      return await this.runLocked(channel, tickMs);
    } finally {
      await redis.eval(UNLOCK_SCRIPT, 1, lockKey, token).catch(() => undefined);
    }
  }

  private async lock(key: string, token: string): Promise<void> {
    const deadline = this.now() + TICK_LOCK_WAIT_MS;
    while ((await this.deps.redis.set(key, token, 'PX', TICK_LOCK_MS, 'NX')) === null) {
      if (this.now() > deadline) throw new Error('another daemon is still building this channel\'s digest');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async runLocked(channel: EmailChannel, tickMs: number): Promise<TickOutcome> {
    const { redis, store, emailQueue, log } = this.deps;
    const name = channel.name;
    const eventsKey = store.keys.digestEvents(name);
    const claimKey = store.keys.digestClaim(name);
    const book = store.keys.digestBook;
    const claim = (takeOver: string) => redis.eval(CLAIM_SCRIPT, 3, eventsKey, claimKey, book, name, String(tickMs), takeOver) as Promise<string[]>;

    let reply = await claim('');
    if (reply[0] === 'claimed') {
      // An earlier tick claimed events and stopped. If its digest is queued they were delivered:
      // finish that tick. If not, this tick takes them over.
      const earlier = Number(reply[1]);
      const queued = (await emailQueue.getJobState(digestJobId(name, earlier))) !== 'unknown';
      if (queued) {
        await redis.eval(FINISH_SCRIPT, 2, claimKey, book, name, String(earlier), '1');
        reply = await claim('');
      } else {
        reply = await claim(String(earlier));
      }
    }
    if (reply[0] === 'done') return { result: 'done' };
    if (reply[0] !== 'ok') throw new Error(`digest claim answered ${String(reply[0])}`);

    const sinceMs = reply[1] === '' ? null : Number(reply[1]);
    const events: NoticeAlert[] = [];
    for (const json of reply.slice(2)) {
      try {
        events.push(JSON.parse(json) as NoticeAlert);
      } catch {
        log.warn({ channel: name }, 'an unreadable digest event was left out');
      }
    }
    const compiled = this.deps.rules();
    const notice = buildDigest({ channel, compiled, firing: await store.firingAlerts(compiled.ruleByName), events, tickMs, sinceMs });

    let outcome: TickOutcome;
    if (notice === null) {
      outcome = { result: 'quiet' };
    } else {
      // The job id is the notice id: a second add of the same tick (after a crash) is a no-op.
      await emailQueue.add(notice.type, { channel: name, notice } satisfies DeliveryJobData, { ...deliveryJobOptions, jobId: notice.id });
      outcome = { result: 'queued', jobId: notice.id, firing: notice.firing.length, newSince: notice.newSince.length, resolvedSince: notice.resolvedSince.length };
    }
    await redis.eval(FINISH_SCRIPT, 2, claimKey, book, name, String(tickMs), notice === null ? '0' : '1');
    if (outcome.result === 'queued') {
      log.info({ channel: name, tick: iso(tickMs), job: outcome.jobId, firing: outcome.firing, new: outcome.newSince, resolved: outcome.resolvedSince }, 'digest queued');
    } else {
      log.debug({ channel: name, tick: iso(tickMs) }, 'digest tick quiet: nothing firing, new or resolved; nothing sent');
    }
    return outcome;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
