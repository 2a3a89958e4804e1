// Every kind of rule-file problem, with the exact FILE:LINE:COL it is reported at.
import { formatRuleError, loadRuleFiles } from '../../src/rules';
import { CHANNELS_FILE, problems, problemsAlone, yaml } from './helpers';

const TYPES = 'low_available, negative_reserved, stale, unknown_product, stale_warehouse, runs_out';

describe('unknown keys, at every level, with "did you mean"', () => {
  test('top level', () => {
    expect(problems(yaml`
      rule:
        - name: low
    `)).toEqual(['1:1: unknown key "rule" (did you mean "rules"?)']);
  });

  test('no hint when nothing is close', () => {
    expect(problems('colour: red\n')).toEqual(['1:1: unknown key "colour"']);
  });

  test('in defaults', () => {
    expect(problemsAlone(yaml`
      channels:
        ops:
          email:
            to: ops@example.com
      defaults:
        channels: [ops]
        severty: info
    `)).toEqual(['7:3: defaults: unknown key "severty" (did you mean "severity"?)']);
  });

  test('in a rule, without also reporting the key it was meant to be as missing', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          belov: 10
    `)).toEqual(['4:5: rules[0]: unknown key "belov" (did you mean "below"?)']);
  });

  test('in a channel and in its settings', () => {
    expect(problems(yaml`
      channels:
        team:
          emial:
            to: team@example.com
        buyers:
          email:
            to: buyers@example.com
            digets: "0 8 * * *"
    `)).toEqual([
      '3:5: channels.team: unknown key "emial" (did you mean "email"?)',
      '8:7: channels.buyers.email: unknown key "digets" (did you mean "digest"?)',
    ]);
  });

  test('in the where of a rule and of a silence', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          below: 5
          where:
            skus: "A-*"
      silences:
        - where: { brnd: Sony }
          until: 2030-01-01T00:00:00Z
    `)).toEqual([
      '6:7: rules[0].where: unknown key "skus" (did you mean "sku"?)',
      '8:14: silences[0].where: unknown key "brnd" (did you mean "brand"?)',
    ]);
  });

  test('a key that looks like a URL (a misplaced webhook) is not printed', () => {
    const found = problems(yaml`
      channels:
        alerts:
          slack:
            https://hooks.slack.com/services/T0/B0/SECRET: true
    `);
    expect(found).toEqual([
      '3:5: channels.alerts.slack: missing required key "webhook_url"',
      '4:7: channels.alerts.slack: unknown key that looks like a URL (not shown)',
    ]);
    expect(found.join('\n')).not.toContain('SECRET');
  });

  test('merge keys are refused with a reason', () => {
    expect(problems(yaml`
      rules:
        - name: a
          type: negative_reserved
          <<: { severity: info }
    `)).toEqual(['4:5: rules[0]: merge keys (<<) are not supported; repeat the keys, or use `defaults` for what rules share']);
  });
});

