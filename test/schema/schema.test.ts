// The JSON Schema of a rule file (`stockwatch schema`, rules/stockwatch.schema.json) and the
// validator come from one table of keys (src/rules/format.ts); these tests hold the two together.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { RULE_TYPES, type Rule, type RuleType } from '../../src/model';
import { formatRuleError, loadRuleFiles, ruleFileSchemaText } from '../../src/rules';
import {
  CHANNEL_KEYS,
  DEFAULTS_KEYS,
  EMAIL_KEYS,
  INHIBIT_KEYS,
  RULE_KEYS,
  SILENCE_KEYS,
  SLACK_KEYS,
  TOP_LEVEL_KEYS,
  WEBHOOK_KEYS,
  WHERE_KEYS,
  type KeyTable,
} from '../../src/rules/format';
import { runCli } from '../cli/helpers';
import { SCHEMA_FILE, schemaProblems, schemaValidator } from './validator';

const REPO = path.join(__dirname, '..', '..');

/** YAML text of a value, written out in full (no anchors for objects that appear twice). */
function stringify(value: unknown): string {
  return yamlStringify(value, { aliasDuplicateObjects: false });
}
const ENV = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/X',
  ERP_WEBHOOK_URL: 'https://erp.example.com/hooks/stock',
  ERP_WEBHOOK_SECRET: 'not-a-real-secret',
};

