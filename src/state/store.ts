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
//
// A commit that rewrites every record (the first one, a resize of the buckets, an upgrade) does
// not put them in that transaction: 335,000 records made one MULTI of 670,000 arguments that
// ioredis built whole in memory (4.4 GB at 1,000,000 items). It writes them first, in slices, into
// staged buckets under a fresh tag (`staged:<tag>:<n>`) that nothing reads, and its transaction
// deletes the old buckets and RENAMEs the staged ones into their places. The rule above still
// holds: until EXEC nothing reads the staged keys, and EXEC puts them in place together with
// everything else of the poll, or not at all; after it, Redis holds exactly what a commit inside
// the transaction wrote (same keys, same layout). What an attempt that did not commit wrote is
// deleted by it (refused) or, after a crash, by a later commit (see dropAbandonedStaging), and
// an attempt whose staging was deleted under it is refused (it WATCHes the staging registry).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { History } from '../engine/forecast';
import { AlertState, productPart } from '../engine/alert-state';
import type { AlertRecord } from '../engine/lifecycle';
import type { PollBooks } from '../engine/step';
import { alertKey, type Rule } from '../model';
import {
  bucketOf, bucketsFor, cloneLayout, decodeId, decodeLegacyRecord, decodeProduct, decodeValue, encodeId, encodeProduct, encodeValue,
  firstSeenOf, parseLayout, recordField, type Layout, type ProductNames,
} from './alert-records';
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
  alerts: AlertState;
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
  /**
   * The whole alert state after this commit (what alertsSet and alertsDel make of the loaded one):
   * kept in memory for the next load() when given, so that a poll does not read back what it wrote.
   */
  alertsNext?: ReadonlyMap<string, AlertRecord>;
  /** The rules in force: a summary their template renders again is not stored. */
  rules?: RuleLookup;
  outbox?: OutboxEntry[];
  digest?: DigestEntry[];
  /** The whole rate history after this poll (replaces the stored one); absent: leave it as it is. */
  history?: History;
}

/** Rules by name (CompiledRuleSet.ruleByName): to render summaries that are not stored. */
export type RuleLookup = ReadonlyMap<string, Rule>;

/** A product's names and how many stored alerts refer to it. */
interface ProductEntry extends ProductNames {
  id: string | null;
  refs: number;
}

/** A record field's rule and warehouse, as readAlerts() works them out. */
interface CodePair {
  rule: string;
  warehouseId: string | null;
  warehouse: string | null;
  /** alertKey() of the pair without the product: the key of a record is this + its product id. */
  keyStart: string;
  definition: Rule | undefined;
}

/** The alert state as of a generation: what the last load() read or this process last committed. */
interface AlertCache {
  gen: number;
  layout: Layout;
  alerts: AlertState;
  /** By encoded product id. */
  products: Map<string, ProductEntry>;
  /** Read from the layout before this one: the next commit rewrites every record. */
  legacy?: boolean;
}

// Redis takes big commands, but one HSET of 400,000 arguments holds a lot of memory on both sides.
const CHUNK = 5000;
/** Records per pipeline when a rewrite is written ahead of its commit: bounds what is held in memory at once. */
const STAGE_SLICE = 5_000;
/**
 * A staged bucket set this old is taken for the leftover of a crashed commit and deleted. Safety
 * does not depend on it (a commit whose staging was deleted is refused); it only keeps a slow
 * attempt from being cut short by another replica's commit.
 */
export const ABANDONED_STAGING_MS = 10 * 60_000;

export class StateStore {
  readonly keys: StateKeys;
  private cache: AlertCache | null = null;

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

  /** true when no poll has committed under this prefix: a new deployment, or a Redis that lost its data. */
  async isEmpty(): Promise<boolean> {
    return (await this.redis.exists(this.keys.meta)) === 0;
  }

  async loadMeta(): Promise<PollMeta> {
    return decodeMeta(await this.redis.hgetall(this.keys.meta));
  }