describe('rule values', () => {
  test('misspelt type, with no follow-on errors about type-specific keys', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_availble
          below: 10
    `)).toEqual([`3:11: rules[0].type: unknown rule type "low_availble" (did you mean "low_available"?); expected one of ${TYPES}`]);
  });

  test('misspelt severity', () => {
    expect(problems(yaml`
      rules:
        - name: neg
          type: negative_reserved
          severity: critcal
    `)).toEqual(['4:15: rules[0].severity: unknown severity "critcal" (did you mean "critical"?); expected one of info, warning, critical']);
  });

  test('bad durations', () => {
    expect(problems(yaml`
      rules:
        - name: stale
          type: stale
          older_than: 2 days
          repeat_every: 0
        - name: neg
          type: negative_reserved
          repeat_every: forever
    `)).toEqual([
      '4:17: rules[0].older_than: expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m, got "2 days"',
      '5:19: rules[0].repeat_every: expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m or "never", got "0"',
      '8:19: rules[1].repeat_every: expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m or "never", got "forever"',
    ]);
  });

  test('keys of another rule type', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          below: 10
          older_than: 48h
        - name: stale
          type: stale
          older_than: 48h
          count_incoming: true
    `)).toEqual([
      '5:5: rules[0].older_than: only applies to stale and stale_warehouse rules, not low_available',
      '9:5: rules[1].count_incoming: only applies to low_available rules, not stale',
    ]);
  });

  test('wrong types of values; an empty value is reported at its key', () => {
    expect(problems(yaml`
      rules:
        - name: a
          type: low_available
          below: ten
        - name: b
          type: low_available
          below: 2.5
        - name: c
          type: low_available
          below: -1
        - name: d
          type: low_available
          below:
          count_incoming: yes
    `)).toEqual([
      '4:12: rules[0].below: expected a whole number, got "ten"',
      '7:12: rules[1].below: expected a whole number, got 2.5',
      '10:12: rules[2].below: must be 0 or more, got -1',
      '13:5: rules[3].below: expected a whole number, got nothing',
      '14:21: rules[3].count_incoming: expected true or false, got "yes"',
    ]);
  });

  test('bad rule names', () => {
    expect(problems(yaml`
      rules:
        - name: low stock
          type: negative_reserved
        - name: [a]
          type: negative_reserved
    `)).toEqual([
      '2:11: rules[0].name: "low stock": use letters, digits, "-" and "_"',
      '4:11: rules[1].name: expected a rule name, got a list',
    ]);
  });

  test('missing required keys are reported at the map that lacks them', () => {
    expect(problems(yaml`
      rules:
        - name: a
        - type: stale
        - name: c
          type: low_available
      silences:
        - rule: a
    `)).toEqual([
      `2:5: rules[0]: missing required key "type" (one of ${TYPES})`,
      '3:5: rules[1]: missing required key "name"',
      '3:5: rules[1]: missing required key "older_than" (a duration such as 48h)',
      '4:5: rules[2]: missing required key "below" (fires when available < below)',
      '7:5: silences[0]: missing required key "until" (when the silence ends, e.g. 2026-12-31T00:00:00Z)',
    ]);
  });

  test('sections and entries of the wrong shape', () => {
    expect(problemsAlone('- rules\n')).toEqual([
      '1:1: expected a map with channels, defaults, rules, inhibit and/or silences at the top level, got a list',
    ]);
    expect(problemsAlone('channels: [ops]\n')).toEqual(['1:11: channels: expected a map of channel names to their settings, got a list']);
    expect(problems('rules:\n  name: low\n')).toEqual(['2:3: rules: expected a list of rules (each starting with "- name: ..."), got a map']);
    expect(problems('rules:\n  - low\n')).toEqual(['2:5: rules[0]: expected a rule (a map with name, type, ...), got text']);
  });

  test('summary: unknown placeholder, more than one line, unclosed braces', () => {
    const found = problems(yaml`
      rules:
        - name: a
          type: negative_reserved
          summary: "{{sku}} at {{warehous}}"
        - name: b
          type: negative_reserved
          summary: |
            {{sku}} is negative
        - name: c
          type: negative_reserved
          summary: "{{sku"
        - name: d
          type: negative_reserved
          summary: "first line\\nsecond line"
    `);
    expect(found).toHaveLength(4);
    expect(found[0]).toMatch(/^4:14: rules\[0\]\.summary: unknown field \{\{warehous\}\} \(did you mean \{\{warehouse\}\}\?\); fields: rule, .*sku/);
    expect(found.slice(1)).toEqual([
      '7:14: rules[1].summary: must be one line (`|` and `>` end with a line break; use `>-` or quotes)',
      '11:14: rules[2].summary: "{{" without a closing "}}"',
      '14:14: rules[3].summary: must be one line',
    ]);
  });

  test('where: empty map, empty list, a map where a glob belongs', () => {
    expect(problems(yaml`
      rules:
        - name: a
          type: negative_reserved
          where: {}
        - name: b
          type: negative_reserved
          where:
            sku: []
        - name: c
          type: negative_reserved
          where:
            brand: { name: Sony }
    `)).toEqual([
      '4:12: rules[0].where: empty; give at least one of sku, product_id, brand, warehouse, or leave "where" out',
      '8:12: rules[1].where.sku: empty list; give at least one entry, or leave the key out',
      '12:14: rules[2].where.brand: expected a glob or a list of them, got a map',
    ]);
  });
});

