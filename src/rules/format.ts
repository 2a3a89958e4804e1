// The rule-file format, written down once: every section and key with what it means, an example,
// the shape of its value, and (for rule keys) which rule types take it. The validator takes its key
// lists, type applicability and required keys from here, and `stockwatch schema` turns the same
// tables into a JSON Schema for editors (schema.ts), so the two cannot drift apart.
import { RULE_TYPES, SEVERITIES, type InhibitSame, type RuleType, type Scope } from '../model';

export const SCOPES: readonly Scope[] = ['item', 'network'];
export const INHIBIT_SAMES: readonly InhibitSame[] = ['item', 'product', 'warehouse'];

/** Channel and rule names. */
export const NAME = /^[A-Za-z0-9_-]+$/;
export const NAME_RULE = 'use letters, digits, "-" and "_"';

/** What a value must look like. Every string value may also hold `${NAME}` references (replaced from the environment). */
export type Value =
  /** a channel or rule name (NAME) */
  | { kind: 'name' }
  /** any text (numbers and booleans are read as written) */
  | { kind: 'text'; oneLine?: boolean }
  /** one text, or a non-empty list of them */
  | { kind: 'texts' }
  | { kind: 'integer'; minimum: number }
  | { kind: 'boolean' }
  /** `90s`, `1h30m`; `never` when allowed; `0s` only where zero means "off" */
  | { kind: 'duration'; never?: boolean; zero?: boolean }
  | { kind: 'choice'; values: readonly string[] }
  /** an http(s) URL */
  | { kind: 'url' }
  /** an ISO 8601 date-time with a timezone */
  | { kind: 'timestamp' }
  | {
      kind: 'map';
      keys: KeyTable;
      nonEmpty?: boolean;
      /** exactly one of the keys (a channel is slack, email or webhook) */
      exactlyOne?: boolean;
      /** at least one of these keys */
      atLeastOneOf?: readonly string[];
      /** key -> keys it needs beside it */
      needs?: Readonly<Record<string, readonly string[]>>;
      /** a rule: keys by rule type (Key.types, Key.requiredFor) */
      rule?: boolean;
    }
  | { kind: 'list'; of: Value }
  /** a map of names (NAME) to values, e.g. `channels:` */
  | { kind: 'named'; of: Value };

export interface Key {
  /** What the key means, in one or two sentences: shown by editors on hover and in docs/rules.md. */
  description: string;
  /** A value as it would be written in a rule file. */
  example: unknown;
  value: Value;
  /** What applies when the key is absent (for editors; the loader applies it). */
  default?: unknown;
  /** Must be given (in every map of this table). */
  required?: boolean;
  /** Rule keys: the rule types that take the key; absent: every type. */
  types?: readonly RuleType[];
  /** Rule keys: the types on which it must be given. */
  requiredFor?: readonly RuleType[];
  /** Added to "missing required key" messages, e.g. ` (a duration such as 48h)`. */
  hint?: string;
}

export type KeyTable = Readonly<Record<string, Key>>;

export const WHERE_KEYS: KeyTable = {
  sku: { description: 'SKU glob(s) (`*`, `?`, case-sensitive); an item whose product is unknown has no sku and never matches.', example: ['MX03-*', 'SKU-GREY'], value: { kind: 'texts' } },
  product_id: { description: 'Product id glob(s).', example: 'prod_123*', value: { kind: 'texts' } },
  brand: { description: 'Brand name glob(s); an item whose product is unknown has no brand and never matches.', example: 'Sony', value: { kind: 'texts' } },
  warehouse: {
    description: "Glob(s) matched against the warehouse's name or its id. With `scope: network`, selects the warehouses that are summed.",
    example: ['Toronto*', 'wh_42'],
    value: { kind: 'texts' },
  },
};

const WHERE: Value = { kind: 'map', keys: WHERE_KEYS, nonEmpty: true };

export const SLACK_KEYS: KeyTable = {
  webhook_url: {
    description: 'The Slack incoming-webhook URL. It is a secret: write ${SLACK_WEBHOOK_URL} and keep it in the environment.',
    example: '${SLACK_WEBHOOK_URL}',
    value: { kind: 'url' },
    required: true,
  },
};

export const EMAIL_KEYS: KeyTable = {
  to: {
    description: 'Recipient address(es): one, a list, or one text with commas; "Ops Team <ops@example.com>" works too.',
    example: ['ops@example.com'],
    value: { kind: 'texts' },
    required: true,
  },
  digest: {
    description: 'Cron expression (5 fields, or 6 with seconds first): mail a digest on this schedule instead of each poll\'s changes at once.',
    example: '0 8 * * 1-5',
    value: { kind: 'text' },
  },
  timezone: { description: 'IANA time zone of `digest`.', example: 'America/Toronto', value: { kind: 'text' }, default: 'UTC' },
  send_empty: { description: 'Digest channels only: also mail on a tick with nothing firing ("all clear").', example: true, value: { kind: 'boolean' }, default: false },
};

