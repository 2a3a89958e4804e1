import { compileRuleSet, evaluateOverview } from '../../src/engine/evaluate';
import { advanceAlerts, type AlertRecord, type LifecycleResult } from '../../src/engine/lifecycle';
import { alertKey, itemKey, type Alert, type Inhibit, type Item, type Rule, type Silence } from '../../src/model';
import { alert } from '../support/alerts';
import { HOUR, NOW, advance, item, lowAvailable, negativeReserved, nowOf, ruleSet, silence, stale } from './helpers';

const keyOf = (a: Alert): string => alertKey(a.rule, a.warehouseId, a.productId);
const rulesOf = (...rules: Rule[]): Rule[] => rules;

interface DiffCase {
  previous: ReadonlyMap<string, AlertRecord>;
  current: Alert[];
  holding?: Alert[];
  nowMs?: number;
  rules?: Rule[];
  silences?: Silence[];
  inhibit?: Inhibit[];
  heldItems?: Set<string>;
  resolveAbsent?: boolean;
  /** The overview's items now, for resolved alerts' current levels. */
  items?: Item[];
  conditionChanged?: Set<string>;
}

function diff(c: DiffCase): LifecycleResult {
  const rs = ruleSet(c.rules ?? [lowAvailable(), negativeReserved(), stale()], c.silences ?? []);
  rs.inhibit = c.inhibit ?? [];
  const items = new Map((c.items ?? []).map((i) => [itemKey(i.warehouseId, i.productId), i]));
  return advanceAlerts({
    previous: c.previous,
    evaluation: { alerts: c.current, holding: c.holding ?? [] },
    compiled: compileRuleSet(rs),
    nowMs: c.nowMs ?? NOW,
    heldItems: c.heldItems,
    resolveAbsent: c.resolveAbsent ?? true,
    itemsOf: (alerts) => alerts.map((a) => nowOf(items.get(itemKey(a.warehouseId, a.productId)))),
    conditionChanged: c.conditionChanged,
  });
}

function state(...records: AlertRecord[]): Map<string, AlertRecord> {
  return new Map(records.map((r) => [keyOf(r.alert), r]));
}

const kinds = (r: LifecycleResult): string[] => r.events.map((e) => `${e.kind}:${e.alert.rule}/${e.alert.productId}`);

