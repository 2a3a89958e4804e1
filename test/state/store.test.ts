// The state store's commit on real Redis: all or nothing, and only on the generation it read.
import IORedis from 'ioredis';
import { AlertState } from '../../src/engine/alert-state';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { alertKey } from '../../src/model';
import { encodeId, encodeProduct, encodeValue, parseLayout, recordField, type Layout } from '../../src/state/alert-records';
import { stateKeys } from '../../src/state/keys';
import { ABANDONED_STAGING_MS, StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';

describe('StateStore.commit', () => {
  const prefix = uniquePrefix('store');
  const a = new IORedis(REDIS_URL);
  const b = new IORedis(REDIS_URL);
  afterAll(async () => {
    await cleanPrefix(prefix);
    a.disconnect();
    b.disconnect();
  });

  const record = (rule: string) => ({
    alert: {
      rule, type: 'negative_reserved' as const, severity: 'critical' as const, status: 'firing' as const,
      warehouseId: 'w1', warehouse: 'Main', productId: 'p1', sku: 'SKU-1', product: 'One',
      available: 1, incoming: 0, reserved: -2, updatedAt: '2026-11-27T00:00:00Z', summary: null, silenced: false, inhibited: false,
    },
    firstSeenMs: 1000,
    lastNotifiedMs: 1000,
  });

  test('two polls that read the same state: the first commit lands whole, the second writes nothing', async () => {
    const storeA = new StateStore(a, prefix);
    const storeB = new StateStore(b, prefix);
    const [seenA, seenB] = await Promise.all([storeA.load(), storeB.load()]);
    expect(seenA.meta.gen).toBe(seenB.meta.gen);

    const outbox = (id: string) => [{ id, queue: 'slack', data: { id }, channel: 'ops', order: 1 }];
    expect(await storeA.commit({ expectedGen: seenA.meta.gen, meta: { lastPollOk: true }, alertsSet: [record('a')], outbox: outbox('a-1') })).toBe(true);
    expect(await storeB.commit({ expectedGen: seenB.meta.gen, meta: { lastPollOk: false }, alertsSet: [record('b')], outbox: outbox('b-1') })).toBe(false);

    const after = await storeA.load();
    expect(after.meta.gen).toBe(seenA.meta.gen + 1);
    expect(after.meta.lastPollOk).toBe(true);
    expect([...after.alerts.values()].map((r) => r.alert.rule)).toEqual(['a']);
    expect((await storeA.pendingOutbox()).map((e) => e.id)).toEqual(['a-1']);
    expect(await a.zrange(storeA.orderKey('ops'), '0', '-1')).toEqual(['a-1']);
  });

  test('alert records round-trip, and firstSeen reads them without the rest', async () => {
    const store = new StateStore(a, prefix);
    const { meta } = await store.load();
    const r = { ...record('rt'), alert: { ...record('rt').alert, warehouse: null, sku: null, product: 'Ünïcødé <b>', summary: 'x — y' } };
    expect(await store.commit({ expectedGen: meta.gen, meta: {}, alertsSet: [r] })).toBe(true);
    // A store of another process reads it back from Redis, not from memory.
    const loaded = (await new StateStore(b, prefix).load()).alerts.get('rt\u001fw1\u001fp1');
    expect(loaded).toEqual(r);
    expect(await store.firstSeen(['rt\u001fw1\u001fp1', 'nope\u001fw1\u001fp1'])).toEqual([1000, null]);
  });
});

// A commit that rewrites every record (the first big one, a resize, an upgrade) writes them ahead
// of its transaction into staged buckets; the transaction renames them into place or not at all.
describe('StateStore: records written ahead of the commit', () => {
  const prefix = uniquePrefix('staged');
  const a = new IORedis(REDIS_URL);
  const b = new IORedis(REDIS_URL);
  const keys = stateKeys(prefix);
  afterAll(async () => {
    await cleanPrefix(prefix);
    a.disconnect();
    b.disconnect();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await cleanPrefix(prefix);
  });

  const uuid = (i: number): string => `0f8e${String(i).padStart(4, '0')}-1a2b-4c3d-8e4f-${String(i).padStart(12, '0')}`;
  const recordOf = (rule: string, p: number): AlertRecord => ({
    alert: {
      rule, type: 'low_available', severity: 'warning', status: 'firing', warehouseId: 'w1', warehouse: 'Main', productId: uuid(p), sku: `SKU-${p}`, product: `P ${p}`,
      available: p % 5, incoming: 0, reserved: 1, updatedAt: '2026-11-27T10:11:12.123Z', summary: null, silenced: false, inhibited: false,
    },
    firstSeenMs: 1_790_000_000_000 + p,
    lastNotifiedMs: null,
  });
  // More than one bucket holds (BUCKET_FILL): the commit resizes, so it stages.
  const many = (rule: string, n: number): AlertRecord[] => Array.from({ length: n }, (_, p) => recordOf(rule, p));
  const mapOf = (records: AlertRecord[]): Map<string, AlertRecord> => new Map(records.map((r) => [alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId), r]));
  const layoutOf = async (): Promise<Layout> => parseLayout((await a.hget(keys.meta, 'layout')) ?? undefined);
  const bucketKeys = async (): Promise<string[]> => (await a.keys(`${prefix}:state:alerts:*`)).sort();
  const stagedKeys = async (): Promise<string[]> => (await a.keys(`${prefix}:state:staged:*`)).sort();
  /** Redis as a commit inside the transaction leaves it: buckets alerts:<n> (n < the layout's count), small, nothing staged. */
  const expectInPlace = async (l: Layout): Promise<void> => {
    const live = Array.from({ length: l.alertBuckets }, (_, i) => keys.alertBucket(i));
    for (const key of await bucketKeys()) {
      expect(live).toContain(key);
      expect(await a.call('OBJECT', 'ENCODING', key)).toBe('listpack');
    }
    expect(await stagedKeys()).toEqual([]);
    expect(await a.exists(keys.staging)).toBe(0);
    // The layout is the one the code before staging wrote and reads, and the time base of its records.
    expect(Object.keys(JSON.parse((await a.hget(keys.meta, 'layout'))!)).sort()).toEqual(['alertBuckets', 'epoch', 'productBuckets', 'rules', 'warehouses']);
    // From the latest first seen of the records written: theirs are written in a few characters.
    expect(l.epoch).toBe(Math.floor(Math.max(...[...(await new StateStore(b, prefix).load()).alerts.values()].map((r) => r.firstSeenMs)) / 1000));
  };

  test('polls that follow each other answer by key from memory as a read-back does (the index one state hands to the next)', async () => {
    const store = new StateStore(a, prefix);
    const keyOf = (r: AlertRecord): string => alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId);
    let live = many('low', 150);
    let next = live.length;
    const first = await store.load();
    expect(await store.commit({ expectedGen: first.meta.gen, meta: {}, alertsSet: live, alertsNext: AlertState.fromMap(mapOf(live)) })).toBe(true);
    for (let poll = 1; poll <= 6; poll++) {
      // Then each by a process that reads the state back (its lookups go by product).
      const writer = poll <= 3 ? store : new StateStore(a, prefix);
      const loaded = await writer.load();
      // As the lifecycle does when an alert is not where the walk expects it: the state has an index to hand on.
      expect(loaded.alerts.get(keyOf(live[poll]))).toEqual(live[poll]);
      const removed = live.filter((_, i) => i % 7 === poll);
      const changed = live.filter((_, i) => i % 11 === poll && i % 7 !== poll).map((r) => ({ ...r, lastNotifiedMs: 1_790_000_000_000 + poll }));
      const added = Array.from({ length: 5 }, (_, i) => recordOf('low', next + i));
      next += added.length;
      const byKey = mapOf(live);
      for (const r of removed) byKey.delete(keyOf(r));
      for (const r of [...changed, ...added]) byKey.set(keyOf(r), r);
      live = [...byKey.values()];
      const alertsNext = new AlertState([...byKey.keys()], live);
      expect(await writer.commit({ expectedGen: loaded.meta.gen, meta: {}, alertsSet: [...changed, ...added], alertsDel: removed.map(keyOf), alertsNext })).toBe(true);

      const inMemory = (await writer.load()).alerts;
      expect(inMemory).toBe(alertsNext);
      const readBack = (await new StateStore(b, prefix).load()).alerts;
      expect(inMemory.size).toBe(readBack.size);
      for (const [key, r] of readBack) expect(inMemory.get(key)).toEqual(r);
      for (const r of removed) expect(inMemory.has(keyOf(r))).toBe(false);
    }
    // A poll that changed no alert (a failed fetch) keeps the very same state: no copy of every record.
    const kept = await store.load();
    expect(await store.commit({ expectedGen: kept.meta.gen, meta: { lastPollOk: false } })).toBe(true);
    expect((await store.load()).alerts).toBe(kept.alerts);
  });

  test('a first commit and a resize write their records ahead and rename them into the usual buckets', async () => {
    const store = new StateStore(a, prefix);
    const first = many('low', 300);
    let { meta } = await store.load();
    expect(await store.commit({ expectedGen: meta.gen, meta: {}, alertsSet: first, alertsNext: mapOf(first) })).toBe(true);
    const l1 = await layoutOf();
    expect(l1.alertBuckets).toBeGreaterThan(1);
    await expectInPlace(l1);
    expect(new Map((await new StateStore(b, prefix).load()).alerts)).toEqual(mapOf(first));

    const more = many('other', 600);
    ({ meta } = await store.load());
    const all = [...first, ...more];
    expect(await store.commit({ expectedGen: meta.gen, meta: {}, alertsSet: more, alertsNext: mapOf(all) })).toBe(true);
    const l2 = await layoutOf();
    expect(l2.alertBuckets).toBeGreaterThan(l1.alertBuckets);
    await expectInPlace(l2);
    expect(new Map((await new StateStore(b, prefix).load()).alerts)).toEqual(mapOf(all));
  });

  test('a refused rewrite leaves nothing behind: another poll committed first', async () => {
    const storeA = new StateStore(a, prefix);
    const storeB = new StateStore(b, prefix);
    const [seenA, seenB] = await Promise.all([storeA.load(), storeB.load()]);
    const small = [recordOf('b', 1)];
    expect(await storeB.commit({ expectedGen: seenB.meta.gen, meta: {}, alertsSet: small, alertsNext: mapOf(small) })).toBe(true);
    const big = many('a', 400);
    expect(await storeA.commit({ expectedGen: seenA.meta.gen, meta: {}, alertsSet: big, alertsNext: mapOf(big) })).toBe(false);
    expect(await bucketKeys()).toEqual([keys.alertBucket(0)]);
    expect(await stagedKeys()).toEqual([]);
    expect(await a.exists(keys.staging)).toBe(0);
    expect(new Map((await new StateStore(a, prefix).load()).alerts)).toEqual(mapOf(small));
  });

  test('a crash after staging leaves the state as it was; a later commit deletes the leftovers once they are old', async () => {
    const before = [recordOf('kept', 1)];
    const crashing = new StateStore(a, prefix);
    let { meta } = await crashing.load();
    expect(await crashing.commit({ expectedGen: meta.gen, meta: {}, alertsSet: before, alertsNext: mapOf(before) })).toBe(true);
    ({ meta } = await crashing.load());

    // The process dies between writing its records ahead and its transaction.
    jest.spyOn(a, 'watch').mockRejectedValueOnce(new Error('killed'));
    const big = many('lost', 400);
    await expect(crashing.commit({ expectedGen: meta.gen, meta: {}, alertsSet: big, alertsNext: mapOf([...before, ...big]) })).rejects.toThrow('killed');
    const registered = await a.hgetall(keys.staging);
    const [tag] = Object.keys(registered);
    expect(Object.keys(registered)).toHaveLength(1);
    expect((await stagedKeys()).length).toBeGreaterThan(0);
    for (const key of await stagedKeys()) expect(key.startsWith(`${prefix}:state:staged:${tag}:`)).toBe(true);
    // Nothing of it is seen: the layout does not name it.
    const other = new StateStore(b, prefix);
    const seen = await other.load();
    expect(seen.meta.gen).toBe(meta.gen);
    expect(new Map(seen.alerts)).toEqual(mapOf(before));

    // A commit while the leftovers are recent leaves them (they could be a slow attempt's) ...
    expect(await other.commit({ expectedGen: seen.meta.gen, meta: {}, alertsSet: [recordOf('kept', 2)] })).toBe(true);
    expect(await a.hexists(keys.staging, tag)).toBe(1);
    // ... and deletes them once they are older than any attempt can be.
    const [, buckets] = registered[tag].split(':');
    await a.hset(keys.staging, tag, `${Date.now() - ABANDONED_STAGING_MS - 1}:${buckets}`);
    const again = await other.load();
    expect(await other.commit({ expectedGen: again.meta.gen, meta: {} })).toBe(true);
    expect(await a.exists(keys.staging)).toBe(0);
    expect(await stagedKeys()).toEqual([]);
    expect(await bucketKeys()).toEqual([keys.alertBucket(0)]);
    expect((await new StateStore(a, prefix).load()).alerts.size).toBe(2);
  });

  test('an attempt whose staged records were deleted under it (taken for a crash) is refused, not switched to them', async () => {
    const store = new StateStore(a, prefix);
    const { meta } = await store.load();
    const watch = a.watch.bind(a);
    // Just before the attempt WATCHes, another replica's cleanup deletes its staging.
    jest.spyOn(a, 'watch').mockImplementationOnce(async (...args: any[]) => {
      for (const tag of Object.keys(await b.hgetall(keys.staging))) {
        const staged = await b.keys(`${prefix}:state:staged:${tag}:*`);
        await b.del(...staged.slice(0, 1)); // part of it is gone already
        await b.hdel(keys.staging, tag);
      }
      return (watch as (...a: any[]) => Promise<'OK'>)(...args);
    });
    const big = many('x', 400);
    expect(await store.commit({ expectedGen: meta.gen, meta: {}, alertsSet: big, alertsNext: mapOf(big) })).toBe(false);
    expect((await new StateStore(b, prefix).load()).meta.gen).toBe(meta.gen);
    expect(await bucketKeys()).toEqual([]);
    expect(await stagedKeys()).toEqual([]);
  });

  test('a state written by the code before staging loads, and a staged resize rewrites it in place', async () => {
    // As that code wrote it: two records in bucket 0, names in product bucket 0.
    const old = [recordOf('low', 1), recordOf('low', 2)];
    const layout = { rules: ['low'], warehouses: [['w1', 'Main']], alertBuckets: 1, productBuckets: 1 };
    for (const r of old) {
      await a.hset(keys.alertBucket(0), recordField(0, 0, encodeId(r.alert.productId)), encodeValue(r, undefined));
      await a.hset(keys.productBucket(0), encodeId(r.alert.productId), encodeProduct(r.alert));
    }
    await a.hset(keys.meta, { gen: '5', layout: JSON.stringify(layout) });
    expect(await bucketKeys()).toEqual([`${prefix}:state:alerts:0`]);

    const store = new StateStore(b, prefix);
    const seen = await store.load();
    expect(seen.meta.gen).toBe(5);
    expect(new Map(seen.alerts)).toEqual(mapOf(old));
    const more = many('more', 300);
    const all = [...old, ...more];
    expect(await store.commit({ expectedGen: 5, meta: {}, alertsSet: more, alertsNext: mapOf(all) })).toBe(true);
    const l = await layoutOf();
    expect(l.alertBuckets).toBeGreaterThan(1);
    await expectInPlace(l);
    expect(new Map((await new StateStore(a, prefix).load()).alerts)).toEqual(mapOf(all));
    expect(await new StateStore(a, prefix).firstSeen([alertKey('low', 'w1', uuid(2))])).toEqual([1_790_000_000_002]);
  });
});
