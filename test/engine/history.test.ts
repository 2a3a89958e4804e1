// The rate history in Redis (src/state/history.ts): its encoding, and the daemon's own poll
// (runPoll on a real StateStore on real Redis) learning across a restart exactly as stepPoll in
// memory learns (what `replay` does).
import IORedis from 'ioredis';
import { compileRuleSet } from '../../src/engine/evaluate';
import { DEFAULT_RATE_HALF_LIFE_MS, trackId, type SeriesTable } from '../../src/engine/forecast';
import { createLogger } from '../../src/log';
import type { NoticeAlert } from '../../src/notify';
import { runPoll } from '../../src/poll/poll';
import { Replayer } from '../../src/commands/replay';
import { decodeHistory, encodeTable, historyFields, PIECE_BYTES, RECORD_BYTES } from '../../src/state/history';
import { StateStore } from '../../src/state/store';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';
import { item, lowAvailable, ruleSet } from './helpers';
import { DAY, MINUTE, overviewOf, Poller, runsOut } from './series';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const TRACK = trackId('item', DEFAULT_RATE_HALF_LIFE_MS, undefined);

function table(n: number, atMs = T0): SeriesTable {
  const t: SeriesTable = {
    atMs,
    size: n,
    hashLo: new Uint32Array(n),
    hashHi: new Uint32Array(n),
    rate: new Float32Array(n),
    weight: new Float32Array(n),
    last: new Int32Array(n),
    age: new Uint16Array(n),
  };
  for (let i = 0; i < n; i++) {
    t.hashLo[i] = (i * 2654435761) >>> 0;
    t.hashHi[i] = 0xffffffff - i;
    t.rate[i] = i / 7;
    t.weight[i] = i % 11;
    t.last[i] = i - 1000;
    t.age[i] = i % 65536;
  }
  return t;
}

const plain = (t: SeriesTable | undefined) =>
  t && { atMs: t.atMs, size: t.size, columns: [t.hashLo, t.hashHi, t.rate, t.weight, t.last, t.age].map((c) => Array.from(c)) };

describe('history encoding', () => {
  it('round-trips a table through the hash fields, cut into pieces of just under 1 MiB', () => {
    const big = table(100_000);
    const fields = historyFields(new Map([[TRACK, big], ['network/1/null', table(3)]]));
    expect(encodeTable(big).byteLength).toBe(16 + 100_000 * RECORD_BYTES);
    expect(fields.map(([f, b]) => [f, b.byteLength])).toEqual([
      [`${TRACK}\u001f0`, PIECE_BYTES],
      [`${TRACK}\u001f1`, PIECE_BYTES],
      [`${TRACK}\u001f2`, 16 + 100_000 * RECORD_BYTES - 2 * PIECE_BYTES],
      ['network/1/null\u001f0', 16 + 3 * RECORD_BYTES],
    ]);
    const { history, problems } = decodeHistory(Object.fromEntries(fields.map(([f, b]) => [f, Buffer.from(b)])));
    expect(problems).toEqual([]);
    // Compared as bytes: a deep comparison of 600,000 numbers takes seconds.
    expect(encodeTable(history.get(TRACK)!).equals(encodeTable(big))).toBe(true);
    expect(history.get(TRACK)!.rate[99_999]).toBe(big.rate[99_999]);
    expect(plain(history.get('network/1/null'))).toEqual(plain(table(3)));
  });

  it('an empty table is one field; a damaged or incomplete track is left out and named', () => {
    const fields = Object.fromEntries(historyFields(new Map([['a', table(0)], ['b', table(100_000)], ['c', table(2)]])).map(([f, b]) => [f, Buffer.from(b)]));
    delete fields['b\u001f1'];
    fields['c\u001f0'] = Buffer.from('garbage');
    fields['no-piece'] = Buffer.from('x');
    const { history, problems } = decodeHistory(fields);
    expect([...history.keys()]).toEqual(['a']);
    expect(history.get('a')!.size).toBe(0);
    expect(problems.sort()).toEqual([
      'rate history of b: piece 1 of 3 is missing; its rates start over',
      'rate history of c: 7 bytes, shorter than the header; its rates start over',
      'rate history: field "no-piece" is not <track>\\x1f<piece>: ignored',
    ]);
  });
});

