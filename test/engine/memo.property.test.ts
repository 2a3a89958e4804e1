// The daemon's polls pass stepPoll() an EvaluationMemo, which takes the previous evaluation's
// Alert again for an Item object that did not change (src/engine/evaluate.ts). A memo is only a
// shortcut: random series of polls (items kept as the same object, replaced by an equal one or by
// one with other levels, dropped; time moving past `stale` thresholds and silence windows; rule
// sets reloaded) must decide exactly what the same series decides without one, and no poll may
// change what an earlier poll returned (a reused alert is shared with the previous state).
import fc from 'fast-check';
import { compileRuleSet, evaluateOverview, EvaluationMemo, type CompiledRuleSet } from '../../src/engine/evaluate';
import { EMPTY_HISTORY } from '../../src/engine/forecast';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { EMPTY_BOOKS, stepPoll, type StepResult } from '../../src/engine/step';
import type { Item, RuleSet } from '../../src/model';
import { NOW, item, lowAvailable, negativeReserved, rule, ruleSet, silence, stale, unknownProduct } from './helpers';

const MIN = 60_000;

function rules(variant: number): RuleSet {
  const set = ruleSet(
    [
      lowAvailable({ clearAt: 12 + variant, keepFiringForMs: 10 * MIN, repeatEveryMs: 30 * MIN, summary: '{{sku}}: {{available}}, {{available_elsewhere}} elsewhere' }),
      lowAvailable({ name: 'low-shares', below: 6, summary: '{{available}} here; {{elsewhere}}' }),
      lowAvailable({ name: 'pending-low', below: 5, forMs: 10 * MIN, where: { warehouse: ['wh-1', 'wh-2'] } }),
      negativeReserved({ summary: 'reserved {{reserved}}' }),
      stale({ olderThanMs: (20 + variant * 5) * MIN, summary: '{{sku}} updated {{updatedAt}}' }),
      unknownProduct(),
      rule({ name: 'stale-warehouse', type: 'stale_warehouse', olderThanMs: 25 * MIN }),
      lowAvailable({ name: 'low-network', scope: 'network', below: 20 }),
    ],
    [
      silence({ where: { warehouse: ['wh-1'] }, until: new Date(NOW + 12 * MIN).toISOString() }),
      silence({ rule: 'low-available', where: { sku: ['SKU-p-1'] }, until: new Date(NOW + (27 + variant) * MIN).toISOString() }),
    ],
  );
  set.inhibit = [{ when: 'negative-reserved', suppress: ['low-*'], same: 'item', pos: { file: 'test.yaml', line: 1, col: 1 } }];
  return set;
}

const levelsArb = fc.record({
  available: fc.integer({ min: -2, max: 20 }),
  reserved: fc.integer({ min: -1, max: 1 }),
  age: fc.integer({ min: 0, max: 40 }),
});

/** What becomes of each of 12 possible items at a poll. */
const fateArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'same' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'equal' as const }) },
  { weight: 2, arbitrary: levelsArb.map((levels) => ({ kind: 'new' as const, levels })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'gone' as const }) },
);

const pollArb = fc.record({
  fates: fc.array(fateArb, { minLength: 12, maxLength: 12 }),
  minutes: fc.integer({ min: 1, max: 15 }),
  /** 0: the rule set as it is; 1: reloaded unchanged (a new compiled object); 2: reloaded with other thresholds. */
  reload: fc.integer({ min: 0, max: 2 }),
  /** The items listed in another order. */
  reorder: fc.boolean(),
});

/** Item n: product p-(n / 3) (p-3 is not among the products: no stock slot), warehouse wh-(n % 3). */
function makeItem(n: number, levels: { available: number; reserved: number; age: number }, nowMs: number): Item {
  const product = Math.floor(n / 3);
  return item({
    warehouseId: `wh-${n % 3}`,
    warehouse: `Warehouse ${n % 3}`,
    productId: `p-${product}`,
    sku: `SKU-p-${product}`,
    productSlot: product < 3 ? product : -1,
    knownProduct: n !== 11,
    available: levels.available,
    reserved: levels.reserved,
    updatedAt: new Date(nowMs - levels.age * MIN).toISOString(),
    updatedAtMs: nowMs - levels.age * MIN,
  });
}

/** What a poll decided, whole, in its own order. */
const decided = (r: StepResult): unknown => ({
  books: r.books,
  events: r.lifecycle?.events,
  next: [...(r.lifecycle?.next ?? [])],
  changed: r.lifecycle?.changed,
  removed: r.lifecycle?.removed,
  alerts: r.lifecycle?.alerts,
  resolved: r.lifecycle?.resolved,
  counts: r.lifecycle?.counts,
});

