// The benchmark's generator: deterministic, valid for the real parser, the asked shape, and
// mutations that change exactly what they say. Nothing here is timed.
import {
  generate,
  isoMicros,
  itemCount,
  massEvent,
  mutate,
  overviewBuffers,
  overviewJson,
  prng,
  withAlertShare,
  writeOverview,
  type BenchOverview,
} from '../../src/bench/generate';
import { BENCH_RULES, WEBHOOK_ENV } from '../../src/bench/rules';
import { compileRuleSet, evaluateOverview } from '../../src/engine/evaluate';
import { loadRuleFiles } from '../../src/rules';
import type { Item } from '../../src/model';
import { parseOverview, parseTimestamp } from '../../src/source/overview';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

function small(seed = 7, products = 400, warehouses = 5): BenchOverview {
  return generate({ products, warehouses, seed, nowMs: NOW });
}

function byKey(items: Item[]): Map<string, Item> {
  return new Map(items.map((i) => [`${i.warehouseId}/${i.productId}`, i]));
}

describe('generate', () => {
  it('gives the same overview for the same seed and another one for another seed', () => {
    expect(overviewJson(small(7))).toBe(overviewJson(small(7)));
    expect(overviewJson(small(8))).not.toBe(overviewJson(small(7)));
  });

  it('parses with the real overview parser: P x W items, none malformed', () => {
    for (const [products, warehouses] of [
      [400, 5],
      [30, 12], // more warehouses than named ones
      [1, 1],
    ]) {
      const o = small(3, products, warehouses);
      const parsed = parseOverview(overviewJson(o));
      expect(parsed.malformed).toEqual([]);
      expect(parsed.malformedEntries).toEqual([]);
      expect(parsed.items).toHaveLength(products * warehouses);
      expect(itemCount(o)).toBe(products * warehouses);
      expect(parsed.warehouseCount).toBe(warehouses);
      expect(parsed.productCount).toBe(o.productJson.filter((p) => p !== null).length);
    }
  });

  it('looks like the vendor sample: ids, brands, non-ASCII names, and a realistic mix of levels', () => {
    const o = small(11, 2000, 5);
    const text = overviewJson(o);
    const body = JSON.parse(text) as { warehouses: Array<Record<string, unknown>>; products: Array<Record<string, unknown>> };
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(body.warehouses.every((w) => uuid.test(String(w.id)) && typeof w.organization === 'object')).toBe(true);
    expect(body.products.every((p) => uuid.test(String(p.id)) && typeof p.sku === 'string')).toBe(true);
    expect(body.products.some((p) => p.brand === null)).toBe(true);
    expect(body.products.some((p) => (p.brand as { name?: string } | null)?.name === '')).toBe(true);
    expect(/[^\x00-\x7f]/.test(text)).toBe(true);

    const items = parseOverview(text).items;
    const share = (pred: (i: Item) => boolean): number => items.filter(pred).length / items.length;
    // Most stock healthy, some low, a few negative reserved, a few unknown products, ~1% stale.
    expect(share((i) => i.available >= 10)).toBeGreaterThan(0.95);
    expect(share((i) => i.available < 10)).toBeGreaterThan(0.005);
    expect(share((i) => i.reserved < 0)).toBeGreaterThan(0);
    expect(share((i) => i.reserved < 0)).toBeLessThan(0.02);
    expect(share((i) => !i.knownProduct)).toBeGreaterThan(0);
    expect(share((i) => !i.knownProduct)).toBeLessThan(0.02);
    const stale = share((i) => NOW - i.updatedAtMs > 48 * HOUR);
    expect(stale).toBeGreaterThan(0.003);
    expect(stale).toBeLessThan(0.03);
    expect(items.every((i) => i.updatedAtMs <= NOW)).toBe(true);
  });

  it('writes the same JSON in chunks as in one piece, and counts its bytes', () => {
    const o = small(5, 3000, 4); // over 1 MiB, so more than one chunk
    const chunks: string[] = [];
    writeOverview(o, (c) => chunks.push(c));
    expect(chunks.length).toBeGreaterThan(1);
    const whole = overviewJson(o);
    expect(chunks.join('')).toBe(whole);
    const buffers = overviewBuffers(o);
    expect(buffers.bytes).toBe(Buffer.byteLength(whole));
    expect(Buffer.concat(buffers.chunks).toString('utf8')).toBe(whole);
  });

  it('writes microsecond timestamps the parser reads back to the millisecond', () => {
    const rand = prng(1);
    for (let i = 0; i < 200; i++) {
      const us = Math.floor(NOW * 1000 - rand() * 90 * 24 * HOUR * 1000);
      const text = isoMicros(us);
      expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      expect(parseTimestamp(text)).toBe(Math.floor(us / 1000));
    }
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => generate({ products: 0, warehouses: 1, seed: 1, nowMs: NOW })).toThrow(RangeError);
    expect(() => generate({ products: 2.5, warehouses: 1, seed: 1, nowMs: NOW })).toThrow(RangeError);
  });
});