describe('lifecycle: lifecycle', () => {
  it('a new alert is notified and recorded with firstSeen = lastNotified = now', () => {
    const a = alert();
    const r = diff({ previous: new Map(), current: [a] });
    expect(kinds(r)).toEqual(['new:low-available/p-1']);
    expect(r.events[0]).toEqual({ kind: 'new', alert: a, firstSeenMs: NOW });
    const record = { alert: a, firstSeenMs: NOW, lastNotifiedMs: NOW };
    expect(r.next.get(keyOf(a))).toEqual(record);
    expect(r.changed).toEqual([record]);
    expect(r.removed).toEqual([]);
  });

  it('a still-firing alert with nothing changed is neither notified nor rewritten', () => {
    const a = alert();
    const before = { alert: a, firstSeenMs: NOW - HOUR, lastNotifiedMs: NOW - HOUR };
    const r = diff({ previous: state(before), current: [{ ...a }] });
    expect(r.events).toEqual([]);
    expect(r.changed).toEqual([]);
    expect(r.removed).toEqual([]);
    expect(r.next.get(keyOf(a))).toBe(before);
  });

  it('repeats once repeat_every has passed since the last notice, not before', () => {
    const a = alert();
    const r24 = lowAvailable({ repeatEveryMs: 24 * HOUR });
    const before = { alert: a, firstSeenMs: NOW - 30 * HOUR, lastNotifiedMs: NOW - 24 * HOUR + 1 };
    const early = diff({ previous: state(before), current: [a], rules: rulesOf(r24) });
    expect(early.events).toEqual([]);
    expect(early.changed).toEqual([]);

    const due = diff({ previous: state(before), current: [a], rules: rulesOf(r24), nowMs: NOW + 1 });
    expect(due.events).toEqual([{ kind: 'repeat', alert: a, firstSeenMs: NOW - 30 * HOUR }]);
    expect(due.changed).toEqual([{ alert: a, firstSeenMs: NOW - 30 * HOUR, lastNotifiedMs: NOW + 1 }]);
  });

  it('repeat_every never: a still-firing alert is not notified again, however long', () => {
    const a = alert();
    const before = { alert: a, firstSeenMs: 0, lastNotifiedMs: 0 };
    const r = diff({ previous: state(before), current: [a], rules: rulesOf(lowAvailable({ repeatEveryMs: null })) });
    expect(r.events).toEqual([]);
    expect(r.changed).toEqual([]);
  });

  it('a changed level is written but not notified', () => {
    const before = { alert: alert({ available: 5 }), firstSeenMs: NOW - HOUR, lastNotifiedMs: NOW - HOUR };
    const now = alert({ available: 4, summary: 'SKU-1: 4 left' });
    const r = diff({ previous: state(before), current: [now] });
    expect(r.events).toEqual([]);
    expect(r.changed).toEqual([{ alert: now, firstSeenMs: NOW - HOUR, lastNotifiedMs: NOW - HOUR }]);
  });

  it('writes only the records that differ on a warm poll', () => {
    const same = alert({ productId: 'same' });
    const moved = alert({ productId: 'moved', available: 5 });
    const sev = alert({ productId: 'sev' });
    const previous = state(
      { alert: same, firstSeenMs: 0, lastNotifiedMs: NOW - HOUR },
      { alert: moved, firstSeenMs: 0, lastNotifiedMs: NOW - HOUR },
      { alert: sev, firstSeenMs: 0, lastNotifiedMs: NOW - HOUR },
    );
    const r = diff({ previous, current: [{ ...same }, { ...moved, available: 6 }, { ...sev, severity: 'critical' }, alert({ productId: 'fresh' })] });
    expect(r.changed.map((c) => c.alert.productId)).toEqual(['moved', 'sev', 'fresh']);
    expect(r.next.size).toBe(4);
  });

  it('resolves a gone alert with send_resolved, reporting the item\'s current levels', () => {
    const before = { alert: alert({ available: 2 }), firstSeenMs: NOW - 5 * HOUR, lastNotifiedMs: NOW - 5 * HOUR };
    const current: Item = item({ available: 40, incoming: 3, reserved: 1, updatedAt: '2024-06-05T11:59:00Z' });
    const r = diff({
      previous: state(before),
      current: [],
      items: [current],
    });
    expect(r.removed).toEqual([keyOf(before.alert)]);
    expect(r.next.size).toBe(0);
    expect(r.changed).toEqual([]);
    expect(r.events).toEqual([
      {
        kind: 'resolved',
        firstSeenMs: NOW - 5 * HOUR,
        alert: { ...before.alert, status: 'resolved', available: 40, incoming: 3, reserved: 1, updatedAt: '2024-06-05T11:59:00Z' },
      },
    ]);
  });

  it('a resolved alert whose item is gone keeps its last levels; its summary is rendered again', () => {
    const before = { alert: alert({ available: 2, summary: 'old' }), firstSeenMs: 0, lastNotifiedMs: 0 };
    const r = diff({ previous: state(before), current: [], rules: rulesOf(lowAvailable({ summary: '{{sku}} {{status}}: {{available}}' })) });
    expect(r.events[0].alert).toMatchObject({ status: 'resolved', available: 2, summary: 'SKU-1 resolved: 2' });
  });

  it('without send_resolved a gone alert is removed silently', () => {
    const before = { alert: alert(), firstSeenMs: 0, lastNotifiedMs: 0 };
    const r = diff({ previous: state(before), current: [], rules: rulesOf(lowAvailable({ sendResolved: false })) });
    expect(r.events).toEqual([]);
    expect(r.removed).toEqual([keyOf(before.alert)]);
  });

  it('an alert nobody was told about resolves without a notice', () => {
    const before = { alert: alert({ silenced: true }), firstSeenMs: 0, lastNotifiedMs: null };
    const r = diff({ previous: state(before), current: [] });
    expect(r.events).toEqual([]);
    expect(r.removed).toHaveLength(1);
  });

  it('an alert of a rule that no longer exists is dropped without a word', () => {
    const before = { alert: alert({ rule: 'renamed-away' }), firstSeenMs: 0, lastNotifiedMs: 0 };
    const r = diff({ previous: state(before), current: [], heldItems: new Set([itemKey('wh-1', 'p-1')]) });
    expect(r.events).toEqual([]);
    expect(r.removed).toEqual([keyOf(before.alert)]);
    expect(r.next.size).toBe(0);
  });
});