describe('EvaluationMemo: the same decisions as without it', () => {
  it('over random series of polls, and no poll changes what an earlier one returned', () => {
    fc.assert(
      fc.property(fc.array(levelsArb, { minLength: 12, maxLength: 12 }), fc.array(pollArb, { minLength: 1, maxLength: 10 }), (first, polls) => {
        const memo = new EvaluationMemo();
        let variant = 0;
        let compiled: CompiledRuleSet = compileRuleSet(rules(variant));
        let nowMs = NOW;
        let slots: Array<Item | undefined> = first.map((levels, n) => makeItem(n, levels, nowMs));
        let order = [...Array(12).keys()];
        let withMemo = { books: EMPTY_BOOKS, alerts: new Map<string, AlertRecord>() as ReadonlyMap<string, AlertRecord> };
        let without = { books: EMPTY_BOOKS, alerts: new Map<string, AlertRecord>() as ReadonlyMap<string, AlertRecord> };
        let earlier: Array<{ result: StepResult; snapshot: unknown }> = [];
        for (const poll of [null, ...polls]) {
          if (poll !== null) {
            nowMs += poll.minutes * MIN;
            slots = slots.map((was, n) => {
              const fate = poll.fates[n];
              if (fate.kind === 'gone') return undefined;
              if (fate.kind === 'new') return makeItem(n, fate.levels, nowMs);
              if (was === undefined) return undefined;
              return fate.kind === 'same' ? was : { ...was };
            });
            if (poll.reload === 2) variant = 1 - variant;
            if (poll.reload > 0) compiled = compileRuleSet(rules(variant));
            if (poll.reorder) order = [...order.slice(5), ...order.slice(0, 5)];
          }
          const items = order.map((n) => slots[n]).filter((i): i is Item => i !== undefined);
          const input = { compiled, nowMs, outcome: { overview: { items, malformed: [], warehouseCount: 3, productCount: 3 } }, history: EMPTY_HISTORY };
          const a = stepPoll({ ...input, ...withMemo, memo });
          const b = stepPoll({ ...input, ...without });
          expect(decided(a)).toEqual(decided(b));
          // What earlier polls returned (and handed on as state) is as it was.
          for (const e of earlier) expect(decided(e.result)).toEqual(e.snapshot);
          earlier = [...earlier.slice(-2), { result: a, snapshot: structuredClone(decided(a)) }];
          withMemo = { books: a.books, alerts: a.lifecycle!.next };
          without = { books: b.books, alerts: b.lifecycle!.next };
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('EvaluationMemo: what it takes again', () => {
  const compiled = compileRuleSet(rules(0));
  const low = (n: number, available: number): Item => makeItem(n, { available, reserved: 0, age: 0 }, NOW);
  const alertOf = (items: Item[], nowMs: number, memo: EvaluationMemo, name = 'low-available') =>
    evaluateOverview(items, compiled, nowMs, undefined, memo).alerts.find((a) => a.rule === name && a.warehouseId === items[0].warehouseId);

  it('the alert of the same Item object, when its product stock and silences are the same', () => {
    const memo = new EvaluationMemo();
    const items = [low(3, 2), low(4, 50)];
    const before = alertOf(items, NOW, memo)!;
    expect(alertOf([...items], NOW + MIN, memo)).toBe(before);
  });

  it('not when another item of the product moved its stock, nor under another rule set', () => {
    const memo = new EvaluationMemo();
    const items = [low(3, 2), low(4, 50)];
    const before = alertOf(items, NOW, memo)!;
    const moved = alertOf([items[0], low(4, 40)], NOW + MIN, memo)!;
    expect(moved).not.toBe(before);
    expect(moved.availableElsewhere).toBe(40);
    const other = compileRuleSet(rules(0));
    const again = evaluateOverview([items[0], low(4, 40)], other, NOW + MIN, undefined, memo).alerts.find((a) => a.rule === 'low-available');
    expect(again).not.toBe(moved);
    expect(again).toEqual(moved);
  });

  it('not once a silence has ended', () => {
    const memo = new EvaluationMemo();
    const items = [low(1, 2)]; // wh-1: silenced until NOW + 12 min
    const before = alertOf(items, NOW, memo)!;
    expect(before.silenced).toBe(true);
    const after = alertOf(items, NOW + 13 * MIN, memo)!;
    expect(after.silenced).toBe(false);
    expect(alertOf(items, NOW + 14 * MIN, memo)).toBe(after);
  });
});
