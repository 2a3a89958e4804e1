// The keys of SPEC revision 2 (sections 3, 3.1-3.4): how they load, and every mistake at its FILE:LINE:COL.
import { CHANNELS_FILE, problems, problemsAlone, ruleSetOf, yaml } from './helpers';

const MINUTE = 60_000;
const DAY = 86_400_000;

function rulesOf(text: string, env: NodeJS.ProcessEnv = {}) {
  return ruleSetOf([CHANNELS_FILE, { name: 'test.yaml', text }], env);
}

describe('for and keep_firing_for', () => {
  test('durations on any rule type; 0s is allowed (it means "off"); absent is 0', () => {
    const ruleSet = rulesOf(yaml`
      rules:
        - name: low
          type: low_available
          below: 10
          for: 15m
          keep_firing_for: 1h30m
        - name: neg
          type: negative_reserved
          for: 0s
        - name: unknown
          type: unknown_product
    `);
    expect(ruleSet.rules.map((r) => [r.forMs, r.keepFiringForMs])).toEqual([
      [15 * MINUTE, 90 * MINUTE],
      [0, 0],
      [0, 0],
    ]);
  });

  test('not a duration, at the value', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          below: 10
          for: soon
          keep_firing_for: 10
    `)).toEqual([
      '5:10: rules[0].for: expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m, got "soon"',
      '6:22: rules[0].keep_firing_for: expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m, got "10"',
    ]);
  });

  test('misspelt, with a hint', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          below: 10
          keep_firing: 5m
          fro: 5m
    `)).toEqual([
      '5:5: rules[0]: unknown key "keep_firing" (did you mean "keep_firing_for"?)',
      '6:5: rules[0]: unknown key "fro" (did you mean "for"?)',
    ]);
  });
});

describe('clear_at', () => {
  test('a whole number >= below; equal to below is allowed', () => {
    const ruleSet = rulesOf(yaml`
      rules:
        - name: low
          type: low_available
          below: 10
          clear_at: 15
        - name: same
          type: low_available
          below: 10
          clear_at: 10
    `);
    expect(ruleSet.rules.map((r) => r.clearAt)).toEqual([15, 10]);
  });

  test('below below, not a whole number, on another type', () => {
    expect(problems(yaml`
      rules:
        - name: low
          type: low_available
          below: 10
          clear_at: 5
        - name: half
          type: low_available
          below: 10
          clear_at: 12.5
        - name: stale
          type: stale
          older_than: 1h
          clear_at: 3
    `)).toEqual([
      '5:15: rules[0].clear_at: must be at least below (10), got 5',
      '9:15: rules[1].clear_at: expected a whole number, got 12.5',
      '13:5: rules[2].clear_at: only applies to low_available rules, not stale',
    ]);
  });
});

describe('scope (SPEC 3.1)', () => {
  test('item by default; network on low_available and runs_out, with where selecting products and warehouses', () => {
    const ruleSet = rulesOf(yaml`
      rules:
        - name: low-network
          type: low_available
          scope: network
          below: 100
          where: { sku: "MX03-*", brand: Sony, product_id: "p*", warehouse: ["Toronto*"] }
        - name: runs-out-network
          type: runs_out
          scope: network
          within: 7d
        - name: low
          type: low_available
          below: 5
        - name: neg
          type: negative_reserved
    `);
    expect(ruleSet.rules.map((r) => r.scope)).toEqual(['network', 'network', 'item', 'item']);
    expect(ruleSet.rules[0].where).toEqual({ sku: ['MX03-*'], brand: ['Sony'], product_id: ['p*'], warehouse: ['Toronto*'] });
  });

  test('on another type, and an unknown value with a hint', () => {
    expect(problems(yaml`
      rules:
        - name: stale
          type: stale
          older_than: 1h
          scope: network
        - name: low
          type: low_available
          below: 5
          scope: nework
    `)).toEqual([
      '5:5: rules[0].scope: only applies to low_available and runs_out rules, not stale',
      '9:12: rules[1].scope: unknown scope "nework" (did you mean "network"?); expected one of item, network',
    ]);
  });
});

