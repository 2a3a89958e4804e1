// runs_out (SPEC 3.2): the selling rate learned from the polls, run through stepPoll in memory
// over generated series of 5-minute polls, as `replay` runs saved overviews.
import { compileRuleSet } from '../../src/engine/evaluate';
import { DEFAULT_RATE_HALF_LIFE_MS, trackId, weightAfter } from '../../src/engine/forecast';
import type { AlertEvent } from '../../src/engine/lifecycle';
import type { Alert, Rule } from '../../src/model';
import { mulberry32 } from '../../src/prng';
import { item, lowAvailable, printed, ruleSet, silence } from './helpers';
import { DAY, MINUTE, overviewOf, Poller, runsOut, seriesOf } from './series';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const POLL = 5 * MINUTE;
const ITEM_TRACK = trackId('item', DEFAULT_RATE_HALF_LIFE_MS, undefined);

interface Order {
  atMs: number;
  units: number;
}

/**
 * Five units a day, every day, as orders of 1 to 3 units at random moments of the day: the daily
 * total is the rate, the timing and the sizes are the noise.
 */
function orders(seed: number, days: number, perDay = 5): Order[] {
  const rand = mulberry32(seed);
  const out: Order[] = [];
  for (let d = 0; d < days; d++) {
    let left = perDay;
    while (left > 0) {
      const units = Math.min(left, 1 + Math.floor(rand() * 3));
      left -= units;
      out.push({ atMs: T0 + d * DAY + Math.floor(rand() * DAY), units });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** A shop: orders sell what is there (nothing at zero), receipts add stock; polled every 5 minutes. */
class Shop {
  available: number;
  private nextOrder = 0;
  private nextReceipt = 0;
  constructor(
    start: number,
    private readonly orderList: Order[],
    private readonly receipts: Order[] = [],
  ) {
    this.available = start;
  }

  /** The stock at `atMs`, after every order and receipt up to then (in time order). */
  at(atMs: number): number {
    for (;;) {
      const order = this.orderList[this.nextOrder];
      const receipt = this.receipts[this.nextReceipt];
      const orderDue = order !== undefined && order.atMs <= atMs;
      const receiptDue = receipt !== undefined && receipt.atMs <= atMs;
      if (!orderDue && !receiptDue) return this.available;
      if (receiptDue && (!orderDue || receipt.atMs <= order.atMs)) {
        this.available += receipt.units;
        this.nextReceipt++;
      } else {
        this.available = Math.max(0, this.available - order.units);
        this.nextOrder++;
      }
    }
  }
}

const firingOf = (p: Poller, rule: string): Alert | undefined => p.last?.lifecycle?.alerts.find((a) => a.rule === rule);
const eventsOf = (p: Poller): AlertEvent[] => p.last?.lifecycle?.events ?? [];

describe('runs_out: the learned rate', () => {
  it('60 days of 5-minute polls selling 5/day: rate within 5 % and runsOutAt within a day of the truth', () => {
    const p = new Poller(compileRuleSet(ruleSet([runsOut()])));
    const shop = new Shop(400, orders(1, 60));
    const end = T0 + 60 * DAY;
    for (let t = T0; t <= end; t += POLL) p.poll(t, overviewOf([item({ available: shop.at(t) })]));

    const rate = seriesOf(p.history, ITEM_TRACK, 'wh-1', 'p-1')!.rate;
    if (process.env.FORECAST_VERBOSE) console.log({ rate, alert: firingOf(p, 'runs-out') });
    expect(Math.abs(rate - 5) / 5).toBeLessThanOrEqual(0.05);
    expect(shop.available).toBe(100);
    const alert = firingOf(p, 'runs-out')!;
    expect(alert).toMatchObject({ status: 'firing', available: 100, warehouseId: 'wh-1', productId: 'p-1' });
    expect(Math.abs(alert.ratePerDay! - 5) / 5).toBeLessThanOrEqual(0.05);
    const truth = end + (100 / 5) * DAY;
    expect(Math.abs(Date.parse(alert.runsOutAt!) - truth)).toBeLessThanOrEqual(DAY);
    // SPEC field order, the forecast's two fields last.
    expect(Object.keys(printed(alert)).slice(-3)).toEqual(['inhibited', 'ratePerDay', 'runsOutAt']);
  });

  it('10 days at zero stock and then a receipt of 500 move the rate by at most 10 %; at zero it keeps firing with runsOutAt = now', () => {
    const p = new Poller(compileRuleSet(ruleSet([runsOut()])));
    // 150 units at 5/day: out of stock after 30 days; nothing arrives until day 40.
    const shop = new Shop(150, orders(2, 50), [{ atMs: T0 + 40 * DAY, units: 500 }]);
    const rateNow = (): number => seriesOf(p.history, ITEM_TRACK, 'wh-1', 'p-1')!.rate;
    let rateAtZero: number | null = null;
    const atZero: Alert[] = [];
    for (let t = T0; t <= T0 + 41 * DAY; t += POLL) {
      const available = shop.at(t);
      p.poll(t, overviewOf([item({ available })]));
      if (available === 0 && rateAtZero === null) rateAtZero = rateNow();
      if (available === 0 && t >= T0 + 31 * DAY && t < T0 + 40 * DAY) atZero.push(firingOf(p, 'runs-out')!);
      if (t === T0 + 40 * DAY) {
        expect(available).toBe(500);
        // The receipt itself: the rate is as it was when the stock ran out, and 500 units last 100 days.
        expect(Math.abs(rateNow() - rateAtZero!) / rateAtZero!).toBeLessThanOrEqual(0.1);
        expect(firingOf(p, 'runs-out')).toBeUndefined();
        expect(eventsOf(p).map((e) => e.kind)).toEqual(['resolved']);
      }
    }
    expect(rateAtZero).not.toBeNull();
    expect(Math.abs(rateAtZero! - 5) / 5).toBeLessThanOrEqual(0.1);
    // A day of selling after the receipt still reads the same rate.
    expect(Math.abs(rateNow() - rateAtZero!) / rateAtZero!).toBeLessThanOrEqual(0.1);
    expect(atZero.length).toBeGreaterThan(100);
    for (const a of atZero) {
      expect(a).toBeDefined();
      expect(a.available).toBe(0);
    }
    // runsOutAt is the poll's own time while it is out of stock.
    expect(new Set(atZero.map((a) => Date.parse(a.runsOutAt!) % POLL))).toEqual(new Set([0]));
  });

  it('fires only once min_history of observations exist', () => {
    const p = new Poller(compileRuleSet(ruleSet([runsOut({ minHistoryMs: 3 * DAY, withinMs: 100 * DAY })])));
    const shop = new Shop(100, orders(3, 5));
    let firstFire: number | null = null;
    for (let t = T0; t <= T0 + 5 * DAY; t += POLL) {
      p.poll(t, overviewOf([item({ available: shop.at(t) })]));
      if (firstFire === null && firingOf(p, 'runs-out') !== undefined) firstFire = t;
    }
    // The first poll counts no interval: 3 days of intervals end one poll after T0 + 3d at the latest.
    expect(firstFire).not.toBeNull();
    expect(firstFire!).toBeGreaterThan(T0 + 3 * DAY - 2 * POLL);
    expect(firstFire!).toBeLessThanOrEqual(T0 + 3 * DAY + POLL);
  });

  it('an item that never sold does not fire, even at 0; one that only receives does not either', () => {
    const p = new Poller(compileRuleSet(ruleSet([runsOut({ minHistoryMs: DAY })])));
    for (let t = T0, n = 0; t <= T0 + 3 * DAY; t += POLL, n++) {
      p.poll(t, overviewOf([item({ productId: 'zero', available: 0 }), item({ productId: 'still', available: 7 }), item({ productId: 'grows', available: n })]));
    }
    expect(p.last!.lifecycle!.alerts).toEqual([]);
    expect(seriesOf(p.history, ITEM_TRACK, 'wh-1', 'still')!.rate).toBe(0);
    expect(seriesOf(p.history, ITEM_TRACK, 'wh-1', 'grows')!.rate).toBe(0);
  });

  it('runs_out fires nothing without history (eval on one overview), and keeps no history without a runs_out rule', () => {
    const withRule = new Poller(compileRuleSet(ruleSet([runsOut()])));
    withRule.poll(T0, overviewOf([item({ available: 0 })]));
    expect(withRule.last!.lifecycle!.alerts).toEqual([]);
    expect(withRule.history!.get(ITEM_TRACK)!.size).toBe(1);

    const without = new Poller(compileRuleSet(ruleSet([lowAvailable()])));
    without.poll(T0, overviewOf([item({ available: 0 })]));
    expect(without.history!.size).toBe(0);
  });

  it('follows only the items a runs_out rule covers; a vanished item keeps its history and resumes across the gap', () => {
    const rules = [runsOut({ where: { sku: ['KEEP-*'] }, minHistoryMs: DAY, withinMs: 100 * DAY })];
    const p = new Poller(compileRuleSet(ruleSet(rules)));
    const kept = (available: number) => item({ productId: 'k', sku: 'KEEP-1', available });
    const other = item({ productId: 'o', sku: 'OTHER', available: 50 });
    let available = 100;
    for (let t = T0; t <= T0 + 2 * DAY; t += POLL) {
      // Sells one unit an hour.
      if ((t - T0) % (60 * MINUTE) === 0 && t > T0) available--;
      p.poll(t, overviewOf([other, kept(available)]));
    }
    expect(p.history!.get(ITEM_TRACK)!.size).toBe(1);
    expect(seriesOf(p.history, ITEM_TRACK, 'wh-1', 'o')).toBeNull();
    const before = seriesOf(p.history, ITEM_TRACK, 'wh-1', 'k')!;
    expect(before.rate).toBeCloseTo(24, 0);

    // Gone for a day (kept, aging), then back with 24 fewer units: a day of the same sales.
    const gone = T0 + 3 * DAY;
    p.poll(gone, overviewOf([other]));
    expect(seriesOf(p.history, ITEM_TRACK, 'wh-1', 'k')).toMatchObject({ rate: before.rate, age: 24 * 60 });
    p.poll(gone + POLL, overviewOf([other, kept(available - 24)]));
    const after = seriesOf(p.history, ITEM_TRACK, 'wh-1', 'k')!;
    expect(after.age).toBe(0);
    expect(after.rate).toBeCloseTo(24, 0);
    expect(firingOf(p, 'runs-out')).toMatchObject({ productId: 'k', ratePerDay: expect.any(Number) });
  });

  it('for, silences and inhibition apply to runs_out like to any rule (the lifecycle decides)', () => {
    const rules: Rule[] = [
      runsOut({ forMs: 60 * MINUTE, minHistoryMs: DAY, withinMs: 10 * DAY }),
      lowAvailable({ name: 'out-of-stock', below: 1 }),
    ];
    const rs = ruleSet(rules, [silence({ where: { sku: ['MUTED'] }, rule: 'runs-out' })]);
    rs.inhibit = [{ when: 'out-of-stock', suppress: ['runs-out'], same: 'item', pos: { file: 'test.yaml', line: 1, col: 1 } }];
    const p = new Poller(compileRuleSet(rs));
    // Two items selling 10/day from 30: they fire once a day of history exists (20 left, 2 days).
    const both = (t: number) => {
      const available = Math.max(0, 30 - Math.floor(((t - T0) / DAY) * 10));
      return overviewOf([item({ productId: 'a', sku: 'LOUD', available }), item({ productId: 'b', sku: 'MUTED', available })]);
    };
    const statusAt: Record<string, string[]> = {};
    const newAt: Record<string, string[]> = {};
    for (let t = T0; t <= T0 + 4 * DAY; t += POLL) {
      p.poll(t, both(t));
      const label = `${(t - T0) / MINUTE}`;
      statusAt[label] = p.last!.lifecycle!.alerts.filter((a) => a.rule === 'runs-out').map((a) => `${a.productId}:${a.status}${a.silenced ? ':silenced' : ''}${a.inhibited ? ':inhibited' : ''}`);
      newAt[label] = eventsOf(p).filter((e) => e.kind === 'new').map((e) => `${e.alert.rule}/${e.alert.productId}`);
    }
    const minutes = Object.keys(statusAt).map(Number);
    const firstPending = minutes.find((m) => statusAt[m].length > 0)!;
    // for: 1h pending, then firing; only the unsilenced one is notified.
    expect(statusAt[firstPending]).toEqual(['a:pending', 'b:pending:silenced']);
    expect(newAt[firstPending]).toEqual([]);
    expect(statusAt[firstPending + 60]).toEqual(['a:firing', 'b:firing:silenced']);
    expect(newAt[firstPending + 60]).toEqual(['runs-out/a']);
    // At 0 the out-of-stock alert fires and inhibits it (runs_out keeps firing: it has run out).
    const zero = minutes.find((m) => statusAt[m].some((s) => s.includes('inhibited')))!;
    expect(statusAt[zero]).toEqual(['a:firing:inhibited', 'b:firing:silenced:inhibited']);
    expect(newAt[zero]).toEqual(['out-of-stock/a', 'out-of-stock/b']);
  });
});

describe('weightAfter', () => {
  it('is the weight uninterrupted observation reaches, which the learned weight meets no later', () => {
    const p = new Poller(compileRuleSet(ruleSet([runsOut()])));
    for (let t = T0, n = 0; t <= T0 + 3 * DAY; t += POLL, n++) p.poll(t, overviewOf([item({ available: 10_000 - n })]));
    const w = seriesOf(p.history, ITEM_TRACK, 'wh-1', 'p-1')!.weight;
    expect(w).toBeGreaterThanOrEqual(weightAfter(3 * DAY, DEFAULT_RATE_HALF_LIFE_MS) * (1 - 1e-6));
    expect(w).toBeLessThan(weightAfter(3 * DAY + POLL, DEFAULT_RATE_HALF_LIFE_MS));
    expect(weightAfter(100 * DAY, 7 * DAY)).toBeCloseTo(7 / Math.LN2, 2);
  });
});
