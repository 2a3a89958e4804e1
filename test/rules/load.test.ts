// Valid rule files: what the RuleSet holds (defaults applied), and reading a real folder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatRuleError, loadRuleFiles, loadRules } from '../../src/rules';
import { UserError } from '../../src/errors';
import { CHANNELS_FILE, ruleSetOf, yaml } from './helpers';

const HOUR = 3_600_000;

describe('a valid rule set', () => {
  test('the full example: every field filled, defaults applied, durations in ms', () => {
    const channels = { name: '00-channels.yaml', text: yaml`
      channels:
        ops:
          slack:
            webhook_url: \${SLACK_WEBHOOK_URL}
        buyers:
          email:
            to: [buyers@example.com, "Buyers Team <team@example.com>"]
            digest: "0 8 * * 1-5"
            timezone: America/Toronto
            send_empty: true
        night:
          email:
            to: night@example.com
      defaults:
        channels: [ops]
        severity: info
        repeat_every: 12h
        send_resolved: false
    ` };
    const stock = { name: 'stock.yaml', text: yaml`
      rules:
        - name: low-available
          type: low_available
          below: 10
          count_incoming: true
          channels: [ops, buyers]
          where: { sku: 00123, warehouse: ["Main*", "B?"] }
          summary: "{{ sku }} at {{warehouse}}: {{available}} left (below {{below}})"
        - name: out-of-stock
          type: low_available
          below: 1
          severity: critical
          repeat_every: never
          send_resolved: true
        - name: negative-reserved
          type: negative_reserved
          channels: night
        - name: stale-level
          type: stale
          older_than: 1h30m
        - name: unknown-product
          type: unknown_product
      silences:
        - where: { sku: "TEST-*" }
          rule: low-available
          until: 2026-12-31T00:00:00Z
          reason: test SKUs
        - rule: stale-level
          until: "2030-06-01T08:00:00-05:00"
    ` };
    const ruleSet = ruleSetOf([stock, channels], { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/X' });
    const defaults = { severity: 'info', channels: ['ops'], repeatEveryMs: 12 * HOUR, sendResolved: false, forMs: 0, keepFiringForMs: 0, scope: 'item' };
    expect(ruleSet).toEqual({
      channels: {
        ops: { name: 'ops', kind: 'slack', webhookUrl: 'https://hooks.slack.com/services/T0/B0/X' },
        buyers: {
          name: 'buyers',
          kind: 'email',
          to: ['buyers@example.com', 'Buyers Team <team@example.com>'],
          digest: '0 8 * * 1-5',
          timezone: 'America/Toronto',
          sendEmpty: true,
        },
        night: { name: 'night', kind: 'email', to: ['night@example.com'], timezone: 'UTC', sendEmpty: false },
      },
      defaultChannels: ['ops'],
      rules: [
        {
          ...defaults,
          name: 'low-available',
          type: 'low_available',
          channels: ['ops', 'buyers'],
          below: 10,
          countIncoming: true,
          where: { sku: ['00123'], warehouse: ['Main*', 'B?'] },
          summary: '{{sku}} at {{warehouse}}: {{available}} left (below {{below}})',
          pos: { file: 'stock.yaml', line: 2, col: 5 },
        },
        {
          ...defaults,
          name: 'out-of-stock',
          type: 'low_available',
          below: 1,
          countIncoming: false,
          severity: 'critical',
          repeatEveryMs: null,
          sendResolved: true,
          pos: { file: 'stock.yaml', line: 9, col: 5 },
        },
        { ...defaults, name: 'negative-reserved', type: 'negative_reserved', channels: ['night'], pos: { file: 'stock.yaml', line: 15, col: 5 } },
        { ...defaults, name: 'stale-level', type: 'stale', olderThanMs: 1.5 * HOUR, pos: { file: 'stock.yaml', line: 18, col: 5 } },
        { ...defaults, name: 'unknown-product', type: 'unknown_product', pos: { file: 'stock.yaml', line: 21, col: 5 } },
      ],
      inhibit: [],
      silences: [
        {
          where: { sku: ['TEST-*'] },
          rule: 'low-available',
          until: '2026-12-31T00:00:00.000Z',
          untilMs: Date.UTC(2026, 11, 31),
          reason: 'test SKUs',
          pos: { file: 'stock.yaml', line: 24, col: 5 },
        },
        {
          rule: 'stale-level',
          until: '2030-06-01T13:00:00.000Z',
          untilMs: Date.UTC(2030, 5, 1, 13),
          pos: { file: 'stock.yaml', line: 28, col: 5 },
        },
      ],
      files: ['00-channels.yaml', 'stock.yaml'],
    });
  });

  test('built-in defaults without a defaults section: warning, 24h, send resolved; no default channels', () => {
    const ruleSet = ruleSetOf([{ name: 'a.yaml', text: yaml`
      channels:
        ops:
          email:
            to: ops@example.com
      rules:
        - name: neg
          type: negative_reserved
          channels: [ops]
    ` }]);
    expect(ruleSet.defaultChannels).toEqual([]);
    expect(ruleSet.rules[0]).toMatchObject({ severity: 'warning', repeatEveryMs: 24 * HOUR, sendResolved: true, channels: ['ops'] });
    expect(ruleSet.rules[0]).not.toHaveProperty('where');
    expect(ruleSet.rules[0]).not.toHaveProperty('below');
  });

  test('${NAME} fills text, numbers and booleans, and a comma list of addresses', () => {
    const ruleSet = ruleSetOf(
      [CHANNELS_FILE, { name: 'a.yaml', text: yaml`
        channels:
          team:
            email:
              to: \${TEAM_EMAILS}
        rules:
          - name: low
            type: low_available
            below: \${LOW_STOCK}
            count_incoming: \${COUNT_INCOMING}
            where: { brand: "\${BRAND}*" }
            channels: [team]
      ` }],
      { TEAM_EMAILS: 'a@example.com, B <b@example.com>', LOW_STOCK: '7', COUNT_INCOMING: 'true', BRAND: 'Sony' },
    );
    expect(ruleSet.channels.team).toMatchObject({ to: ['a@example.com', 'B <b@example.com>'] });
    expect(ruleSet.rules[0]).toMatchObject({ below: 7, countIncoming: true, where: { brand: ['Sony*'] } });
  });

  test('aliases share a value between rules', () => {
    const ruleSet = ruleSetOf([CHANNELS_FILE, { name: 'a.yaml', text: yaml`
      rules:
        - name: a
          type: negative_reserved
          where: &test-skus
            sku: ["TEST-*", "DEMO-*"]
        - name: b
          type: unknown_product
          where: *test-skus
    ` }]);
    expect(ruleSet.rules.map((r) => r.where)).toEqual([{ sku: ['TEST-*', 'DEMO-*'] }, { sku: ['TEST-*', 'DEMO-*'] }]);
  });

  test('empty files, comment-only files and empty sections contribute nothing', () => {
    const ruleSet = ruleSetOf([
      CHANNELS_FILE,
      { name: 'empty.yaml', text: '' },
      { name: 'comments.yaml', text: '# nothing here yet\n' },
      { name: 'sections.yaml', text: 'rules:\nsilences:\n' },
    ]);
    expect(ruleSet.rules).toEqual([]);
    expect(ruleSet.silences).toEqual([]);
    expect(ruleSet.files).toEqual(['00-channels.yaml', 'comments.yaml', 'empty.yaml', 'sections.yaml']);
  });

  test('a channel listed twice is notified once', () => {
    const ruleSet = ruleSetOf([CHANNELS_FILE, { name: 'a.yaml', text: 'rules:\n  - name: a\n    type: stale\n    older_than: 2d\n    channels: [ops, ops]\n' }]);
    expect(ruleSet.rules[0].channels).toEqual(['ops']);
  });

  test('a channel named like an Object property is an ordinary entry', () => {
    const ruleSet = ruleSetOf([{ name: 'a.yaml', text: 'channels:\n  constructor:\n    email:\n      to: x@example.com\ndefaults:\n  channels: [constructor]\n' }]);
    expect(Object.keys(ruleSet.channels)).toEqual(['constructor']);
    expect(ruleSet.channels['toString']).toBeUndefined();
  });
});

describe('formatRuleError', () => {
  test('FILE:LINE:COL: message', () => {
    expect(formatRuleError({ file: 'rules/stock.yaml', line: 12, col: 5, message: 'rules[0]: unknown key "belov"' })).toBe(
      'rules/stock.yaml:12:5: rules[0]: unknown key "belov"',
    );
  });
});

describe('loadRules (a folder)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-rules-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): void => fs.writeFileSync(path.join(dir, name), text);
  const rule = (name: string): string => `rules:\n  - name: ${name}\n    type: negative_reserved\n`;

  test('reads *.yaml and *.yml in name order and nothing else', () => {
    write('00-channels.yaml', CHANNELS_FILE.text);
    write('b.yml', rule('from-b'));
    write('a.yaml', rule('from-a'));
    write('10-x.yaml', rule('from-10'));
    write('2-y.yaml', rule('from-2'));
    write('README.md', 'not: [yaml');
    write('a.yaml.bak', 'not: [yaml');
    write('.#a.yaml', 'not: [yaml'); // an editor's lock file
    write('UPPER.YAML', 'not: [yaml'); // the pattern is *.yaml / *.yml, case-sensitive
    fs.mkdirSync(path.join(dir, 'archive.yaml'));
    const result = loadRules(dir, {});
    expect(result.ok && result.ruleSet.files).toEqual(['00-channels.yaml', '10-x.yaml', '2-y.yaml', 'a.yaml', 'b.yml']);
    expect(result.ok && result.ruleSet.rules.map((r) => r.name)).toEqual(['from-10', 'from-2', 'from-a', 'from-b']);
  });

  test('errors name the file as the folder was given plus the file name', () => {
    write('00-channels.yaml', CHANNELS_FILE.text);
    write('stock.yaml', 'rules:\n  - name: low\n    type: low_available\n    belov: 10\n');
    const result = loadRules(dir, {});
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      `${path.join(dir, 'stock.yaml')}:4:5: rules[0]: unknown key "belov" (did you mean "below"?)`,
    ]);
    expect(!result.ok && result.errors[0].file).toBe(path.join(dir, 'stock.yaml'));
  });

  test('a symlink counts by what it points to; a dangling one is an error, not a crash', () => {
    write('real.txt', rule('linked'));
    fs.symlinkSync(path.join(dir, 'real.txt'), path.join(dir, 'linked.yaml'));
    write('00-channels.yaml', CHANNELS_FILE.text);
    const ok = loadRules(dir, {});
    expect(ok.ok && ok.ruleSet.rules.map((r) => r.name)).toEqual(['linked']);

    fs.symlinkSync(path.join(dir, 'gone.txt'), path.join(dir, 'broken.yaml'));
    const result = loadRules(dir, {});
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([`${path.join(dir, 'broken.yaml')}:1:1: cannot read the file: not found`]);
  });

  test('an oversized file is refused without reading it', () => {
    write('huge.yaml', `# ${'x'.repeat(1024 * 1024)}\n`);
    const result = loadRules(dir, {});
    expect(!result.ok && result.errors.map((e) => e.message)).toEqual(['file too large (1048579 bytes; a rule file may be at most 1 MiB, 1048576 bytes)']);
  });

  test('a folder without rule files is refused: a mistyped folder must not pass check or start a daemon watching nothing', () => {
    expect(() => loadRules(dir, {})).toThrow(new UserError(`rules folder ${dir}: no rule files in it (*.yaml, *.yml)`));
    write('notes.txt', 'rules: []\n');
    fs.mkdirSync(path.join(dir, 'old.yaml'));
    expect(() => loadRules(dir, {})).toThrow(new UserError(`rules folder ${dir}: no rule files in it (*.yaml, *.yml)`));
    write('empty.yaml', '');
    expect(loadRules(dir, {})).toEqual({ ok: true, ruleSet: { channels: {}, defaultChannels: [], rules: [], inhibit: [], silences: [], files: ['empty.yaml'] } });
  });

  test('a file that is not UTF-8 is refused at its first bad byte, not loaded with its text replaced', () => {
    const latin1 = Buffer.concat([Buffer.from('rules:\n  - name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    fs.writeFileSync(path.join(dir, 'latin1.yaml'), latin1);
    fs.writeFileSync(path.join(dir, 'utf8.yaml'), 'rules: []\n# caf\u00e9 \u{1f600} and then \xff\n'.replace('\xff', ''));
    fs.appendFileSync(path.join(dir, 'utf8.yaml'), Buffer.concat([Buffer.from('# \u00e9\u00e9'), Buffer.from([0xff, 0x0a])]));
    const result = loadRules(dir, {});
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      `${path.join(dir, 'latin1.yaml')}:2:14: not UTF-8 text (byte 0xE9 here); save the file as UTF-8`,
      `${path.join(dir, 'utf8.yaml')}:3:5: not UTF-8 text (byte 0xFF here); save the file as UTF-8`,
    ]);
  });

  test('a folder that is missing or is a file: one-line UserError', () => {
    const missing = path.join(dir, 'nope');
    expect(() => loadRules(missing, {})).toThrow(new UserError(`rules folder ${missing}: not found`));
    write('file.yaml', '');
    const file = path.join(dir, 'file.yaml');
    expect(() => loadRules(file, {})).toThrow(new UserError(`rules folder ${file}: not a directory`));
  });
});

test('loadRuleFiles sorts by name too', () => {
  const result = loadRuleFiles([{ name: 'b.yaml', text: '' }, { name: 'a.yaml', text: '' }]);
  expect(result.ok && result.ruleSet.files).toEqual(['a.yaml', 'b.yaml']);
});
