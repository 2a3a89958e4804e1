// The one place that looks inside BullMQ: a delivery job's state, the queues' depths, and the
// latest delivery jobs with their heads and data for the status page. Everything else queues jobs
// and reads these answers; nobody else builds a BullMQ key or reads a job hash.
import type { JobState as BullJobState, Queue } from 'bullmq';
import IORedis, { Cluster } from 'ioredis';
import { DELIVERY_QUEUES } from './route';

/** Delivery job states, in the order the status page names them. */
export const JOB_STATES = ['active', 'waiting', 'prioritized', 'delayed', 'failed', 'completed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A job whose data is bigger than this is not read whole (a mass event's notice can hold 100,000 alerts). */
export const MAX_JOB_DATA_BYTES = 1_000_000;
/** What is read of a big job's data: enough for its channel name and notice type, which come first in its JSON. */
const PARTIAL_DATA_CHARS = 512;

/** How often waitForDelivery reads the states of jobs that other daemons may be delivering. */
const STATE_POLL_MS = 20;

/** Calls `listener` whenever a worker of this process has finished a job; returns the unsubscribe. */
export type SettledSubscription = (listener: () => void) => () => void;

/** Ends after `ms`, or earlier when `onSettled` fires; `cancel` ends it at once. */
function pauseUntilSettled(ms: number, onSettled: SettledSubscription | undefined): { done: Promise<void>; cancel: () => void } {
  let cancel = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => cancel(), ms);
    cancel = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    if (onSettled) unsubscribe = onSettled(cancel);
  });
  return { done, cancel };
}

/** The depths the queue-depth metric reports. */
const COUNTED_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** A delivery job as BullMQ keeps it, read field by field. */
export interface DeliveryJob {
  /** The delivery queue's name. */
  queue: string;
  id: string;
  state: JobState;
  name: string | null;
  timestamp: number | null;
  processedOn: number | null;
  finishedOn: number | null;
  /** Tries made so far, and how many it gets. */
  attempts: number;
  maxAttempts: number | null;
  failedReason: string | null;
  /** The job's data as stored (JSON), or only its start when `partial`; null when it has none. */
  data: string | null;
  /** True when the data was too large to read whole (see MAX_JOB_DATA_BYTES). */
  partial: boolean;
  /** The data's size in bytes, when known. */
  dataBytes: number | null;
}

const HEAD_FIELDS = ['name', 'timestamp', 'processedOn', 'finishedOn', 'atm', 'failedReason', 'opts'] as const;

/**
 * Reads the daemon's queues. `state` and `recent` look at the delivery queues only (the ones that
 * hold notices); `counts` covers every queue handed in (delivery, poll, digest), for the metric.
 */
export class QueueJobs {
  constructor(private readonly queues: Readonly<Record<string, Queue>>) {}

  private deliveryQueues(): Queue[] {
    return Object.values(DELIVERY_QUEUES)
      .map((name) => this.queues[name])
      .filter((q): q is Queue => q !== undefined);
  }

  /** A delivery job's state ('completed', 'failed', 'waiting', …), 'unknown' when no delivery queue holds it. */
  async state(id: string): Promise<BullJobState | 'unknown'> {
    for (const queue of this.deliveryQueues()) {
      const state = await queue.getJobState(id);
      if (state !== 'unknown') return state;
    }
    return 'unknown';
  }

  /**
   * Waits until each job has been delivered or given up, or `timeoutMs` passed; returns the ids
   * still pending (they stay queued, for a daemon to deliver). The states are read every
   * STATE_POLL_MS, and at once when `onSettled` reports that a worker of this process finished a
   * job (any daemon may deliver them, so that alone would not do).
   */
  async waitForDelivery(
    jobIds: string[],
    timeoutMs: number,
    onSettled?: SettledSubscription,
  ): Promise<{ delivered: string[]; failed: string[]; pending: string[] }> {
    const deadline = Date.now() + timeoutMs;
    const result = { delivered: [] as string[], failed: [] as string[], pending: [...jobIds] };
    while (result.pending.length > 0 && Date.now() < deadline) {
      // Subscribed before the states are read: a job finished meanwhile still ends the pause.
      const pause = pauseUntilSettled(STATE_POLL_MS, onSettled);
      const still: string[] = [];
      for (const id of result.pending) {
        const state = await this.state(id);
        if (state === 'completed') result.delivered.push(id);
        else if (state === 'failed') result.failed.push(id);
        else still.push(id);
      }
      result.pending = still;
      if (still.length > 0) await pause.done;
      else pause.cancel();
    }
    return result;
  }

