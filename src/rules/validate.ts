// One rule file's sections -> drafts. Everything that can be judged from the file alone is checked
// here; what needs all files (references, duplicates, defaults) is checked in ruleset.ts.
import { isMap, isScalar, type Document, type Pair } from 'yaml';
import { RULE_TYPES, SEVERITIES, type Channel, type EmailChannel, type InhibitSame, type RuleType, type Scope, type Severity, type SourcePos, type Where } from '../model';
import { validateCron, validateTimezone } from './cron';
import {
  CHANNEL_KEYS,
  DEFAULTS_KEYS,
  EMAIL_KEYS,
  INHIBIT_KEYS,
  INHIBIT_SAMES,
  NAME,
  NAME_RULE,
  RULE_KEYS,
  SCOPES,
  SILENCE_KEYS,
  SLACK_KEYS,
  TOP_LEVEL_KEYS,
  WEBHOOK_KEYS,
  WHERE_KEYS,
  keysOf,
  requiredKeysFor,
  typeSpecificKeys,
  type KeyTable,
} from './format';
import { FileReader, keyText, kindOf, shown, truncate, type KeyedMap, type Node, type Text } from './reader';
import { checkSummary } from './summary';

/** A name written somewhere that must match a channel or rule defined somewhere (maybe another file). */
export interface Ref {
  name: string;
  /** The name for messages: quoted, or only its variable when it came from the environment. */
  shown: string;
  at: SourcePos;
  /** Where it was written, for messages, e.g. `rules[2].channels`. */
  path: string;
}

export interface ChannelDraft {
  name: string;
  /** Absent when its settings had problems (reported); the name still counts as defined. */
  channel?: Channel;
  path: string;
  /** The channel's key under `channels:`. */
  at: SourcePos;
}

export interface DefaultsDraft {
  at: SourcePos;
  channels?: Ref[];
  /** `channels` was given but could not be read, or misspelt (`channel:`; already reported): rules relying on it are not blamed. */
  channelsBroken: boolean;
  severity?: Severity;
  repeatEveryMs?: number | null;
  sendResolved?: boolean;
}

export interface RuleDraft {
  path: string;
  /** The name as written (even an invalid one, so that silences naming it are not blamed too). */
  name?: string;
  nameShown?: string;
  nameValid: boolean;
  nameAt: SourcePos;
  at: SourcePos;
  type?: RuleType;
  severity?: Severity;
  repeatEveryMs?: number | null;
  sendResolved?: boolean;
  where?: Where;
  summary?: string;
  forMs?: number;
  keepFiringForMs?: number;
  scope?: Scope;
  below?: number;
  countIncoming?: boolean;
  clearAt?: number;
  olderThanMs?: number;
  withinMs?: number;
  rateHalfLifeMs?: number;
  minHistoryMs?: number;
  channels?: Ref[];
  channelsBroken: boolean;
}

export interface InhibitDraft {
  path: string;
  at: SourcePos;
  /** A glob over rule names. */
  when?: Ref;
  /** Globs over rule names. */
  suppress?: Ref[];
  same?: InhibitSame;
  /** Where `same` was written (its value), for problems about what the rules can share. */
  sameAt?: SourcePos;
}

export interface SilenceDraft {
  path: string;
  at: SourcePos;
  where?: Where;
  rule?: Ref;
  until?: { iso: string; ms: number };
  reason?: string;
}

export interface FileDraft {
  channels: ChannelDraft[];
  defaults?: DefaultsDraft;
  rules: RuleDraft[];
  inhibit: InhibitDraft[];
  silences: SilenceDraft[];
}

// The key lists come from format.ts, the same tables `stockwatch schema` is built from.
const TOP_LEVEL = keysOf(TOP_LEVEL_KEYS);
const RULE_KEY_NAMES = keysOf(RULE_KEYS);
const WHERE_KEY_NAMES = keysOf(WHERE_KEYS) as Array<keyof Where>;
const CHANNEL_KINDS = keysOf(CHANNEL_KEYS);

