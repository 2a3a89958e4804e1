// Hostile overview bodies against the real poll (runPoll with a real StateStore on real Redis):
// whatever the body, the poll does not crash, and no alert resolves unless the body is a valid
// overview that says so (the item is there and the rule no longer fires for it, or the item is
// gone from an overview that can be trusted: not suspect, no item that could not be identified).
// Random and mutated rule files are covered by test/rules/property.test.ts.
import fc from 'fast-check';
import IORedis from 'ioredis';
import { evaluate, type CompiledRuleSet } from '../../src/engine/evaluate';
import { createLogger } from '../../src/log';
import { alertKey, itemKey } from '../../src/model';
import { runPoll, type PollReport } from '../../src/poll/poll';
import { parseOverview, type SourceOverview } from '../../src/source/overview';
import { StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';
import { compileRules } from '../support/rules';

jest.setTimeout(60_000);

const NOW = Date.parse('2026-01-10T00:00:00Z');
const FRESH = '2026-01-09T12:00:00Z';

const RULES = `
channels:
  ops:
    slack:
      webhook_url: http://127.0.0.1:9/services/T0/B0/property
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

const level = (productId: string, available: number, reserved = 0, updatedAt = FRESH) => ({ productId, available, incoming: 0, reserved, updatedAt });

/** Eight items; five of them fire one rule each (low, negative, unknown product, unknown warehouse, stale). */
function baseline(): { warehouses: unknown[]; products: unknown[]; items: unknown[] } {
  return {
    warehouses: [
      { id: 'w1', name: 'North' },
      { id: 'w2', name: 'South' },
    ],
    products: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id) => ({ id, sku: `SKU-${id}`, name: `Product ${id}`, brand: { name: 'Acme' } })),
    items: [
      { warehouseId: 'w1', level: level('p1', 0) },
      { warehouseId: 'w1', level: level('p2', 10, -3) },
      { warehouseId: 'w1', level: level('p-ghost', 10) },
      { warehouseId: 'w-ghost', level: level('p3', 10) },
      { warehouseId: 'w2', level: level('p4', 10, 0, '2025-12-01T00:00:00Z') },
      { warehouseId: 'w2', level: level('p5', 10) },
      { warehouseId: 'w2', level: level('p6', 10) },
      { warehouseId: 'w2', level: level('p1', 10) },
    ],
  };
}

/** Every path into the baseline, for mutations to aim at. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}
const PATHS = pathsOf(baseline()).filter((p) => p.length > 0);

type Mutation =
  | { op: 'delete'; path: Array<string | number> }
  | { op: 'set'; path: Array<string | number>; value: unknown }
  | { op: 'dropItem'; index: number }
  | { op: 'duplicateItem'; index: number }
  /** Keep only the first `count` items (a partial overview: suspect when less than half are left). */
  | { op: 'keepItems'; count: number };

function mutate(body: unknown, m: Mutation): void {
  const root = body as { items?: unknown };
  if (m.op === 'keepItems') {
    if (Array.isArray(root.items)) root.items.splice(m.count);
    return;
  }
  if (m.op === 'dropItem' || m.op === 'duplicateItem') {
    if (!Array.isArray(root.items) || root.items.length === 0) return;
    const i = m.index % root.items.length;
    if (m.op === 'dropItem') root.items.splice(i, 1);
    else root.items.push(structuredClone(root.items[i]));
    return;
  }
  let parent: unknown = body;
  for (const key of m.path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) return;
    parent = (parent as Record<string | number, unknown>)[key];
  }
  if (typeof parent !== 'object' || parent === null) return;
  const last = m.path[m.path.length - 1];
  if (m.op === 'delete') {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete (parent as Record<string | number, unknown>)[last];
  } else {
    (parent as Record<string | number, unknown>)[last] = m.value;
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({
    op: fc.constant('set' as const),
    path: fc.constantFrom(...PATHS),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1e308, -0, 2 ** 53, '10', '', null, 'not a date', '2026-13-45T99:00:00Z')),
  }),
  fc.record({ op: fc.constant('dropItem' as const), index: fc.nat(20) }),
  fc.record({ op: fc.constant('duplicateItem' as const), index: fc.nat(20) }),
  fc.record({ op: fc.constant('keepItems' as const), count: fc.nat(8) }),
);

function mutated(mutations: Mutation[]): string {
  const b = baseline();
  for (const m of mutations) mutate(b, m);
  return JSON.stringify(b);
}

/** What S2 might send: the baseline mutated, cut short, or something else entirely. */
const body: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 6 }).map(mutated) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(mutation, { maxLength: 3 }), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([ms, cut]) => mutated(ms).slice(0, Math.floor(mutated(ms).length * cut))),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

/** Or the fetch fails outright, with whatever was thrown. */
const fetchOutcome = fc.oneof(
  { weight: 8, arbitrary: body.map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.anything().map((thrown) => ({ thrown })) },
);

describe('hostile overview bodies never crash a poll and never resolve what they should not', () => {
  const redis = new IORedis(REDIS_URL);
  const compiled = compiledRules();
  const log = createLogger('silent');
  const prefixes: string[] = [];

  afterAll(async () => {
    await Promise.all(prefixes.map((p) => cleanPrefix(p)));
    redis.disconnect();
  });

  async function poll(store: StateStore, fetch: () => Promise<{ overview: SourceOverview }>, nowMs: number): Promise<PollReport> {
    return runPoll({ store, rules: () => compiled, flushOutbox: async () => [], log, fetchOverview: fetch }, nowMs);
  }

  test('property: after a good poll, any body leaves every alert it cannot vouch for firing', async () => {
    await fc.assert(
      fc.asyncProperty(fetchOutcome, async (outcome) => {
        const prefix = uniquePrefix('prop-poll');
        prefixes.push(prefix);
        const store = new StateStore(redis, prefix);

        const first = await poll(store, async () => ({ overview: parseOverview(JSON.stringify(baseline())) }), NOW - 60_000);
        expect(first).toMatchObject({ ok: true, committed: true, firing: 5 });
        const before = new Map((await store.firingAlerts()).map((r) => [alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId), r]));
        const outboxBefore = new Set((await store.pendingOutbox()).map((e) => e.id));

        let parsed: SourceOverview | null = null;
        if ('text' in outcome) {
          try {
            parsed = parseOverview(outcome.text);
          } catch {
            parsed = null;
          }
        }
        const report = await poll(
          store,
          async () => {
            if ('thrown' in outcome) throw outcome.thrown;
            return { overview: parseOverview(outcome.text) };
          },
          NOW,
        );
        const after = new Map((await store.firingAlerts()).map((r) => [alertKey(r.alert.rule, r.alert.warehouseId, r.alert.productId), r]));
        const noticed = (await store.pendingOutbox()).filter((e) => !outboxBefore.has(e.id));

        expect(report.committed).toBe(true);
        expect(report.ok).toBe(parsed !== null);
        if (parsed === null) {
          // A failed poll changes no alert and tells nobody (one failure is not yet "unreachable").
          expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
          for (const [k, r] of after) expect(r).toEqual(before.get(k));
          expect(noticed).toEqual([]);
          return;
        }

        // What the body vouches for.
        const present = new Set(parsed.items.map((i) => itemKey(i.warehouseId, i.productId)));
        const firingNow = new Set(evaluate(parsed.items, compiled, NOW).map((a) => alertKey(a.rule, a.warehouseId, a.productId)));
        const heldItems = new Set(parsed.malformed.filter((m) => m.warehouseId !== undefined && m.productId !== undefined).map((m) => itemKey(m.warehouseId!, m.productId!)));
        const unidentified = parsed.malformed.some((m) => m.warehouseId === undefined || m.productId === undefined);
        const suspect = parsed.items.length + parsed.malformed.length < 8 / 2;

        for (const [key, record] of before) {
          if (after.has(key)) continue;
          const item = itemKey(record.alert.warehouseId, record.alert.productId);
          const resolvedByLevels = present.has(item) && !firingNow.has(key) && !heldItems.has(item);
          const resolvedByAbsence = !present.has(item) && !heldItems.has(item) && !unidentified && !suspect;
          const text = 'text' in outcome ? outcome.text : null;
          expect({ resolved: key, body: text, allowed: resolvedByLevels || resolvedByAbsence }).toEqual({ resolved: key, body: text, allowed: true });
        }
        // And nothing fires that the body does not show firing (or that was kept as it was).
        for (const key of after.keys()) expect(firingNow.has(key) || before.has(key)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
