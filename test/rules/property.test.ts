// Whatever a rule file holds, the loader answers: a rule set, or errors that each point inside
// the file with a one-line message. It never throws, never hangs, and never prints the webhook.
import fc from 'fast-check';
import { loadRuleFiles, type LoadResult } from '../../src/rules';
import { schemaProblems } from '../schema/validator';
import { yaml } from './helpers';

const SECRET = 'PROPERTY-SECRET-9f3a';
const ENV = {
  SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/T0/B0/${SECRET}`,
  LOW_STOCK: '7',
  ERP_URL: `https://erp.example.com/${SECRET}`,
  ERP_SECRET: SECRET,
};

const BASE_FILES = [
  {
    name: '00-channels.yaml',
    text: yaml`
      channels:
        ops:
          slack:
            webhook_url: \${SLACK_WEBHOOK_URL}
        buyers:
          email:
            to: [buyers@example.com, "Team <team@example.com>"]
            digest: "0 8 * * 1-5"
            timezone: America/Toronto
            send_empty: true
        erp:
          webhook:
            url: \${ERP_URL}
            secret: \${ERP_SECRET}
      defaults:
        channels: [ops]
        severity: warning
        repeat_every: 24h
        send_resolved: true
    `,
  },
  {
    name: 'stock.yaml',
    text: yaml`
      rules:
        - name: low-available
          type: low_available
          below: \${LOW_STOCK}
          count_incoming: false
          channels: [ops, buyers]
          where: &fast { sku: ["MX03-*", "SKU-?"], warehouse: main }
          summary: "{{sku}} at {{warehouse}}: {{available}} left"
        - name: negative-reserved
          type: negative_reserved
          severity: critical
          where: *fast
        - name: stale-level
          type: stale
          older_than: 48h
          repeat_every: never
        - name: unknown-product
          type: unknown_product
        - name: out-of-stock
          type: low_available
          below: 1
          clear_at: 5
          for: 15m
          keep_firing_for: 0s
        - name: low-network
          type: low_available
          scope: network
          below: 100
        - name: runs-out
          type: runs_out
          within: 7d
          rate_half_life: 3d
          min_history: 1d
        - name: feed-silent
          type: stale_warehouse
          older_than: 24h
      inhibit:
        - when: out-of-stock
          suppress: [low-*]
          same: item
        - when: feed-silent
          suppress: stale-level
          same: warehouse
      silences:
        - where: { sku: "TEST-*" }
          rule: low-available
          until: 2026-12-31T00:00:00Z
          reason: test SKUs
    `,
  },
];

// Characters that matter to YAML, to the validator (${, {{, globs) and to positions (tabs, CR, non-ASCII).
const CHARS = [':', '-', ' ', '\n', '\t', '\r', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '#', '%', '@', '`', '$', ',', '?', '\\', 'a', 'Z', '0', '9', 'é', '😀'];
// Whole lines that reach particular paths: aliases, merge keys, directives, bad values, unset variables.
const LINES = [
  '<<: *fast',
  'x: &loop [*loop]',
  '  - name: extra',
  '    type: stale',
  '    older_than: 0s',
  '    below: ${UNSET_VARIABLE}',
  '    channels: [${SLACK_WEBHOOK_URL}]',
  '    rule: ${SLACK_WEBHOOK_URL}',
  '    summary: "${SLACK_WEBHOOK_URL} {{nope}}"',
  '    until: 2026-02-30T00:00:00Z',
  '    where: {}',
  '---',
  '%YAML 1.2',
  '? [a, b]',
  ': value',
  '!!binary aGVsbG8=',
  '"unterminated',
  'defaults: {channels: ops}',
  '    webhook_url: ftp://x',
  '    digest: "61 * * * *"',
  '    scope: network',
  '    clear_at: 0',
  '    for: 0s',
  '    within: ${LOW_STOCK}',
  '    same: product',
  '    suppress: [nothing-*]',
  '    secret: ""',
  'inhibit:',
];

