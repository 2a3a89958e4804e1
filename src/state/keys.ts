// Every Redis key stockwatch writes, in one place. All of them start with the prefix, so one
// deployment's keys share the prefix's hash tag on Redis Cluster (`{stockwatch}:…`) and
// multi-key scripts and transactions stay in one slot. BullMQ's own keys (`<prefix>:<queue>:…`)
// are BullMQ's; everything else is here.
export interface StateKeys {
  /** Hash: poll bookkeeping (generation, streaks, last poll, rule conditions). */
  meta: string;
  /**
   * Hash per bucket `n`: the alert records (what fired or is pending after the last poll), compact,
   * spread over buckets small enough to stay listpacks (state/alert-records.ts; the count is in meta's layout).
   */
  alertBucket(n: number): string;
  /** Hash: alert buckets being written ahead of their commit, tag -> `<started ms>:<buckets>` (store.ts). */
  staging: string;
  /** Hash per tag and bucket `n`: an alert bucket written ahead of its commit, which renames it to alertBucket(n). */
  stagedAlertBucket(tag: string, n: number): string;
  /** Hash per bucket `n`: each product's SKU and name, stored once however many alerts name it. */
  productBucket(n: number): string;
  /** Hash: the alert records of the layout before the buckets; read once after an upgrade, deleted by the next commit. */
  legacyAlerts: string;
  /** Hash: notices committed by a poll and not yet handed to their queues. */
  outbox: string;
  /** Hash of binary fields: the runs_out selling-rate history (state/history.ts). */
  history: string;
  /** List per digest channel: events waiting for its next digest. */
  digestEvents(channel: string): string;
  /** List per digest channel: events a digest tick has claimed. */
  digestClaim(channel: string): string;
  /** Hash: per digest channel, the last tick done, the last digest sent, a claim in progress. */
  digestBook: string;
  /** Sorted set per channel: its notices not yet delivered, in poll order. */
  order(channel: string): string;
  /** String: held while one daemon builds a channel's digest. */
  digestLock(channel: string): string;
  /** String with a TTL: a receiver that must not be sent to before it expires (Slack's pace, Retry-After); `id` names the receiver without its secret. */
  pace(id: string): string;
}

export function stateKeys(prefix: string): StateKeys {
  const base = `${prefix}:state`;
  return {
    meta: `${base}:meta`,
    alertBucket: (n) => `${base}:alerts:${n}`,
    staging: `${base}:staging`,
    stagedAlertBucket: (tag, n) => `${base}:staged:${tag}:${n}`,
    productBucket: (n) => `${base}:products:${n}`,
    legacyAlerts: `${base}:alerts`,
    outbox: `${base}:outbox`,
    history: `${base}:history`,
    digestEvents: (channel) => `${base}:digest:${channel}`,
    digestClaim: (channel) => `${base}:digest-claim:${channel}`,
    digestBook: `${base}:digest-last`,
    order: (channel) => `${base}:order:${channel}`,
    digestLock: (channel) => `${prefix}:lock:digest:${channel}`,
    pace: (id) => `${prefix}:pace:${id}`,
  };
}