describe('lifecycle: silences', () => {
  it('a new silenced alert is recorded as never notified, and notified as new once the silence ends', () => {
    const silenced = alert({ silenced: true });
    const first = diff({ previous: new Map(), current: [silenced] });
    expect(first.events).toEqual([]);
    expect(first.changed).toEqual([{ alert: silenced, firstSeenMs: NOW, lastNotifiedMs: null }]);

    const still = diff({ previous: first.next, current: [silenced], nowMs: NOW + 48 * HOUR });
    expect(still.events).toEqual([]);
    expect(still.changed).toEqual([]);

    const unsilenced = alert({ silenced: false });
    const after = diff({ previous: still.next, current: [unsilenced], nowMs: NOW + 50 * HOUR });
    expect(after.events).toEqual([{ kind: 'new', alert: unsilenced, firstSeenMs: NOW }]);
    expect(after.changed).toEqual([{ alert: unsilenced, firstSeenMs: NOW, lastNotifiedMs: NOW + 50 * HOUR }]);
  });

  it('a silenced still-firing alert gets no repeat; the flag change is written', () => {
    const before = { alert: alert(), firstSeenMs: 0, lastNotifiedMs: NOW - 100 * HOUR };
    const r = diff({ previous: state(before), current: [alert({ silenced: true })] });
    expect(r.events).toEqual([]);
    expect(r.changed).toEqual([{ alert: alert({ silenced: true }), firstSeenMs: 0, lastNotifiedMs: NOW - 100 * HOUR }]);
  });

  it('a gone alert that is silenced now is not announced as resolved, but is listed as resolved', () => {
    const before = { alert: alert(), firstSeenMs: 0, lastNotifiedMs: 0 };
    const r = diff({ previous: state(before), current: [], silences: [silence({ where: { sku: ['SKU-*'] } })] });
    expect(r.events).toEqual([]);
    expect(r.removed).toHaveLength(1);
    expect(r.resolved).toEqual([expect.objectContaining({ status: 'resolved', silenced: true })]);
    expect(diff({ previous: state(before), current: [] }).events).toHaveLength(1);
  });
});

describe('lifecycle: held items and suspect overviews', () => {
  it('an alert of a malformed (held) item keeps its record exactly and is not resolved', () => {
    const before = { alert: alert(), firstSeenMs: 1, lastNotifiedMs: 2 };
    const r = diff({ previous: state(before), current: [], heldItems: new Set([itemKey('wh-1', 'p-1')]) });
    expect(r.events).toEqual([]);
    expect(r.removed).toEqual([]);
    expect(r.changed).toEqual([]);
    expect(r.next.get(keyOf(before.alert))).toBe(before);
  });

  it('a held item keeps its record even if a current alert for it is passed', () => {
    const before = { alert: alert({ available: 5 }), firstSeenMs: 1, lastNotifiedMs: 2 };
    const r = diff({ previous: state(before), current: [alert({ available: 1 })], heldItems: new Set([itemKey('wh-1', 'p-1')]) });
    expect(r.next.get(keyOf(before.alert))).toBe(before);
    expect(r.events).toEqual([]);
    expect(r.changed).toEqual([]);
  });

  it('resolveAbsent false keeps gone alerts but still reports new ones', () => {
    const gone = { alert: alert({ productId: 'gone' }), firstSeenMs: 0, lastNotifiedMs: 0 };
    const fresh = alert({ productId: 'fresh' });
    const r = diff({ previous: state(gone), current: [fresh], resolveAbsent: false });
    expect(kinds(r)).toEqual(['new:low-available/fresh']);
    expect(r.removed).toEqual([]);
    expect(r.next.get(keyOf(gone.alert))).toBe(gone);
    expect(r.next.size).toBe(2);
  });
});