export function readRuleFile(r: FileReader, doc: Document.Parsed): FileDraft {
  const draft: FileDraft = { channels: [], rules: [], inhibit: [], silences: [] };
  const contents: Node = doc.contents;
  // An empty file (or one holding only comments) contributes nothing.
  if (contents === null || (isScalar(contents) && contents.value === null)) return draft;
  if (!isMap(contents)) {
    r.errorAt(contents, '', `expected a map with ${orList(TOP_LEVEL, 'and/or')} at the top level, got ${kindOf(contents)}`);
    return draft;
  }
  const top = r.map(contents, '', 'a map', TOP_LEVEL);
  if (!top) return draft;
  for (const [section, pair] of top.pairs) {
    // `rules:` with nothing under it is an empty section, as while one is being written.
    if (isEmptyValue(r, pair.value)) continue;
    if (section === 'channels') readChannels(r, pair, draft);
    else if (section === 'defaults') draft.defaults = readDefaults(r, pair);
    else if (section === 'rules') readRules(r, pair, draft);
    else if (section === 'inhibit') readInhibits(r, pair, draft);
    else readSilences(r, pair, draft);
  }
  return draft;
}

// ---- channels -----------------------------------------------------------------------------------

function readChannels(r: FileReader, section: Pair, draft: FileDraft): void {
  const value = r.deref(section.value);
  if (!isMap(value)) {
    r.errorAt(value, 'channels', `expected a map of channel names to their settings, got ${kindOf(value)}`, section.key);
    return;
  }
  for (const pair of value.items) {
    const key = r.deref(pair.key);
    const name = keyText(key);
    if (name === undefined) {
      r.errorAt(key, 'channels', `expected a channel name, got ${kindOf(key)}`);
      continue;
    }
    const path = `channels.${truncate(name)}`;
    // A bad name is reported but still counts as defined, so that rules naming it are not blamed too.
    if (!NAME.test(name)) r.errorAt(key, path, `channel name: ${NAME_RULE}`);
    draft.channels.push({ name, channel: readChannel(r, name, pair, path), path, at: r.pos(key) });
  }
}

function readChannel(r: FileReader, name: string, pair: Pair, path: string): Channel | undefined {
  const m = r.map(pair.value, path, `channel settings (${CHANNEL_KINDS.map((k) => `${k}:`).join(', ')})`, CHANNEL_KINDS, pair.key);
  if (!m) return undefined;
  const given = CHANNEL_KINDS.filter((kind) => m.pairs.has(kind));
  if (given.length > 1) {
    r.errorAt(m.pairs.get(given[1])!.key, path, `a channel is either ${orList(CHANNEL_KINDS, 'or')}, not ${given.join(' and ')}; make one channel for each`);
    return undefined;
  }
  const slack = m.pairs.get('slack');
  const email = m.pairs.get('email');
  const webhook = m.pairs.get('webhook');
  if (slack) return readSlack(r, name, slack, `${path}.slack`);
  if (email) return readEmail(r, name, email, `${path}.email`);
  if (webhook) return readWebhook(r, name, webhook, `${path}.webhook`);
  if (!CHANNEL_KINDS.some((kind) => r.misspeltAs(m, kind))) {
    r.errorAt(m.at, path, `missing ${orList(CHANNEL_KINDS.map((k) => `"${k}"`), 'or')}: say how this channel is reached`);
  }
  return undefined;
}

function readSlack(r: FileReader, name: string, pair: Pair, path: string): Channel | undefined {
  const m = r.map(pair.value, path, 'slack settings (webhook_url)', keysOf(SLACK_KEYS), pair.key);
  if (!m || !r.require(m, 'webhook_url')) return undefined;
  const url = readUrl(r, m, 'webhook_url');
  return url === undefined ? undefined : { name, kind: 'slack', webhookUrl: url };
}

function readWebhook(r: FileReader, name: string, pair: Pair, path: string): Channel | undefined {
  const m = r.map(pair.value, path, `webhook settings (${keysOf(WEBHOOK_KEYS).join(', ')})`, keysOf(WEBHOOK_KEYS), pair.key);
  if (!m) return undefined;
  const hasUrl = r.require(m, 'url');
  const url = hasUrl ? readUrl(r, m, 'url') : undefined;
  const secretPair = m.pairs.get('secret');
  let secret: string | undefined;
  let secretOk = true;
  if (secretPair) {
    const t = r.text(secretPair.value, `${path}.secret`, 'a secret', secretPair.key);
    // Never echoed: a secret written in the file is as secret as one from the environment.
    if (t && t.text === '') r.errorAt(t.node, `${path}.secret`, 'empty; leave "secret" out to send unsigned bodies');
    else if (t) secret = t.text;
    secretOk = secret !== undefined;
  }
  if (url === undefined || !secretOk) return undefined;
  return { name, kind: 'webhook', url, ...(secret !== undefined && { secret }) };
}

