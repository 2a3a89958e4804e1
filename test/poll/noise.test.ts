// Flap control and inhibition through the daemon's real poll (runPoll, a real StateStore on real
// Redis, rules read by the real loader): what people would be told, poll after poll (issue 11).
// A "restart" is a new store and freshly loaded rules on the same Redis: everything the lifecycle
// needs must come back from there.
import IORedis from 'ioredis';
import type { CompiledRuleSet } from '../../src/engine/evaluate';
import { createLogger } from '../../src/log';
import type { Notice, NoticeAlert } from '../../src/notify';
import { runPoll } from '../../src/poll/poll';
import { parseOverview } from '../../src/source/overview';
import { StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';
import { compileRules } from '../support/rules';

const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;
const POLL = 5 * MIN;

function compiled(rules: string): CompiledRuleSet {
  return compileRules(`
channels:
  ops:
    slack:
      webhook_url: http://127.0.0.1:9/services/T0/B0/noise
defaults:
  channels: [ops]
  repeat_every: never
${rules}`);
}

interface Level {
  warehouseId?: string;
  productId?: string;
  available: number;
  updatedAt?: string;
}

function overview(levels: Level[]) {
  return parseOverview(
    JSON.stringify({
      warehouses: [
        { id: 'w1', name: 'Markham' },
        { id: 'w2', name: 'Oakville' },
      ],
      products: [
        { id: 'p1', sku: 'SKU-1', name: 'Product 1', brand: { name: 'Acme' } },
        { id: 'p2', sku: 'SKU-2', name: 'Product 2', brand: { name: 'Acme' } },
      ],
      items: levels.map((l) => ({
        warehouseId: l.warehouseId ?? 'w1',
        level: { productId: l.productId ?? 'p1', available: l.available, incoming: 0, reserved: 0, updatedAt: l.updatedAt ?? '2026-11-30T07:59:00Z' },
      })),
    }),
  );
}

describe('noise control through the daemon poll on real Redis', () => {
  const redis = new IORedis(REDIS_URL);
  const log = createLogger('silent');
  const prefixes: string[] = [];

  afterAll(async () => {
    await Promise.all(prefixes.map((p) => cleanPrefix(p)));
    redis.disconnect();
  });

  /** A daemon on its own prefix; `restart()` gives a new one on the same state. Each poll returns the lines it notified. */
  function daemon(rules: string) {
    const prefix = uniquePrefix('noise');
    prefixes.push(prefix);
    let store = new StateStore(redis, prefix);
    let rs = compiled(rules);
    return {
      restart() {
        store = new StateStore(redis, prefix);
        rs = compiled(rules);
      },
      async poll(levels: Level[], nowMs: number): Promise<string[]> {
        const seen = new Set((await store.pendingOutbox()).map((e) => e.id));
        const report = await runPoll({ store, rules: () => rs, flushOutbox: async () => [], log, fetchOverview: async () => ({ overview: overview(levels) }) }, nowMs);
        expect(report.committed).toBe(true);
        const notices = (await store.pendingOutbox()).filter((e) => !seen.has(e.id)).map((e) => (e.data as { notice: Notice }).notice);
        const lines: string[] = [];
        for (const n of notices) {
          if (n.type === 'alerts') lines.push(...n.alerts.map((a: NoticeAlert) => `${a.kind} ${a.rule} ${a.sku ?? a.warehouse}`));
        }
        return lines.sort();
      },
    };
  }

  test('available alternating 9/11 around below 10 with clear_at 15: one notice in ten polls', async () => {
    const d = daemon(`
rules:
  - name: low
    type: low_available
    below: 10
    clear_at: 15
`);
    const told: string[] = [];
    for (let i = 0; i < 10; i++) told.push(...(await d.poll([{ available: i % 2 === 0 ? 9 : 11 }], T0 + i * POLL)));
    expect(told).toEqual(['new low SKU-1']);
  });

  test('for: three poll intervals; a one-poll dip sends nothing, a lasting dip one notice, on time across a restart', async () => {
    const d = daemon(`
rules:
  - name: low
    type: low_available
    below: 10
    for: 15m
`);
    expect(await d.poll([{ available: 5 }], T0)).toEqual([]);
    expect(await d.poll([{ available: 50 }], T0 + POLL)).toEqual([]);
    // The lasting dip starts here; the daemon is restarted while it is pending.
    expect(await d.poll([{ available: 5 }], T0 + 2 * POLL)).toEqual([]);
    expect(await d.poll([{ available: 5 }], T0 + 3 * POLL)).toEqual([]);
    d.restart();
    expect(await d.poll([{ available: 5 }], T0 + 4 * POLL)).toEqual([]);
    expect(await d.poll([{ available: 5 }], T0 + 5 * POLL)).toEqual(['new low SKU-1']);
    expect(await d.poll([{ available: 5 }], T0 + 6 * POLL)).toEqual([]);
  });

  test('keep_firing_for: a one-poll recovery sends nothing; a real recovery one resolved', async () => {
    const d = daemon(`
rules:
  - name: low
    type: low_available
    below: 10
    keep_firing_for: 10m
`);
    expect(await d.poll([{ available: 5 }], T0)).toEqual(['new low SKU-1']);
    expect(await d.poll([{ available: 50 }], T0 + POLL)).toEqual([]);
    d.restart();
    expect(await d.poll([{ available: 5 }], T0 + 2 * POLL)).toEqual([]);
    expect(await d.poll([{ available: 50 }], T0 + 3 * POLL)).toEqual([]);
    expect(await d.poll([{ available: 50 }], T0 + 4 * POLL)).toEqual([]);
    expect(await d.poll([{ available: 50 }], T0 + 5 * POLL)).toEqual(['resolved low SKU-1']);
  });

  test('inhibit: a sold-out item is one line; restocked to 5, the low alert is notified as new', async () => {
    const d = daemon(`
rules:
  - name: out-of-stock
    type: low_available
    below: 1
    severity: critical
  - name: low-available
    type: low_available
    below: 10
inhibit:
  - when: out-of-stock
    suppress: [low-available]
    same: item
`);
    expect(await d.poll([{ available: 40 }], T0)).toEqual([]);
    expect(await d.poll([{ available: 0 }], T0 + POLL)).toEqual(['new out-of-stock SKU-1']);
    expect(await d.poll([{ available: 5 }], T0 + 2 * POLL)).toEqual(['new low-available SKU-1', 'resolved out-of-stock SKU-1']);
  });

  test('a quiet warehouse with 500 stale levels is one stale_warehouse line, its stale alerts inhibited', async () => {
    const d = daemon(`
rules:
  - name: stale-level
    type: stale
    older_than: 48h
  - name: feed-silent
    type: stale_warehouse
    older_than: 24h
inhibit:
  - when: feed-silent
    suppress: [stale-level]
    same: warehouse
`);
    const quiet = Array.from({ length: 500 }, (_, i) => ({ warehouseId: 'w2', productId: `q${i}`, available: 10, updatedAt: '2026-11-25T00:00:00Z' }));
    const fresh = { warehouseId: 'w1', productId: 'p1', available: 10 };
    expect(await d.poll([fresh, ...quiet], T0)).toEqual(['new feed-silent Oakville']);
    // Its feed comes back: the warehouse alert resolves, the inhibited stale alerts never told resolve silently.
    const back = quiet.map((q) => ({ ...q, updatedAt: '2026-11-30T08:01:00Z' }));
    expect(await d.poll([fresh, ...back], T0 + POLL)).toEqual(['resolved feed-silent Oakville']);
  });
});
