// The compact alert records on real Redis: what a store of another process reads back is what was
// committed, through bucket resizes, product names shared and dropped, and summaries not stored.
import IORedis from 'ioredis';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { alertKey, type Alert, type Rule } from '../../src/model';
import { decodeId, decodeProduct, decodeTime, encodeId, encodeProduct, encodeTime } from '../../src/state/alert-records';
import { StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';

const uuid = (i: number): string => `0f8e${String(i).padStart(4, '0')}-1a2b-4c3d-8e4f-${String(i).padStart(12, '0')}`;

function alertOf(rule: string, w: number, p: number, over: Partial<Alert> = {}): Alert {
  return {
    rule, type: 'low_available', severity: 'warning', status: 'firing',
    warehouseId: uuid(900 + w), warehouse: `Entrepôt ${w}`, productId: uuid(p), sku: `SKU-${p}`, product: `Product, "${p}"`,
    available: p % 7, incoming: 3, reserved: -1, updatedAt: '2026-11-27T10:11:12.123456Z', summary: null, silenced: false, inhibited: false,
    ...over,
  };
}
const recordOf = (a: Alert, over: Partial<AlertRecord> = {}): AlertRecord => ({ alert: a, firstSeenMs: 1_790_000_000_000, lastNotifiedMs: 1_790_000_000_000, ...over });
const keyOf = (r: AlertRecord): string => alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId);