describe('runs_out (SPEC 3.2)', () => {
  test('within is required; rate_half_life and min_history default to 7d and 3d, always set on the rule', () => {
    const ruleSet = rulesOf(yaml`
      rules:
        - name: soon
          type: runs_out
          within: 7d
        - name: tuned
          type: runs_out
          within: 14d
          rate_half_life: 3d
          min_history: 0s
    `);
    expect(ruleSet.rules[0]).toMatchObject({ type: 'runs_out', scope: 'item', withinMs: 7 * DAY, rateHalfLifeMs: 7 * DAY, minHistoryMs: 3 * DAY });
    expect(ruleSet.rules[1]).toMatchObject({ withinMs: 14 * DAY, rateHalfLifeMs: 3 * DAY, minHistoryMs: 0 });
    expect(ruleSet.rules[0]).not.toHaveProperty('below');
  });

  test('missing within, a zero half-life, a bad min_history, keys on another type', () => {
    expect(problems(yaml`
      rules:
        - name: soon
          type: runs_out
          rate_half_life: 0d
          min_history: three days
        - name: low
          type: low_available
          below: 5
          within: 7d
          rate_half_life: 7d
          min_history: 3d
    `)).toEqual([
      '2:5: rules[0]: missing required key "within" (a duration such as 7d: fires when the item is projected to run out within it)',
      '4:21: rules[0].rate_half_life: expected a duration (more than zero) like 90s, 5m, 2h, 3d, 1w or 1h30m, got "0d"',
      '5:18: rules[0].min_history: expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m, got "three days"',
      '9:5: rules[1].within: only applies to runs_out rules, not low_available',
      '10:5: rules[1].rate_half_life: only applies to runs_out rules, not low_available',
      '11:5: rules[1].min_history: only applies to runs_out rules, not low_available',
    ]);
  });
});

describe('stale_warehouse (SPEC 3.3)', () => {
  test('older_than is required, as on stale', () => {
    expect(rulesOf(yaml`
      rules:
        - name: feed-silent
          type: stale_warehouse
          older_than: 24h
    `).rules[0]).toMatchObject({ type: 'stale_warehouse', olderThanMs: DAY, scope: 'item' });
    expect(problems(yaml`
      rules:
        - name: feed-silent
          type: stale_warehouse
          below: 3
    `)).toEqual([
      '2:5: rules[0]: missing required key "older_than" (a duration such as 48h)',
      '4:5: rules[0].below: only applies to low_available rules, not stale_warehouse',
    ]);
  });
});

describe('webhook channels', () => {
  const SECRET = 'hmac-key-7f2e';
  const URL_SECRET = 'https://erp.example.com/hooks/T0-token';

  test('url (http or https) and an optional secret, from the environment or written out', () => {
    const ruleSet = ruleSetOf([{ name: 'a.yaml', text: yaml`
      channels:
        erp:
          webhook:
            url: \${ERP_URL}
            secret: \${ERP_SECRET}
        plain:
          webhook:
            url: http://localhost:8080/stock
      defaults:
        channels: [erp]
      rules:
        - name: neg
          type: negative_reserved
    ` }], { ERP_URL: URL_SECRET, ERP_SECRET: SECRET });
    expect(ruleSet.channels).toEqual({
      erp: { name: 'erp', kind: 'webhook', url: URL_SECRET, secret: SECRET },
      plain: { name: 'plain', kind: 'webhook', url: 'http://localhost:8080/stock' },
    });
  });

  test('missing url, not http(s), empty secret, unset variable, misspelt key: never printing the values', () => {
    const found = problemsAlone(yaml`
      channels:
        a:
          webhook:
            secret: ${SECRET}
        b:
          webhook:
            url: ftp://erp.example.com/${SECRET}
        c:
          webhook:
            url: \${ERP_URL}
            secret: \${EMPTY}
        d:
          webhook:
            url: \${UNSET_URL}
            secert: x
        e:
          webhook: https://erp.example.com/
          email:
            to: ops@example.com
    `, { ERP_URL: URL_SECRET, EMPTY: '' });
    expect(found).toEqual([
      '3:5: channels.a.webhook: missing required key "url"',
      '7:12: channels.b.webhook.url: not an http(s) URL',
      '11:15: channels.c.webhook.secret: empty; leave "secret" out to send unsigned bodies',
      '14:12: channels.d.webhook.url: environment variable UNSET_URL is not set',
      '15:7: channels.d.webhook: unknown key "secert" (did you mean "secret"?)',
      '17:5: channels.e: a channel is either slack, email or webhook, not email and webhook; make one channel for each',
    ]);
    expect(found.join('\n')).not.toContain(SECRET);
    expect(found.join('\n')).not.toContain('T0-token');
  });
});