describe('lifecycle: order and end to end with evaluate', () => {
  it('orders events by severity, rule, sku (or productId), warehouse', () => {
    const current = [
      alert({ rule: 'b-rule', productId: 'p1', sku: 'Z', severity: 'info' }),
      alert({ rule: 'b-rule', productId: 'p2', sku: 'A', severity: 'warning', warehouse: 'West' }),
      alert({ rule: 'b-rule', productId: 'p3', sku: 'A', severity: 'warning', warehouse: 'East' }),
      alert({ rule: 'a-rule', productId: 'p4', sku: null, severity: 'warning' }),
      alert({ rule: 'z-rule', productId: 'p5', sku: 'A', severity: 'critical' }),
    ];
    const rules = rulesOf(...['a-rule', 'b-rule', 'z-rule'].map((name) => lowAvailable({ name })));
    const r = diff({ previous: new Map(), current, rules });
    expect(r.events.map((e) => e.alert.productId)).toEqual(['p5', 'p4', 'p3', 'p2', 'p1']);
  });

  it('a sequence of polls: fire, steady, repeat, resolve', () => {
    const rules = [lowAvailable({ repeatEveryMs: 2 * HOUR }), negativeReserved({ sendResolved: false })];
    const compiled = compileRuleSet(ruleSet(rules));
    const poll = (items: Item[], nowMs: number, previous: ReadonlyMap<string, AlertRecord>): LifecycleResult =>
      diff({ previous, current: evaluateOverview(items, compiled, nowMs).alerts, nowMs, rules, items });
    const low = item({ available: 3, reserved: -1 });
    const p1 = poll([low], NOW, new Map());
    expect(kinds(p1)).toEqual(['new:negative-reserved/p-1', 'new:low-available/p-1']);
    const p2 = poll([low], NOW + HOUR, p1.next);
    expect(kinds(p2)).toEqual([]);
    const p3 = poll([low], NOW + 2 * HOUR, p2.next);
    expect(kinds(p3)).toEqual(['repeat:low-available/p-1']);
    const fixed = item({ available: 30, reserved: 0 });
    const p4 = poll([fixed], NOW + 3 * HOUR, p3.next);
    expect(kinds(p4)).toEqual(['resolved:low-available/p-1']);
    expect(p4.events[0].alert.available).toBe(30);
    expect(p4.removed).toHaveLength(2);
    expect(p4.next.size).toBe(0);
  });
});

/** Runs polls one after another through evaluateOverview() and the lifecycle, keeping the state. */
function polls(rules: Rule[], inhibit: Inhibit[] = []) {
  const rs = ruleSet(rules);
  rs.inhibit = inhibit;
  const compiled = compileRuleSet(rs);
  let previous: ReadonlyMap<string, AlertRecord> = new Map();
  return (items: Item[], nowMs: number): LifecycleResult => {
    const r = advance(compiled, previous, items, nowMs);
    previous = r.next;
    return r;
  };
}

const MIN = 60_000;
const at = (available: number, over: Partial<Item> = {}): Item[] => [item({ available, ...over })];

describe('lifecycle: for (pending)', () => {
  const rule = lowAvailable({ forMs: 15 * MIN });

  it('is pending, never notified, until the condition has held for `for`; then fires once', () => {
    const poll = polls([rule]);
    const p0 = poll(at(3), NOW);
    expect(p0.events).toEqual([]);
    expect(p0.alerts.map((a) => a.status)).toEqual(['pending']);
    expect(poll(at(3), NOW + 10 * MIN).events).toEqual([]);
    const fired = poll(at(3), NOW + 15 * MIN);
    expect(kinds(fired)).toEqual(['new:low-available/p-1']);
    expect(fired.alerts.map((a) => a.status)).toEqual(['firing']);
    expect(fired.events[0].firstSeenMs).toBe(NOW + 15 * MIN);
    expect(poll(at(3), NOW + 20 * MIN).events).toEqual([]);
  });

  it('a poll at which the condition does not hold drops the pending alert silently', () => {
    const poll = polls([rule]);
    poll(at(3), NOW);
    const recovered = poll(at(30), NOW + 5 * MIN);
    expect(recovered.events).toEqual([]);
    expect(recovered.resolved).toEqual([]);
    expect(recovered.next.size).toBe(0);
    // It starts over: 15 more minutes from the next dip.
    poll(at(3), NOW + 10 * MIN);
    expect(poll(at(3), NOW + 20 * MIN).events).toEqual([]);
    expect(kinds(poll(at(3), NOW + 25 * MIN))).toEqual(['new:low-available/p-1']);
  });

  it('an edited condition starts pending alerts over; firing ones stay', () => {
    const poll = polls([rule]);
    const p0 = poll(at(3), NOW);
    const changed = diff({
      previous: p0.next,
      current: evaluateOverview(at(3), compileRuleSet(ruleSet([rule])), NOW + 15 * MIN).alerts,
      nowMs: NOW + 15 * MIN,
      rules: [rule],
      conditionChanged: new Set([rule.name]),
    });
    expect(changed.events).toEqual([]);
    expect([...changed.next.values()][0]).toMatchObject({ firstSeenMs: NOW + 15 * MIN, alert: { status: 'pending' } });
  });
});

