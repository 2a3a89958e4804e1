import { diffAlerts, type AlertRecord, type DiffInput, type DiffResult } from '../../src/engine/diff';
import { compileRuleSet, evaluate, silenceChecker } from '../../src/engine/evaluate';
import { alertKey, itemKey, type Alert, type Item, type Rule } from '../../src/model';
import { HOUR, NOW, alert, item, lowAvailable, negativeReserved, ruleSet, silence, stale } from './helpers';

const keyOf = (a: Alert): string => alertKey(a.rule, a.warehouseId, a.productId);
const rulesOf = (...rules: Rule[]): Map<string, Rule> => new Map(rules.map((r) => [r.name, r]));

function diff(overrides: Partial<DiffInput> & Pick<DiffInput, 'previous' | 'current'>): DiffResult {
  return diffAlerts({
    nowMs: NOW,
    rules: rulesOf(lowAvailable(), negativeReserved(), stale()),
    heldItems: new Set(),
    resolveAbsent: true,
    ...overrides,
  });
}

function state(...records: AlertRecord[]): Map<string, AlertRecord> {
  return new Map(records.map((r) => [keyOf(r.alert), r]));
}

const kinds = (r: DiffResult): string[] => r.events.map((e) => `${e.kind}:${e.alert.rule}/${e.alert.productId}`);

describe('diffAlerts: lifecycle', () => {
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
      currentItems: new Map([[itemKey(current.warehouseId, current.productId), current]]),
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

describe('diffAlerts: silences', () => {
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

  it('a gone alert that is silenced now is not announced as resolved (silenceChecker)', () => {
    const compiled = compileRuleSet(ruleSet([lowAvailable()], [silence({ where: { sku: ['SKU-*'] } })]));
    const before = { alert: alert(), firstSeenMs: 0, lastNotifiedMs: 0 };
    const r = diff({ previous: state(before), current: [], isSilenced: silenceChecker(compiled, NOW) });
    expect(r.events).toEqual([]);
    expect(r.removed).toHaveLength(1);
    // Without a checker, the flag from the previous poll decides.
    expect(diff({ previous: state(before), current: [] }).events).toHaveLength(1);
    expect(diff({ previous: state({ ...before, alert: alert({ silenced: true }) }), current: [] }).events).toEqual([]);
  });
});

describe('diffAlerts: held items and suspect overviews', () => {
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

describe('diffAlerts: order and end to end with evaluate', () => {
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
    const compiled = compileRuleSet(ruleSet([lowAvailable({ repeatEveryMs: 2 * HOUR }), negativeReserved({ sendResolved: false })]));
    const poll = (items: Item[], nowMs: number, previous: Map<string, AlertRecord>): DiffResult =>
      diffAlerts({
        previous,
        current: evaluate(items, compiled, nowMs),
        nowMs,
        rules: compiled.ruleByName,
        heldItems: new Set(),
        resolveAbsent: true,
        currentItems: new Map(items.map((i) => [itemKey(i.warehouseId, i.productId), i])),
        isSilenced: silenceChecker(compiled, nowMs),
      });
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
