// All files' drafts -> one RuleSet: names unique across files, references resolved, defaults applied.
import type { Channel, Inhibit, InhibitSame, Rule, RuleError, RuleSet, Severity, Silence, SourcePos } from '../model';
import { parseDuration } from '../duration';
import { compileGlobs } from '../engine/glob';
import { RULE_KEYS, type Key } from './format';
import { didYouMean } from './suggest';
import type { DefaultsDraft, FileDraft, InhibitDraft, Ref, RuleDraft } from './validate';

// The defaults are the ones the format tables (and so the editors' schema) state.
export const DEFAULT_SEVERITY = RULE_KEYS.severity.default as Severity;
export const DEFAULT_REPEAT_EVERY_MS = defaultDurationMs(RULE_KEYS.repeat_every);
export const DEFAULT_SEND_RESOLVED = RULE_KEYS.send_resolved.default as boolean;
export const DEFAULT_RATE_HALF_LIFE_MS = defaultDurationMs(RULE_KEYS.rate_half_life);
export const DEFAULT_MIN_HISTORY_MS = defaultDurationMs(RULE_KEYS.min_history);

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
      for (const inhibit of draft.inhibit) checkInhibit(inhibit, ruleDrafts, writtenRuleNames, report);
    }
    checkInhibitCycles(files.flatMap(({ draft }) => draft.inhibit), ruleDrafts, report);
  }

  if (errors.length > 0 || !complete) return undefined;

  // No problem anywhere: every draft is complete, so the assertions below only guard against bugs.
  const channelRecord: Record<string, Channel> = Object.create(null);
  for (const [name, { channel }] of channels) channelRecord[name] = required(channel, 'channel settings');
  return {
    channels: channelRecord,
    defaultChannels: (defaults?.channels ?? []).map((ref) => ref.name),
    rules: ruleDrafts.map((draft) => toRule(draft, defaults)),
    inhibit: files.flatMap(({ draft }) =>
      draft.inhibit.map(
        (i): Inhibit => ({
          when: required(i.when, 'inhibit when').name,
          suppress: required(i.suppress, 'inhibit suppress').map((ref) => ref.name),
          same: required(i.same, 'inhibit same'),
          pos: i.at,
        }),
      ),
    ),
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
    forMs: d.forMs ?? 0,
    keepFiringForMs: d.keepFiringForMs ?? 0,
    scope: d.scope ?? 'item',
    ...(d.where && { where: d.where }),
    ...(d.summary !== undefined && { summary: d.summary }),
    ...(type === 'low_available' && {
      below: required(d.below, 'below'),
      countIncoming: d.countIncoming ?? false,
      ...(d.clearAt !== undefined && { clearAt: d.clearAt }),
    }),
    ...((type === 'stale' || type === 'stale_warehouse') && { olderThanMs: required(d.olderThanMs, 'older_than') }),
    // Every runs_out rule carries its forecast settings, so that the engine never has to guess a default.
    ...(type === 'runs_out' && {
      withinMs: required(d.withinMs, 'within'),
      rateHalfLifeMs: d.rateHalfLifeMs ?? DEFAULT_RATE_HALF_LIFE_MS,
      minHistoryMs: d.minHistoryMs ?? DEFAULT_MIN_HISTORY_MS,
    }),
    pos: d.at,
  };
}

// ---- inhibit ------------------------------------------------------------------------------------

/** What an alert of a rule is keyed by besides the rule: a warehouse, a product, or both (an item). */
interface Identity {
  warehouse: boolean;
  product: boolean;
  /** How the rule fires, for messages. */
  fires: string;
}

function identityOf(rule: RuleDraft): Identity | undefined {
  if (rule.type === undefined) return undefined;
  if (rule.type === 'stale_warehouse') return { warehouse: true, product: false, fires: 'one alert per warehouse' };
  if (rule.scope === 'network') return { warehouse: false, product: true, fires: 'one alert per product (scope: network)' };
  return { warehouse: true, product: true, fires: 'one alert per item' };
}

const SAME_NEEDS: Record<InhibitSame, { warehouse: boolean; product: boolean; what: string }> = {
  item: { warehouse: true, product: true, what: 'an item' },
  product: { warehouse: false, product: true, what: 'a product' },
  warehouse: { warehouse: true, product: false, what: 'a warehouse' },
};

/**
 * `when` and every `suppress` glob must match some rule (as written anywhere, like a silence's `rule`);
 * and `same` must be something the matched rules' alerts have: a stale_warehouse alert has no product,
 * a network alert no warehouse, so "same: item" with them could never inhibit anything.
 */