/** An http(s) URL. The whole URL may be a secret (Slack's are): say what is wrong, never what it is. */
function readUrl(r: FileReader, m: KeyedMap, key: string): string | undefined {
  const pair = m.pairs.get(key)!;
  const url = r.text(pair.value, `${m.path}.${key}`, 'a URL', pair.key);
  if (!url) return undefined;
  if (!isHttpUrl(url.text)) {
    r.errorAt(url.node, `${m.path}.${key}`, 'not an http(s) URL');
    return undefined;
  }
  return url.text;
}

function readEmail(r: FileReader, name: string, pair: Pair, path: string): Channel | undefined {
  const m = r.map(pair.value, path, `email settings (${keysOf(EMAIL_KEYS).join(', ')})`, keysOf(EMAIL_KEYS), pair.key);
  if (!m) return undefined;
  let ok = r.require(m, 'to');
  const channel: EmailChannel = { name, kind: 'email', to: [], timezone: 'UTC', sendEmpty: false };

  const to = m.pairs.get('to');
  if (to) {
    const texts = r.textList(to.value, `${path}.to`, 'an email address', to.key, true);
    if (!texts) ok = false;
    for (const t of texts ?? []) {
      // `a@x, b@y` in one string (handy from an environment variable) is a list too.
      for (const part of t.text.split(',').map((s) => s.trim())) {
        if (isEmailAddress(part)) channel.to.push(part);
        else {
          const got = t.fromEnv.length > 0 ? shown(t) : `"${truncate(part)}"`;
          r.errorAt(t.node, `${path}.to`, `not an email address: ${got}`);
          ok = false;
        }
      }
    }
  }

  const timezone = m.pairs.get('timezone');
  let zoneOk = true;
  if (timezone) {
    const t = r.text(timezone.value, `${path}.timezone`, 'an IANA time zone', timezone.key);
    const problem = t && validateTimezone(t.text, t.fromEnv.length > 0 ? shown(t) : undefined);
    if (t && !problem) channel.timezone = t.text;
    else {
      if (t && problem) r.errorAt(t.node, `${path}.timezone`, problem);
      ok = zoneOk = false;
    }
  }

  const digest = m.pairs.get('digest');
  if (digest) {
    const t = r.text(digest.value, `${path}.digest`, 'a cron expression', digest.key);
    // With a bad zone, check the expression alone rather than reporting the zone twice.
    const problem = t && validateCron(t.text, zoneOk ? channel.timezone : undefined);
    if (t && !problem) channel.digest = t.text.trim();
    else {
      if (t && problem) {
        r.errorAt(t.node, `${path}.digest`, t.fromEnv.length > 0 ? `${shown(t)} is not a valid 5- or 6-field cron expression` : problem);
      }
      ok = false;
    }
  }

  const sendEmpty = m.pairs.get('send_empty');
  if (sendEmpty) {
    if (!digest) {
      r.errorAt(sendEmpty.key, `${path}.send_empty`, 'only applies to digest channels; add `digest: <cron>` or remove it');
      ok = false;
    } else {
      const value = r.boolean(sendEmpty.value, `${path}.send_empty`, sendEmpty.key);
      if (value === undefined) ok = false;
      else channel.sendEmpty = value;
    }
  }
  return ok ? channel : undefined;
}

// ---- defaults -----------------------------------------------------------------------------------

function readDefaults(r: FileReader, section: Pair): DefaultsDraft | undefined {
  const m = r.map(section.value, 'defaults', `a map of defaults (${keysOf(DEFAULTS_KEYS).join(', ')})`, keysOf(DEFAULTS_KEYS), section.key);
  if (!m) return undefined;
  const draft: DefaultsDraft = { at: r.pos(section.key), channelsBroken: false };
  const channels = m.pairs.get('channels');
  if (channels) {
    draft.channels = readChannelRefs(r, channels, 'defaults.channels');
    draft.channelsBroken = draft.channels === undefined;
  } else draft.channelsBroken = r.misspeltAs(m, 'channels');
  readSharedSettings(r, m, draft);
  return draft;
}