describe('mutate', () => {
  it('changes the level of exactly the asked fraction of items, and nothing else', () => {
    const before = small(9, 1000, 5);
    const beforeJson = overviewJson(before);
    const { overview: after, changed } = mutate(before, 0.01, 42, NOW + 60_000);
    expect(changed).toHaveLength(50);
    expect(new Set(changed).size).toBe(50);
    // The original stays as it was.
    expect(overviewJson(before)).toBe(beforeJson);

    const a = byKey(parseOverview(beforeJson).items);
    const b = parseOverview(overviewJson(after)).items;
    expect(b).toHaveLength(a.size);
    const differing = b.filter((item) => {
      const old = a.get(`${item.warehouseId}/${item.productId}`)!;
      return old.available !== item.available || old.incoming !== item.incoming || old.reserved !== item.reserved || old.updatedAt !== item.updatedAt;
    });
    expect(differing).toHaveLength(50);
    const changedKeys = new Set(changed.map((i) => `${after.warehouseIds[Math.floor(i / after.products)]}/${after.productIds[i % after.products]}`));
    expect(differing.every((i) => changedKeys.has(`${i.warehouseId}/${i.productId}`))).toBe(true);
    // A changed level was counted within the last minute of the new moment.
    expect(differing.every((i) => i.updatedAtMs > NOW && i.updatedAtMs <= NOW + 60_000)).toBe(true);
  });

  it('is deterministic by seed and rounds the fraction to whole items', () => {
    const base = small(9, 333, 3);
    expect(mutate(base, 0.05, 1).changed).toEqual(mutate(base, 0.05, 1).changed);
    expect(mutate(base, 0.05, 1).changed).not.toEqual(mutate(base, 0.05, 2).changed);
    expect(mutate(base, 0.05, 1).changed).toHaveLength(Math.round(999 * 0.05));
    expect(mutate(base, 0, 1).changed).toHaveLength(0);
    expect(mutate(base, 1, 1).changed).toHaveLength(999);
    expect(() => mutate(base, 1.5, 1)).toThrow(RangeError);
  });
});

describe('massEvent', () => {
  it('zeroes the asked number of healthy items of listed products', () => {
    const before = small(4, 1000, 5);
    const { overview: after, changed } = massEvent(before, 300, 3);
    expect(changed).toHaveLength(300);
    for (const i of changed) {
      expect(before.available[i]).toBeGreaterThanOrEqual(10);
      expect(after.available[i]).toBe(0);
      expect(after.productJson[i % after.products]).not.toBeNull();
    }
    const zeroedNow = parseOverview(overviewJson(after)).items.filter((i) => i.available === 0).length;
    const zeroedBefore = parseOverview(overviewJson(before)).items.filter((i) => i.available === 0).length;
    expect(zeroedNow - zeroedBefore).toBe(300);
  });
});

describe('withAlertShare', () => {
  it('makes the asked share of the items fire a benchmark rule, and no more', () => {
    const loaded = loadRuleFiles([{ name: 'bench.yaml', text: BENCH_RULES }], { [WEBHOOK_ENV]: 'http://127.0.0.1:1/hook' });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const compiled = compileRuleSet(loaded.ruleSet);
    const base = small(3, 1000, 4);
    for (const share of [0.1, 0.5, 0.95]) {
      const o = withAlertShare(base, share, 11);
      const { items, malformed } = parseOverview(overviewJson(o));
      expect(malformed).toEqual([]);
      const firing = new Set(evaluateOverview(items, compiled, NOW).alerts.map((a) => `${a.warehouseId}/${a.productId}`));
      expect(firing.size / items.length).toBeCloseTo(share, 2);
    }
    // Deterministic, and the catalogue is left as it was.
    expect(overviewJson(withAlertShare(base, 0.5, 11))).toBe(overviewJson(withAlertShare(base, 0.5, 11)));
    expect(overviewJson(base)).toBe(overviewJson(small(3, 1000, 4)));
  });
});
