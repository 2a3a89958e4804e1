import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseIsoTime } from '../../src/commands/eval';
import type { Alert } from '../../src/model';
import { REPO, SAMPLE, SPEC_ENV, SPEC_RULES, runCli, tempDir, type CliResult } from './helpers';

const NOW = '2024-06-05T12:00:00Z';

// The vendor sample, read by hand (fixtures/overview.sample.json): five items, all in
// "test warehouse"; products known: TEST-BLACK (f4053402…) and "test" (3775cc37…).
//   items[0] TEST-BLACK            available 0,  reserved -13, updated 2024-06-03T03:40Z
//   items[1] 440352eb…ffc888       available 11, reserved -7,  updated 2024-06-03T03:40Z  (id not in products: one digit short)
//   items[2] bab7c35b…86171        available 17, reserved -7,  updated 2024-06-04T05:53Z  (not in products)
//   items[3] 4d5ab278…60b41        available 9,  reserved 0,   updated 2024-04-01T15:06Z  (not in products)
//   items[4] test                  available 0,  reserved -2,  updated 2024-06-04T05:53Z
// With the SPEC rules at 2024-06-05T12:00Z: negative reserved = items 0, 1, 2, 4; unknown product =
// items 1, 2, 3; available < 10 = items 0, 3, 4 (items[0] silenced by the TEST-* silence); older
// than 48h = items 0, 1 (56h) and 3.
const ID1 = '440352eb-241a-4cac-834f-e0980ffc888';
const ID2 = 'bab7c35b-2ecb-4b40-be82-8dc1e0a86171';
const ID3 = '4d5ab278-86f3-4237-993b-b16a19360b41';
const EXPECTED_FIRING = [
  // critical first, then by rule, then SKU (productId where unknown) in code-unit order
  `negative-reserved/${ID1}`,
  'negative-reserved/TEST-BLACK',
  `negative-reserved/${ID2}`,
  'negative-reserved/test',
  `low-available/${ID3}`,
  'low-available/TEST-BLACK',
  'low-available/test',
  `stale-level/${ID1}`,
  `stale-level/${ID3}`,
  'stale-level/TEST-BLACK',
  `unknown-product/${ID1}`,
  `unknown-product/${ID3}`,
  `unknown-product/${ID2}`,
];

const label = (a: Alert): string => `${a.rule}/${a.sku ?? a.productId}`;

function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