  /** Every queue's depth by state (waiting, active, delayed, failed). */
  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, queue] of Object.entries(this.queues)) out[name] = await queue.getJobCounts(...COUNTED_STATES);
    return out;
  }

  /**
   * The latest `count` jobs of the delivery queues, newest activity first. Job hashes are read field
   * by field (HMGET, HSTRLEN), and a job's data whole only when it is small: the notice of a mass
   * event can be tens of megabytes, and reading it on every page load would be the page's whole cost.
   */
  async recent(count: number): Promise<DeliveryJob[]> {
    const heads: Array<Omit<DeliveryJob, 'data' | 'partial'> & { from: Queue }> = [];
    for (const queue of this.deliveryQueues()) {
      const redis = connectionOf(queue);
      const seen = new Set<string>();
      const ids: Array<{ id: string; state: JobState }> = [];
      for (const state of JOB_STATES) {
        for (const id of await queue.getRanges([state], 0, count - 1, false)) {
          // A job that moved between two reads is listed once, in the state seen first.
          if (!seen.has(id)) ids.push({ id, state });
          seen.add(id);
        }
      }
      const pipeline = redis.pipeline();
      for (const { id } of ids) {
        pipeline.hmget(queue.toKey(id), ...HEAD_FIELDS);
        pipeline.hstrlen(queue.toKey(id), 'data');
      }
      const replies = (await pipeline.exec()) ?? [];
      ids.forEach(({ id, state }, i) => {
        const [headErr, head] = replies[2 * i] ?? [];
        const [, dataBytes] = replies[2 * i + 1] ?? [];
        const fields = head as Array<string | null> | undefined;
        // Removed between the range read and this one (age-based cleanup): nothing to show.
        if (headErr || !fields || fields.every((f) => f === null)) return;
        const [jobName, timestamp, processedOn, finishedOn, atm, failedReason, opts] = fields;
        heads.push({
          from: queue,
          queue: queue.name,
          id,
          state,
          name: jobName,
          timestamp: numberOrNull(timestamp),
          processedOn: numberOrNull(processedOn),
          finishedOn: numberOrNull(finishedOn),
          attempts: numberOrNull(atm) ?? 0,
          maxAttempts: maxAttemptsOf(opts),
          failedReason: failedReason || null,
          dataBytes: typeof dataBytes === 'number' ? dataBytes : null,
        });
      });
    }
    const activity = (h: { finishedOn: number | null; processedOn: number | null; timestamp: number | null }): number =>
      Math.max(h.finishedOn ?? 0, h.processedOn ?? 0, h.timestamp ?? 0);
    heads.sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    const jobs: DeliveryJob[] = [];
    for (const { from, ...head } of heads.slice(0, count)) {
      const redis = connectionOf(from);
      const key = from.toKey(head.id);
      const partial = head.dataBytes !== null && head.dataBytes > MAX_JOB_DATA_BYTES;
      const data = partial
        ? ((await redis.eval(
            `local d = redis.call('HGET', KEYS[1], 'data') if d then return string.sub(d, 1, ${PARTIAL_DATA_CHARS}) end return false`,
            1,
            key,
          )) as string | null)
        : await redis.hget(key, 'data');
      jobs.push({ ...head, data, partial });
    }
    return jobs;
  }
}

/**
 * The daemon hands BullMQ its own ioredis connection (a Cluster on Redis Cluster); that is what
 * lets job hashes be read field by field. A job's hash lives in one slot, so both kinds serve it.
 */
function connectionOf(queue: Queue): IORedis | Cluster {
  const redis = queue.opts.connection;
  if (!(redis instanceof IORedis) && !(redis instanceof Cluster)) throw new Error(`queue ${queue.name} does not run on an ioredis connection`);
  return redis;
}

function numberOrNull(text: string | null | undefined): number | null {
  if (text === null || text === undefined || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function maxAttemptsOf(opts: string | null): number | null {
  try {
    const attempts = (JSON.parse(opts ?? '{}') as { attempts?: unknown }).attempts;
    return typeof attempts === 'number' ? attempts : null;
  } catch {
    return null;
  }
}