describe('the daemon learns rates in Redis, across restarts, as replay learns in memory', () => {
  const prefixes: string[] = [];
  const log = createLogger('silent');
  afterAll(async () => {
    await Promise.all(prefixes.map((p) => cleanPrefix(p)));
  });

  /** Hourly: one item selling 10 a day from 100, one that never sells. */
  const overviewAt = (t: number) => {
    const sold = Math.floor(((t - T0) / DAY) * 10);
    return overviewOf([item({ productId: 'fast', sku: 'FAST', available: 100 - sold }), item({ productId: 'idle', sku: 'IDLE', available: 40 })]);
  };

  it('polls, a restart (new connection and store), more polls: the stored history and the alert equal the in-memory run', async () => {
    const prefix = uniquePrefix('forecast');
    prefixes.push(prefix);
    const compiled = compileRuleSet(ruleSet([runsOut({ minHistoryMs: DAY, withinMs: 10 * DAY, repeatEveryMs: null })]));
    const memory = new Poller(compiled);
    const replayer = new Replayer(compiled);
    const replayed: NoticeAlert[] = [];
    const times: number[] = [];
    for (let t = T0; t <= T0 + 3 * DAY; t += 60 * MINUTE) times.push(t);

    let redis = new IORedis(REDIS_URL);
    let store = new StateStore(redis, prefix);
    const notices: string[] = [];
    for (const [n, t] of times.entries()) {
      if (n === times.length / 2) {
        // Restart: everything in memory is gone; only Redis remembers.
        redis.disconnect();
        redis = new IORedis(REDIS_URL);
        store = new StateStore(redis, prefix);
      }
      const report = await runPoll({ store, rules: () => compiled, flushOutbox: async () => [], log, fetchOverview: async () => ({ overview: overviewAt(t) }) }, t);
      expect(report.committed).toBe(true);
      notices.push(...report.notices);
      memory.poll(t, overviewAt(t));
      replayed.push(...replayer.step(t, { overview: overviewAt(t) }).told.flatMap((told) => told.alerts));
    }
    try {
      const loaded = await store.load();
      expect(loaded.historyProblems).toEqual([]);
      expect(plain(loaded.history.get(TRACK))).toEqual(plain(memory.history!.get(TRACK)));
      expect(loaded.history.get(TRACK)!.size).toBe(2);
      const stored = [...loaded.alerts.values()].map((r) => r.alert);
      const inMemory = memory.last!.lifecycle!.alerts;
      expect(stored.map((a) => [a.productId, a.ratePerDay, a.runsOutAt])).toEqual(inMemory.map((a) => [a.productId, a.ratePerDay, a.runsOutAt]));
      expect(stored.map((a) => a.productId)).toEqual(['fast']);
      expect(stored[0].ratePerDay).toBeCloseTo(10, 0);
      // One notice: the day the first day of history was complete.
      expect(notices).toHaveLength(1);
      // And `replay` over the same overviews tells exactly the alert the daemon queued.
      const sent = (await store.pendingOutbox()).flatMap((e) => (e.data as { notice: { alerts?: NoticeAlert[] } }).notice.alerts ?? []);
      expect(sent).toHaveLength(1);
      expect(replayed).toEqual(sent);
    } finally {
      redis.disconnect();
    }
  });

  it('keeps nothing without a runs_out rule, and drops the history when the last one goes', async () => {
    const prefix = uniquePrefix('forecast');
    prefixes.push(prefix);
    const redis = new IORedis(REDIS_URL);
    const store = new StateStore(redis, prefix);
    try {
      const poll = (compiled: ReturnType<typeof compileRuleSet>, t: number) =>
        runPoll({ store, rules: () => compiled, flushOutbox: async () => [], log, fetchOverview: async () => ({ overview: overviewAt(t) }) }, t);
      const withRule = compileRuleSet(ruleSet([runsOut(), lowAvailable()]));
      const without = compileRuleSet(ruleSet([lowAvailable()]));
      await poll(without, T0);
      expect(await redis.exists(store.keys.history)).toBe(0);
      await poll(withRule, T0 + MINUTE);
      expect(await redis.hkeys(store.keys.history)).toEqual([`${TRACK}\u001f0`]);
      // A failed poll learns nothing and leaves the history as it is.
      const before = await redis.hgetBuffer(store.keys.history, `${TRACK}\u001f0`);
      await runPoll({ store, rules: () => withRule, flushOutbox: async () => [], log, fetchOverview: async () => Promise.reject(new Error('down')) }, T0 + 2 * MINUTE);
      expect(await redis.hgetBuffer(store.keys.history, `${TRACK}\u001f0`)).toEqual(before);
      await poll(without, T0 + 3 * MINUTE);
      expect(await redis.exists(store.keys.history)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