describe('alert records', () => {
  const prefix = uniquePrefix('records');
  const a = new IORedis(REDIS_URL);
  const b = new IORedis(REDIS_URL);
  afterAll(async () => {
    await cleanPrefix(prefix);
    a.disconnect();
    b.disconnect();
  });

  test('ids and times come back exactly', () => {
    for (const id of [null, '', uuid(1), 'not-a-uuid', 'ABCDEF01-1a2b-4c3d-8e4f-000000000001', 'x.y\u00e9']) expect(decodeId(encodeId(id))).toBe(id);
    expect(encodeId(uuid(1))).toHaveLength(22);
    const times = [
      '2026-11-27T10:11:12.123456Z', '2026-11-27T10:11:12Z', '2026-11-27T10:11:12.000Z', '2024-02-29T23:59:59.9Z', '1969-12-31T23:59:59.5Z',
      '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '2026-11-27T10:11:12.1234567Z', '2026-11-27T10:11:12+02:00', 'yesterday',
      '2026-02-30T00:00:00Z', '', '2026-11-27T10:11:12.12345aZ',
    ];
    for (const t of times) expect(decodeTime(encodeTime(t))).toBe(t);
    // Every second of four centuries, sampled: the calendar without a Date agrees with Date's.
    for (let ms = Date.parse('1900-01-01T00:00:00Z'); ms < Date.parse('2300-01-01T00:00:00Z'); ms += 86_399_000 * 7 + 1000) {
      const iso = new Date(ms).toISOString().slice(0, 19) + 'Z';
      expect(decodeTime(encodeTime(iso))).toBe(iso);
    }
    expect(encodeTime('2026-11-27T10:11:12.123456Z').length).toBeLessThanOrEqual(12);
    for (const p of [
      { sku: 'A', product: 'B' }, { sku: null, product: null }, { sku: '', product: '' }, { sku: 'a\u001fb', product: '[x' }, { sku: '\u0000', product: 'ok' }, { sku: '[', product: null },
    ]) {
      expect(decodeProduct(encodeProduct(p))).toEqual(p);
    }
  });

  test('a store of another process reads back every record, through resizes and deletions', async () => {
    const rule: Rule = { name: 'low', summary: '{{sku}} at {{warehouse}}: {{available}} left' } as Rule;
    const rules = new Map([['low', rule]]);
    const writer = new StateStore(a, prefix);
    const state = new Map<string, AlertRecord>();
    const commit = async (set: AlertRecord[], del: string[]): Promise<void> => {
      const { meta } = await writer.load(rules);
      for (const r of set) state.set(keyOf(r), r);
      for (const k of del) state.delete(k);
      expect(await writer.commit({ expectedGen: meta.gen, meta: {}, alertsSet: set, alertsDel: del, rules, alertsNext: new Map(state) })).toBe(true);
    };
    const readBack = async (): Promise<Map<string, AlertRecord>> => new Map((await new StateStore(b, prefix).load(rules)).alerts);

    // Every variant of a record: pending, muted, never notified, repeated, keep-firing, extras,
    // a summary the template renders (not stored) and one it does not (stored), null ids and names.
    const first: AlertRecord[] = [];
    for (let p = 0; p < 30; p++) {
      const al = alertOf(p % 3 === 0 ? 'low' : 'other-rule', p % 4, p);
      if (p % 5 === 1) al.status = 'pending';
      if (p % 6 === 2) al.silenced = true;
      if (p % 7 === 3) al.inhibited = true;
      if (p % 3 === 0) al.summary = p % 2 === 0 ? `${al.sku} at ${al.warehouse}: ${al.available} left` : 'edited, by hand';
      if (p === 4) Object.assign(al, { availableElsewhere: 12, ratePerDay: 2.5, runsOutAt: '2026-12-01T00:00:00.000Z' });
      if (p === 5) Object.assign(al, { warehouseId: null, warehouse: null, productId: null, sku: null, product: null, type: 'stale_warehouse', severity: 'critical' });
      first.push(recordOf(al, { lastNotifiedMs: p % 5 === 1 ? null : p % 2 === 0 ? 1_790_000_000_000 : 1_790_000_123_456, ...(p === 8 ? { clearedSinceMs: 1_790_000_200_000 } : {}) }));
    }
    await commit(first, []);
    expect(await readBack()).toEqual(state);

    // Enough records to make the buckets double (and the products' too).
    const many = Array.from({ length: 600 }, (_, i) => recordOf(alertOf('bulk', i % 3, 1000 + i)));
    await commit(many, []);
    expect(await readBack()).toEqual(state);
    const layout = JSON.parse((await a.hget(`${prefix}:state:meta`, 'layout'))!);
    expect(layout.alertBuckets).toBeGreaterThan(1);
    // Every bucket stays small enough for Redis' compact encoding.
    for (let i = 0; i < layout.alertBuckets; i++) {
      expect(await a.hlen(`${prefix}:state:alerts:${i}`)).toBeLessThanOrEqual(128);
      expect(await a.call('OBJECT', 'ENCODING', `${prefix}:state:alerts:${i}`)).toBe('listpack');
    }

    // Renamed products, changed levels, deletions: the last alert of a product takes its names along.
    const renamed = recordOf(alertOf('bulk', 0, 1000, { sku: 'NEW-SKU', product: 'New name', available: 99 }));
    const gone = many.slice(1, 200).map(keyOf);
    await commit([renamed], gone);
    const back = await readBack();
    expect(back).toEqual(state);
    let productFields = 0;
    for (let i = 0; i < layout.productBuckets * 4; i++) productFields += await a.hlen(`${prefix}:state:products:${i}`);
    const products = new Set([...state.values()].map((r) => r.alert.productId));
    expect(productFields).toBe(products.size);

    // firstSeen reads single records; firingAlerts all of them.
    expect(await new StateStore(b, prefix).firstSeen([keyOf(first[0]), keyOf(first[1]), keyOf(first[5]), 'nope\u001fx\u001fy', keyOf(many[1])])).toEqual([
      1_790_000_000_000, null, 1_790_000_000_000, null, null,
    ]);
    expect((await new StateStore(b, prefix).firingAlerts(rules)).length).toBe(state.size);
  });

  test("another process's commit is seen: the records in memory are only used for the generation they belong to", async () => {
    const p2 = `${prefix}-gen`;
    const one = new StateStore(a, p2);
    const two = new StateStore(b, p2);
    try {
      let { meta } = await one.load();
      expect(await one.commit({ expectedGen: meta.gen, meta: {}, alertsSet: [recordOf(alertOf('r', 0, 1))] })).toBe(true);
      ({ meta } = await two.load());
      expect(await two.commit({ expectedGen: meta.gen, meta: {}, alertsSet: [recordOf(alertOf('r', 0, 2))] })).toBe(true);
      const seen = await one.load();
      expect([...seen.alerts.values()].map((r) => r.alert.productId).sort()).toEqual([uuid(1), uuid(2)]);
      // A commit built on an older generation is refused and changes nothing.
      expect(await one.commit({ expectedGen: seen.meta.gen - 1, meta: {}, alertsDel: [keyOf(recordOf(alertOf('r', 0, 1)))] })).toBe(false);
      expect((await two.load()).alerts.size).toBe(2);
    } finally {
      await cleanPrefix(p2);
    }
  });

  test('after an upgrade, the alerts of the old one-hash layout are read, and the first commit moves them over', async () => {
    const p3 = `${prefix}-legacy`;
    const old = new StateStore(a, p3);
    try {
      const key = alertKey('low', uuid(900), uuid(1));
      // As the layout before this one wrote it: one hash, a JSON array per alert.
      await a.hset(`${p3}:state:alerts`, key, JSON.stringify([1000, 2000, 'low_available', 'warning', 'Main', 'SKU-1', 'One', 1, 0, 0, '2026-11-27T00:00:00Z', null, 0, 0, null, null, null, null, 'f']));
      await a.hset(`${p3}:state:meta`, 'gen', '7');
      const { meta, alerts } = await old.load();
      expect(meta.gen).toBe(7);
      const record = alerts.get(key)!;
      expect(record).toMatchObject({ firstSeenMs: 1000, lastNotifiedMs: 2000, alert: { sku: 'SKU-1', warehouse: 'Main', status: 'firing' } });
      expect(await old.commit({ expectedGen: 7, meta: {}, alertsNext: alerts })).toBe(true);
      expect(await a.exists(`${p3}:state:alerts`)).toBe(0);
      expect((await new StateStore(b, p3).load()).alerts.get(key)).toEqual(record);
    } finally {
      await cleanPrefix(p3);
    }
  });
});