describe('lifecycle: keep_firing_for', () => {
  const rule = lowAvailable({ keepFiringForMs: 10 * MIN });

  it('a short recovery is the same alert: no resolved, no new', () => {
    const poll = polls([rule]);
    expect(kinds(poll(at(3), NOW))).toEqual(['new:low-available/p-1']);
    const blip = poll(at(30), NOW + 5 * MIN);
    expect(blip.events).toEqual([]);
    expect(blip.alerts.map((a) => a.status)).toEqual(['firing']);
    expect(poll(at(3), NOW + 10 * MIN).events).toEqual([]);
    expect(poll(at(30), NOW + 15 * MIN).events).toEqual([]);
  });

  it('a recovery that lasts keep_firing_for resolves once', () => {
    const poll = polls([rule]);
    poll(at(3), NOW);
    expect(poll(at(30), NOW + 5 * MIN).events).toEqual([]);
    const done = poll(at(30), NOW + 15 * MIN);
    expect(kinds(done)).toEqual(['resolved:low-available/p-1']);
    expect(done.events[0].alert.available).toBe(30);
    expect(poll(at(30), NOW + 20 * MIN).events).toEqual([]);
  });
});

describe('lifecycle: clear_at (hysteresis)', () => {
  it('10 polls alternating 9/11 around below 10 with clear_at 15: one notice, no resolved', () => {
    const poll = polls([lowAvailable({ below: 10, clearAt: 15 })]);
    const events = Array.from({ length: 10 }, (_, i) => poll(at(i % 2 === 0 ? 9 : 11), NOW + i * 5 * MIN).events).flat();
    expect(events.map((e) => e.kind)).toEqual(['new']);
  });

  it('resolves at clear_at, and quantities between below and clear_at start nothing', () => {
    const poll = polls([lowAvailable({ below: 10, clearAt: 15 })]);
    expect(poll(at(12), NOW).events).toEqual([]);
    expect(poll(at(12), NOW).next.size).toBe(0);
    poll(at(9), NOW + MIN);
    expect(poll(at(14), NOW + 2 * MIN).events).toEqual([]);
    expect(kinds(poll(at(15), NOW + 3 * MIN))).toEqual(['resolved:low-available/p-1']);
  });
});