describe('inhibit (SPEC 3.4)', () => {
  test('globs over rule names in any file; suppress may be one glob or a list', () => {
    const ruleSet = ruleSetOf([
      CHANNELS_FILE,
      { name: 'a.yaml', text: yaml`
        inhibit:
          - when: out-of-stock
            suppress: [low-*, "stale-level"]
            same: item
          - when: feed-*
            suppress: stale-level
            same: warehouse
      ` },
      { name: 'b.yaml', text: yaml`
        rules:
          - name: out-of-stock
            type: low_available
            below: 1
          - name: low-available
            type: low_available
            below: 10
          - name: stale-level
            type: stale
            older_than: 48h
          - name: feed-silent
            type: stale_warehouse
            older_than: 24h
      ` },
    ]);
    expect(ruleSet.inhibit).toEqual([
      { when: 'out-of-stock', suppress: ['low-*', 'stale-level'], same: 'item', pos: { file: 'a.yaml', line: 2, col: 5 } },
      { when: 'feed-*', suppress: ['stale-level'], same: 'warehouse', pos: { file: 'a.yaml', line: 5, col: 5 } },
    ]);
  });

  test('rules that inhibit each other, directly or round a cycle, are refused: together none would be notified', () => {
    const rules = yaml`
      rules:
        - {name: low, type: low_available, below: 10}
        - {name: out, type: low_available, below: 1}
        - {name: stale, type: stale, older_than: 1h}
    `;
    expect(problems(rules + yaml`
      inhibit:
        - {when: out, suppress: [low], same: item}
        - {when: low, suppress: [out], same: item}
    `)).toEqual([
      '7:5: inhibit[1]: rules "low", "out" inhibit each other (with inhibit[0] at test.yaml:6:5): while they fire together none of them is notified; drop one direction',
    ]);
    expect(problems(rules + yaml`
      inhibit:
        - {when: out, suppress: [low], same: item}
        - {when: low, suppress: stale, same: item}
        - {when: stale, suppress: "o*", same: warehouse}
    `)).toEqual([
      '8:5: inhibit[2]: rules "low", "out", "stale" inhibit each other (with inhibit[0] at test.yaml:6:5, inhibit[1] at test.yaml:7:5): while they fire together none of them is notified; drop one direction',
    ]);
    expect(problems(rules + yaml`
      inhibit:
        - {when: "*", suppress: "*", same: item}
    `)).toEqual([
      '6:5: inhibit[0]: rules "low", "out", "stale" inhibit each other: while they fire together none of them is notified; drop one direction',
    ]);
    // One direction only, and a rule over its own alerts with same: item: no cycle.
    expect(problems(rules + yaml`
      inhibit:
        - {when: out, suppress: [low, out], same: item}
        - {when: low, suppress: stale, same: item}
    `)).toEqual([]);
  });

  test('an item rule over its own alerts across a warehouse or product is a cycle of its own', () => {
    expect(problems(yaml`
      rules:
        - {name: low, type: low_available, below: 10}
      inhibit:
        - {when: low, suppress: [low], same: warehouse}
    `)).toEqual([
      '4:5: inhibit[0]: rule "low" inhibits its own alerts that share a warehouse: two of them firing together silence each other; use same: item, or suppress another rule',
    ]);
  });

  test('an inhibition whose same one side can never have makes no cycle (a warehouse alert has no item)', () => {
    expect(problems(yaml`
      rules:
        - {name: out-of-stock, type: low_available, below: 1}
        - {name: feed-silent, type: stale_warehouse, older_than: 24h}
        - {name: low-available, type: low_available, below: 10}
      inhibit:
        - {when: out-of-stock, suppress: ["*"], same: item}
        - {when: feed-silent, suppress: ["*"], same: warehouse}
    `)).toEqual([]);
  });

  test('chained inhibitions over 1,500 rules (500,000 pairs) are no cycle', () => {
    const group = (g: string) => Array.from({ length: 500 }, (_, i) => `  - {name: ${g}-${i}, type: low_available, below: 10}`).join('\n');
    const text = `rules:\n${group('a')}\n${group('b')}\n${group('c')}\ninhibit:\n  - {when: "b-*", suppress: ["c-*"], same: item}\n  - {when: "a-*", suppress: ["b-*"], same: item}\n`;
    expect(problems(text)).toEqual([]);
  });

  test('naming no rule, with a hint; a glob matching none', () => {
    expect(problems(yaml`
      rules:
        - name: out-of-stock
          type: low_available
          below: 1
        - name: low-available
          type: low_available
          below: 10
      inhibit:
        - when: out-of-stok
          suppress: [low-available, lowish-*]
          same: item
    `)).toEqual([
      '9:11: inhibit[0].when: no rule named "out-of-stok" (did you mean "out-of-stock"?)',
      '10:31: inhibit[0].suppress: no rule name matches "lowish-*"',
    ]);
  });

  test('missing and unknown keys (a misspelt key is not also missing), an unknown same, a section that is not a list', () => {
    expect(problems(yaml`
      rules:
        - name: out-of-stock
          type: low_available
          below: 1
      inhibit:
        - when: out-of-stock
          supress: [out-of-stock]
          same: items
        - suppress: out-of-stock
    `)).toEqual([
      '7:5: inhibit[0]: unknown key "supress" (did you mean "suppress"?)',
      '8:11: inhibit[0].same: unknown "same" value "items" (did you mean "item"?); expected one of item, product, warehouse',
      '9:5: inhibit[1]: missing required key "when" (a rule name or glob: while its alerts fire, ...)',
      '9:5: inhibit[1]: missing required key "same" (one of item, product, warehouse)',
    ]);
    expect(problems('inhibit:\n  when: a\n')).toEqual([
      '2:3: inhibit: expected a list of inhibitions (each starting with "- when: ..."), got a map',
    ]);
  });

  test('a same that the rules\' alerts can never share', () => {
    expect(problems(yaml`
      rules:
        - name: feed-silent
          type: stale_warehouse
          older_than: 24h
        - name: stale-level
          type: stale
          older_than: 48h
        - name: low-network
          type: low_available
          scope: network
          below: 100
        - name: low
          type: low_available
          below: 10
      inhibit:
        - when: feed-silent
          suppress: [stale-level]
          same: item
        - when: low-network
          suppress: [low]
          same: warehouse
        - when: "*"
          suppress: [low]
          same: item
    `)).toEqual([
      '16:11: inhibit[0].when: same: item can never hold: rule "feed-silent" fires one alert per warehouse, never for an item (same: warehouse can)',
      '19:11: inhibit[1].when: same: warehouse can never hold: rule "low-network" fires one alert per product (scope: network), never for a warehouse (same: product can)',
    ]);
  });
});