  /**
   * The poll bookkeeping and every alert record. The records come from memory when this process
   * read or committed the generation that is in Redis now; otherwise (another replica polled,
   * or nothing is known yet) they are read back whole. The map is shared: do not change it.
   */
  async load(rules?: RuleLookup): Promise<LoadedState> {
    // The rate history is read every time, as it is written every poll (whole, see commit).
    const [raw, history] = await Promise.all([this.redis.hgetall(this.keys.meta), this.redis.hgetallBuffer(this.keys.history)]);
    const meta = decodeMeta(raw);
    const cache = this.cache !== null && this.cache.gen === meta.gen ? this.cache : await this.readAlerts(meta.gen, raw.layout, rules);
    const decoded = decodeHistory(history);
    return { meta, alerts: cache.alerts, history: decoded.history, historyProblems: decoded.problems };
  }

  /** Forgets the records held in memory (the next load() reads them back). */
  forget(): void {
    this.cache = null;
  }

  private async readAlerts(gen: number, layoutJson: string | undefined, rules: RuleLookup | undefined): Promise<AlertCache> {
    const layout = parseLayout(layoutJson);
    if (layoutJson === undefined) {
      const legacy = await this.redis.hgetall(this.keys.legacyAlerts);
      if (Object.keys(legacy).length > 0) return this.readLegacy(gen, layout, legacy);
    }
    const pipe = this.redis.pipeline();
    // call() hands back Redis's reply as it is, a flat [field, value, …] array; ioredis's hgetall()
    // would make an object of ~100 properties of each bucket first (and for-in over those is slow):
    // that alone took seconds at 300,000 records.
    for (let b = 0; b < layout.productBuckets; b++) pipe.call('HGETALL', this.keys.productBucket(b));
    for (let b = 0; b < layout.alertBuckets; b++) pipe.call('HGETALL', this.keys.alertBucket(b));
    const replies = (await pipe.exec()) ?? [];
    const fieldsAndValues = (i: number): string[] => {
      const [err, reply] = replies[i];
      if (err) throw err;
      if (!Array.isArray(reply)) throw new Error(`HGETALL answered ${typeof reply}, not a field/value array`);
      return reply as string[];
    };
    const products = new Map<string, ProductEntry>();
    let i = 0;
    for (; i < layout.productBuckets; i++) {
      const h = fieldsAndValues(i);
      for (let j = 0; j < h.length; j += 2) {
        const names = decodeProduct(h[j + 1]);
        products.set(h[j], { sku: names.sku, product: names.product, id: decodeId(h[j]), refs: 0 });
      }
    }
    // What a field's `rule.warehouse.` codes stand for, worked out once per pair rather than per record.
    const pairs = new Map<string, CodePair>();
    const pairOf = (codes: string): CodePair => {
      const dot = codes.indexOf('.');
      const rule = layout.rules[parseInt(codes.slice(0, dot), 36)];
      const [warehouseId, warehouse] = layout.warehouses[parseInt(codes.slice(dot + 1, -1), 36)];
      const pair = { rule, warehouseId, warehouse, keyStart: alertKey(rule, warehouseId, null), definition: rules?.get(rule) };
      pairs.set(codes, pair);
      return pair;
    };
    const keyList: string[] = [];
    const recordList: AlertRecord[] = [];
    // Each product's records, noted while its entry is at hand: what a commit's lookups go through.
    const positions = new Map<ProductEntry, number[]>();
    for (; i < replies.length; i++) {
      const h = fieldsAndValues(i);
      for (let j = 0; j < h.length; j += 2) {
        const field = h[j];
        const productAt = field.indexOf('.', field.indexOf('.') + 1) + 1;
        const codes = field.slice(0, productAt);
        const pair = pairs.get(codes) ?? pairOf(codes);
        const enc = field.slice(productAt);
        let product = products.get(enc);
        if (product === undefined) products.set(enc, (product = { sku: null, product: null, id: decodeId(enc), refs: 0 }));
        product.refs++;
        const record = decodeValue(pair.rule, pair.warehouseId, pair.warehouse, product.id, product, h[j + 1], pair.definition, layout.epoch);
        const ofProduct = positions.get(product);
        if (ofProduct === undefined) positions.set(product, [recordList.length]);
        else ofProduct.push(recordList.length);
        // alertKey(rule, warehouseId, productId), with the rule and warehouse part made once.
        keyList.push(pair.keyStart + (product.id ?? ''));
        recordList.push(record);
      }
    }
    const byProduct = new Map<string, number[]>();
    for (const [product, list] of positions) {
      const part = productPart(product.id ?? '');
      const had = byProduct.get(part);
      byProduct.set(part, had === undefined ? list : had.concat(list));
    }
    // In bucket order, and without a map by key (AlertState.readBack).
    return (this.cache = { gen, layout, alerts: AlertState.readBack(keyList, recordList, byProduct), products });
  }

