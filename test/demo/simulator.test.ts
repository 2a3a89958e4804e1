import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import {
  PRODUCT_IDS,
  STORY,
  WAREHOUSE_1,
  WAREHOUSE_2,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/demo/simulator';
import { readSimulatorEnv } from '../../src/demo/simulator-main';
import { compileRuleSet, evaluate } from '../../src/engine/evaluate';
import type { Item, Rule, RuleSet, RuleType } from '../../src/model';
import { parseOverview } from '../../src/source/overview';

const SAMPLE_FILE = path.join(__dirname, '..', '..', 'fixtures', 'overview.sample.json');
const SAMPLE = JSON.parse(readFileSync(SAMPLE_FILE, 'utf8')) as { items: Array<{ warehouseId: string; level: Record<string, unknown> }> };
const START_MS = Date.parse('2026-03-02T09:00:00.000Z');
const STEP_MS = 5000;

/** A clock that moves 5 s per step, so updatedAt values are known and runs are comparable. */
function steppingClock(): { now: () => Date; advance: () => void; ms: () => number } {
  let ms = START_MS;
  return { now: () => new Date(ms), advance: () => (ms += STEP_MS), ms: () => ms };
}

const open: Simulator[] = [];
async function start(opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ stepEveryMs: 0, ...opts });
  open.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function fetchOverview(sim: Simulator, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}/inventory/overview`, { headers });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

function find(items: readonly Item[], sku: keyof typeof PRODUCT_IDS, warehouseId: string): Item {
  const item = items.find((i) => i.productId === PRODUCT_IDS[sku] && i.warehouseId === warehouseId);
  if (!item) throw new Error(`no item ${sku} @ ${warehouseId}`);
  return item;
}

/** Steps a fresh simulator `count` times, returning the parsed overview after each step (index = step). */
async function run(count: number, opts: SimulatorOptions = {}): Promise<Item[][]> {
  const clock = steppingClock();
  const sim = await start({ now: clock.now, ...opts });
  const seen = [parseOverview(JSON.stringify(sim.overview())).items];
  for (let i = 1; i <= count; i++) {
    clock.advance();
    sim.step();
    seen.push(parseOverview(JSON.stringify(sim.overview())).items);
  }
  return seen;
}

describe('the S2 simulator', () => {
  it('serves an overview that the source parser accepts, with the sample anomalies at step 0', async () => {
    const sim = await start();
    const { status, text, contentType } = await fetchOverview(sim);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^application\/json/);
    const overview = parseOverview(text);
    expect(overview.malformed).toEqual([]);
    expect(overview.malformedEntries).toEqual([]);
    expect(overview.warehouseCount).toBe(2);
    expect(overview.productCount).toBe(5);

    const blackAt1 = find(overview.items, 'TEST-BLACK', WAREHOUSE_1);
    expect(blackAt1.reserved).toBe(-13);
    expect(overview.items.filter((i) => !i.knownProduct)).toHaveLength(3);
    // The sample's own items come first and exactly as the vendor wrote them.
    const body = JSON.parse(text) as typeof SAMPLE;
    expect(body.items.slice(0, SAMPLE.items.length)).toEqual(SAMPLE.items);
  });

  it('adds healthy stock in the sample empty second warehouse, dated at start', async () => {
    const clock = steppingClock();
    const sim = await start({ now: clock.now });
    const items = parseOverview(JSON.stringify(sim.overview())).items;
    const second = items.filter((i) => i.warehouseId === WAREHOUSE_2);
    expect(second.map((i) => i.sku).sort()).toEqual(['MX03-N-BLUE', 'S600-LIGHT-GRAY', 'SKU-GREY', 'test']);
    for (const item of second) {
      expect(item.available).toBeGreaterThanOrEqual(10);
      expect(item.reserved).toBeGreaterThanOrEqual(0);
      expect(item.updatedAtMs).toBe(START_MS);
    }
  });

  it('plays the story: a sellout, a new negative reserved, and recoveries', async () => {
    const seen = await run(12);
    const grey = (step: number) => find(seen[step], 'SKU-GREY', WAREHOUSE_2);
    const blue = (step: number) => find(seen[step], 'MX03-N-BLUE', WAREHOUSE_2);
    const black = (step: number) => find(seen[step], 'TEST-BLACK', WAREHOUSE_1);

    // A known SKU that had stock sells out.
    expect(grey(0).available).toBeGreaterThan(10);
    expect(grey(2).available).toBeGreaterThan(0);
    expect(grey(2).available).toBeLessThan(10);
    expect(grey(4).available).toBe(0);
    expect(grey(4).updatedAtMs).toBe(START_MS + 4 * STEP_MS);
    // A reserved level that was fine goes negative, then is fixed.
    expect(blue(4).reserved).toBeGreaterThanOrEqual(0);
    expect(blue(5).reserved).toBeLessThan(0);
    expect(blue(8).reserved).toBeLessThan(0);
    expect(blue(9).reserved).toBeGreaterThanOrEqual(0);
    // The sample's TEST-BLACK comes back: restocked, its -13 reserved fixed, its level fresh.
    expect(black(6)).toMatchObject({ available: 0, reserved: -13, updatedAt: SAMPLE.items[0].level.updatedAt });
    expect(black(7).available).toBeGreaterThanOrEqual(10);
    expect(black(7).reserved).toBeGreaterThanOrEqual(0);
    expect(black(7).updatedAtMs).toBe(START_MS + 7 * STEP_MS);
    // The sold-out SKU is restocked above any low-stock threshold.
    expect(grey(9).available).toBe(0);
    expect(grey(10).available).toBeGreaterThanOrEqual(10);
    expect(grey(10).incoming).toBe(0);
    // Every event of the table happens within the first minute at the default step.
    expect(Math.max(...STORY.map((e) => e.step)) * STEP_MS).toBeLessThanOrEqual(60_000);
  });

  it('shows every alert kind firing and resolving within the first minute under the SPEC example rules', async () => {
    const rule = (name: string, type: RuleType, extra: Partial<Rule> = {}): Rule => ({
      name,
      type,
      severity: 'warning',
      channels: ['ops'],
      repeatEveryMs: null,
      sendResolved: true,
      forMs: 0,
      keepFiringForMs: 0,
      scope: 'item',
      pos: { file: 'test.yaml', line: 1, col: 1 },
      ...extra,
    });
    const ruleSet: RuleSet = {
      channels: {},
      defaultChannels: [],
      inhibit: [],
      rules: [
        rule('low-available', 'low_available', { below: 10 }),
        rule('negative-reserved', 'negative_reserved'),
        rule('stale-level', 'stale', { olderThanMs: 48 * 3_600_000 }),
        rule('unknown-product', 'unknown_product'),
      ],
      silences: [],
      files: ['test.yaml'],
    };
    const compiled = compileRuleSet(ruleSet);
    const seen = await run(12);
    const firing = seen.map((items, step) =>
      new Set(evaluate(items, compiled, START_MS + step * STEP_MS).map((a) => `${a.rule} ${a.sku ?? a.productId} ${a.warehouseId}`)),
    );
    const appeared = (step: number) => [...firing[step]].filter((k) => !firing[step - 1].has(k));
    const resolved = (step: number) => [...firing[step - 1]].filter((k) => !firing[step].has(k));

    const kindsAtStart = new Set([...firing[0]].map((k) => k.split(' ')[0]));
    expect(kindsAtStart).toEqual(new Set(['low-available', 'negative-reserved', 'stale-level', 'unknown-product']));
    expect(firing[0].has(`negative-reserved TEST-BLACK ${WAREHOUSE_1}`)).toBe(true);

    expect(appeared(2)).toContain(`low-available SKU-GREY ${WAREHOUSE_2}`);
    expect(appeared(5)).toContain(`negative-reserved MX03-N-BLUE ${WAREHOUSE_2}`);
    expect(resolved(7)).toEqual(
      expect.arrayContaining([
        `low-available TEST-BLACK ${WAREHOUSE_1}`,
        `negative-reserved TEST-BLACK ${WAREHOUSE_1}`,
        `stale-level TEST-BLACK ${WAREHOUSE_1}`,
      ]),
    );
    expect(resolved(9)).toContain(`negative-reserved MX03-N-BLUE ${WAREHOUSE_2}`);
    expect(resolved(10)).toContain(`low-available SKU-GREY ${WAREHOUSE_2}`);
    // Drift alone never makes a low-stock alert: only the story's steps do.
    for (let step = 1; step <= 12; step++) {
      for (const k of appeared(step)) expect(k.startsWith('low-available SKU-GREY') || k.startsWith('negative-reserved MX03')).toBe(true);
    }
  });

  it('drifts one or two stocked items per step by a few units, refreshing only what changed', async () => {
    const seen = await run(20);
    for (let step = 1; step <= 20; step++) {
      const before = new Map(seen[step - 1].map((i) => [`${i.warehouseId}/${i.productId}`, i]));
      const storyNow = new Map(STORY.filter((e) => e.step === step).map((e) => [`${e.warehouseId}/${PRODUCT_IDS[e.sku]}`, e.set]));
      let drifted = 0;
      for (const item of seen[step]) {
        const key = `${item.warehouseId}/${item.productId}`;
        const prev = before.get(key)!;
        const story = storyNow.get(key);
        // The story sets this item's stock now: not drift. It may also drift when the story sets other fields.
        if (story?.available !== undefined) continue;
        if (item.available === prev.available) {
          if (story === undefined) expect(item.updatedAt).toBe(prev.updatedAt);
          continue;
        }
        drifted += 1;
        expect(Math.abs(item.available - prev.available)).toBeGreaterThanOrEqual(1);
        expect(Math.abs(item.available - prev.available)).toBeLessThanOrEqual(3);
        expect(item.available).toBeGreaterThanOrEqual(12);
        expect(item.updatedAtMs).toBe(START_MS + step * STEP_MS);
        if (story === undefined) expect([item.incoming, item.reserved]).toEqual([prev.incoming, prev.reserved]);
      }
      expect(drifted).toBeGreaterThanOrEqual(1);
      expect(drifted).toBeLessThanOrEqual(2);
    }
    // The sample items nobody touches keep the vendor's updatedAt to the end.
    const untouched = SAMPLE.items.filter((s) => (s.level.available as number) < 12 && s.level.productId !== PRODUCT_IDS['TEST-BLACK']);
    expect(untouched.length).toBeGreaterThan(0);
    for (const s of untouched) {
      const item = seen[20].find((i) => i.warehouseId === s.warehouseId && i.productId === s.level.productId)!;
      expect(item.updatedAt).toBe(s.level.updatedAt);
    }
  });

  it('repeats by seed: the same seed gives the same bodies, another seed other ones', async () => {
    const a = await run(15, { seed: 42 });
    const b = await run(15, { seed: 42 });
    const c = await run(15, { seed: 43 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('requires the bearer token and the organization when they are set', async () => {
    const sim = await start({ token: 'demo-secret', organizationId: 'org-1' });
    const good = { authorization: 'Bearer demo-secret', 'x-s2-organization': 'org-1' };
    expect((await fetchOverview(sim)).status).toBe(401);
    expect((await fetchOverview(sim, { ...good, authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetchOverview(sim, { ...good, authorization: 'demo-secret' })).status).toBe(401);
    const noOrg = await fetchOverview(sim, { authorization: good.authorization });
    expect(noOrg.status).toBe(403);
    expect((await fetchOverview(sim, { ...good, 'x-s2-organization': 'org-2' })).status).toBe(403);
    const ok = await fetchOverview(sim, good);
    expect(ok.status).toBe(200);
    expect(parseOverview(ok.text).items.length).toBeGreaterThan(0);
    // The refusal never echoes the secret.
    const refused = await fetchOverview(sim, { ...good, authorization: 'Bearer wrong' });
    expect(refused.text).not.toContain('demo-secret');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const sim = await start();
    const missing = await fetch(`${sim.url}/inventory/items`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: expect.stringContaining('/inventory/items') });
    expect((await fetch(`${sim.url}/`)).status).toBe(404);
    expect((await fetch(`${sim.url}/inventory/overview`, { method: 'POST', body: '{}' })).status).toBe(405);
    expect((await fetch(`${sim.url}/inventory/overview?page=2`)).status).toBe(200);
  });

  it('starts its clock at the first overview served, and steps on its own from there', async () => {
    const sim = await start({ stepEveryMs: 5 });
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.steps()).toBe(0);
    expect((await fetchOverview(sim)).status).toBe(200);
    while (sim.steps() < 2) await new Promise((r) => setTimeout(r, 5));
    expect(sim.steps()).toBeGreaterThanOrEqual(2);
  });

  it('close() frees the port, also with a keep-alive connection open', async () => {
    const sim = await startSimulator({ stepEveryMs: 0 });
    await fetchOverview(sim); // leaves a keep-alive socket in fetch's pool
    await sim.close();
    const reuse = createServer();
    await new Promise<void>((resolve, reject) => {
      reuse.once('error', reject);
      reuse.listen(sim.port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => reuse.close(() => resolve()));
  });

  it('serves a custom sample as given: no demo stock, story events on missing items skipped', async () => {
    const sample = { warehouses: [], products: [], items: [{ warehouseId: 'w', level: { productId: 'p', available: 50, incoming: 0, reserved: 0, updatedAt: '2024-01-01T00:00:00Z' } }] };
    const sim = await start({ sample, now: () => new Date(START_MS) });
    for (let i = 0; i < 12; i++) sim.step();
    const body = sim.overview() as typeof sample;
    expect(body.items).toHaveLength(1);
    // It drifted (refreshed), and the caller's object was not changed.
    expect(body.items[0].level.updatedAt).toBe('2026-03-02T09:00:00.000Z');
    expect(sample.items[0].level).toEqual({ productId: 'p', available: 50, incoming: 0, reserved: 0, updatedAt: '2024-01-01T00:00:00Z' });
    await expect(startSimulator({ sample: { items: 'nope' } })).rejects.toThrow('"items" array');
    await expect(startSimulator({ port: 70000 })).rejects.toThrow('port 70000');
  });
});

describe('the simulator entry point configuration', () => {
  it('has defaults for everything', () => {
    expect(readSimulatorEnv({})).toEqual({ port: 8080, host: '127.0.0.1', stepEveryMs: 5000, seed: 1, token: undefined, organizationId: undefined });
  });

  it('reads its variables and the S2 credentials', () => {
    const opts = readSimulatorEnv({
      SIMULATOR_PORT: '9000',
      SIMULATOR_HOST: '0.0.0.0',
      SIMULATOR_STEP: '2s',
      SIMULATOR_SEED: '7',
      S2_API_TOKEN: 'tok',
      S2_ORGANIZATION_ID: 'org',
    });
    expect(opts).toEqual({ port: 9000, host: '0.0.0.0', stepEveryMs: 2000, seed: 7, token: 'tok', organizationId: 'org' });
  });

  it('reports every bad variable in one line', () => {
    expect(() => readSimulatorEnv({ SIMULATOR_PORT: '80a', SIMULATOR_STEP: 'soon', SIMULATOR_SEED: '1.5', S2_API_TOKEN: 'hunter2' })).toThrow(
      'configuration: SIMULATOR_PORT: "80a" is not a port number; SIMULATOR_STEP: "soon" is not a duration (like 5s, 1m); SIMULATOR_SEED: "1.5" is not an integer',
    );
  });
});