describe('lifecycle: inhibition', () => {
  const outOfStock = lowAvailable({ name: 'out-of-stock', below: 1, severity: 'critical' });
  const low = lowAvailable({ name: 'low-available', below: 10 });
  const inhibit: Inhibit = { when: 'out-of-stock', suppress: ['low-*'], same: 'item', pos: { file: 't.yaml', line: 1, col: 1 } };

  it('a sold-out item is one notice; restocked to 5, the low alert is notified as new', () => {
    const poll = polls([outOfStock, low], [inhibit]);
    const soldOut = poll(at(0), NOW);
    expect(kinds(soldOut)).toEqual(['new:out-of-stock/p-1']);
    expect(soldOut.alerts.find((a) => a.rule === 'low-available')).toMatchObject({ status: 'firing', inhibited: true });
    const restocked = poll(at(5), NOW + MIN);
    expect(kinds(restocked)).toEqual(['resolved:out-of-stock/p-1', 'new:low-available/p-1']);
  });

  it('an alert notified before the inhibition is not notified again after it, and resolves normally', () => {
    const poll = polls([outOfStock, low], [inhibit]);
    expect(kinds(poll(at(5), NOW))).toEqual(['new:low-available/p-1']);
    expect(kinds(poll(at(0), NOW + MIN))).toEqual(['new:out-of-stock/p-1']);
    expect(kinds(poll(at(5), NOW + 2 * MIN))).toEqual(['resolved:out-of-stock/p-1']);
    expect(kinds(poll(at(50), NOW + 3 * MIN))).toEqual(['resolved:low-available/p-1']);
  });

  it('an inhibited alert that was never notified resolves without a notice', () => {
    const poll = polls([outOfStock, low], [inhibit]);
    poll(at(0), NOW);
    const r = poll(at(50), NOW + MIN);
    expect(kinds(r)).toEqual(['resolved:out-of-stock/p-1']);
    expect(r.resolved.map((a) => a.rule).sort()).toEqual(['low-available', 'out-of-stock']);
  });

  it('only the same item (or product, or warehouse) is inhibited; pending and silenced alerts inhibit nothing', () => {
    const other = item({ productId: 'p-2', sku: 'SKU-2', available: 5 });
    expect(kinds(polls([outOfStock, low], [inhibit])([item({ available: 0 }), other], NOW))).toEqual([
      'new:out-of-stock/p-1',
      'new:low-available/p-2',
    ]);
    const byWarehouse = { ...inhibit, same: 'warehouse' as const };
    expect(kinds(polls([outOfStock, low], [byWarehouse])([item({ available: 0 }), other], NOW))).toEqual(['new:out-of-stock/p-1']);
    const pendingSource = polls([{ ...outOfStock, forMs: HOUR }, low], [inhibit])(at(0), NOW);
    expect(kinds(pendingSource)).toEqual(['new:low-available/p-1']);
  });
});

describe('lifecycle: what a quiet poll writes', () => {
  it('an alert whose own item did not change is not rewritten when only its stock elsewhere moved; its next notice says the current stock elsewhere', () => {
    const poll = polls([lowAvailable({ repeatEveryMs: 2 * HOUR })]);
    const here = item({ available: 3 });
    const there = (available: number): Item => item({ warehouseId: 'wh-2', warehouse: 'Other', available });
    const p1 = poll([here, there(50)], NOW);
    expect(kinds(p1)).toEqual(['new:low-available/p-1']);
    expect(p1.events[0].alert.availableElsewhere).toBe(50);

    const p2 = poll([here, there(40)], NOW + HOUR);
    expect(p2.events).toEqual([]);
    expect(p2.changed).toEqual([]);

    const p3 = poll([here, there(30)], NOW + 2 * HOUR);
    expect(kinds(p3)).toEqual(['repeat:low-available/p-1']);
    expect(p3.events[0].alert.availableElsewhere).toBe(30);
    // The notice is written down with what it said.
    expect(p3.changed.map((r) => [r.alert.availableElsewhere, r.lastNotifiedMs])).toEqual([[30, NOW + 2 * HOUR]]);
  });

  it('an alert whose own level changed is rewritten', () => {
    const poll = polls([lowAvailable()]);
    poll([item({ available: 3 })], NOW);
    const p2 = poll([item({ available: 2 })], NOW + HOUR);
    expect(p2.events).toEqual([]);
    expect(p2.changed.map((r) => r.alert.available)).toEqual([2]);
  });

  it('counts firing and pending alerts, the firing ones by rule and severity, in the order they first occur', () => {
    // A suspect overview keeps every record as stored: one rule's records under two severities
    // (stored before an edit of the rule), interleaved, and a pending one.
    const at = (productId: string, over: Partial<Alert> = {}): AlertRecord => ({ alert: alert({ productId, ...over }), firstSeenMs: NOW - HOUR, lastNotifiedMs: NOW - HOUR });
    const previous = state(
      at('p-1'),
      at('p-2', { severity: 'critical' }),
      at('p-3'),
      at('p-4', { rule: 'negative-reserved', type: 'negative_reserved', severity: 'critical' }),
      at('p-5', { status: 'pending' }),
      at('p-6', { severity: 'critical' }),
    );
    const r = diff({ previous, current: [], resolveAbsent: false });
    expect(r.counts).toEqual({
      firing: 5,
      pending: 1,
      firingByRule: [
        { rule: 'low-available', severity: 'warning', count: 2 },
        { rule: 'low-available', severity: 'critical', count: 2 },
        { rule: 'negative-reserved', severity: 'critical', count: 1 },
      ],
    });
  });
});
