// Delivery: the processor behind every kind's queue. A job names its channel; the channel is looked
// up in the rule set in force (so no webhook URL, secret or address list waits in Redis), and the
// stages run in turn: order (ChannelOrder), late annotation, pace, send, classify. None of them
// knows a kind: what differs per kind comes from the channel registry.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { oneLine } from '../errors';
import type { Logger } from '../log';
import { alertKey, type Channel, type RuleSet } from '../model';
import { channelKindOf, isDeliveryError, type Notice, type NoticeAlert, type Sender, type SenderConfig } from '../notify';
import type { StateStore } from '../state/store';
import type { ChannelOrder } from './channel-order';
import type { DeliveryJobData } from './route';
import { stateKeys } from '../state/keys';

/** How a notice leaves the building. The demo swaps in one that prints to the console. */
export interface Transports {
  send(channel: Channel, notice: Notice): Promise<void>;
  close(): Promise<void>;
}

/** Each kind's renderer and sender, the sender opened at its first message and kept for the rest. */
export function realTransports(config: SenderConfig): Transports {
  const senders = new Map<string, Sender<Channel, unknown>>();
  return {
    async send(channel, notice) {
      const kind = channelKindOf(channel);
      let sender = senders.get(kind.kind);
      if (sender === undefined) senders.set(kind.kind, (sender = kind.openSender(config)));
      await sender.send(channel, kind.render(notice));
    },
    close: async () => void (await Promise.all([...senders.values()].map((s) => s.close()))),
  };
}

// SPEC section 5: first retry after about a second, doubling, at most 5 minutes apart, for at
// least 24 hours. 9 doublings reach 256 s (511 s in all); 290 tries at 300 s cover the rest.
export const MAX_RETRY_DELAY_MS = 5 * 60_000;
export const DELIVERY_ATTEMPTS = 300;

export const deliveryJobOptions = {
  attempts: DELIVERY_ATTEMPTS,
  backoff: { type: 'notice' },
  // Kept a day after completion: a job id that still exists is what stops a second copy.
  removeOnComplete: { age: 86_400, count: 5_000 },
  removeOnFail: { age: 7 * 86_400, count: 5_000 },
};

/** The longest a receiver's Retry-After holds its messages (a day, or a date years out, would silence it). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** The backoff strategy of the delivery workers: Retry-After when the receiver gave one, else doubling with jitter. */
export function retryDelayMs(attemptsMade: number, err?: Error): number {
  const retryAfter = (err as { retryAfterMs?: number } | undefined)?.retryAfterMs;
  if (typeof retryAfter === 'number' && retryAfter > 0) return Math.min(retryAfter, MAX_RETRY_AFTER_MS);
  const base = Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), MAX_RETRY_DELAY_MS);
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

export interface DeliveryDeps {
  rules: () => RuleSet;
  /** The alert state, to tell a late notice what happened since it was made. */
  store: Pick<StateStore, 'firstSeen'>;
  /** Each channel's notices in the order of the polls that made them. */
  order: ChannelOrder;
  transports: Transports;
  /** For the per-webhook pace; any connection will do. */
  redis: Redis;
  prefix: string;
  log: Logger;
}

export function deliveryProcessor(kind: Channel['kind'], deps: DeliveryDeps) {
  return async (job: Job<DeliveryJobData>, token?: string): Promise<void> => {
    const { channel: name } = job.data;
    const ordered = job.data.order !== undefined;
    if (ordered) {
      const gate = await deps.order.gate(name, job.id!);
      if (gate === 'done') {
        deps.log.info({ job: job.id, channel: name }, 'notice already delivered before a restart; not sent again');
        return;
      }
      if (gate === 'wait') {
        // An older notice of this channel is still on its way (or retrying): this one waits its turn, without using up a try.
        await job.moveToDelayed(Date.now() + ORDER_WAIT_MS, token);
        throw new DelayedError();
      }
    }
    try {
      await deliver(job, kind, deps, token);
    } catch (err) {
      const lastTry = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (ordered && lastTry && !(err instanceof DelayedError)) await deps.order.leave(name, job.id!);
      throw err;
    }
    if (ordered) await deps.order.leave(name, job.id!);
  };
}

/** How often a notice waiting behind an older one of its channel looks again. */
const ORDER_WAIT_MS = 250;

async function deliver(job: Job<DeliveryJobData>, kindName: Channel['kind'], deps: DeliveryDeps, token?: string): Promise<void> {
  const { channel: name } = job.data;
  const notice = await annotateLate(job.data.notice, deps.store);
  const channel = deps.rules().channels[name];
  if (channel === undefined || channel.kind !== kindName) {
    throw new UnrecoverableError(`channel ${name} no longer exists as a ${kindName} channel in the rules in force`);
  }
  const pace = channelKindOf(channel).pace;
  const paceKey = pace === undefined ? null : stateKeys(deps.prefix).pace(pace.key(channel));
  if (pace !== undefined && paceKey !== null) {
    const free = await deps.redis.set(paceKey, '1', 'PX', pace.everyMs, 'NX');
    if (free === null) {
      // Another message went to this receiver too recently: wait the rest, without using up a try.
      const wait = Math.max(await deps.redis.pttl(paceKey), 50);
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }
  }
  try {
    await deps.transports.send(channel, notice);
  } catch (err) {
    const retryAfter = isDeliveryError(err) ? err.retryAfterMs : undefined;
    // A paced receiver that asked us to wait is held for that long for every message, not just this one.
    if (retryAfter && paceKey !== null) await deps.redis.set(paceKey, '1', 'PX', Math.min(retryAfter, MAX_RETRY_AFTER_MS));
    throw classify(err);
  }
}

/**
 * A notice delivered late (retried, or recovered from a killed daemon) may reach people after a
 * newer one about the same alert. Each of its lines is checked against the alert state now and,
 * where the alert moved on, says so: a late line never contradicts the present, and nothing is
 * dropped either.
 */
export async function annotateLate(notice: Notice, store: Pick<StateStore, 'firstSeen'>): Promise<Notice> {
  if (notice.type !== 'alerts' || notice.alerts.length === 0) return notice;
  const now = await store.firstSeen(notice.alerts.map((a) => alertKey(a.rule, a.warehouseId, a.productId)));
  let changed = false;
  const alerts = notice.alerts.map((a, i) => {
    const since = movedOn(a, now[i]);
    if (since === undefined) return a;
    changed = true;
    return { ...a, since };
  });
  return changed ? { ...notice, alerts } : notice;
}

function movedOn(a: NoticeAlert, firstSeenNow: number | null): NoticeAlert['since'] {
  if (a.kind === 'resolved') return firstSeenNow === null ? undefined : 'firing again';
  if (firstSeenNow === null) return 'resolved';
  return firstSeenNow === a.firstSeenMs ? undefined : 'resolved and firing again';
}

/** Permanent failures stop the retries at once (BullMQ's UnrecoverableError); the rest are retried. */
function classify(err: unknown): Error {
  if (isDeliveryError(err) && err.permanent) return new UnrecoverableError(err.message);
  if (err instanceof Error) return err;
  return new Error(oneLine(err));
}