function checkInhibit(
  inhibit: InhibitDraft,
  rules: RuleDraft[],
  writtenRuleNames: Set<string>,
  report: (at: SourcePos, path: string, message: string) => void,
): void {
  const globs = [...(inhibit.when ? [inhibit.when] : []), ...(inhibit.suppress ?? [])];
  for (const ref of globs) {
    const matcher = compileGlobs([ref.name]);
    const matched = rules.filter((rule) => rule.name !== undefined && matcher.test(rule.name));
    if (matched.length === 0) {
      const isGlob = ref.name.includes('*') || ref.name.includes('?');
      report(ref.at, ref.path, `${isGlob ? 'no rule name matches' : 'no rule named'} ${ref.shown}${didYouMean(ref.name, writtenRuleNames)}`);
      continue;
    }
    if (inhibit.same === undefined) continue;
    const needs = SAME_NEEDS[inhibit.same];
    const identities = matched.map(identityOf).filter((id): id is Identity => id !== undefined);
    // A glob over several kinds of rules is fine as long as one of them can share `same`.
    if (identities.length === 0 || identities.some((id) => sameFits(inhibit.same!, id))) continue;
    const first = matched.find((rule) => identityOf(rule) !== undefined)!;
    const identity = identityOf(first)!;
    const shownRule = first.nameShown ?? `"${first.name}"`;
    const better = (Object.keys(SAME_NEEDS) as InhibitSame[]).find((same) => sameFits(same, identity));
    report(
      ref.at,
      ref.path,
      `same: ${inhibit.same} can never hold: rule ${shownRule} fires ${identity.fires}, never for ${needs.what}` +
        (better ? ` (same: ${better} can)` : ''),
    );
  }
}

/**
 * Rules that inhibit each other, directly or round a cycle: an inhibited alert still fires, so it
 * still inhibits, and while they fire together none of them is ever notified. Only inhibitions
 * that can hold count (`same` is something both rules' alerts have). A rule over its own alerts is
 * a cycle too when several of them can share `same` (`same: warehouse` for an item rule: two low
 * items in one warehouse silence each other); with `same: item` an alert never inhibits itself.
 * Reported once per knot of rules, at the last inhibition in it; linear in the inhibitions' pairs.
 */
function checkInhibitCycles(inhibits: InhibitDraft[], rules: RuleDraft[], report: (at: SourcePos, path: string, message: string) => void): void {
  const identities = new Map<string, Identity>();
  for (const rule of rules) {
    const id = identityOf(rule);
    if (rule.name !== undefined && id !== undefined && !identities.has(rule.name)) identities.set(rule.name, id);
  }
  const names = [...identities.keys()];
  const matching = (refs: Ref[]): string[] => {
    const matcher = compileGlobs(refs.map((ref) => ref.name));
    return names.filter((name) => matcher.test(name));
  };
  /** rule -> the rules its alerts can inhibit, with the last inhibition that says so. */
  const edges = new Map<string, Map<string, InhibitDraft>>();
  const order = new Map<InhibitDraft, number>(inhibits.map((inhibit, i) => [inhibit, i]));
  const selfKnots: Array<{ rule: string; inhibit: InhibitDraft }> = [];
  for (const inhibit of inhibits) {
    const same = inhibit.same;
    if (inhibit.when === undefined || inhibit.suppress === undefined || same === undefined) continue;
    const targets = matching(inhibit.suppress).filter((to) => sameFits(same, identities.get(to)!));
    for (const from of matching([inhibit.when])) {
      const id = identities.get(from)!;
      if (!sameFits(same, id)) continue;
      for (const to of targets) {
        if (from === to) {
          // An item rule's alerts across a warehouse or a product: two of them inhibit each other.
          if (id.warehouse && id.product && same !== 'item') selfKnots.push({ rule: from, inhibit });
          continue;
        }
        if (!edges.has(from)) edges.set(from, new Map());
        edges.get(from)!.set(to, inhibit);
      }
    }
  }
  for (const { rule, inhibit } of selfKnots) {
    report(inhibit.at, inhibit.path, `rule "${rule}" inhibits its own alerts that share a ${inhibit.same}: two of them firing together silence each other; use same: item, or suppress another rule`);
  }
  for (const knot of stronglyConnected(names, edges)) {
    if (knot.length < 2) continue;
    const members = new Set(knot);
    const inside: InhibitDraft[] = [];
    for (const from of knot) for (const [to, inhibit] of edges.get(from) ?? []) if (members.has(to)) inside.push(inhibit);
    const used = [...new Set(inside)].sort((x, y) => order.get(x)! - order.get(y)!);
    const last = used[used.length - 1];
    const others = used.slice(0, -1).map((i) => `${i.path} at ${where(i.at)}`);
    const also = others.length === 0 ? '' : ` (with ${others.join(', ')})`;
    const shown = knot.length > 6 ? `${knot.slice(0, 6).map((n) => `"${n}"`).join(', ')} and ${knot.length - 6} more` : knot.map((n) => `"${n}"`).join(', ');
    report(last.at, last.path, `rules ${shown} inhibit each other${also}: while they fire together none of them is notified; drop one direction`);
  }
}

/** Tarjan's strongly connected components of the rules under `edges`, each in name order. */
function stronglyConnected(names: string[], edges: Map<string, Map<string, InhibitDraft>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of names) if (!index.has(v)) visit(v);
  return components;
}

function sameFits(same: InhibitSame, id: Identity): boolean {
  const needs = SAME_NEEDS[same];
  return (!needs.warehouse || id.warehouse) && (!needs.product || id.product);
}

function defaultDurationMs(key: Key): number {
  const ms = parseDuration(String(key.default));
  if (ms === null) throw new Error(`rule format bug: the default of a duration key is not a duration`);
  return ms;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`rule loader bug: ${what} missing from a rule set that passed validation`);
  return value;
}

function where(at: SourcePos): string {
  return `${at.file}:${at.line}:${at.col}`;
}