/** severity, repeat_every and send_resolved: the keys both `defaults` and rules take. */
function readSharedSettings(r: FileReader, m: KeyedMap, into: { severity?: Severity; repeatEveryMs?: number | null; sendResolved?: boolean }): void {
  const severity = m.pairs.get('severity');
  if (severity) into.severity = r.oneOf(severity.value, `${m.path}.severity`, 'severity', SEVERITIES, severity.key);
  if (m.pairs.has('repeat_every')) into.repeatEveryMs = readDuration(r, m, DEFAULTS_KEYS, 'repeat_every');
  const resolved = m.pairs.get('send_resolved');
  if (resolved) into.sendResolved = r.boolean(resolved.value, `${m.path}.send_resolved`, resolved.key);
}

/** A duration key read as its table entry says (whether `never` and `0s` are allowed); null for `never`. */
function readDuration(r: FileReader, m: KeyedMap, table: KeyTable, key: string): number | null | undefined {
  const pair = m.pairs.get(key);
  const value = table[key].value;
  if (!pair) return undefined;
  if (value.kind !== 'duration') throw new Error(`rule format bug: ${key} is not a duration`);
  return r.duration(pair.value, `${m.path}.${key}`, { never: value.never === true, zero: value.zero === true }, pair.key);
}

/** A whole-number key, at least the table's minimum. */
function readInteger(r: FileReader, m: KeyedMap, table: KeyTable, key: string): number | undefined {
  const pair = m.pairs.get(key);
  const value = table[key].value;
  if (!pair) return undefined;
  if (value.kind !== 'integer') throw new Error(`rule format bug: ${key} is not an integer`);
  const n = r.integer(pair.value, `${m.path}.${key}`, pair.key);
  if (n === undefined || n >= value.minimum) return n;
  r.errorAt(pair.value, `${m.path}.${key}`, `must be ${value.minimum} or more, got ${n}`, pair.key);
  return undefined;
}

function readChannelRefs(r: FileReader, pair: Pair, path: string): Ref[] | undefined {
  const texts = r.textList(pair.value, path, 'a channel name', pair.key);
  if (!texts) return undefined;
  const refs: Ref[] = [];
  for (const t of texts) {
    if (refs.some((ref) => ref.name === t.text)) continue; // listed twice: still one notice
    refs.push({ name: t.text, shown: shown(t), at: r.pos(t.node), path });
  }
  return refs;
}

// ---- rules --------------------------------------------------------------------------------------

function readRules(r: FileReader, section: Pair, draft: FileDraft): void {
  const items = r.list(section.value, 'rules', 'a list of rules (each starting with "- name: ...")', section.key);
  items?.forEach((item, i) => {
    const rule = readRule(r, item, `rules[${i}]`);
    if (rule) draft.rules.push(rule);
  });
}

function readRule(r: FileReader, node: Node, path: string): RuleDraft | undefined {
  const m = r.map(node, path, 'a rule (a map with name, type, ...)', RULE_KEY_NAMES);
  if (!m) return undefined;
  const at = r.pos(m.map);
  const draft: RuleDraft = { path, nameValid: false, nameAt: at, at, channelsBroken: false };

  const name = m.pairs.get('name');
  if (r.require(m, 'name') && name) {
    const t = r.text(name.value, `${path}.name`, 'a rule name', name.key);
    if (t) {
      draft.name = t.text;
      draft.nameShown = shown(t);
      draft.nameAt = r.pos(t.node);
      draft.nameValid = NAME.test(t.text);
      if (!draft.nameValid) r.errorAt(t.node, `${path}.name`, `${shown(t)}: ${NAME_RULE}`);
    }
  }

  const type = m.pairs.get('type');
  if (r.require(m, 'type', RULE_KEYS.type.hint) && type) {
    draft.type = r.oneOf(type.value, `${path}.type`, 'rule type', RULE_TYPES, type.key);
  }
  if (draft.type) checkTypeKeys(r, m, draft.type);

  readSharedSettings(r, m, draft);
  const channels = m.pairs.get('channels');
  if (channels) {
    draft.channels = readChannelRefs(r, channels, `${path}.channels`);
    draft.channelsBroken = draft.channels === undefined;
  } else draft.channelsBroken = r.misspeltAs(m, 'channels');
  const where = m.pairs.get('where');
  if (where) draft.where = readWhere(r, where, `${path}.where`);
  const summary = m.pairs.get('summary');
  if (summary) draft.summary = readSummary(r, summary, `${path}.summary`);

  draft.forMs = readDuration(r, m, RULE_KEYS, 'for') ?? undefined;
  draft.keepFiringForMs = readDuration(r, m, RULE_KEYS, 'keep_firing_for') ?? undefined;
  const scope = m.pairs.get('scope');
  if (scope) draft.scope = r.oneOf(scope.value, `${path}.scope`, 'scope', SCOPES, scope.key);

  draft.below = readInteger(r, m, RULE_KEYS, 'below');
  const countIncoming = m.pairs.get('count_incoming');
  if (countIncoming) draft.countIncoming = r.boolean(countIncoming.value, `${path}.count_incoming`, countIncoming.key);
  draft.clearAt = readInteger(r, m, RULE_KEYS, 'clear_at');
  if (draft.clearAt !== undefined && draft.below !== undefined && draft.clearAt < draft.below) {
    // Below `below` the alert would resolve while its condition still holds.
    r.errorAt(m.pairs.get('clear_at')!.value, `${path}.clear_at`, `must be at least below (${draft.below}), got ${draft.clearAt}`);
    draft.clearAt = undefined;
  }
  draft.olderThanMs = readDuration(r, m, RULE_KEYS, 'older_than') ?? undefined;
  draft.withinMs = readDuration(r, m, RULE_KEYS, 'within') ?? undefined;
  draft.rateHalfLifeMs = readDuration(r, m, RULE_KEYS, 'rate_half_life') ?? undefined;
  draft.minHistoryMs = readDuration(r, m, RULE_KEYS, 'min_history') ?? undefined;
  return draft;
}

