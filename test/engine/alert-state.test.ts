// AlertState: records in order with an index made on demand, which a following state may take over.
import { AlertState, productPart } from '../../src/engine/alert-state';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { alertKey } from '../../src/model';
import { mulberry32 } from '../../src/prng';

const record = (n: number, version = 0): AlertRecord => ({ alert: { rule: `r${n}`, available: version } as AlertRecord['alert'], firstSeenMs: n, lastNotifiedMs: null });

/** Every key gives its record, and keys not in the state give nothing. */
function expectConsistent(state: AlertState, absent: string[]): void {
  for (const [key, r] of state) expect(state.get(key)).toBe(r);
  for (const key of absent) expect(state.has(key)).toBe(false);
}

describe('AlertState', () => {
  test('reads like the map it was made from, in its order', () => {
    const map = new Map([3, 1, 2].map((n) => [`k${n}`, record(n)] as const));
    const state = AlertState.fromMap(new Map(map));
    expect(state.size).toBe(3);
    expect([...state.keys()]).toEqual(['k3', 'k1', 'k2']);
    expect([...state.values()]).toEqual([...map.values()]);
    expect(new Map(state)).toEqual(map);
    expect(state.get('k1')).toBe(map.get('k1'));
    expect(state.get('nope')).toBeUndefined();
    const seen: string[] = [];
    state.forEach((_r, key) => seen.push(key));
    expect(seen).toEqual(['k3', 'k1', 'k2']);
  });

  test('a state built from arrays makes its index when first asked', () => {
    const state = new AlertState(['a', 'b'], [record(1), record(2)]);
    expect(state.get('b')).toEqual(record(2));
    expect(state.has('c')).toBe(false);
  });

  test('a state read back answers lookups from its records grouped by product, whatever the ids hold', () => {
    const ids: Array<string | null> = ['p1', null, 'odd\u001fid', 'p1', '', 'x\u001f'];
    // (null and '' make the same key: alertKey(); a state never holds two records of one key.)
    const records = ids.map((productId, n) => ({ ...record(n), alert: { ...record(n).alert, rule: n === 3 ? 'other' : 'r', warehouseId: n === 4 ? 'w2' : 'w', productId } }));
    const keys = records.map((r) => alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId));
    const byProduct = new Map<string, number[]>();
    records.forEach((r, at) => {
      const part = productPart(r.alert.productId ?? '');
      byProduct.set(part, [...(byProduct.get(part) ?? []), at]);
    });
    const state = AlertState.readBack(keys, records, byProduct);
    expect(state.ordered).toBe(false);
    keys.forEach((key, n) => expect(state.get(key)).toBe(records[n]));
    expect(state.has(alertKey('r', 'w', 'odd'))).toBe(false);
    expect(state.has(alertKey('r', 'w', 'id'))).toBe(false);
    expect(state.has(alertKey('other', 'w', 'odd\u001fid'))).toBe(false);
    expect(state.get(alertKey('r', 'x', 'p1'))).toBeUndefined();
  });

  test('over many generations, an adopted and patched index says what a fresh one says; the state it came from still answers', () => {
    const random = mulberry32(7);
    let live = Array.from({ length: 200 }, (_, n) => n);
    let state = AlertState.fromMap(new Map(live.map((n) => [`k${n}`, record(n)] as const)));
    let next = 200;
    for (let gen = 1; gen <= 30; gen++) {
      const deleted = live.filter(() => random() < 0.05);
      const replaced = live.filter((n) => !deleted.includes(n) && random() < 0.05);
      const added = Array.from({ length: Math.floor(random() * 15) }, () => next++);
      const byKey = new Map(state);
      for (const n of deleted) byKey.delete(`k${n}`);
      const set: Array<[string, AlertRecord]> = [...replaced, ...added].map((n) => [`k${n}`, record(n, gen)]);
      for (const [key, r] of set) byKey.set(key, r);
      const following = new AlertState([...byKey.keys()], [...byKey.values()]);
      // Only when the state replaced had an index does the next take it (every third one asks here).
      if (gen % 3 === 0) state.get('k0');
      following.adoptIndex(state, set, deleted.map((n) => `k${n}`));
      expectConsistent(following, deleted.map((n) => `k${n}`));
      // The old state lost its index to the new one and builds its own again.
      for (const n of deleted) expect(state.get(`k${n}`)).toBeDefined();
      expectConsistent(state, added.map((n) => `k${n}`));
      live = [...live.filter((n) => !deleted.includes(n)), ...added];
      state = following;
    }
    expect(state.size).toBe(live.length);
  });
});