export const WEBHOOK_KEYS: KeyTable = {
  url: {
    description: 'Where each poll\'s changes are POSTed as JSON (http or https). Treated as a secret: never printed.',
    example: '${ERP_WEBHOOK_URL}',
    value: { kind: 'url' },
    required: true,
  },
  secret: {
    description: 'Optional: signs each body with HMAC-SHA256 (SPEC section 5). Keep it in the environment.',
    example: '${ERP_WEBHOOK_SECRET}',
    value: { kind: 'text' },
  },
};

export const CHANNEL_KEYS: KeyTable = {
  slack: { description: 'Post to a Slack incoming webhook.', example: { webhook_url: '${SLACK_WEBHOOK_URL}' }, value: { kind: 'map', keys: SLACK_KEYS } },
  email: {
    description: 'Send email (needs SMTP_URL to actually send).',
    example: { to: ['ops@example.com'] },
    value: { kind: 'map', keys: EMAIL_KEYS, needs: { send_empty: ['digest'] } },
  },
  webhook: { description: 'POST JSON to a URL, one request per poll.', example: { url: '${ERP_WEBHOOK_URL}' }, value: { kind: 'map', keys: WEBHOOK_KEYS } },
};

const CHANNEL: Value = { kind: 'map', keys: CHANNEL_KEYS, exactlyOne: true };

/** severity, repeat_every, send_resolved: taken by `defaults` and by every rule. */
const SHARED_KEYS: KeyTable = {
  severity: { description: 'How serious an alert of the rule is.', example: 'critical', value: { kind: 'choice', values: SEVERITIES }, default: 'warning' },
  repeat_every: {
    description: 'Notify a still-firing alert again after this long; "never" turns repeats off.',
    example: '4h',
    value: { kind: 'duration', never: true },
    default: '24h',
  },
  send_resolved: { description: 'Tell the channels when an alert stops firing.', example: false, value: { kind: 'boolean' }, default: true },
};

export const DEFAULTS_KEYS: KeyTable = {
  channels: {
    description: 'Channels of every rule that names none; also where "source unreachable" and "source recovered" notices go.',
    example: ['ops'],
    value: { kind: 'texts' },
  },
  ...SHARED_KEYS,
};

export const RULE_KEYS: KeyTable = {
  name: { description: 'The rule\'s name, unique across all files: letters, digits, "-" and "_".', example: 'low-available', value: { kind: 'name' }, required: true },
  type: {
    description:
      'What the rule watches: low_available (available < below), negative_reserved (reserved < 0), stale (a level not updated for older_than), ' +
      'unknown_product (product or warehouse missing from the overview), stale_warehouse (no level of a warehouse updated for older_than), ' +
      'runs_out (projected to run out within `within`).',
    example: 'low_available',
    value: { kind: 'choice', values: RULE_TYPES },
    required: true,
    hint: ` (one of ${RULE_TYPES.join(', ')})`,
  },
  severity: SHARED_KEYS.severity,
  channels: { description: 'Channels to notify (names from `channels:`); default: those of `defaults`.', example: ['ops', 'buyers'], value: { kind: 'texts' } },
  repeat_every: SHARED_KEYS.repeat_every,
  send_resolved: SHARED_KEYS.send_resolved,
  where: { description: 'Narrows the rule to some items: every key given must match; a list matches any of its entries.', example: { brand: 'Sony' }, value: WHERE },
  summary: {
    description: 'One line added to each alert, with {{field}} placeholders such as {{sku}}, {{warehouse}}, {{available}}.',
    example: '{{sku}} at {{warehouse}}: {{available}} left',
    value: { kind: 'text', oneLine: true },
  },
  for: {
    description: 'The condition must hold at every poll for this long before the alert fires (until then it is pending, never notified).',
    example: '15m',
    value: { kind: 'duration', zero: true },
    default: '0s',
  },
  keep_firing_for: {
    description: 'Once the condition stops holding, the alert keeps firing this long; if it holds again meanwhile it is the same alert.',
    example: '10m',
    value: { kind: 'duration', zero: true },
    default: '0s',
  },
  below: {
    description: 'low_available: fires when available (plus incoming, with count_incoming) < below.',
    example: 10,
    value: { kind: 'integer', minimum: 0 },
    types: ['low_available'],
    requiredFor: ['low_available'],
    hint: ' (fires when available < below)',
  },
  count_incoming: {
    description: 'low_available: compare available + incoming, so stock already on its way counts.',
    example: true,
    value: { kind: 'boolean' },
    default: false,
    types: ['low_available'],
  },
  clear_at: {
    description: 'low_available: a firing alert resolves only once the compared quantity reaches clear_at or more (hysteresis); a whole number >= below.',
    example: 15,
    value: { kind: 'integer', minimum: 0 },
    types: ['low_available'],
  },
  scope: {
    description: 'item: one alert per item; network: one alert per product, over the sum of the warehouses that where.warehouse selects (all by default).',
    example: 'network',
    value: { kind: 'choice', values: SCOPES },
    default: 'item',
    types: ['low_available', 'runs_out'],
  },
  older_than: {
    description: 'stale: fires when a level\'s updatedAt is older than this; stale_warehouse: when none of a warehouse\'s levels is newer than this.',
    example: '48h',
    value: { kind: 'duration' },
    types: ['stale', 'stale_warehouse'],
    requiredFor: ['stale', 'stale_warehouse'],
    hint: ' (a duration such as 48h)',
  },
  within: {
    description: 'runs_out: fires when the projected stock-out (available / selling rate) is within this long.',
    example: '7d',
    value: { kind: 'duration' },
    types: ['runs_out'],
    requiredFor: ['runs_out'],
    hint: ' (a duration such as 7d: fires when the item is projected to run out within it)',
  },
  rate_half_life: {
    description: 'runs_out: half-life of the exponentially weighted selling rate; shorter follows recent sales faster.',
    example: '14d',
    value: { kind: 'duration' },
    default: '7d',
    types: ['runs_out'],
  },
  min_history: {
    description: 'runs_out: how much observed history an item needs before the rule may fire for it.',
    example: '1d',
    value: { kind: 'duration', zero: true },
    default: '3d',
    types: ['runs_out'],
  },
};

