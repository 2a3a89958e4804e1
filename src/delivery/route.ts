// Dispatch: which channel hears about which event. Pure; the poll turns its result into outbox entries.
import type { AlertEvent } from '../engine/lifecycle';
import { specAlert, type Channel, type RuleSet } from '../model';
import { CHANNEL_KINDS, channelKindOf, type Notice, type NoticeAlert, type SourceEvent } from '../notify';
import type { OutboxEntry } from '../state/store';

/** The delivery queues, one per kind of channel (from the registry): Slack's per-webhook pacing must never hold up email or webhooks. */
export const DELIVERY_QUEUES = Object.fromEntries(CHANNEL_KINDS.map((k) => [k.kind, k.queue])) as Readonly<Record<Channel['kind'], string>>;

/** What a delivery job carries: the channel's name (looked up at delivery, so no secret sits in Redis) and the notice. */
export interface DeliveryJobData {
  channel: string;
  notice: Notice;
  /** Place in the channel's delivery order (see ChannelOrder); absent for notices outside it (digests). */
  order?: number;
}

/** The poll a notice comes from: its id (unique, for job ids) and its generation (for the order). */
export interface PollTag {
  id: string;
  gen: number;
  nowMs: number;
}

// A channel's notices go out in the order of the polls that made them; within one poll, a source
// notice (unreachable, recovered, suspect) before the alerts.
const sourceOrder = (poll: PollTag): number => poll.gen * 2;
const alertsOrder = (poll: PollTag): number => poll.gen * 2 + 1;

export function queueFor(channel: Channel): string {
  return channelKindOf(channel).queue;
}

export function toNoticeAlert(e: AlertEvent): NoticeAlert {
  // Exactly the SPEC fields (specAlert copies them one by one, not `...e.alert`), then the event's two.
  return Object.assign(specAlert(e.alert), { kind: e.kind, firstSeenMs: e.firstSeenMs });
}

export interface Routed {
  /** Immediate channels (Slack, webhook, email without digest): one notice each per poll. */
  immediate: Map<string, NoticeAlert[]>;
  /** Digest channels: events kept for their next tick. */
  digest: Map<string, NoticeAlert[]>;
}

export function routeEvents(events: readonly AlertEvent[], ruleSet: RuleSet): Routed {
  const immediate = new Map<string, NoticeAlert[]>();
  const digest = new Map<string, NoticeAlert[]>();
  const ruleChannels = new Map(ruleSet.rules.map((r) => [r.name, r.channels]));
  for (const event of events) {
    const notice = toNoticeAlert(event);
    for (const name of ruleChannels.get(event.alert.rule) ?? []) {
      const channel = ruleSet.channels[name];
      if (channel === undefined) continue;
      const target = channelKindOf(channel).collectsForDigest?.(channel) ? digest : immediate;
      let list = target.get(name);
      if (list === undefined) target.set(name, (list = []));
      list.push(notice);
    }
  }
  return { immediate, digest };
}

/**
 * Job ids must be unique per notice and must not hold ':' (BullMQ). The poll's generation makes
 * them unique; the outbox makes them stable across a crash.
 */
export function alertNotices(routed: Routed, ruleSet: RuleSet, poll: PollTag): OutboxEntry[] {
  const entries: OutboxEntry[] = [];
  for (const [name, alerts] of routed.immediate) {
    const id = `a-${poll.id}-${name}`;
    const channel = ruleSet.channels[name];
    // Each kind keeps what it can use (Slack: what its message can show; email and webhook: every alert).
    const notice: Notice = { type: 'alerts', id, createdAtMs: poll.nowMs, ...channelKindOf(channel).prepare(alerts) };
    const order = alertsOrder(poll);
    entries.push({ id, queue: queueFor(channel), channel: name, order, data: { channel: name, notice, order } satisfies DeliveryJobData });
  }
  return entries;
}

/** "source unreachable / recovered / suspect" go to the default channels (digest channels included: they are mail). */
export function sourceNotices(ruleSet: RuleSet, event: SourceEvent, detail: string, poll: PollTag): OutboxEntry[] {
  const order = sourceOrder(poll);
  return ruleSet.defaultChannels
    .filter((name) => ruleSet.channels[name] !== undefined)
    .map((name) => {
      const id = `s-${poll.id}-${event}-${name}`;
      const notice: Notice = { type: 'source', id, createdAtMs: poll.nowMs, event, detail };
      return { id, queue: queueFor(ruleSet.channels[name]), channel: name, order, data: { channel: name, notice, order } satisfies DeliveryJobData };
    });
}
