// The rules/ folder that ships: `stockwatch check` must accept it on a fresh machine (no environment),
// and the examples in its comments must be accurate enough to work when uncommented.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatRuleError, loadRuleFiles, loadRules } from '../../src/rules';
import { schemaProblems } from '../schema/validator';

const STARTER = path.join(__dirname, '..', '..', 'rules');
const DAY = 86_400_000;

test('the starter rules load with no environment variables at all', () => {
  const result = loadRules(STARTER, {});
  if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n'));
  const { ruleSet } = result;
  expect(ruleSet.channels).toEqual({ ops: { name: 'ops', kind: 'email', to: ['ops@example.com'], timezone: 'UTC', sendEmpty: false } });
  expect(ruleSet.defaultChannels).toEqual(['ops']);
  expect(ruleSet.rules.map((r) => [r.name, r.type, r.severity])).toEqual([
    ['low-available', 'low_available', 'warning'],
    ['out-of-stock', 'low_available', 'critical'],
    ['negative-reserved', 'negative_reserved', 'critical'],
    ['stale-level', 'stale', 'info'],
    ['unknown-product', 'unknown_product', 'info'],
  ]);
  expect(ruleSet.rules[0]).toMatchObject({ below: 10, countIncoming: false });
  expect(ruleSet.rules[1]).toMatchObject({ below: 1 });
  expect(ruleSet.rules[3]).toMatchObject({ olderThanMs: 48 * 3_600_000 });
  // An item at 0 is "out of stock", not also "low available" (SPEC 3.4).
  expect(ruleSet.inhibit).toEqual([{ when: 'out-of-stock', suppress: ['low-available'], same: 'item', pos: expect.objectContaining({ file: path.join(STARTER, 'stock.yaml') }) }]);
  expect(ruleSet.silences).toEqual([]);
});

test('every starter file names the schema on its first line, by a path that exists beside it', () => {
  const files = fs.readdirSync(STARTER).filter((name) => name.endsWith('.yaml'));
  expect(files.length).toBeGreaterThan(0);
  for (const name of files) {
    const first = fs.readFileSync(path.join(STARTER, name), 'utf8').split('\n')[0];
    expect(first).toBe('# yaml-language-server: $schema=./stockwatch.schema.json');
  }
  expect(fs.existsSync(path.join(STARTER, 'stockwatch.schema.json'))).toBe(true);
});

/** Uncomments the YAML examples: blocks of `# key:` / `# - name:` lines and their indented continuations. */
function uncommentExamples(text: string): string {
  let inBlock = false;
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\s*)# (.*)$/.exec(line);
      if (!m) {
        inBlock = false;
        return line;
      }
      const body = m[2];
      if (!inBlock && /^(- name:|- when:|[a-z_-]+:\s*$)/.test(body)) inBlock = true;
      else if (inBlock && !/^( {2,}\S| *- )/.test(body)) inBlock = false;
      return inBlock ? m[1] + body : line;
    })
    .join('\n');
}

test('the commented examples are valid when uncommented', () => {
  const files = fs
    .readdirSync(STARTER)
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => ({ name, text: uncommentExamples(fs.readFileSync(path.join(STARTER, name), 'utf8')) }));
  const result = loadRuleFiles(files, {
    SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/X',
    ERP_WEBHOOK_URL: 'https://erp.example.com/hooks/stock',
    ERP_WEBHOOK_SECRET: 'not-a-real-secret',
  });
  if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n'));
  // …and an editor would not flag them either.
  for (const file of files) expect([file.name, schemaProblems(file.text)]).toEqual([file.name, []]);
  const { ruleSet } = result;
  expect(Object.keys(ruleSet.channels)).toEqual(['ops', 'ops-slack', 'buyers', 'erp']);
  expect(ruleSet.channels.erp).toEqual({ name: 'erp', kind: 'webhook', url: 'https://erp.example.com/hooks/stock', secret: 'not-a-real-secret' });
  expect(ruleSet.channels.buyers).toMatchObject({ digest: '0 8 * * 1-5', timezone: 'America/Toronto', sendEmpty: false });
  expect(ruleSet.rules.map((r) => r.name)).toEqual([
    'low-available',
    'out-of-stock',
    'low-available-steady',
    'low-available-fast-movers',
    'low-available-sony',
    'low-network',
    'reorder-now',
    'negative-reserved',
    'stale-level',
    'unknown-product',
    'feed-silent',
  ]);
  const byName = new Map(ruleSet.rules.map((r) => [r.name, r]));
  expect(byName.get('low-available-steady')).toMatchObject({ below: 10, clearAt: 15, forMs: 15 * 60_000, keepFiringForMs: 10 * 60_000 });
  expect(byName.get('low-available-fast-movers')).toMatchObject({ below: 100, countIncoming: true, where: { sku: ['MX03-*', 'SKU-GREY'], warehouse: ['test warehouse'] } });
  expect(byName.get('low-available-sony')).toMatchObject({ where: { brand: ['Sony'] }, channels: ['ops', 'buyers'] });
  expect(byName.get('low-network')).toMatchObject({ scope: 'network', below: 100, clearAt: 150, where: { warehouse: ['Toronto*', 'Montreal*'] } });
  expect(byName.get('reorder-now')).toMatchObject({ type: 'runs_out', scope: 'item', withinMs: 14 * DAY, rateHalfLifeMs: 7 * DAY, minHistoryMs: 3 * DAY });
  expect(byName.get('feed-silent')).toMatchObject({ type: 'stale_warehouse', olderThanMs: DAY, severity: 'critical' });
  expect(ruleSet.inhibit.map(({ when, suppress, same }) => ({ when, suppress, same }))).toEqual([
    { when: 'out-of-stock', suppress: ['low-available'], same: 'item' },
    { when: 'feed-silent', suppress: ['stale-level'], same: 'warehouse' },
  ]);
  expect(ruleSet.silences).toMatchObject([{ rule: 'low-available', where: { sku: ['TEST-*'] }, until: '2026-12-31T00:00:00.000Z' }]);
});
