// The rules/ folder that ships: `stockwatch check` must accept it on a fresh machine (no environment),
// and the examples in its comments must be accurate enough to work when uncommented.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatRuleError, loadRuleFiles, loadRules } from '../../src/rules';

const STARTER = path.join(__dirname, '..', '..', 'rules');

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
  expect(ruleSet.silences).toEqual([]);
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
      if (!inBlock && /^(- name:|[a-z_-]+:\s*$)/.test(body)) inBlock = true;
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
  const result = loadRuleFiles(files, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/X' });
  if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n'));
  const { ruleSet } = result;
  expect(Object.keys(ruleSet.channels)).toEqual(['ops', 'ops-slack', 'buyers']);
  expect(ruleSet.channels.buyers).toMatchObject({ digest: '0 8 * * 1-5', timezone: 'America/Toronto', sendEmpty: false });
  expect(ruleSet.rules.map((r) => r.name)).toEqual([
    'low-available',
    'out-of-stock',
    'low-available-fast-movers',
    'low-available-sony',
    'negative-reserved',
    'stale-level',
    'unknown-product',
  ]);
  expect(ruleSet.rules[2]).toMatchObject({ below: 100, countIncoming: true, where: { sku: ['MX03-*', 'SKU-GREY'], warehouse: ['test warehouse'] } });
  expect(ruleSet.rules[3]).toMatchObject({ where: { brand: ['Sony'] }, channels: ['ops', 'buyers'] });
  expect(ruleSet.silences).toMatchObject([{ rule: 'low-available', where: { sku: ['TEST-*'] }, until: '2026-12-31T00:00:00.000Z' }]);
});