  /** The records of the one-hash layout before the buckets, as a cache whose next commit moves them over. */
  private readLegacy(gen: number, layout: Layout, legacy: Record<string, string>): AlertCache {
    const alerts = new Map<string, AlertRecord>();
    const products = new Map<string, ProductEntry>();
    for (const key in legacy) {
      const record = decodeLegacyRecord(key, legacy[key]);
      alerts.set(key, record);
      const enc = encodeId(record.alert.productId);
      const p = products.get(enc);
      if (p === undefined) products.set(enc, { sku: record.alert.sku, product: record.alert.product, id: record.alert.productId, refs: 1 });
      else p.refs++;
    }
    return (this.cache = { gen, layout, alerts: AlertState.fromMap(alerts), products, legacy: true });
  }

  /** Writes everything in `c` atomically; false (and nothing written) when another poll committed first. */
  async commit(c: Commit): Promise<boolean> {
    const { keys, redis } = this;
    await this.dropAbandonedStaging();
    // The alert writes are worked out against the state this commit builds on: in memory when it
    // is the expected generation, else read (and a moved generation refuses the commit below).
    let cache = this.cache;
    if (cache === null || cache.gen !== c.expectedGen) {
      const raw = await redis.hgetall(keys.meta);
      cache = await this.readAlerts(Number(raw.gen ?? 0), raw.layout, c.rules);
    }
    const plan = planAlertWrites(cache, c);
    const staged = plan.rewrite === null ? null : await this.stage(plan.rewrite, c.rules);

    // The staging registry is watched too: a crash cleanup that deleted this attempt's buckets
    // (dropAbandonedStaging) then refuses the commit instead of switching to what is left of them.
    // (Another rewrite registering meanwhile refuses it as well: two polls racing, one of which
    // would be refused anyway; the other then commits.)
    await (staged === null ? redis.watch(keys.meta) : redis.watch(keys.meta, keys.staging));
    const gen = Number((await redis.hget(keys.meta, 'gen')) ?? 0);
    const stillStaged = staged === null || (await redis.hexists(keys.staging, staged.tag)) === 1;
    if (gen !== c.expectedGen || cache.gen !== c.expectedGen || !stillStaged) {
      await redis.unwatch();
      await this.discardStaged(staged);
      return false;
    }
    const tx = redis.multi();
    if (cache.legacy) tx.del(keys.legacyAlerts);
    if (plan.dropAlertBuckets > 0) tx.del(...range(plan.dropAlertBuckets).map((b) => keys.alertBucket(b)));
    if (staged !== null) {
      // Into the places just emptied (RENAME is O(1): the records are not copied).
      for (const b of staged.written) tx.rename(keys.stagedAlertBucket(staged.tag, b), keys.alertBucket(b));
      tx.hdel(keys.staging, staged.tag);
    }
    if (plan.dropProductBuckets > 0) tx.del(...range(plan.dropProductBuckets).map((b) => keys.productBucket(b)));
    for (const [b, fields] of plan.productSet) tx.hset(keys.productBucket(b), ...fields);
    for (const [b, fields] of plan.productDel) tx.hdel(keys.productBucket(b), ...fields);
    for (const [b, fields] of plan.alertSet) tx.hset(keys.alertBucket(b), ...fields);
    for (const [b, fields] of plan.alertDel) tx.hdel(keys.alertBucket(b), ...fields);
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
    const meta: Record<string, string> = { ...encodeMeta(c.meta), gen: String(c.expectedGen + 1) };
    if (plan.layoutChanged) meta.layout = JSON.stringify(plan.layout);
    tx.hset(keys.meta, meta);
    let result: Awaited<ReturnType<typeof tx.exec>>;
    try {
      result = await tx.exec();
    } catch (err) {
      // Whether it landed is unknown: read it back next time. Staged buckets stay registered: if
      // the commit landed, its EXEC unregistered them; if not, a later commit deletes them.
      this.cache = null;
      throw err;
    }
    if (result === null) {
      await this.discardStaged(staged);
      return false;
    }
    const failed = result.find(([err]) => err);
    if (failed) {
      this.cache = null;
      throw failed[0];
    }
    const alerts = c.alertsNext === undefined ? plan.alerts() : AlertState.of(c.alertsNext);
    // The state just replaced hands its by-key index on, patched with this commit's changes.
    if (plan.changes !== null) alerts.adoptIndex(cache.alerts, plan.changes, plan.deleted);
    this.cache = { gen: c.expectedGen + 1, layout: plan.layout, alerts, products: plan.products };
    return true;
  }