export const INHIBIT_KEYS: KeyTable = {
  when: {
    description: 'Rule name glob: while an alert of a matching rule fires (not pending, not silenced)…',
    example: 'out-of-stock',
    value: { kind: 'text' },
    required: true,
  },
  suppress: {
    description: '…alerts of the rules matching these globs that share `same` with it are inhibited: shown, not notified.',
    example: ['low-available'],
    value: { kind: 'texts' },
    required: true,
  },
  same: {
    description: 'What the two alerts must share: the item (warehouse and product), the product, or the warehouse.',
    example: 'item',
    value: { kind: 'choice', values: INHIBIT_SAMES },
    required: true,
    hint: ` (one of ${INHIBIT_SAMES.join(', ')})`,
  },
};

export const SILENCE_KEYS: KeyTable = {
  where: { description: 'Which items the silence covers (same keys as a rule\'s where).', example: { sku: 'TEST-*' }, value: WHERE },
  rule: { description: 'Only this rule\'s alerts; without it, every rule\'s.', example: 'low-available', value: { kind: 'text' } },
  until: {
    description: 'When the silence ends: a date and time with a timezone.',
    example: '2026-12-31T00:00:00Z',
    value: { kind: 'timestamp' },
    required: true,
    hint: ' (when the silence ends, e.g. 2026-12-31T00:00:00Z)',
  },
  reason: { description: 'Why, for the people reading the file.', example: 'test SKUs are never restocked', value: { kind: 'text' } },
};

export const TOP_LEVEL_KEYS: KeyTable = {
  channels: {
    description: 'Where notices go: channel names (letters, digits, "-", "_") mapped to slack, email or webhook settings.',
    example: { ops: { email: { to: ['ops@example.com'] } } },
    value: { kind: 'named', of: CHANNEL },
  },
  defaults: {
    description: 'Applies to every rule that does not set the key itself; given once, in one file.',
    example: { channels: ['ops'], severity: 'warning' },
    value: { kind: 'map', keys: DEFAULTS_KEYS },
  },
  rules: {
    description: 'The rules: each fires one alert per item (or product, or warehouse) it matches.',
    example: [{ name: 'low-available', type: 'low_available', below: 10 }],
    value: { kind: 'list', of: { kind: 'map', keys: RULE_KEYS, rule: true } },
  },
  inhibit: {
    description: 'While an alert of one rule fires, alerts of other rules for the same item, product or warehouse are not notified.',
    example: [{ when: 'out-of-stock', suppress: ['low-available'], same: 'item' }],
    value: { kind: 'list', of: { kind: 'map', keys: INHIBIT_KEYS } },
  },
  silences: {
    description: 'Stop notices until a moment: for some items (where), one rule (rule), or both.',
    example: [{ where: { sku: 'TEST-*' }, until: '2026-12-31T00:00:00Z' }],
    value: { kind: 'list', of: { kind: 'map', keys: SILENCE_KEYS, atLeastOneOf: ['where', 'rule'] } },
  },
};

/** The keys of a table, in the order they are written. */
export function keysOf(table: KeyTable): string[] {
  return Object.keys(table);
}

/** Rule keys that only some types take, with those types. */
export function typeSpecificKeys(): Array<[string, readonly RuleType[]]> {
  return Object.entries(RULE_KEYS).flatMap(([key, def]) => (def.types ? [[key, def.types] as [string, readonly RuleType[]]] : []));
}

/** Rule keys the given type must have, with their hints. */
export function requiredKeysFor(type: RuleType): Array<[string, string]> {
  return Object.entries(RULE_KEYS).flatMap(([key, def]) => (def.requiredFor?.includes(type) ? [[key, def.hint ?? ''] as [string, string]] : []));
}
