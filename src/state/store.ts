// The Redis store for what must survive a poll: the alert state (what fired at the last poll, with
// the levels it fired at: the "previous snapshot" a poll is compared with), the poll bookkeeping,
// and the outbox of notices a poll caused.
//
// There is no copy of every item's levels: nothing would read it. The diff needs only what fired,
// the suspect check only the last good item count, and a resolved alert of a vanished item its own
// stored levels. Keeping it cost a 200,000-field read and delta write per poll (see the README's
// Performance section) for no behaviour.
//
// Crash safety rests on one rule: a poll's new state and the notices it causes are written in ONE
// MULTI/EXEC, guarded by WATCH on the generation counter. Either all of it lands or none of it
// does; a second poll that raced this one finds the generation moved and commits nothing. Notices
// land in the outbox hash first and are moved to the delivery queues afterwards under job ids
// that are their outbox ids, so moving them twice (after a crash) adds nothing twice.
import type { Redis } from 'ioredis';
import type { History } from '../engine/forecast';
import type { AlertRecord } from '../engine/lifecycle';
import type { PollBooks } from '../engine/step';
import { alertKey, type Alert, type RuleType, type Severity } from '../model';
import { decodeHistory, historyFields } from './history';
import { stateKeys, type StateKeys } from './keys';

/** Poll bookkeeping kept in the meta hash: the engine's books plus what the daemon reports. */
export interface PollMeta extends PollBooks {
  /** Bumped by every committed poll; the WATCHed value that makes commits exclusive. */
  gen: number;
  lastPollAtMs: number | null;
  lastPollOk: boolean | null;
  lastPollError: string | null;
  lastPollDurationMs: number | null;
  lastSuccessAtMs: number | null;
}

export interface LoadedState {
  meta: PollMeta;
  alerts: Map<string, AlertRecord>;
  /** The runs_out rate history (history.ts); empty without runs_out rules. */
  history: History;
  /** Tracks of the history that could not be read (their rates start over), in words. */
  historyProblems: string[];
}

/** One notice waiting to be queued: `id` becomes the BullMQ job id. */
export interface OutboxEntry {
  id: string;
  queue: string;
  data: unknown;
  /** The channel it goes to and its place in that channel's delivery order (ChannelOrder). */
  channel?: string;
  order?: number;
}

/** One alert event kept for a digest channel until its next tick. */
export interface DigestEntry {
  channel: string;
  /** JSON of the event (a NoticeAlert). */
  json: string;
}

export interface Commit {
  /** The generation read by load(); the commit is refused when it has moved. */
  expectedGen: number;
  meta: Partial<PollMeta>;
  alertsSet?: AlertRecord[];
  alertsDel?: string[];
  outbox?: OutboxEntry[];
  digest?: DigestEntry[];
  /** The whole rate history after this poll (replaces the stored one); absent: leave it as it is. */
  history?: History;
}

// Redis takes big commands, but one HSET of 400,000 arguments holds a lot of memory on both sides.
const CHUNK = 5000;

export class StateStore {
  readonly keys: StateKeys;

  /**
   * `redis` must be a connection of the store's own: WATCH is per connection, and a command from
   * elsewhere between WATCH and EXEC on the same connection would break the guarantee.
   */
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = stateKeys(prefix);
  }

  /** The sorted set of a channel's notices not yet delivered, by their order. */
  orderKey(channel: string): string {
    return this.keys.order(channel);
  }

  async loadMeta(): Promise<PollMeta> {
    return decodeMeta(await this.redis.hgetall(this.keys.meta));
  }

  async load(): Promise<LoadedState> {
    const [meta, alerts, history] = await Promise.all([
      this.redis.hgetall(this.keys.meta),
      this.redis.hgetall(this.keys.alerts),
      this.redis.hgetallBuffer(this.keys.history),
    ]);
    const alertMap = new Map<string, AlertRecord>();
    for (const key in alerts) alertMap.set(key, decodeAlertRecord(key, alerts[key]));
    const decoded = decodeHistory(history);
    return { meta: decodeMeta(meta), alerts: alertMap, history: decoded.history, historyProblems: decoded.problems };
  }

  /** Writes everything in `c` atomically; false (and nothing written) when another poll committed first. */
  async commit(c: Commit): Promise<boolean> {
    const { keys, redis } = this;
    await redis.watch(keys.meta);
    const gen = Number((await redis.hget(keys.meta, 'gen')) ?? 0);
    if (gen !== c.expectedGen) {
      await redis.unwatch();
      return false;
    }
    const tx = redis.multi();
    for (const part of chunks(c.alertsSet ?? [], CHUNK)) {
      tx.hset(keys.alerts, ...part.flatMap((r) => [recordKey(r), encodeAlertRecord(r)]));
    }
    for (const part of chunks(c.alertsDel ?? [], CHUNK)) tx.hdel(keys.alerts, ...part);
    for (const e of c.outbox ?? []) {
      tx.hset(keys.outbox, e.id, JSON.stringify({ queue: e.queue, data: e.data }));
      // Joins its channel's delivery order in the same transaction: no notice is queued unordered.
      if (e.channel !== undefined && e.order !== undefined) tx.zadd(this.orderKey(e.channel), 'NX', e.order, e.id);
    }
    for (const d of c.digest ?? []) tx.rpush(keys.digestEvents(d.channel), d.json);
    if (c.history !== undefined) {
      // Whole, every poll: the tables are rewritten by every poll anyway (ages, last levels).
      tx.del(keys.history);
      for (const [field, bytes] of historyFields(c.history)) tx.hset(keys.history, field, bytes);
    }
    tx.hset(keys.meta, { ...encodeMeta(c.meta), gen: String(c.expectedGen + 1) });
    const result = await tx.exec();
    if (result === null) return false;
    const failed = result.find(([err]) => err);
    if (failed) throw failed[0];
    return true;
  }

  /** Notices committed but not yet handed to their queues (left by this poll, or by a crash). */
  async pendingOutbox(): Promise<OutboxEntry[]> {
    const raw = await this.redis.hgetall(this.keys.outbox);
    return Object.entries(raw).map(([id, json]) => {
      const { queue, data } = JSON.parse(json) as { queue: string; data: unknown };
      return { id, queue, data };
    });
  }

  async inOutbox(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.outbox, id)) === 1;
  }

  async removeFromOutbox(ids: string[]): Promise<void> {
    for (const part of chunks(ids, CHUNK)) await this.redis.hdel(this.keys.outbox, ...part);
  }

  /** Firing alerts as stored (for digests and the status page). */
  async firingAlerts(): Promise<AlertRecord[]> {
    const raw = await this.redis.hgetall(this.keys.alerts);
    return Object.entries(raw).map(([key, value]) => decodeAlertRecord(key, value));
  }

  /** When each alert started firing, by alertKey(); null for one not firing now. */
  async firstSeen(keys: string[]): Promise<Array<number | null>> {
    const out: Array<number | null> = [];
    for (const part of chunks(keys, CHUNK)) {
      const values = await this.redis.hmget(this.keys.alerts, ...part);
      // The encoded record starts `[firstSeenMs,`: no need to parse the rest; a pending one does not fire.
      for (const v of values) out.push(v === null || v.endsWith(PENDING_TAIL) ? null : parseInt(v.slice(1), 10));
    }
    return out;
  }
}

