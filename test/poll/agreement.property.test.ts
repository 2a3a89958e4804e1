// The daemon's poll (runPoll on real Redis) and `eval --previous` decide alike: for random pairs of
// overviews (items appearing, vanishing, unknown products and warehouses, malformed and
// unidentifiable items, suspect overviews) both report the same new and resolved alerts.
// Both call stepPoll(); this proves nothing else in either path decides.
import fc from 'fast-check';
import IORedis from 'ioredis';
import { evaluateAgainst, previousStateOf } from '../../src/commands/eval';
import { evaluate, type CompiledRuleSet } from '../../src/engine/evaluate';
import { createLogger } from '../../src/log';
import { alertKey } from '../../src/model';
import type { Notice } from '../../src/notify';
import { runPoll } from '../../src/poll/poll';
import { parseOverview, type SourceOverview } from '../../src/source/overview';
import { StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';
import { compileRules } from '../support/rules';

jest.setTimeout(120_000);

const NOW = Date.parse('2026-01-10T00:00:00Z');
const RULES = `
channels:
  ops:
    slack:
      webhook_url: http://127.0.0.1:9/services/T0/B0/agreement
defaults:
  channels: [ops]
  repeat_every: never
rules:
  - name: low
    type: low_available
    below: 5
  - name: negative
    type: negative_reserved
  - name: unknown
    type: unknown_product
  - name: stale
    type: stale
    older_than: 48h
`;

function compiledRules(): CompiledRuleSet {
  return compileRules(RULES);
}

const WAREHOUSES = ['w1', 'w2', 'w-ghost'];
const PRODUCTS = ['p1', 'p2', 'p3', 'p-ghost'];

/** One item slot: absent, a level, or malformed (identifiable or not). */
const slot = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  {
    weight: 6,
    arbitrary: fc.record({
      available: fc.integer({ min: -2, max: 8 }),
      reserved: fc.integer({ min: -2, max: 2 }),
      stale: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('malformed' as const, 'unidentifiable' as const) },
);

type Slot = typeof slot extends fc.Arbitrary<infer T> ? T : never;

function body(slots: Slot[]): string {
  const items: unknown[] = [];
  slots.forEach((s, i) => {
    if (s === null) return;
    const warehouseId = WAREHOUSES[i % WAREHOUSES.length];
    const productId = PRODUCTS[Math.floor(i / WAREHOUSES.length) % PRODUCTS.length];
    if (s === 'malformed') items.push({ warehouseId, level: { productId, available: 'seven', incoming: 0, reserved: 0, updatedAt: '2026-01-09T12:00:00Z' } });
    else if (s === 'unidentifiable') items.push({ level: { available: 1 } });
    else {
      const updatedAt = s.stale ? '2025-12-01T00:00:00Z' : '2026-01-09T12:00:00Z';
      items.push({ warehouseId, level: { productId, available: s.available, incoming: 0, reserved: s.reserved, updatedAt } });
    }
  });
  return JSON.stringify({
    warehouses: [
      { id: 'w1', name: 'North' },
      { id: 'w2', name: 'South' },
    ],
    products: ['p1', 'p2', 'p3'].map((id) => ({ id, sku: `SKU-${id}`, name: `Product ${id}`, brand: { name: 'Acme' } })),
    items,
  });
}

const slots = fc.array(slot, { minLength: 12, maxLength: 12 });
/** The second overview, now and then cut short (a suspect one when less than half is left). */
const overviewPair = fc.tuple(slots, slots, fc.option(fc.nat(6), { freq: 3 })).map(([a, b, keep]) => {
  if (keep === null) return [a, b] as const;
  let kept = 0;
  return [a, b.map((s) => (s !== null && kept++ < keep ? s : null))] as const;
});

describe('the daemon poll and eval --previous agree', () => {
  const redis = new IORedis(REDIS_URL);
  const compiled = compiledRules();
  const log = createLogger('silent');
  const prefixes: string[] = [];

  afterAll(async () => {
    await Promise.all(prefixes.map((p) => cleanPrefix(p)));
    redis.disconnect();
  });

  test('property: same new and resolved alerts for every pair of overviews', async () => {
    await fc.assert(
      fc.asyncProperty(overviewPair, async ([first, second]) => {
        const previous = parseOverview(body(first));
        const current = parseOverview(body(second));

        // The daemon: two polls on real Redis; what the second one notifies.
        const prefix = uniquePrefix('agree');
        prefixes.push(prefix);
        const store = new StateStore(redis, prefix);
        const poll = (o: SourceOverview, nowMs: number) =>
          runPoll({ store, rules: () => compiled, flushOutbox: async () => [], log, fetchOverview: async () => ({ overview: o }) }, nowMs);
        await poll(previous, NOW - 60_000);
        const seen = new Set((await store.pendingOutbox()).map((e) => e.id));
        await poll(current, NOW);
        const notices = (await store.pendingOutbox()).filter((e) => !seen.has(e.id)).map((e) => (e.data as { notice: Notice }).notice);
        const daemon = { new: [] as string[], resolved: [] as string[] };
        for (const n of notices) {
          if (n.type !== 'alerts') continue;
          for (const a of n.alerts) if (a.kind !== 'repeat') daemon[a.kind].push(alertKey(a.rule, a.warehouseId, a.productId));
        }

        // eval --overview current --previous previous.
        const fired = evaluate(previous.items, compiled, NOW - 60_000);
        const { firing, resolved } = evaluateAgainst(current, previousStateOf(fired, previous, NOW), compiled, NOW);
        const before = new Set(fired.map((a) => alertKey(a.rule, a.warehouseId, a.productId)));
        const evaluated = {
          new: firing.filter((a) => a.status === 'firing' && !before.has(alertKey(a.rule, a.warehouseId, a.productId))).map((a) => alertKey(a.rule, a.warehouseId, a.productId)),
          resolved: (resolved ?? []).map((a) => alertKey(a.rule, a.warehouseId, a.productId)),
        };

        expect({ new: daemon.new.sort(), resolved: daemon.resolved.sort() }).toEqual({ new: evaluated.new.sort(), resolved: evaluated.resolved.sort() });
      }),
      { numRuns: 80 },
    );
  });
});