type Mutation =
  | { kind: 'deleteChar'; at: number }
  | { kind: 'deleteLine'; at: number }
  | { kind: 'duplicateLine'; at: number }
  | { kind: 'insertChar'; at: number; text: string }
  | { kind: 'replaceChar'; at: number; text: string }
  | { kind: 'insertLine'; at: number; line: string }
  | { kind: 'swapLines'; at: number; other: number }
  | { kind: 'indent'; at: number; by: number };

const mutation = fc.oneof<fc.Arbitrary<Mutation>[]>(
  fc.record({ kind: fc.constantFrom('deleteChar' as const, 'deleteLine' as const, 'duplicateLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom('insertChar' as const, 'replaceChar' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...CHARS), fc.string({ maxLength: 3 })) }),
  fc.record({ kind: fc.constant('insertLine' as const), at: fc.nat(), line: fc.constantFrom(...LINES) }),
  fc.record({ kind: fc.constant('swapLines' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function mutate(text: string, m: Mutation): string {
  const charAt = m.at % (text.length + 1);
  if (m.kind === 'deleteChar') return text.slice(0, charAt) + text.slice(charAt + 1);
  if (m.kind === 'insertChar') return text.slice(0, charAt) + m.text + text.slice(charAt);
  if (m.kind === 'replaceChar') return text.slice(0, charAt) + m.text + text.slice(charAt + 1);
  const lines = text.split('\n');
  const at = m.at % lines.length;
  switch (m.kind) {
    case 'deleteLine':
      lines.splice(at, 1);
      break;
    case 'duplicateLine':
      lines.splice(at, 0, lines[at]);
      break;
    case 'insertLine':
      lines.splice(at, 0, m.line);
      break;
    case 'swapLines': {
      const other = m.other % lines.length;
      [lines[at], lines[other]] = [lines[other], lines[at]];
      break;
    }
    case 'indent':
      lines[at] = m.by >= 0 ? ' '.repeat(m.by) + lines[at] : lines[at].replace(new RegExp(`^ {0,${-m.by}}`), '');
      break;
  }
  return lines.join('\n');
}

function checkAnswer(result: LoadResult, files: Array<{ name: string; text: string }>): void {
  if (result.ok) {
    expect(result.ruleSet.files).toEqual(files.map((f) => f.name));
    // What check accepts, editors must not flag: each file validates against the JSON Schema.
    for (const file of files) expect([file.text, schemaProblems(file.text)]).toEqual([file.text, []]);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  for (const e of result.errors) {
    const file = files.find((f) => f.name === e.file);
    expect(file).toBeDefined();
    expect(Number.isInteger(e.line) && e.line >= 1 && e.line <= file!.text.split('\n').length + 1).toBe(true);
    expect(Number.isInteger(e.col) && e.col >= 1).toBe(true);
    expect(e.message.trim()).not.toBe('');
    expect(e.message).not.toMatch(/[\r\n]/);
    expect(e.message).not.toContain(SECRET);
  }
}

test('the unmutated files are valid (so mutations start from something real)', () => {
  expect(loadRuleFiles(BASE_FILES, ENV).ok).toBe(true);
});

test('mutated rule files: a rule set, or well-placed one-line errors; never a throw', () => {
  fc.assert(
    fc.property(fc.nat({ max: BASE_FILES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (which, mutations) => {
      const files = BASE_FILES.map((f, i) => (i === which ? { name: f.name, text: mutations.reduce(mutate, f.text) } : f));
      const result = loadRuleFiles(files, ENV);
      checkAnswer(result, files);
      // Same input, same answer: nothing depends on state left by an earlier load.
      expect(loadRuleFiles(files, ENV)).toEqual(result);
    }),
    { numRuns: 300 },
  );
});

test('arbitrary text: never a throw', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: fc.constantFrom(...CHARS, 'rules', 'name', 'channels', 'where', '\n  ', '\n    - ') }), (text) => {
      const files = [{ name: 'x.yaml', text }];
      checkAnswer(loadRuleFiles(files, ENV), files);
    }),
    { numRuns: 300 },
  );
});