function* chunks<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

// ---- encodings -------------------------------------------------------------------------------
// Compact on purpose: 200,000 items must stay well under 300 bytes each in Redis.

function recordKey(r: AlertRecord): string {
  return alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId);
}

/** A pending record's encoding ends so (its status is the last element). */
const PENDING_TAIL = ',"p"]';

/** The alert's identity is its hash field; the value holds the rest as a JSON array. */
export function encodeAlertRecord(r: AlertRecord): string {
  const a = r.alert;
  return JSON.stringify([
    r.firstSeenMs,
    r.lastNotifiedMs,
    a.type,
    a.severity,
    a.warehouse,
    a.sku,
    a.product,
    a.available,
    a.incoming,
    a.reserved,
    a.updatedAt,
    a.summary,
    a.silenced ? 1 : 0,
    a.inhibited ? 1 : 0,
    r.clearedSinceMs ?? null,
    a.availableElsewhere ?? null,
    a.ratePerDay ?? null,
    a.runsOutAt ?? null,
    a.status === 'pending' ? 'p' : 'f',
  ]);
}

export function decodeAlertRecord(key: string, value: string): AlertRecord {
  const [rule, warehouseId, productId] = key.split('\u001f');
  const v = JSON.parse(value) as [
    number, number | null, RuleType, Severity, string | null, string | null, string | null,
    number, number, number, string, string | null, 0 | 1,
    0 | 1 | undefined, number | null | undefined, number | null | undefined, number | null | undefined, string | null | undefined, 'p' | 'f' | undefined,
  ];
  const alert: Alert = {
    rule,
    type: v[2],
    severity: v[3],
    status: v[18] === 'p' ? 'pending' : 'firing',
    warehouseId: warehouseId === '' ? null : warehouseId,
    warehouse: v[4],
    productId: productId === '' ? null : productId,
    sku: v[5],
    product: v[6],
    available: v[7],
    incoming: v[8],
    reserved: v[9],
    updatedAt: v[10],
    summary: v[11],
    silenced: v[12] === 1,
    inhibited: v[13] === 1,
  };
  if (typeof v[15] === 'number') alert.availableElsewhere = v[15];
  if (typeof v[16] === 'number') alert.ratePerDay = v[16];
  if (typeof v[17] === 'string') alert.runsOutAt = v[17];
  const record: AlertRecord = { alert, firstSeenMs: v[0], lastNotifiedMs: v[1] };
  if (typeof v[14] === 'number') record.clearedSinceMs = v[14];
  return record;
}

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));
const bool = (v: string | undefined): boolean | null => (v === undefined || v === '' ? null : v === '1');

function decodeMeta(h: Record<string, string>): PollMeta {
  return {
    gen: num(h.gen) ?? 0,
    conditions: h.conditions ? (JSON.parse(h.conditions) as Record<string, string>) : {},
    lastGoodItems: num(h.lastGoodItems),
    failStreak: num(h.failStreak) ?? 0,
    unreachableNotified: h.unreachableNotified === '1',
    suspectStreak: num(h.suspectStreak) ?? 0,
    lastPollAtMs: num(h.lastPollAtMs),
    lastPollOk: bool(h.lastPollOk),
    lastPollError: h.lastPollError || null,
    lastPollDurationMs: num(h.lastPollDurationMs),
    lastSuccessAtMs: num(h.lastSuccessAtMs),
  };
}

function encodeMeta(m: Partial<PollMeta>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'gen' || v === undefined) continue;
    out[k] = v === null ? '' : typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}