describe('channels', () => {
  test('unknown channel reference points at the entry', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          below: 5
          channels: [ops, opz]
    `)).toEqual(['5:21: rules[0].channels: unknown channel "opz" (did you mean "ops"?); channels are defined under "channels:"']);
  });

  test('unknown channel in defaults', () => {
    expect(problemsAlone(yaml`
      channels:
        ops:
          email:
            to: ops@example.com
      defaults:
        channels: [oops]
    `)).toEqual(['6:14: defaults.channels: unknown channel "oops" (did you mean "ops"?); channels are defined under "channels:"']);
  });

  test('a rule with no channels of its own and none in defaults', () => {
    expect(problemsAlone(yaml`
      rules:
        - name: low
          type: low_available
          below: 5
    `)).toEqual(['2:5: rules[0]: no channels to notify: give the rule "channels: [...]" or set "channels" under defaults']);
  });

  test('a misspelt channels key is reported once, with its hint, not also as no channels', () => {
    expect(problemsAlone(yaml`
      channels:
        ops:
          email:
            to: ops@example.com
      rules:
        - name: low
          type: low_available
          below: 5
          channel: ops
    `)).toEqual(['9:5: rules[0]: unknown key "channel" (did you mean "channels"?)']);
  });

  test('missing kind or settings, both kinds, bad names', () => {
    expect(problems(yaml`
      channels:
        a:
          slack: {}
        b:
          email:
            digest: "0 8 * * *"
        c: {}
        d:
        e:
          slack:
            webhook_url: https://hooks.example.com/x
          email:
            to: e@example.com
        ops team:
          email:
            to: x@example.com
    `)).toEqual([
      '3:5: channels.a.slack: missing required key "webhook_url"',
      '5:5: channels.b.email: missing required key "to"',
      '7:3: channels.c: missing "slack", "email" or "webhook": say how this channel is reached',
      '8:3: channels.d: expected channel settings (slack:, email:, webhook:), got nothing',
      '12:5: channels.e: a channel is either slack, email or webhook, not slack and email; make one channel for each',
      '14:3: channels.ops team: channel name: use letters, digits, "-" and "_"',
    ]);
  });

  test('email addresses', () => {
    expect(problems(yaml`
      channels:
        team:
          email:
            to: [team@example.com, nobody]
        more:
          email:
            to: []
    `)).toEqual([
      '4:30: channels.team.email.to: not an email address: "nobody"',
      '7:11: channels.more.email.to: empty list; give at least one entry',
    ]);
  });

  test('digest cron: wrong field count, out of range, @aliases', () => {
    expect(problems(yaml`
      channels:
        a:
          email:
            to: a@example.com
            digest: "0 8 * *"
        b:
          email:
            to: b@example.com
            digest: "61 8 * * *"
        c:
          email:
            to: c@example.com
            digest: "@daily"
    `)).toEqual([
      '5:15: channels.a.email.digest: expected 5 cron fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 4',
      '9:15: channels.b.email.digest: not a valid cron expression (Constraint error, got value 61 expected range 0-59)',
      '13:15: channels.c.email.digest: expected 5 cron fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 1',
    ]);
  });

  test('timezone', () => {
    expect(problems(yaml`
      channels:
        a:
          email:
            to: a@example.com
            digest: "0 8 * * 1-5"
            timezone: America/Toronot
        b:
          email:
            to: b@example.com
            digest: "0 8 * * 1-5"
            timezone: Mars/Olympus
    `)).toEqual([
      '6:17: channels.a.email.timezone: unknown time zone "America/Toronot" (did you mean "America/Toronto"?); use an IANA name such as Europe/Berlin or UTC',
      '11:17: channels.b.email.timezone: unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Berlin or UTC',
    ]);
  });

  test('send_empty without digest', () => {
    expect(problems(yaml`
      channels:
        a:
          email:
            to: a@example.com
            send_empty: true
    `)).toEqual(['5:7: channels.a.email.send_empty: only applies to digest channels; add `digest: <cron>` or remove it']);
  });
});

describe('webhook URLs are never printed', () => {
  const file = yaml`
    channels:
      hook:
        slack:
          webhook_url: \${SLACK_WEBHOOK_URL}
  `;

  test('from the environment, not a URL', () => {
    const found = problems(file, { SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0/B0/SECRET' });
    expect(found).toEqual(['4:20: channels.hook.slack.webhook_url: not an http(s) URL']);
  });

  test('written in the file, not http(s)', () => {
    const found = problems(yaml`
      channels:
        hook:
          slack:
            webhook_url: ftp://files.example.com/SECRET
    `);
    expect(found).toEqual(['4:20: channels.hook.slack.webhook_url: not an http(s) URL']);
  });

  test('given where the settings map belongs', () => {
    const found = problems(yaml`
      channels:
        hook:
          slack: https://hooks.slack.com/services/T0/B0/SECRET
    `);
    expect(found).toEqual(['3:12: channels.hook.slack: expected slack settings (webhook_url), got text']);
  });
});

describe('${NAME} substitution', () => {
  test('an unset variable is named at the value', () => {
    expect(problems(yaml`
      channels:
        hook:
          slack:
            webhook_url: \${SLACK_WEBHOOK_URL}
    `)).toEqual(['4:20: channels.hook.slack.webhook_url: environment variable SLACK_WEBHOOK_URL is not set']);
  });

  test('a malformed reference', () => {
    expect(problems(yaml`
      channels:
        hook:
          slack:
            webhook_url: \${SLACK_WEBHOOK_URL
    `)).toEqual(['4:20: channels.hook.slack.webhook_url: "${" must start an environment variable reference like ${SLACK_WEBHOOK_URL}']);
  });

  test('a bad value from the environment is described by its variable, not shown', () => {
    const found = problems(
      yaml`
        rules:
          - name: low
            type: low_available
            below: \${LOW_STOCK}
            severity: \${SEVERITY}
      `,
      { LOW_STOCK: 'plenty-secret', SEVERITY: 'urgent-secret' },
    );
    expect(found).toEqual([
      '4:12: rules[0].below: expected a whole number, got the value of ${LOW_STOCK} (not shown)',
      '5:15: rules[0].severity: unknown severity the value of ${SEVERITY} (not shown); expected one of info, warning, critical',
    ]);
    expect(found.join('\n')).not.toContain('secret');
  });
});

describe('silences', () => {
  test('neither where nor rule, unknown rule, until without a timezone or not a date', () => {
    expect(problems(yaml`
      silences:
        - reason: everything is fine
          until: 2030-01-01T00:00:00Z
        - rule: low-stok
          until: 2030-01-01
        - where: { sku: "TEST-*" }
          until: 2026-02-30T00:00:00Z
      rules:
        - name: low-stock
          type: low_available
          below: 5
    `)).toEqual([
      '2:5: silences[0]: needs "where", "rule" or both: a silence with neither would silence every alert',
      '4:11: silences[1].rule: no rule named "low-stok" (did you mean "low-stock"?)',
      '5:12: silences[1].until: expected a date and time with a timezone, e.g. 2026-12-31T00:00:00Z or 2026-12-31T08:00:00-05:00, got "2030-01-01"',
      '7:12: silences[2].until: no such date or time: "2026-02-30T00:00:00Z"',
    ]);
  });
});

describe('across files', () => {
  const low = { name: 'a.yaml', text: yaml`
    rules:
      - name: low
        type: low_available
        below: 5
  ` };

  test('a duplicate rule name points at the second file and names the first', () => {
    const result = loadRuleFiles([
      CHANNELS_FILE,
      low,
      { name: 'b.yaml', text: yaml`
        rules:
          - name: neg
            type: negative_reserved
          - name: low
            type: low_available
            below: 3
      ` },
    ]);
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      'b.yaml:4:11: rules[1].name: duplicate rule name "low" (first defined at a.yaml:2:11)',
    ]);
  });

  test('a duplicate channel and a second defaults section', () => {
    const result = loadRuleFiles([
      CHANNELS_FILE,
      { name: 'b.yaml', text: yaml`
        channels:
          ops:
            email:
              to: other@example.com
        defaults:
          severity: info
      ` },
    ]);
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      'b.yaml:2:3: channels.ops: channel "ops" is already defined at 00-channels.yaml:2:3',
      'b.yaml:5:1: defaults: already given at 00-channels.yaml:5:1; keep one defaults section',
    ]);
  });

  test('a file that does not parse does not make references into it errors', () => {
    const result = loadRuleFiles([
      { name: '00-channels.yaml', text: 'channels:\n  ops:\n    email:\n      to: [ops@example.com\ndefaults:\n  channels: [ops]\n' },
      low,
    ]);
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      '00-channels.yaml:5:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('every problem of every file at once, sorted by file, line and column', () => {
    const result = loadRuleFiles([
      { name: 'b.yaml', text: yaml`
        rules:
          - name: x
            type: negative_reserved
            channels: [nope]
            severity: loud
      ` },
      { name: 'a.yaml', text: yaml`
        rules:
          - name: y
            type: bogus
      ` },
      CHANNELS_FILE,
    ]);
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      `a.yaml:3:11: rules[0].type: unknown rule type "bogus"; expected one of ${TYPES}`,
      'b.yaml:4:16: rules[0].channels: unknown channel "nope"; channels are defined under "channels:"',
      'b.yaml:5:15: rules[0].severity: unknown severity "loud"; expected one of info, warning, critical',
    ]);
  });
});

describe('YAML itself', () => {
  test('syntax errors with their positions', () => {
    expect(problems('rules:\n\t- name: low\n')).toEqual(['2:1: YAML syntax error: Tabs are not allowed as indentation']);
    expect(problems('rules:\n- name: a\n  type: stale\n older_than: 1h\n')).toEqual(['4:1: YAML syntax error: Sequence item without - indicator']);
  });

  test('duplicate keys, all of them, each named with where the first one is', () => {
    expect(problems('rules:\n  - name: a\n    name: b\n')).toEqual(['3:5: duplicate key "name" (first at line 2, column 5)']);
    expect(problems('channels: {}\nchannels: {}\nrules: []\nrules: []\n')).toEqual([
      '2:1: duplicate key "channels" (first at line 1, column 1)',
      '4:1: duplicate key "rules" (first at line 3, column 1)',
    ]);
    // Keys are equal by value: YAML reads 1 and 0x1 as the same number.
    expect(problems('channels:\n  1: {slack: {webhook_url: "https://hooks.slack.com/x"}}\n  0x1: {}\n')).toEqual([
      '3:3: duplicate key "0x1" (first at line 2, column 3 as "1", the same value to YAML)',
    ]);
  });

  test('an alias naming no anchor before it, at that alias (not an alias bomb)', () => {
    const text = yaml`
      rules:
        - name: a
          type: low_available
          below: 10
          where: &w {sku: "A-*"}
        - name: b
          type: low_available
          below: 5
          where: *w
        - name: c
          type: low_available
          below: 5
          where: *W
    `;
    expect(problems(text)).toEqual(['13:12: alias *W names no anchor before it; set &W on an earlier value, or fix the name']);
    expect(problems('rules:\n  - {name: a, type: low_available, below: *n}\nx: &n 5\n')).toEqual([
      '2:43: alias *n names no anchor before it; set &n on an earlier value, or fix the name',
    ]);
  });

  test('a value of the wrong kind brought by an alias is reported at the alias, not at its anchor', () => {
    expect(problems(yaml`
      rules:
        - name: a
          type: low_available
          below: 10
          where: &w {sku: "A-*"}
        - name: b
          type: low_available
          below: *w
          summary: *w
    `)).toEqual([
      '8:12: rules[1].below: expected a whole number, got a map',
      '9:14: rules[1].summary: expected a one-line template, got a map',
    ]);
  });

  test('an unclosed quote is reported where it opens, not at the end of the file', () => {
    expect(problems('rules:\n  - name: a\n    summary: "unclosed {{sku}}\n    type: stale\n')).toEqual(['3:14: YAML syntax error: Missing closing "quote']);
    expect(problems("rules:\n  - name: 'a\n    type: stale\n")).toEqual(["2:11: YAML syntax error: Missing closing 'quote"]);
    expect(problems('rules:\n  - name: "a \\" b\n    type: stale\n')).toEqual(['2:11: YAML syntax error: Missing closing "quote']);
    expect(problems("rules:\n  - name: 'it''s\n    type: stale\n")).toEqual(["2:11: YAML syntax error: Missing closing 'quote"]);
  });

  test('a duration too long to count says so, not how to write one', () => {
    expect(problems('rules:\n  - {name: a, type: stale, older_than: 100000000000w}\n')).toEqual([
      '2:40: rules[0].older_than: duration "100000000000w" is too long to count in milliseconds',
    ]);
  });

  test('a file name with a line break or escape sequence stays on one line, shown escaped', () => {
    expect(formatRuleError({ file: 'a\nb\u001b[31m.yaml', line: 1, col: 2, message: 'm' })).toBe('a\\nb\\u001b[31m.yaml:1:2: m');
  });

  test('an unquoted ${NAME} inside [...] or {...}: how to write it', () => {
    expect(problems('rules:\n  - {name: a, type: low_available, below: ${B}}\n', { B: '5' })).toEqual([
      '2:43: a ${NAME} reference inside [...] or {...} must be quoted: "${NAME}"',
    ]);
    // Quoted, it is read as the number it holds, as an unquoted one in block style is.
    expect(problems('rules:\n  - {name: a, type: low_available, below: "${B}", channels: ["${CH}"]}\n', { B: '5', CH: 'ops' })).toEqual([]);
    expect(problems('rules:\n  - {name: a, type: low_available, below: "10"}\n')).toEqual(['2:43: rules[0].below: expected a whole number, got "10"']);
  });

  test('a list used as a key is one error, and yaml prints no warning of its own', () => {
    const warn = jest.spyOn(process, 'emitWarning');
    try {
      expect(problems('? [a, b]\n: 1\n')).toEqual(['1:3: expected a key name, got a list']);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  test('one error per line, and a cap on the errors one mistake causes', () => {
    const text = 'Rule files for the shop\n# comment\nrules:\n' + Array.from({ length: 20 }, (_, i) => `  - name: r${i}`).join('\n');
    const found = problems(text);
    expect(found).toHaveLength(11);
    expect(found[0]).toBe('3:1: YAML syntax error: Unexpected scalar token in YAML stream: "rules"');
    expect(found[10]).toBe('13:3: YAML syntax error: 11 more from here on, probably caused by the ones above; fix those first');
  });

  test('more than one document', () => {
    expect(problems('rules: []\n---\nrules: []\n')).toEqual(['2:1: more than one YAML document (---) in one file; use one document per file']);
  });

  test('an alias bomb is refused, not expanded', () => {
    const levels = 'abcdefghi';
    let text = 'x: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < levels.length; i++) text += `${levels[i]}: &${levels[i]} [${Array(9).fill(`*${levels[i - 1]}`).join(',')}]\n`;
    const found = problems(text);
    expect(found).toEqual(['2:8: aliases expand to too many copies (more than 50); refusing a possible alias bomb']);
  });

  test('absurd nesting is refused before parsing', () => {
    expect(problems(`rules: ${'['.repeat(5000)}${']'.repeat(5000)}\n`)).toEqual(['1:70: nested deeper than 64 levels; refusing the file']);
    const stairs = Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(problems(stairs)).toEqual([expect.stringMatching(/^\d+:\d+: nested deeper than 64 levels; refusing the file$/)]);
  });

  test('a file over 1 MiB is refused', () => {
    expect(problems(`rules: []\n${'#'.repeat(1024 * 1024)}\n`)).toEqual(['1:1: file too large (1048587 bytes; a rule file may be at most 1 MiB, 1048576 bytes)']);
  });
});