describe('stockwatch schema', () => {
  it('prints the committed rules/stockwatch.schema.json exactly, and exits 0', async () => {
    const r = await runCli(['schema']);
    expect(r).toEqual({ code: 0, stdout: fs.readFileSync(SCHEMA_FILE, 'utf8'), stderr: '' });
    // If this fails after a change to src/rules/format.ts: `npm run build && node bin/stockwatch.js schema > rules/stockwatch.schema.json`.
    expect(ruleFileSchemaText()).toBe(fs.readFileSync(SCHEMA_FILE, 'utf8'));
  });

  it('--help explains it; an argument is one line and exit 1', async () => {
    const help = await runCli(['schema', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('# yaml-language-server: $schema=./stockwatch.schema.json');
    const bad = await runCli(['schema', 'extra']);
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toMatch(/^stockwatch: schema: Unexpected argument 'extra'.*\n$/);
  });

  it('is a valid draft-07 schema (ajv checks it against the meta-schema) with a description and an example for every key', () => {
    expect(() => schemaValidator()).not.toThrow();
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const rule = schema.properties.rules.items;
    expect(Object.keys(rule.properties)).toEqual(Object.keys(RULE_KEYS));
    for (const [name, property] of Object.entries<{ description?: string; examples?: unknown[] }>(rule.properties)) {
      expect([name, typeof property.description, property.examples?.length]).toEqual([name, 'string', 1]);
    }
    expect(rule.properties.type.anyOf[0].enum).toEqual(RULE_TYPES);
    expect(rule.properties.severity.anyOf[0].enum).toEqual(['info', 'warning', 'critical']);
    expect(rule.properties.scope.anyOf[0].enum).toEqual(['item', 'network']);
    expect(schema.properties.inhibit.items.properties.same.anyOf[0].enum).toEqual(['item', 'product', 'warehouse']);
  });
});

/** The example value of every key of a table (what docs/rules.md and editors show). */
function examplesOf(table: KeyTable, only: (key: string) => boolean = () => true): Record<string, unknown> {
  return Object.fromEntries(Object.entries(table).filter(([key]) => only(key)).map(([key, def]) => [key, def.example]));
}

/** A rule of `type` with every key that type takes, at its example value. */
function fullRule(type: RuleType): Record<string, unknown> {
  return {
    ...examplesOf(RULE_KEYS, (key) => RULE_KEYS[key].types === undefined || RULE_KEYS[key].types!.includes(type)),
    name: `every-key-${type}`,
    type,
  };
}

/** Which Rule field each rule key ends up in; a key added to the table must be added here (and read by the validator). */
const FIELD: Record<string, keyof Rule> = {
  name: 'name',
  type: 'type',
  severity: 'severity',
  channels: 'channels',
  repeat_every: 'repeatEveryMs',
  send_resolved: 'sendResolved',
  where: 'where',
  summary: 'summary',
  for: 'forMs',
  keep_firing_for: 'keepFiringForMs',
  below: 'below',
  count_incoming: 'countIncoming',
  clear_at: 'clearAt',
  scope: 'scope',
  older_than: 'olderThanMs',
  within: 'withinMs',
  rate_half_life: 'rateHalfLifeMs',
  min_history: 'minHistoryMs',
};

/** The file every table's examples make: every channel kind, defaults, a rule of each type, an inhibit, a silence. */
function everyKeyFile(): Record<string, unknown> {
  return {
    channels: {
      ops: { slack: examplesOf(SLACK_KEYS) },
      buyers: { email: examplesOf(EMAIL_KEYS) },
      erp: { webhook: examplesOf(WEBHOOK_KEYS) },
    },
    defaults: examplesOf(DEFAULTS_KEYS),
    rules: [
      ...RULE_TYPES.map(fullRule),
      { name: 'low-available', type: 'low_available', below: 10 },
      { name: 'out-of-stock', type: 'low_available', below: 1 },
    ],
    inhibit: [examplesOf(INHIBIT_KEYS)],
    silences: [examplesOf(SILENCE_KEYS)],
  };
}

describe('one table of keys for the validator and the schema', () => {
  test('the tables cover every section (a section missing here would be missing from the schema too)', () => {
    expect(Object.keys(TOP_LEVEL_KEYS)).toEqual(['channels', 'defaults', 'rules', 'inhibit', 'silences']);
    expect(Object.keys(CHANNEL_KEYS)).toEqual(['slack', 'email', 'webhook']);
    expect(Object.keys(FIELD).sort()).toEqual(Object.keys(RULE_KEYS).sort());
  });

  test("every key at its example value: check accepts it, the schema accepts it, and it reaches the rule set (not its default)", () => {
    const text = stringify(everyKeyFile());
    const result = loadRuleFiles([{ name: 'every-key.yaml', text }], ENV);
    if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n') + '\n' + text);
    expect(schemaProblems(text)).toEqual([]);

    const { ruleSet } = result;
    expect(ruleSet.channels.erp).toEqual({ name: 'erp', kind: 'webhook', url: ENV.ERP_WEBHOOK_URL, secret: ENV.ERP_WEBHOOK_SECRET });
    expect(ruleSet.channels.buyers).toMatchObject({ digest: '0 8 * * 1-5', timezone: 'America/Toronto', sendEmpty: true });
    expect(ruleSet.inhibit).toHaveLength(1);
    expect(ruleSet.silences).toHaveLength(1);

    // A rule with only name, type and its required keys: the defaults.
    const plain = loadRuleFiles([{ name: 'plain.yaml', text: stringify({ channels: { ops: { email: { to: 'a@example.com' } } }, defaults: { channels: ['ops'] }, rules: RULE_TYPES.map((type) => ({
      name: `plain-${type}`,
      type,
      ...Object.fromEntries(Object.entries(RULE_KEYS).filter(([, def]) => def.requiredFor?.includes(type)).map(([key, def]) => [key, def.example])),
    })) }) }], {});
    if (!plain.ok) throw new Error(plain.errors.map(formatRuleError).join('\n'));
    for (const type of RULE_TYPES) {
      const full = ruleSet.rules.find((r) => r.name === `every-key-${type}`)!;
      const bare = plain.ruleSet.rules.find((r) => r.name === `plain-${type}`)!;
      const takes = Object.keys(fullRule(type)).filter((key) => key !== 'name' && key !== 'type');
      for (const key of takes) {
        const field = FIELD[key];
        expect([type, key, full[field]]).not.toEqual([type, key, undefined]);
        // Optional keys: the example differs from what the rule gets without the key, so the key was read.
        if (!RULE_KEYS[key].requiredFor?.includes(type)) expect([type, key, full[field]]).not.toEqual([type, key, bare[field]]);
      }
    }
  });

  test('a misspelt key anywhere: check says "unknown key" and the schema refuses it', () => {
    const base = everyKeyFile();
    const places: Array<[string, (file: any) => Record<string, unknown>]> = [
      ['top level', (f) => f],
      ['slack', (f) => f.channels.ops.slack],
      ['email', (f) => f.channels.buyers.email],
      ['webhook', (f) => f.channels.erp.webhook],
      ['a channel', (f) => f.channels.erp],
      ['defaults', (f) => f.defaults],
      ['a rule', (f) => f.rules[0]],
      ['where', (f) => f.rules[0].where],
      ['inhibit', (f) => f.inhibit[0]],
      ['a silence', (f) => f.silences[0]],
    ];
    for (const [where, find] of places) {
      const file = JSON.parse(JSON.stringify(base)); // no shared objects: one misspelling, in one place
      find(file).colour = 'red';
      const text = stringify(file);
      const result = loadRuleFiles([{ name: 'x.yaml', text }], ENV);
      expect([where, result.ok ? [] : result.errors.map((e) => e.message.replace(/^.*: /, ''))]).toEqual([where, ['unknown key "colour"']]);
      expect([where, schemaProblems(text)?.length]).not.toEqual([where, 0]);
    }
  });

  test("a key of another rule type, or a type's required key missing: both refuse it", () => {
    for (const type of RULE_TYPES) {
      for (const [key, def] of Object.entries(RULE_KEYS)) {
        let rule: Record<string, unknown> | undefined;
        if (def.types && !def.types.includes(type)) rule = { ...fullRule(type), [key]: def.example };
        else if (def.requiredFor?.includes(type)) {
          rule = fullRule(type);
          delete rule[key];
        }
        if (!rule) continue;
        const text = stringify({ channels: { ops: { email: { to: 'a@example.com' } } }, defaults: { channels: ['ops'] }, rules: [rule] });
        const result = loadRuleFiles([{ name: 'x.yaml', text }], ENV);
        expect([type, key, result.ok]).toEqual([type, key, false]);
        expect([type, key, schemaProblems(text)?.length]).not.toEqual([type, key, 0]);
      }
    }
  });

  test('docs/rules.md documents every key of every table', () => {
    const docs = fs.readFileSync(path.join(REPO, 'docs', 'rules.md'), 'utf8');
    const tables = [TOP_LEVEL_KEYS, CHANNEL_KEYS, SLACK_KEYS, EMAIL_KEYS, WEBHOOK_KEYS, DEFAULTS_KEYS, RULE_KEYS, WHERE_KEYS, INHIBIT_KEYS, SILENCE_KEYS];
    const missing = tables.flatMap((t) => Object.keys(t)).filter((key) => !docs.includes(`\`${key}\``));
    expect(missing).toEqual([]);
    for (const type of RULE_TYPES) expect(docs).toContain(`\`${type}\``);
  });
});