  /**
   * Writes every record of a rewrite into staged buckets under a fresh tag, outside the
   * transaction (nothing reads them until the commit renames them into place), registered first
   * so that a crash leaves something to find. Slices are pipelined one ahead: the next is encoded while
   * Redis stores the last, and none is held in memory longer than that.
   */
  private async stage(rewrite: AlertRewrite, rules: RuleLookup | undefined): Promise<StagedBuckets> {
    const { keys, redis } = this;
    const staged: StagedBuckets = { tag: randomBytes(6).toString('base64url'), buckets: rewrite.buckets, written: [] };
    await redis.hset(keys.staging, staged.tag, `${Date.now()}:${staged.buckets}`);
    try {
      let inFlight: Promise<Error | null> | null = null;
      for (let b = 0; b < rewrite.buckets; ) {
        const pipe = redis.pipeline();
        for (let n = 0; b < rewrite.buckets && n < STAGE_SLICE; b++) {
          const fields = rewrite.fields[b];
          if (fields.length === 0) continue;
          const records = rewrite.records[b];
          const args: string[] = new Array<string>(fields.length * 2);
          for (let i = 0; i < fields.length; i++) {
            args[2 * i] = fields[i];
            args[2 * i + 1] = encodeValue(records[i], rules?.get(records[i].alert.rule), rewrite.epoch);
          }
          pipe.hset(keys.stagedAlertBucket(staged.tag, b), ...args);
          staged.written.push(b);
          n += fields.length;
        }
        // Settled into a value at once: a failure must not count as unhandled while the next slice is encoded.
        const sent = pipe.exec().then(firstError, (err: Error) => err);
        const failed = inFlight === null ? null : await inFlight;
        if (failed !== null) throw failed;
        inFlight = sent;
      }
      const failed = inFlight === null ? null : await inFlight;
      if (failed !== null) throw failed;
    } catch (err) {
      await this.discardStaged(staged).catch(() => undefined); // else a later commit deletes them
      throw err;
    }
    return staged;
  }

  /** Deletes staged buckets that will not be committed, and their registration. */
  private async discardStaged(staged: Pick<StagedBuckets, 'tag' | 'buckets'> | null): Promise<void> {
    if (staged === null) return;
    const bucketKeys = range(staged.buckets).map((b) => this.keys.stagedAlertBucket(staged.tag, b));
    for (const part of chunks(bucketKeys, CHUNK)) await this.redis.del(...part);
    await this.redis.hdel(this.keys.staging, staged.tag);
  }