describe('stockwatch eval', () => {
  let tmp: ReturnType<typeof tempDir>;
  let rulesDir: string;
  const evalJson = (...args: string[]): Promise<CliResult> =>
    runCli(['eval', '--rules', rulesDir, '--now', NOW, '--json', ...args], SPEC_ENV);

  beforeEach(() => {
    tmp = tempDir();
    rulesDir = path.join(tmp.dir, 'rules');
    tmp.write('rules/stock.yaml', SPEC_RULES);
  });
  afterEach(() => tmp.cleanup());

  /** The sample with some changes, as a new overview file. */
  function laterOverview(change: (o: { items: Array<{ level: Record<string, unknown> }> }) => void): string {
    const o = JSON.parse(fs.readFileSync(SAMPLE, 'utf8'));
    change(o);
    return tmp.write('later.json', JSON.stringify(o));
  }

  describe('on the vendor sample with the SPEC rules', () => {
    it('--json prints exactly the expected alerts, one JSON array and nothing else', async () => {
      const r = await evalJson('--overview', SAMPLE);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const alerts = JSON.parse(r.stdout) as Alert[];
      expect(alerts.map(label)).toEqual(EXPECTED_FIRING);
      expect(alerts.every((a) => a.status === 'firing')).toBe(true);
      expect(alerts.filter((a) => a.silenced).map(label)).toEqual(['low-available/TEST-BLACK']);
      expect(alerts.filter((a) => a.rule === 'negative-reserved').map((a) => a.reserved)).toEqual([-7, -13, -7, -2]);
      expect(alerts.find((a) => a.rule === 'unknown-product')).toMatchObject({ sku: null, product: null, warehouse: 'test warehouse' });
      expect(alerts[1]).toEqual({
        rule: 'negative-reserved',
        type: 'negative_reserved',
        severity: 'critical',
        status: 'firing',
        warehouseId: '9cae310d-c440-4d78-bdc0-bf306ec33888',
        warehouse: 'test warehouse',
        productId: 'f4053402-e79b-45c2-8621-377d28060888',
        sku: 'TEST-BLACK',
        product: 'SKU Black',
        available: 0,
        incoming: 0,
        reserved: -13,
        updatedAt: '2024-06-03T03:40:41.743844Z',
        summary: null,
        silenced: false,
        inhibited: false,
      });
    });

    it('prints an aligned table with a silenced marker and a count footer', async () => {
      const r = await runCli(['eval', '--rules', rulesDir, '--now', NOW, '--overview', SAMPLE], SPEC_ENV);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0].split(/\s+/)).toEqual(['RULE', 'SEVERITY', 'STATUS', 'SKU', 'WAREHOUSE', 'AVAILABLE', 'RESERVED', 'INCOMING', 'SILENCED']);
      expect(lines).toHaveLength(1 + 13 + 1);
      expect(lines[2].split(/\s{2,}/)).toEqual(['negative-reserved', 'critical', 'firing', 'TEST-BLACK', 'test warehouse', '0', '-13', '0']);
      expect(lines[6].split(/\s{2,}/)).toEqual(['low-available', 'warning', 'firing', 'TEST-BLACK', 'test warehouse', '0', '-13', '0', 'silenced']);
      // Right-aligned numbers: the AVAILABLE column ends at the same place on every row.
      const end = lines[0].indexOf('AVAILABLE') + 'AVAILABLE'.length;
      for (const line of lines.slice(1, -1)) expect(line[end - 1]).toMatch(/\d/);
      expect(lines.at(-1)).toBe('13 firing (1 silenced); 5 items, 4 rules, at 2024-06-05T12:00:00.000Z');
    });

    it('the starter rules in rules/ evaluate the sample too', async () => {
      const r = await runCli(['eval', '--rules', path.join(REPO, 'rules'), '--now', NOW, '--overview', SAMPLE, '--json']);
      expect(r.code).toBe(0);
      const alerts = JSON.parse(r.stdout) as Alert[];
      expect(alerts.filter((a) => a.type === 'negative_reserved')).toHaveLength(4);
      expect(alerts.filter((a) => a.type === 'unknown_product')).toHaveLength(3);
    });

    it('--now decides what is stale', async () => {
      const early = JSON.parse((await evalJson('--overview', SAMPLE, '--now', '2024-06-04T06:00:00Z')).stdout) as Alert[];
      expect(early.filter((a) => a.rule === 'stale-level').map(label)).toEqual([`stale-level/${ID3}`]);
    });
  });

  describe('--previous', () => {
    it('lists alerts that fired there and not here as resolved, after the firing ones', async () => {
      const later = laterOverview((o) => {
        o.items[0].level.available = 50; // TEST-BLACK restocked...
        o.items[0].level.reserved = 0; // ...and its count fixed
        o.items[2].level.available = '7'; // malformed now: its alerts are held, not resolved
        o.items.splice(3, 1); // items[3] gone from the overview
      });
      const r = await evalJson('--overview', later, '--previous', SAMPLE);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`${later}: items[2].level.available: expected an integer, got "7" (item left out)\n`);
      const alerts = JSON.parse(r.stdout) as Alert[];
      const firing = alerts.filter((a) => a.status === 'firing');
      const resolved = alerts.filter((a) => a.status === 'resolved');
      expect(alerts).toEqual([...firing, ...resolved]);
      expect(resolved.map(label)).toEqual([
        'negative-reserved/TEST-BLACK',
        `low-available/${ID3}`,
        'low-available/TEST-BLACK',
        `stale-level/${ID3}`,
        `unknown-product/${ID3}`,
      ]);
      // Still there: reported with today's levels; gone: with its last known ones.
      expect(resolved[0]).toMatchObject({ available: 50, reserved: 0, silenced: false });
      expect(resolved[2]).toMatchObject({ available: 50, silenced: true });
      expect(resolved[1]).toMatchObject({ available: 9, sku: null });
      // The malformed item's alerts are held as they were: still firing, as the daemon keeps them.
      const held = (JSON.parse(fs.readFileSync(SAMPLE, 'utf8')) as { items: Array<{ level: { productId: string } }> }).items[2].level.productId;
      expect(firing.map(label)).toEqual([
        `negative-reserved/${ID1}`,
        `negative-reserved/${held}`,
        'negative-reserved/test',
        'low-available/test',
        `stale-level/${ID1}`,
        'stale-level/TEST-BLACK',
        `unknown-product/${ID1}`,
        `unknown-product/${held}`,
      ]);
    });

    it('accepts the output of an earlier eval --json as well', async () => {
      const earlier = await evalJson('--overview', SAMPLE);
      const saved = tmp.write('earlier.json', earlier.stdout);
      const later = laterOverview((o) => {
        o.items[0].level.reserved = 0;
      });
      const r = await evalJson('--overview', later, '--previous', saved);
      expect(r.code).toBe(0);
      const resolved = (JSON.parse(r.stdout) as Alert[]).filter((a) => a.status === 'resolved');
      expect(resolved.map(label)).toEqual(['negative-reserved/TEST-BLACK']);
    });

    it('the same overview twice resolves nothing; the table footer says so', async () => {
      const r = await runCli(['eval', '--rules', rulesDir, '--now', NOW, '--overview', SAMPLE, '--previous', SAMPLE], SPEC_ENV);
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('13 firing (1 silenced), 0 resolved; 5 items, 4 rules, at 2024-06-05T12:00:00.000Z');
    });

    it('an alert of a rule with `for` only began to hold in a previous overview: pending, dropped (not resolved) when it stops', async () => {
      tmp.write('rules/stock.yaml', SPEC_RULES.replace('\nsilences:', '  - name: slow-low\n    type: low_available\n    below: 10\n    for: 10m\n\nsilences:'));
      const later = laterOverview((o) => {
        o.items[0].level.available = 50; // TEST-BLACK restocked: slow-low stops holding
      });
      const r = await evalJson('--overview', later, '--previous', SAMPLE);
      const alerts = JSON.parse(r.stdout) as Alert[];
      expect(alerts.filter((a) => a.rule === 'slow-low').map((a) => `${a.status} ${label(a)}`)).toEqual([
        `pending slow-low/${ID3}`,
        'pending slow-low/test',
      ]);
      // The same answer as when the previous state comes from that overview's own eval --json.
      const saved = tmp.write('earlier.json', (await evalJson('--overview', SAMPLE)).stdout);
      const viaJson = JSON.parse((await evalJson('--overview', later, '--previous', saved)).stdout) as Alert[];
      expect(viaJson.filter((a) => a.rule === 'slow-low')).toEqual(alerts.filter((a) => a.rule === 'slow-low'));
    });

    it('a bad alert in a saved --json file is one line naming it', async () => {
      const saved = tmp.write('earlier.json', JSON.stringify([{ rule: 'x', available: 'many' }]));
      expectOneLineError(await evalJson('--overview', SAMPLE, '--previous', saved), /^stockwatch: eval: \S+earlier\.json: \[0\]\.\w+: expected /);
    });
  });

  it('output cut short by its reader (`| head`) ends the command quietly, exit 0, no stack trace', async () => {
    // Far more than a pipe holds: 4,000 items of unknown products, each firing two rules.
    const sample = JSON.parse(fs.readFileSync(SAMPLE, 'utf8')) as { items: Array<{ warehouseId: string; level: Record<string, unknown> }> };
    const items = Array.from({ length: 4000 }, (_, i) => ({ warehouseId: sample.items[0].warehouseId, level: { ...sample.items[0].level, productId: `unknown-${i}` } }));
    const big = tmp.write('big.json', JSON.stringify({ ...sample, items }));
    const child = spawn(process.execPath, [path.join(REPO, 'bin/stockwatch.js'), 'eval', '--rules', rulesDir, '--now', NOW, '--json', '--overview', big], {
      env: { ...process.env, ...SPEC_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  describe('messy input', () => {
    it('reports malformed items on stderr, one line each, and evaluates the rest; stdout stays one JSON array', async () => {
      const later = laterOverview((o) => {
        o.items[1].level.reserved = null;
        o.items[4].level.updatedAt = 'yesterday';
      });
      const r = await evalJson('--overview', later);
      expect(r.code).toBe(0);
      const errLines = r.stderr.trimEnd().split('\n');
      expect(errLines).toHaveLength(2);
      expect(errLines[0]).toMatch(new RegExp(`^${later.replace(/[.\\]/g, '\\$&')}: items\\[1\\]\\.level\\.reserved: `));
      expect(errLines[1]).toContain('items[4].level.updatedAt');
      const alerts = JSON.parse(r.stdout) as Alert[];
      expect(alerts.some((a) => a.productId === ID1 || a.sku === 'test')).toBe(false);
      expect(alerts.filter((a) => a.rule === 'negative-reserved').map(label)).toEqual(['negative-reserved/TEST-BLACK', `negative-reserved/${ID2}`]);
    });

    it('non-ASCII names come through, and the table stays aligned around wide characters', async () => {
      const file = tmp.write(
        'jp.json',
        JSON.stringify({
          warehouses: [{ id: 'w1', name: '東京倉庫' }, { id: 'w2', name: 'Entrepôt' }],
          products: [{ id: 'p1', sku: 'ÜBER-1', name: '听雨 wig', brand: null }],
          items: [
            { warehouseId: 'w1', level: { productId: 'p1', available: 1, incoming: 0, reserved: 0, updatedAt: '2024-06-05T11:00:00Z' } },
            { warehouseId: 'w2', level: { productId: 'p1', available: 2, incoming: 0, reserved: 0, updatedAt: '2024-06-05T11:00:00Z' } },
          ],
        }),
      );
      const json = JSON.parse((await evalJson('--overview', file)).stdout) as Alert[];
      expect(json.map((a) => [a.sku, a.product, a.warehouse])).toEqual([
        ['ÜBER-1', '听雨 wig', 'Entrepôt'],
        ['ÜBER-1', '听雨 wig', '東京倉庫'],
      ]);
      const table = await runCli(['eval', '--rules', rulesDir, '--now', NOW, '--overview', file], SPEC_ENV);
      const lines = table.stdout.split('\n').slice(0, 3);
      // Terminal cells: CJK characters take two.
      const cells = (s: string): number => [...s].reduce((n, ch) => n + (/[\u3000-\u9fff]/.test(ch) ? 2 : 1), 0);
      const availableEnd = (line: string, header: boolean): number => {
        const at = header ? line.indexOf('AVAILABLE') + 9 : line.search(/ [12]  /) + 2;
        return cells(line.slice(0, at));
      };
      expect(availableEnd(lines[1], false)).toBe(availableEnd(lines[0], true));
      expect(availableEnd(lines[2], false)).toBe(availableEnd(lines[0], true));
    });
  });

  describe('bad input: exit 1 with one line, no stack, nothing on stdout', () => {
    it('missing --overview', async () => {
      expectOneLineError(await runCli(['eval', '--rules', rulesDir], SPEC_ENV), /^stockwatch: eval: --overview FILE is required/);
    });

    it('an unreadable --overview or --previous', async () => {
      const missing = path.join(tmp.dir, 'x.json');
      expectOneLineError(await evalJson('--overview', missing), new RegExp(`^stockwatch: eval: cannot read --overview ${missing.replace(/[.\\]/g, '\\$&')}: not found$`, 'm'));
      expectOneLineError(await evalJson('--overview', tmp.dir), /: is a directory$/m);
      expectOneLineError(await evalJson('--overview', SAMPLE, '--previous', missing), /^stockwatch: eval: cannot read --previous \S+x\.json: not found$/m);
    });

    it('a file that is not JSON, or not an overview', async () => {
      const notJson = tmp.write('broken.json', '{"warehouses": [');
      expectOneLineError(await evalJson('--overview', notJson), /^stockwatch: eval: \S+broken\.json: not JSON: /);
      const notOverview = tmp.write('other.json', JSON.stringify({ warehouses: [], products: {}, items: [] }));
      expectOneLineError(await evalJson('--overview', notOverview), /^stockwatch: eval: \S+other\.json: products: expected an array, got an object$/m);
    });

    it.each(['yesterday', '2024-13-01', '2024-02-30T00:00:00Z', '2024-06-05T25:00:00Z', '2024-06-05T12:00:00+25:00', ''])('--now %j', async (now) => {
      expectOneLineError(await runCli(['eval', '--rules', rulesDir, '--overview', SAMPLE, '--now', now], SPEC_ENV), /^stockwatch: eval: --now ".*" is not an ISO 8601 time/);
    });

    it('an unknown option', async () => {
      expectOneLineError(await runCli(['eval', '--overveiw', SAMPLE]), /^stockwatch: eval: Unknown option '--overveiw'/);
    });

    it('invalid rules: the FILE:LINE:COL lines', async () => {
      tmp.write('rules/more.yaml', 'rules:\n  - name: neg2\n    type: negative_reserved\n    below: 3\n');
      const r = await runCli(['eval', '--rules', rulesDir, '--overview', SAMPLE], SPEC_ENV);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^\S+more\.yaml:4:5: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('--help lists the options', async () => {
    const r = await runCli(['eval', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--overview FILE', '--previous FILE', '--now ISO', '--rules DIR', '--json']) expect(r.stdout).toContain(option);
  });
});

describe('parseIsoTime', () => {
  it.each([
    ['2024-06-05', Date.UTC(2024, 5, 5)],
    ['2024-06-05T12:00:00Z', Date.UTC(2024, 5, 5, 12)],
    ['2024-06-05t12:00:00z', Date.UTC(2024, 5, 5, 12)],
    ['2024-06-05T12:00', Date.UTC(2024, 5, 5, 12)],
    ['2024-06-05 12:00:30', Date.UTC(2024, 5, 5, 12, 0, 30)],
    ['2024-06-05T12:00:00.250Z', Date.UTC(2024, 5, 5, 12, 0, 0, 250)],
    ['2024-06-05T12:00:00.743844Z', Date.UTC(2024, 5, 5, 12, 0, 0, 743)],
    ['2024-06-05T12:00:00+02:00', Date.UTC(2024, 5, 5, 10)],
    ['2024-06-05T12:00:00-0530', Date.UTC(2024, 5, 5, 17, 30)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('%s', (text, expected) => {
    expect(parseIsoTime(text)).toBe(expected);
  });

  it.each(['', 'now', '2024-6-5', '2023-02-29', '2024-06-31', '2024-06-05T24:00', '2024-06-05T12:60', '2024-06-05Z', '1717588800000'])('refuses %j', (text) => {
    expect(parseIsoTime(text)).toBeNull();
  });
});