/** Keys of another rule type are errors; the type's own required keys must be there. */
function checkTypeKeys(r: FileReader, m: KeyedMap, type: RuleType): void {
  for (const [key, types] of typeSpecificKeys()) {
    const pair = m.pairs.get(key);
    if (pair && !types.includes(type)) {
      r.errorAt(pair.key, `${m.path}.${key}`, `only applies to ${orList(types, 'and')} rules, not ${type}`);
    }
  }
  for (const [key, hint] of requiredKeysFor(type)) r.require(m, key, hint);
}

function readSummary(r: FileReader, pair: Pair, path: string): string | undefined {
  const t = r.text(pair.value, path, 'a one-line template', pair.key);
  if (!t) return undefined;
  const check = checkSummary(t.text);
  if (check.ok) return check.template;
  if (t.fromEnv.length > 0) {
    // The problems quote parts of the text; for text from the environment say only where it came from.
    r.errorAt(t.node, path, `${shown(t)} is not a one-line template with known {{field}} placeholders`);
  } else {
    for (const problem of check.problems) r.errorAt(t.node, path, problem);
  }
  return undefined;
}

// ---- where --------------------------------------------------------------------------------------

function readWhere(r: FileReader, pair: Pair, path: string): Where | undefined {
  const m = r.map(pair.value, path, `a map of filters (${WHERE_KEY_NAMES.join(', ')})`, WHERE_KEY_NAMES, pair.key);
  if (!m) return undefined;
  if (m.map.items.length === 0) {
    r.errorAt(m.map, path, `empty; give at least one of ${WHERE_KEY_NAMES.join(', ')}, or leave "where" out`);
    return undefined;
  }
  const where: Where = {};
  let ok = m.pairs.size === m.map.items.length; // unknown keys were reported; do not half-apply a filter
  for (const key of WHERE_KEY_NAMES) {
    const entry = m.pairs.get(key);
    if (!entry) continue;
    const globs = r.textList(entry.value, `${path}.${key}`, 'a glob', entry.key);
    if (globs) where[key] = globs.map((t: Text) => t.text);
    else ok = false;
  }
  return ok ? where : undefined;
}

// ---- inhibit ------------------------------------------------------------------------------------

function readInhibits(r: FileReader, section: Pair, draft: FileDraft): void {
  const items = r.list(section.value, 'inhibit', 'a list of inhibitions (each starting with "- when: ...")', section.key);
  items?.forEach((item, i) => {
    const inhibit = readInhibit(r, item, `inhibit[${i}]`);
    if (inhibit) draft.inhibit.push(inhibit);
  });
}

