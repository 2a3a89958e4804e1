// The state store's commit on real Redis: all or nothing, and only on the generation it read.
import IORedis from 'ioredis';
import { StateStore } from '../../src/state/store';
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
