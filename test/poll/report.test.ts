// What runPoll reports of the state after a poll (the daemon's metrics read firingByRule): counted
// through the daemon's real poll, a real StateStore on real Redis, rules read by the real loader.
import { Writable } from 'node:stream';
import IORedis from 'ioredis';
import { createLogger } from '../../src/log';
import { runPoll, type PollReport } from '../../src/poll/poll';
import { parseOverview } from '../../src/source/overview';
import { StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';
import { compileRules } from '../support/rules';

const T0 = Date.parse('2026-11-30T08:00:00Z');

const rules = (lowSeverity: string): string => `
channels:
  ops:
    slack:
      webhook_url: http://127.0.0.1:9/services/T0/B0/report
defaults:
  channels: [ops]
rules:
  - name: low
    type: low_available
    below: 10
    severity: ${lowSeverity}
  - name: out
    type: low_available
    below: 1
    severity: critical
  - name: slow-low
    type: low_available
    below: 10
    for: 1h
`;

/** Items of p1..p3 in w1 and w2 at the given levels; `unreadable`: item indexes sent without a level's numbers. */
function overview(available: number[], unreadable: number[] = []) {
  return parseOverview(
    JSON.stringify({
      warehouses: [
        { id: 'w1', name: 'Markham' },
        { id: 'w2', name: 'Oakville' },
      ],
      products: [1, 2, 3].map((n) => ({ id: `p${n}`, sku: `SKU-${n}`, name: `Product ${n}`, brand: { name: 'Acme' } })),
      items: available.map((a, i) => ({
        warehouseId: i < 3 ? 'w1' : 'w2',
        level: unreadable.includes(i)
          ? { productId: `p${(i % 3) + 1}` }
          : { productId: `p${(i % 3) + 1}`, available: a, incoming: 0, reserved: 0, updatedAt: '2026-11-30T07:59:00Z' },
      })),
    }),
  );
}

describe('runPoll reports the state after the poll', () => {
  const redis = new IORedis(REDIS_URL);
  const log = createLogger('silent');
  const prefix = uniquePrefix('report');
  const store = new StateStore(redis, prefix);

  afterAll(async () => {
    await cleanPrefix(prefix);
    redis.disconnect();
  });

  const poll = (lowSeverity: string, available: number[], nowMs: number, unreadable: number[] = []): Promise<PollReport> =>
    runPoll({ store, rules: () => compileRules(rules(lowSeverity)), flushOutbox: async () => [], log, fetchOverview: async () => ({ overview: overview(available, unreadable) }) }, nowMs);

  test('betweenStages runs after the fetch and again after the decision, before the commit', async () => {
    const order: string[] = [];
    const own = new StateStore(redis, `${prefix}:stages`);
    const load = own.load.bind(own);
    const commit = own.commit.bind(own);
    own.load = (...args) => (order.push('load'), load(...args));
    own.commit = (...args) => (order.push('commit'), commit(...args));
    const deps = {
      store: own,
      rules: () => compileRules(rules('warning')),
      flushOutbox: async () => (order.push('queue'), []),
      log,
      betweenStages: () => order.push('between'),
    };
    const ok = await runPoll({ ...deps, fetchOverview: async () => (order.push('fetch'), { overview: overview([5, 50, 50]) }) }, T0);
    expect(ok.committed).toBe(true);
    expect(order).toEqual(['fetch', 'between', 'load', 'between', 'commit', 'queue']);

    // A failed fetch is a stage too: the failure is committed as such.
    order.length = 0;
    const failed = await runPoll({ ...deps, fetchOverview: async () => (order.push('fetch'), Promise.reject(new Error('S2 API answered 503'))) }, T0 + 60_000);
    expect([failed.ok, failed.committed, failed.error]).toEqual([false, true, 'S2 API answered 503']);
    expect(order).toEqual(['fetch', 'between', 'load', 'between', 'commit', 'queue']);
  });

  test('firing and pending alerts, firing ones by rule and severity', async () => {
    // low fires for 4 items, out for 2 of them; slow-low is pending for the same 4.
    const first = await poll('warning', [5, 0, 50, 0, 7, 60], T0);
    expect(first.committed).toBe(true);
    expect([first.firing, first.pending]).toEqual([6, 4]);
    expect(first.firingByRule).toEqual([
      { rule: 'low', severity: 'warning', count: 4 },
      { rule: 'out', severity: 'critical', count: 2 },
    ]);

    // The rule's severity is edited; the item that cannot be read keeps its alerts as they were
    // (the old severity), the others fire under the new one.
    const second = await poll('info', [5, 0, 50, 0, 7, 60], T0 + 60_000, [0]);
    expect(second.committed).toBe(true);
    expect([second.firing, second.pending]).toEqual([6, 4]);
    expect(second.firingByRule).toEqual([
      { rule: 'low', severity: 'info', count: 3 },
      { rule: 'out', severity: 'critical', count: 2 },
      { rule: 'low', severity: 'warning', count: 1 },
    ]);
  });

  test('a product entry whose id cannot be read is logged, and the items it may own are held, not resolved', async () => {
    const own = new StateStore(redis, `${prefix}:entries`);
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const deps = { store: own, rules: () => compileRules(rules('warning')), flushOutbox: async () => [], log: createLogger('info', sink) };
    const first = await runPoll({ ...deps, fetchOverview: async () => ({ overview: overview([5, 50, 50]) }) }, T0);
    expect([first.firing, first.newCount]).toEqual([1, 1]);

    // p1's entry comes without its id: its item could belong to it, so it is neither an unknown
    // product nor a resolved low-stock alert.
    const body = JSON.stringify({
      warehouses: [{ id: 'w1', name: 'Markham' }],
      products: [{ sku: 'SKU-1' }, { id: 'p2', sku: 'SKU-2' }, { id: 'p3', sku: 'SKU-3' }],
      items: [1, 2, 3].map((n) => ({ warehouseId: 'w1', level: { productId: `p${n}`, available: n === 1 ? 5 : 50, incoming: 0, reserved: 0, updatedAt: '2026-11-30T07:59:00Z' } })),
    });
    const second = await runPoll({ ...deps, fetchOverview: async () => ({ overview: parseOverview(body) }) }, T0 + 60_000);
    expect([second.firing, second.newCount, second.resolvedCount, second.malformed]).toEqual([1, 0, 0, 1]);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'entry left out: products[0].id: missing, expected a non-empty string',
      "item left out: items[0].level.productId: not among the products, and products[0].id: missing, expected a non-empty string: that entry may be this item's",
    ]);
  });
});