function readInhibit(r: FileReader, node: Node, path: string): InhibitDraft | undefined {
  const m = r.map(node, path, `an inhibition (a map with ${keysOf(INHIBIT_KEYS).join(', ')})`, keysOf(INHIBIT_KEYS));
  if (!m) return undefined;
  const draft: InhibitDraft = { path, at: r.pos(m.map) };
  const when = m.pairs.get('when');
  if (r.require(m, 'when', ' (a rule name or glob: while its alerts fire, ...)') && when) {
    const t = r.text(when.value, `${path}.when`, 'a rule name or glob', when.key);
    if (t) draft.when = { name: t.text, shown: shown(t), at: r.pos(t.node), path: `${path}.when` };
  }
  const suppress = m.pairs.get('suppress');
  if (r.require(m, 'suppress', ' (the rule names or globs whose alerts are held back)') && suppress) {
    const texts = r.textList(suppress.value, `${path}.suppress`, 'a rule name or glob', suppress.key, true);
    if (texts) draft.suppress = texts.map((t) => ({ name: t.text, shown: shown(t), at: r.pos(t.node), path: `${path}.suppress` }));
  }
  const same = m.pairs.get('same');
  if (r.require(m, 'same', INHIBIT_KEYS.same.hint) && same) {
    draft.same = r.oneOf(same.value, `${path}.same`, '"same" value', INHIBIT_SAMES, same.key);
    draft.sameAt = r.pos(same.value, same.key);
  }
  return draft;
}

// ---- silences -----------------------------------------------------------------------------------

function readSilences(r: FileReader, section: Pair, draft: FileDraft): void {
  const items = r.list(section.value, 'silences', 'a list of silences (each starting with "- until: ...")', section.key);
  items?.forEach((item, i) => {
    const silence = readSilence(r, item, `silences[${i}]`);
    if (silence) draft.silences.push(silence);
  });
}

function readSilence(r: FileReader, node: Node, path: string): SilenceDraft | undefined {
  const m = r.map(node, path, 'a silence (a map with until and where and/or rule)', keysOf(SILENCE_KEYS));
  if (!m) return undefined;
  const draft: SilenceDraft = { path, at: r.pos(m.map) };
  const where = m.pairs.get('where');
  const rule = m.pairs.get('rule');
  if (!where && !rule && !r.misspeltAs(m, 'where') && !r.misspeltAs(m, 'rule')) {
    r.errorAt(m.at, path, 'needs "where", "rule" or both: a silence with neither would silence every alert');
  }
  if (where) draft.where = readWhere(r, where, `${path}.where`);
  if (rule) {
    const t = r.text(rule.value, `${path}.rule`, 'a rule name', rule.key);
    if (t) draft.rule = { name: t.text, shown: shown(t), at: r.pos(t.node), path: `${path}.rule` };
  }
  const until = m.pairs.get('until');
  if (r.require(m, 'until', SILENCE_KEYS.until.hint) && until) {
    const t = r.text(until.value, `${path}.until`, 'a timestamp', until.key);
    if (t) {
      const ms = parseTimestamp(t.text);
      if (ms === undefined) {
        // Written right but naming no moment (2026-02-30, 24:00, +25:00): say that, not how to write one.
        const why = TIMESTAMP.test(t.text.trim()) ? `no such date or time: ${shown(t)}` : `expected a date and time with a timezone, e.g. 2026-12-31T00:00:00Z or 2026-12-31T08:00:00-05:00, got ${shown(t)}`;
        r.errorAt(t.node, `${path}.until`, why);
      } else {
        draft.until = { iso: new Date(ms).toISOString(), ms };
      }
    }
  }
  const reason = m.pairs.get('reason');
  if (reason) draft.reason = r.text(reason.value, `${path}.reason`, 'text', reason.key)?.text;
  return draft;
}

// ---- value checks -------------------------------------------------------------------------------

export const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

/** ms since the epoch of an ISO 8601 date-time that names its timezone (`Z` or an offset); undefined otherwise. */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || '0');
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // setUTCFullYear: years 0-99 are not moved to 19xx
  utc.setUTCHours(hour, minute, second, fraction);
  return utc.getTime() - offsetMinutes * 60_000;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;

/** `ops@example.com` or `Ops Team <ops@example.com>`; deliberately loose: the mail server has the last word. */
export function isEmailAddress(text: string): boolean {
  const named = /^[^<>]*<([^<>]+)>$/.exec(text);
  return ADDRESS.test(named ? named[1].trim() : text);
}

/** `a, b and/or c` */
function orList(words: readonly string[], last: string): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} ${last} ${words[words.length - 1]}`;
}

function isEmptyValue(r: FileReader, value: Node): boolean {
  const v = r.deref(value);
  return v === null || v === undefined || (isScalar(v) && v.value === null);
}