  /**
   * Deletes what commits that crashed between staging and EXEC left: registrations older than
   * ABANDONED_STAGING_MS. A committed tag is never registered (its EXEC unregistered it), so this
   * never touches the live buckets; and an attempt still running whose staging is deleted here is
   * refused at its EXEC (it WATCHes the registry), never switched to an incomplete set.
   */
  private async dropAbandonedStaging(): Promise<void> {
    const registered = await this.redis.hgetall(this.keys.staging);
    for (const tag in registered) {
      const [startedMs, buckets] = registered[tag].split(':').map(Number);
      if (!(Date.now() - startedMs < ABANDONED_STAGING_MS)) await this.discardStaged({ tag, buckets: Number.isSafeInteger(buckets) ? buckets : 0 });
    }
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

  /** Alerts as stored, pending ones included (for digests and the status page). `rules` render the summaries not stored. */
  async firingAlerts(rules?: RuleLookup): Promise<AlertRecord[]> {
    const raw = await this.redis.hgetall(this.keys.meta);
    const gen = Number(raw.gen ?? 0);
    const cache = this.cache !== null && this.cache.gen === gen ? this.cache : await this.readAlerts(gen, raw.layout, rules);
    return [...cache.alerts.values()];
  }

  /** When each alert started firing, by alertKey(); null for one not firing now. */
  async firstSeen(keys: string[]): Promise<Array<number | null>> {
    const layout = parseLayout((await this.redis.hget(this.keys.meta, 'layout')) ?? undefined);
    const ruleCodes = new Map(layout.rules.map((r, i) => [r, i]));
    const warehouseCodes = new Map(layout.warehouses.map(([id], i) => [id, i]));
    const out: Array<number | null> = keys.map(() => null);
    const byBucket = new Map<number, Array<{ at: number; field: string }>>();
    keys.forEach((key, at) => {
      const [rule, warehouseId, productId] = key.split('\u001f');
      const r = ruleCodes.get(rule);
      const w = warehouseCodes.get(warehouseId === '' ? null : warehouseId);
      if (r === undefined || w === undefined) return;
      const field = recordField(r, w, encodeId(productId === '' ? null : productId));
      const b = bucketOf(field, layout.alertBuckets);
      let list = byBucket.get(b);
      if (list === undefined) byBucket.set(b, (list = []));
      list.push({ at, field });
    });
    for (const [b, list] of byBucket) {
      for (const part of chunks(list, CHUNK)) {
        const values = await this.redis.hmget(this.keys.alertBucket(b), ...part.map((x) => x.field));
        values.forEach((v, i) => {
          if (v !== null) out[part[i].at] = firstSeenOf(v, layout.epoch);
        });
      }
    }
    return out;
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The first error in a pipeline's replies, or null. */
function firstError(replies: Array<[Error | null, unknown]> | null): Error | null {
  for (const [err] of replies ?? []) if (err) return err;
  return null;
}

/** Alert buckets written ahead of a commit: `tag` names their keys (keys.stagedAlertBucket). */
interface StagedBuckets {
  tag: string;
  buckets: number;
  /** The buckets written (an empty one is not a key). */
  written: number[];
}

/** Every record, by the bucket it goes to: what a commit that rewrites them all writes (encoded when sent). */
interface AlertRewrite {
  buckets: number;
  /** Layout.epoch of the records. */
  epoch: number;
  fields: string[][];
  records: AlertRecord[][];
}

function push<K>(map: Map<K, string[]>, key: K, ...values: string[]): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, values);
  else list.push(...values);
}

interface AlertWrites {
  layout: Layout;
  layoutChanged: boolean;
  /** Buckets to delete whole first (a resize rewrites everything). */
  dropAlertBuckets: number;
  dropProductBuckets: number;
  /** Every record, when the commit rewrites them all (written ahead of the transaction: StateStore.stage). */
  rewrite: AlertRewrite | null;
  alertSet: Map<number, string[]>;
  alertDel: Map<number, string[]>;
  productSet: Map<number, string[]>;
  productDel: Map<number, string[]>;
  /** The products after the commit. */
  products: Map<string, ProductEntry>;
  /** The records after the commit (when the caller did not give them). */
  alerts: () => AlertState;
  /** The records written, by key; null when nothing was stored before (their keys were not made). */
  changes: Array<[string, AlertRecord]> | null;
  /** The keys deleted. */
  deleted: string[];
}

/** What a commit writes for its alert changes, against `cache` (the state it builds on; left unchanged). */
function planAlertWrites(cache: AlertCache, c: Commit): AlertWrites {
  const layout = cloneLayout(cache.layout);
  let layoutChanged = false;
  const ruleCodes = new Map(layout.rules.map((r, i) => [r, i]));
  const warehouseCodes = new Map(layout.warehouses.map(([id], i) => [id, i]));
  const ruleCode = (rule: string): number => {
    let code = ruleCodes.get(rule);
    if (code === undefined) {
      ruleCodes.set(rule, (code = layout.rules.push(rule) - 1));
      layoutChanged = true;
    }
    return code;
  };
  const warehouseCode = (id: string | null, name: string | null): number => {
    let code = warehouseCodes.get(id);
    if (code === undefined) {
      warehouseCodes.set(id, (code = layout.warehouses.push([id, name]) - 1));
      layoutChanged = true;
    } else if (layout.warehouses[code][1] !== name) {
      layout.warehouses[code][1] = name;
      layoutChanged = true;
    }
    return code;
  };
  const fieldOf = (rule: string, warehouseId: string | null, productEnc: string): string | null => {
    const r = ruleCodes.get(rule);
    const w = warehouseCodes.get(warehouseId);
    return r === undefined || w === undefined ? null : recordField(r, w, productEnc);
  };

  // Products: copy-on-write entries, so that a refused commit leaves the cache as it was.
  const products = new Map(cache.products);
  const touched = new Set<string>();
  const entry = (enc: string, id: string | null): ProductEntry => {
    let e = products.get(enc);
    if (e === undefined) e = { sku: null, product: null, id, refs: 0 };
    else if (touched.has(enc)) return e;
    else e = { ...e };
    products.set(enc, e);
    touched.add(enc);
    return e;
  };
  const namesChanged = new Set<string>();

  // This commit's records and their fields: encoded when written (a rewrite encodes them slice by slice).
  const setFields: string[] = [];
  const setRecords: AlertRecord[] = [];
  const dels: string[] = [];
  const setKeys: string[] = [];
  let added = 0;
  // Products repeat across rules and warehouses: encode each id once.
  const encoded = new Map<string | null, string>();
  const encodeOnce = (id: string | null): string => {
    let enc = encoded.get(id);
    if (enc === undefined) encoded.set(id, (enc = encodeId(id)));
    return enc;
  };
  // With nothing stored (a first poll) every record is new: no alertKey() to make and look up.
  const nothingStored = cache.alerts.size === 0;
  // The latest first seen written: where a new epoch would go (below).
  let latest = -Infinity;
  for (const r of c.alertsSet ?? []) {
    if (r.firstSeenMs > latest) latest = r.firstSeenMs;
    const a = r.alert;
    const enc = encodeOnce(a.productId);
    const stored = products.has(enc);
    const e = entry(enc, a.productId);
    let known = false;
    if (!nothingStored) {
      const key = alertKey(a.rule, a.warehouseId, a.productId);
      setKeys.push(key);
      known = cache.alerts.has(key);
    }
    if (!known) {
      e.refs++;
      added++;
    }
    if (!stored || e.sku !== a.sku || e.product !== a.product) {
      e.sku = a.sku;
      e.product = a.product;
      namesChanged.add(enc);
    }
    setFields.push(recordField(ruleCode(a.rule), warehouseCode(a.warehouseId, a.warehouse), enc));
    setRecords.push(r);
  }
  const deleted: string[] = [];
  for (const key of c.alertsDel ?? []) {
    const before = cache.alerts.get(key);
    // (The lifecycle never sets and removes one key in the same poll.)
    if (before === undefined) continue;
    deleted.push(key);
    const a = before.alert;
    const enc = encodeId(a.productId);
    entry(enc, a.productId).refs--;
    const field = fieldOf(a.rule, a.warehouseId, enc);
    if (field !== null) dels.push(field);
  }

  const alertCount = cache.alerts.size + added - deleted.length;
  const productGone = [...touched].filter((enc) => products.get(enc)!.refs <= 0);
  for (const enc of productGone) products.delete(enc);
  const nextAlerts = (): AlertState => {
    // A poll that changed no alert (a failed fetch): the same state, not a copy of 10^5 records.
    if (setRecords.length === 0 && deleted.length === 0) return cache.alerts;
    const m = new Map(cache.alerts);
    for (const r of c.alertsSet ?? []) m.set(alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId), r);
    for (const key of deleted) m.delete(key);
    return AlertState.fromMap(m);
  };

