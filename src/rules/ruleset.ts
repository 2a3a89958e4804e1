// All files' drafts -> one RuleSet: names unique across files, references resolved, defaults applied.
import type { Channel, Rule, RuleError, RuleSet, Silence, SourcePos } from '../model';
import { didYouMean } from './suggest';
import type { DefaultsDraft, FileDraft, Ref, RuleDraft } from './validate';

export const DEFAULT_SEVERITY = 'warning';
export const DEFAULT_REPEAT_EVERY_MS = 24 * 3_600_000;
export const DEFAULT_SEND_RESOLVED = true;

export interface DraftFile {
  /** As given to the loader (relative to the rules folder). */
  name: string;
  draft: FileDraft;
}

/**
 * Cross-file checks, then the rule set when no file had any problem. `complete` is false when some
 * file could not be parsed: what it defines is unknown, so references are not checked (a channel
 * "missing" because its file has a syntax error is not a second problem).
 */
export function buildRuleSet(files: DraftFile[], complete: boolean, errors: RuleError[]): RuleSet | undefined {
  const report = (at: SourcePos, path: string, message: string): void => {
    errors.push({ ...at, message: `${path}: ${message}` });
  };

  const channels = new Map<string, { channel?: Channel; at: SourcePos }>();
  let defaults: DefaultsDraft | undefined;
  const rules = new Map<string, RuleDraft>();
  const ruleDrafts: RuleDraft[] = [];
  const writtenRuleNames = new Set<string>();

  for (const { draft } of files) {
    for (const c of draft.channels) {
      const first = channels.get(c.name);
      if (first) report(c.at, c.path, `channel "${c.name}" is already defined at ${where(first.at)}`);
      else channels.set(c.name, c);
    }
    if (draft.defaults) {
      if (defaults) report(draft.defaults.at, 'defaults', `already given at ${where(defaults.at)}; keep one defaults section`);
      else defaults = draft.defaults;
    }
    for (const rule of draft.rules) {
      ruleDrafts.push(rule);
      if (rule.name === undefined) continue;
      writtenRuleNames.add(rule.name);
      if (!rule.nameValid) continue;
      const first = rules.get(rule.name);
      if (first) report(rule.nameAt, `${rule.path}.name`, `duplicate rule name ${rule.nameShown ?? `"${rule.name}"`} (first defined at ${where(first.nameAt)})`);
      else rules.set(rule.name, rule);
    }
  }

  if (complete) {
    const checkChannel = (ref: Ref): void => {
      if (!channels.has(ref.name)) {
        report(ref.at, ref.path, `unknown channel ${ref.shown}${didYouMean(ref.name, channels.keys())}; channels are defined under "channels:"`);
      }
    };
    defaults?.channels?.forEach(checkChannel);
    const defaultsHaveChannels = (defaults?.channels?.length ?? 0) > 0 || defaults?.channelsBroken === true;
    for (const rule of ruleDrafts) {
      rule.channels?.forEach(checkChannel);
      if (rule.channels === undefined && !rule.channelsBroken && !defaultsHaveChannels) {
        report(rule.at, rule.path, 'no channels to notify: give the rule "channels: [...]" or set "channels" under defaults');
      }
    }
    for (const { draft } of files) {
      for (const silence of draft.silences) {
        const ref = silence.rule;
        if (ref && !writtenRuleNames.has(ref.name)) report(ref.at, ref.path, `no rule named ${ref.shown}${didYouMean(ref.name, writtenRuleNames)}`);
      }
    }
  }

  if (errors.length > 0 || !complete) return undefined;

  // No problem anywhere: every draft is complete, so the assertions below only guard against bugs.
  const channelRecord: Record<string, Channel> = Object.create(null);
  for (const [name, { channel }] of channels) channelRecord[name] = required(channel, 'channel settings');
  return {
    channels: channelRecord,
    defaultChannels: (defaults?.channels ?? []).map((ref) => ref.name),
    rules: ruleDrafts.map((draft) => toRule(draft, defaults)),
    inhibit: [],
    silences: files.flatMap(({ draft }) =>
      draft.silences.map((s): Silence => {
        const until = required(s.until, 'silence until');
        return {
          ...(s.where && { where: s.where }),
          ...(s.rule && { rule: s.rule.name }),
          untilMs: until.ms,
          until: until.iso,
          ...(s.reason !== undefined && { reason: s.reason }),
          pos: s.at,
        };
      }),
    ),
    files: files.map((f) => f.name),
  };
}

function toRule(d: RuleDraft, defaults: DefaultsDraft | undefined): Rule {
  const type = required(d.type, 'rule type');
  return {
    name: required(d.name, 'rule name'),
    type,
    severity: d.severity ?? defaults?.severity ?? DEFAULT_SEVERITY,
    channels: (d.channels ?? defaults?.channels ?? []).map((ref) => ref.name),
    repeatEveryMs: d.repeatEveryMs !== undefined ? d.repeatEveryMs : defaults?.repeatEveryMs !== undefined ? defaults.repeatEveryMs : DEFAULT_REPEAT_EVERY_MS,
    sendResolved: d.sendResolved ?? defaults?.sendResolved ?? DEFAULT_SEND_RESOLVED,
    forMs: 0,
    keepFiringForMs: 0,
    scope: 'item',
    ...(d.where && { where: d.where }),
    ...(d.summary !== undefined && { summary: d.summary }),
    ...(type === 'low_available' && { below: required(d.below, 'below'), countIncoming: d.countIncoming ?? false }),
    ...(type === 'stale' && { olderThanMs: required(d.olderThanMs, 'older_than') }),
    pos: d.at,
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`rule loader bug: ${what} missing from a rule set that passed validation`);
  return value;
}

function where(at: SourcePos): string {
  return `${at.file}:${at.line}:${at.col}`;
}
