// The lifecycle matches this poll's alerts to the previous records by walking both in order and
// looks a key up only where the order differs (src/engine/lifecycle.ts, PreviousRecords). Its
// decisions must not depend on that order: a state read back from Redis comes in bucket order.
// Random series of overviews go through the lifecycle three times: with the state as it left it,
// with the same state shuffled, and with it as a read-back from Redis makes it (other objects and
// strings of equal content, another order); all must decide the same at every poll.
import fc from 'fast-check';
import { compileRuleSet } from '../../src/engine/evaluate';
import type { AlertRecord, LifecycleResult } from '../../src/engine/lifecycle';
import { alertKey, type Alert, type Item } from '../../src/model';
import { NOW, advance, item, lowAvailable, negativeReserved, rule, ruleSet, stale } from './helpers';

const MIN = 60_000;
const rules = [
  lowAvailable({ clearAt: 15, keepFiringForMs: 10 * MIN, repeatEveryMs: 30 * MIN }),
  lowAvailable({ name: 'pending-low', below: 5, forMs: 10 * MIN }),
  negativeReserved(),
  stale({ olderThanMs: 20 * MIN }),
];
const compiled = compileRuleSet(ruleSet(rules));
// For the random series: also alerts without a product (matched by rule and warehouse alone)
// and without a warehouse.
const seriesCompiled = compileRuleSet(
  ruleSet([...rules, rule({ name: 'stale-warehouse', type: 'stale_warehouse', olderThanMs: 25 * MIN }), lowAvailable({ name: 'low-network', scope: 'network', below: 20 })]),
);

/** One poll: which of 12 possible items are listed (in an order of their own), and their levels. */
const pollArb = fc.record({
  listed: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { maxLength: 12 }),
  levels: fc.array(fc.record({ available: fc.integer({ min: -2, max: 20 }), reserved: fc.integer({ min: -1, max: 1 }), age: fc.integer({ min: 0, max: 40 }) }), {
    minLength: 12,
    maxLength: 12,
  }),
  /** Sometimes a new order of the items (an API that sorts differently), mostly the same. */
  reorder: fc.boolean(),
});

function itemsOf(poll: { listed: number[]; levels: Array<{ available: number; reserved: number; age: number }> }, nowMs: number): Item[] {
  return poll.listed.map((n) =>
    item({
      warehouseId: `wh-${n % 3}`,
      productId: `p-${Math.floor(n / 3)}`,
      available: poll.levels[n].available,
      reserved: poll.levels[n].reserved,
      updatedAt: new Date(nowMs - poll.levels[n].age * MIN).toISOString(),
      updatedAtMs: nowMs - poll.levels[n].age * MIN,
    }),
  );
}

const step = (previous: ReadonlyMap<string, AlertRecord>, items: Item[], nowMs: number): LifecycleResult => advance(compiled, previous, items, nowMs);
const seriesStep = (previous: ReadonlyMap<string, AlertRecord>, items: Item[], nowMs: number): LifecycleResult => advance(seriesCompiled, previous, items, nowMs);

/** What a poll decided, in a form that does not depend on any order but the events'. */
function decided(r: LifecycleResult): unknown {
  const byKey = <T>(entries: Array<[string, T]>) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keyOf = (rec: AlertRecord) => alertKey(rec.alert.rule, rec.alert.warehouseId, rec.alert.productId);
  return {
    events: r.events.map((e) => [e.kind, e.alert, e.firstSeenMs]),
    next: byKey([...r.next]),
    changed: byKey(r.changed.map((rec) => [keyOf(rec), rec])),
    removed: [...r.removed].sort(),
    resolved: byKey(r.resolved.map((a) => [alertKey(a.rule, a.warehouseId, a.productId), a])),
    counts: { ...r.counts, firingByRule: [...r.counts.firingByRule].sort((a, b) => (a.rule + a.severity < b.rule + b.severity ? -1 : 1)) },
  };
}

/** The counts of a poll's alerts, counted the plain way: what LifecycleResult.counts must say. */
function recount(alerts: Alert[]): LifecycleResult['counts'] {
  const firingByRule: Array<{ rule: string; severity: string; count: number }> = [];
  for (const a of alerts) {
    if (a.status === 'pending') continue;
    const entry = firingByRule.find((e) => e.rule === a.rule && e.severity === a.severity);
    if (entry === undefined) firingByRule.push({ rule: a.rule, severity: a.severity, count: 1 });
    else entry.count++;
  }
  const pending = alerts.filter((a) => a.status === 'pending').length;
  return { firing: alerts.length - pending, pending, firingByRule };
}

/** A string of the same content that is another object (as decoding makes them). */
const copyOf = <T extends string | null>(s: T): T => (s === null ? s : ((' ' + s).slice(1) as T));

/** A record as a read-back from Redis decodes it: equal content, no object or string shared. */
function copied(record: AlertRecord): AlertRecord {
  const a = record.alert;
  return {
    ...record,
    alert: { ...a, rule: copyOf(a.rule), warehouseId: copyOf(a.warehouseId), productId: copyOf(a.productId), summary: copyOf(a.summary) },
  };
}

describe('lifecycle: decisions do not depend on the order of the previous state', () => {
  it('in order, shuffled: the same events, state, writes and removals at every poll', () => {
    fc.assert(
      fc.property(fc.array(pollArb, { minLength: 1, maxLength: 8 }), fc.integer(), (polls, seed) => {
        let state: ReadonlyMap<string, AlertRecord> = new Map();
        let order = [...Array(12).keys()];
        let rand = seed;
        const shuffle = <T>(list: T[]): T[] => {
          const out = [...list];
          for (let i = out.length - 1; i > 0; i--) {
            rand = (Math.imul(rand, 1103515245) + 12345) | 0;
            const j = (rand >>> 0) % (i + 1);
            [out[i], out[j]] = [out[j], out[i]];
          }
          return out;
        };
        polls.forEach((poll, i) => {
          const nowMs = NOW + i * 5 * MIN;
          if (poll.reorder) order = shuffle(order);
          const listed = order.filter((n) => poll.listed.includes(n));
          const items = itemsOf({ ...poll, listed }, nowMs);
          const inOrder = seriesStep(state, items, nowMs);
          expect(inOrder.counts).toEqual(recount(inOrder.alerts));
          const shuffled = seriesStep(new Map(shuffle([...state])), items, nowMs);
          expect(decided(shuffled)).toEqual(decided(inOrder));
          const readBack = seriesStep(new Map([...state].reverse().map(([key, record]) => [copyOf(key), copied(record)])), items, nowMs);
          expect(decided(readBack)).toEqual(decided(inOrder));
          state = inOrder.next;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('an item listed twice counts once, the first time', () => {
    const low = item({ available: 3, updatedAt: new Date(NOW).toISOString(), updatedAtMs: NOW });
    const r = step(new Map(), [low, { ...low, available: 4 }], NOW);
    expect(r.events.map((e) => [e.alert.rule, e.alert.available])).toEqual([['low-available', 3]]);
    const again = step(r.next, [low, { ...low, available: 4 }], NOW + 5 * MIN);
    expect(again.changed).toEqual([]);
    expect([...again.next.values()].map((rec) => [rec.alert.rule, rec.alert.status, rec.alert.available])).toEqual([
      ['low-available', 'firing', 3],
      ['pending-low', 'pending', 3],
    ]);
  });
});