  const plan: AlertWrites = {
    layout, layoutChanged, dropAlertBuckets: 0, dropProductBuckets: 0, rewrite: null,
    alertSet: new Map(), alertDel: new Map(), productSet: new Map(), productDel: new Map(),
    products, alerts: nextAlerts,
    changes: nothingStored ? null : setKeys.map((key, i) => [key, setRecords[i]]), deleted,
  };

  const alertBuckets = bucketsFor(alertCount, layout.alertBuckets);
  // After an upgrade nothing is in the buckets yet: everything is written, as in a resize.
  const rewriteAll = alertBuckets !== layout.alertBuckets || cache.legacy === true;
  if (rewriteAll || nothingStored) {
    // Every record is written anew: their times can be written from a new epoch, close to them
    // (the latest first seen is about now, and new alerts' are later).
    const epoch = Math.floor(latest / 1000);
    if (Number.isSafeInteger(epoch) && epoch !== layout.epoch) {
      layout.epoch = epoch;
      layoutChanged = true;
    }
  }
  if (rewriteAll) {
    // Resize: every record is rewritten into the new buckets.
    plan.dropAlertBuckets = layout.alertBuckets;
    layout.alertBuckets = alertBuckets;
    layoutChanged = true;
    const rewrite: AlertRewrite = { buckets: alertBuckets, epoch: layout.epoch, fields: [], records: [] };
    for (let b = 0; b < alertBuckets; b++) {
      rewrite.fields.push([]);
      rewrite.records.push([]);
    }
    const place = (field: string, r: AlertRecord): void => {
      const b = bucketOf(field, alertBuckets);
      rewrite.fields[b].push(field);
      rewrite.records[b].push(r);
    };
    for (let i = 0; i < setFields.length; i++) place(setFields[i], setRecords[i]);
    if (cache.alerts.size > 0) {
      const written = new Set([...setKeys, ...deleted]);
      for (const [key, r] of cache.alerts) {
        if (written.has(key)) continue;
        const a = r.alert;
        place(recordField(ruleCode(a.rule), warehouseCode(a.warehouseId, a.warehouse), encodeOnce(a.productId)), r);
      }
    }
    plan.rewrite = rewrite;
  } else {
    for (let i = 0; i < setFields.length; i++) {
      const r = setRecords[i];
      push(plan.alertSet, bucketOf(setFields[i], alertBuckets), setFields[i], encodeValue(r, c.rules?.get(r.alert.rule), layout.epoch));
    }
    for (const field of dels) push(plan.alertDel, bucketOf(field, alertBuckets), field);
  }

  const productBuckets = bucketsFor(products.size, layout.productBuckets);
  if (productBuckets !== layout.productBuckets || cache.legacy) {
    plan.dropProductBuckets = layout.productBuckets;
    layout.productBuckets = productBuckets;
    layoutChanged = true;
    for (const [enc, p] of products) push(plan.productSet, bucketOf(enc, productBuckets), enc, encodeProduct(p));
  } else {
    for (const enc of namesChanged) {
      const p = products.get(enc);
      if (p !== undefined) push(plan.productSet, bucketOf(enc, productBuckets), enc, encodeProduct(p));
    }
    for (const enc of productGone) push(plan.productDel, bucketOf(enc, productBuckets), enc);
  }
  plan.layoutChanged = layoutChanged;
  return plan;
}

function* chunks<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
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
