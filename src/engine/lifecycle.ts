// THE alert lifecycle (SPEC sections 3 and 4), decided here and nowhere else: the state after the
// previous poll + what the rules make of this overview + now -> the state after this poll and the
// events to notify. Pending (`for`), keep-firing (`keep_firing_for`), hysteresis (`clear_at`, via
// the evaluation's `holding` list), silences, inhibition, repeats and resolution all meet here.
// Pure: `nowMs` is an argument, nothing is read or sent. The daemon's poll, `eval`, `replay` and
// the tests call it; digests and the status page only read the state it produces.
import { alertKey, itemKey, type Alert, type InhibitSame, type Item, type Rule } from '../model';
import { silenceChecker, type CompiledInhibit, type CompiledRuleSet, type Evaluation } from './evaluate';
import { AlertState } from './alert-state';
import { sortByAlert } from './sort';
import { toResolved, type ItemNow } from './resolved';

/** What the state keeps per alert between polls. */
export interface AlertRecord {
  /** The alert as last evaluated; `status` is its phase: 'pending' or 'firing'. */
  alert: Alert;
  /** When it started firing; while pending, when its condition started holding. */
  firstSeenMs: number;
  /** When its channels were last told it fires; null while never (pending, silenced or inhibited throughout). */
  lastNotifiedMs: number | null;
  /** keep_firing_for: when its condition stopped holding; absent while it holds. */
  clearedSinceMs?: number;
}

export type EventKind = 'new' | 'repeat' | 'resolved';

export interface AlertEvent {
  kind: EventKind;
  /** status 'resolved' for kind 'resolved', else 'firing'. */
  alert: Alert;
  firstSeenMs: number;
}

export interface LifecycleInput {
  /** The state after the previous poll, by alertKey(). */
  previous: ReadonlyMap<string, AlertRecord>;
  /** What the rules make of this overview (evaluateOverview()). */
  evaluation: Evaluation;
  compiled: CompiledRuleSet;
  nowMs: number;
  /** itemKey()s of items the overview could not read: their alerts stay exactly as they were. */
  heldItems?: ReadonlySet<string>;
  /** false (a suspect overview, an unidentifiable item): nothing that stopped holding is resolved or dropped. */
  resolveAbsent: boolean;
  /**
   * The items now of the alerts that resolve, in their order, for their current levels (and a
   * silence's brand); undefined where one vanished. For a network alert (no warehouse) the rule's
   * sums over its warehouses, as an item. Asked once per poll, and only when something resolves.
   */
  itemsOf?: (alerts: readonly Alert[]) => Array<ItemNow | undefined>;
  /** Rules whose condition was edited since the previous poll: their pending alerts start over. */
  conditionChanged?: ReadonlySet<string>;
}

export interface LifecycleResult {
  /** What to notify, most severe first (muted alerts and send_resolved: false are not here). */
  events: AlertEvent[];
  /** The alert state after this poll. */
  next: AlertState;
  /** Records that are new or differ from their previous version: what to write. */
  changed: AlertRecord[];
  /** Keys to delete from the state. */
  removed: string[];
  /** Every alert pending or firing after this poll, with `silenced` and `inhibited` as they are now. */
  alerts: Alert[];
  /** Every alert that resolved at this poll, notified or not, with `silenced` as it is now. */
  resolved: Alert[];
  /** How many of `alerts` are firing and pending, and the firing ones by rule and severity. */
  counts: AlertCounts;
}

/** Counts of the alerts after a poll (for the poll's report and the metrics). */
export interface AlertCounts {
  firing: number;
  pending: number;
  /** In the order each rule and severity first occurs among the alerts. */
  firingByRule: Array<{ rule: string; severity: string; count: number }>;
}

/**
 * Counts alerts as the lifecycle settles them, while each one is at hand (a pass of its own over
 * 335k scattered alerts cost ~50 ms). Alerts come rule by rule, so the last entry nearly always
 * matches and no key is made per alert.
 */
class Counter {
  readonly counts: AlertCounts = { firing: 0, pending: 0, firingByRule: [] };
  private readonly byRule = new Map<string, Array<{ rule: string; severity: string; count: number }>>();
  private last: { rule: string; severity: string; count: number } | undefined;

  add(alert: Alert): void {
    if (alert.status === 'pending') {
      this.counts.pending++;
      return;
    }
    this.counts.firing++;
    let last = this.last;
    if (last === undefined || last.rule !== alert.rule || last.severity !== alert.severity) {
      let ofRule = this.byRule.get(alert.rule);
      if (ofRule === undefined) this.byRule.set(alert.rule, (ofRule = []));
      last = ofRule.find((e) => e.severity === alert.severity);
      if (last === undefined) {
        last = { rule: alert.rule, severity: alert.severity, count: 0 };
        ofRule.push(last);
        this.counts.firingByRule.push(last);
      }
      this.last = last;
    }
    last.count++;
  }
}

/** The keys whose edit restarts a rule's pending alerts (SPEC section 3). */
export function conditionOf(rule: Rule): string {
  return JSON.stringify([rule.type, rule.below, rule.clearAt, rule.olderThanMs, rule.withinMs, rule.where ?? null, rule.scope]);
}

/** Whether a stored record needs rewriting (the lifecycle fields, or what a notice would say). */
function sameRecord(a: AlertRecord, b: AlertRecord): boolean {
  return (
    a.firstSeenMs === b.firstSeenMs &&
    a.lastNotifiedMs === b.lastNotifiedMs &&
    a.clearedSinceMs === b.clearedSinceMs &&
    a.alert.status === b.alert.status &&
    a.alert.inhibited === b.alert.inhibited &&
    sameEvaluation(a.alert, b.alert)
  );
}

/**
 * Whether two evaluations of one alert say the same (status and inhibition, which the lifecycle
 * decides, aside). `availableElsewhere` is left out on purpose: it moves whenever another
 * warehouse's level does, and a record rewritten for that alone would make a quiet poll write a
 * record per unchanged item of every product that moved. A stored record keeps it as of its last
 * write (a change of its own, or a notice); notices always carry the current value.
 */
function sameEvaluation(a: Alert, b: Alert): boolean {
  // The same object: an evaluation's alert taken again (EvaluationMemo) that the record holds.
  if (a === b) return true;
  return (
    a.available === b.available &&
    a.incoming === b.incoming &&
    a.reserved === b.reserved &&
    a.updatedAt === b.updatedAt &&
    a.silenced === b.silenced &&
    a.summary === b.summary &&
    a.severity === b.severity &&
    a.type === b.type &&
    a.sku === b.sku &&
    a.warehouse === b.warehouse &&
    a.product === b.product &&
    a.ratePerDay === b.ratePerDay &&
    a.runsOutAt === b.runsOutAt
  );
}

/**
 * The evaluated alert with the lifecycle's status: itself when it has it already (evaluate() makes
 * them 'firing'), else a copy. An evaluated Alert is never changed: an EvaluationMemo hands the
 * same object to the next poll's evaluation, and it may be a previous record's alert too.
 */
const withStatus = (alert: Alert, status: Alert['status']): Alert => (alert.status === status ? alert : { ...alert, status });

const keyOf = (a: Alert): string => alertKey(a.rule, a.warehouseId, a.productId);

/** An alert of `next` turned firing at this poll: its first notice is due once muting is known. */
const FRESH = 1;
/** An alert of `next` kept exactly as it was (a held item, a suspect overview): nothing about it is decided now. */
const FROZEN = 2;

/** Records after the one last matched that are compared before looking a key up. */
const LOOKAHEAD = 3;

/**
 * The share of the records up to which alerts the lookahead misses are looked up by key before
 * the records are indexed. A state in the lifecycle's own order misses only for new alerts (~1 %
 * of them at a busy poll, where a key lookup is cheapest); a state read back from Redis in bucket
 * order misses for every alert.
 */
const KEYED_MISS_SHARE = 1 / 32;

/** How far ahead of the last match a record looked up by key is still taken as in order. */
const SKIP_AHEAD = 64;

/** Codes standing for strings (rule names, warehouse or product ids: null is ''), each given its own on first sight. */
class Codes {
  private readonly byString = new Map<string, number>();
  of(s: string | null): number {
    const key = s ?? '';
    let code = this.byString.get(key);
    if (code === undefined) this.byString.set(key, (code = this.byString.size));
    return code;
  }
  get size(): number {
    return this.byString.size;
  }
  /** The code of a string seen before, else -1. */
  known(s: string | null): number {
    return this.byString.get(s ?? '') ?? -1;
  }
}

/**
 * The previous records' identities as numbers: an alert's rule, warehouse and product codes are
 * equal to a record's exactly when their alertKey()s are. The records are grouped by product in
 * flat arrays, so a lookup compares a few adjacent numbers: the records themselves (scattered
 * objects, in Redis's bucket order after a read-back) are not visited.
 */
class IdentityIndex {
  private readonly rules = new Codes();
  private readonly warehouses = new Codes();
  private readonly products = new Codes();
  /** Per product code, where its records start in `positions` (its end is the next product's start). */
  private readonly start: Int32Array;
  /** Record positions grouped by product, in state order within a product. */
  private readonly positions: Int32Array;
  /** Per entry of `positions`: its rule and warehouse as one number (rule * warehouse count + warehouse). */
  private readonly pairs: Int32Array;
  private readonly warehouseCount: number;
  // undefined: none yet (a network alert's warehouse is null).
  private lastRule: string | undefined = undefined;
  private lastRuleCode = -1;
  private lastWarehouse: string | null | undefined = undefined;
  private lastWarehouseCode = -1;

  constructor(records: readonly AlertRecord[]) {
    const n = records.length;
    const ruleOf = new Int32Array(n);
    const warehouseOf = new Int32Array(n);
    const productOf = new Int32Array(n);
    for (let at = 0; at < n; at++) {
      const a = records[at].alert;
      ruleOf[at] = this.rules.of(a.rule);
      warehouseOf[at] = this.warehouses.of(a.warehouseId);
      productOf[at] = this.products.of(a.productId);
    }
    this.warehouseCount = this.warehouses.size;
    // A counting sort by product.
    const start = (this.start = new Int32Array(this.products.size + 1));
    for (let at = 0; at < n; at++) start[productOf[at] + 1]++;
    for (let p = 0; p < this.products.size; p++) start[p + 1] += start[p];
    const filled = start.slice(0, this.products.size);
    this.positions = new Int32Array(n);
    this.pairs = new Int32Array(n);
    for (let at = 0; at < n; at++) {
      const slot = filled[productOf[at]]++;
      this.positions[slot] = at;
      this.pairs[slot] = ruleOf[at] * this.warehouseCount + warehouseOf[at];
    }
  }

  /** The position of the record of `alert`'s identity, or -1. */
  find(alert: Alert): number {
    // Alerts come rule by rule, and an overview lists its items warehouse by warehouse.
    if (alert.rule !== this.lastRule) {
      this.lastRule = alert.rule;
      this.lastRuleCode = this.rules.known(alert.rule);
    }
    if (alert.warehouseId !== this.lastWarehouse) {
      this.lastWarehouse = alert.warehouseId;
      this.lastWarehouseCode = this.warehouses.known(alert.warehouseId);
    }
    const product = this.products.known(alert.productId);
    if (this.lastRuleCode < 0 || this.lastWarehouseCode < 0 || product < 0) return -1;
    const pair = this.lastRuleCode * this.warehouseCount + this.lastWarehouseCode;
    const end = this.start[product + 1];
    for (let slot = this.start[product]; slot < end; slot++) if (this.pairs[slot] === pair) return this.positions[slot];
    return -1;
  }
}

/**
 * The previous poll's records, in the state's order, matched to this poll's alerts. The state is
 * in the order this lifecycle wrote it, which is the evaluation's (rule by rule, items in overview
 * order), and an overview lists its items in the same order poll after poll: so the record just
 * after the last one matched is nearly always the one wanted, and comparing its identity costs far
 * less than hashing a fresh ~90-character key into a map of 10^5 entries (issue 14). A few misses
 * (new alerts) are looked up by key; past those (a state out of order) the records' identities are
 * indexed as numbers (IdentityIndex), so that no key is made for an alert that has a record. A state
 * read back from Redis (in bucket order, AlertState.ordered false) is indexed that way at once.
 */
class PreviousRecords {
  readonly keys: readonly string[];
  readonly records: readonly AlertRecord[];
  /** 1 where the record went on into this poll's state. */
  readonly taken: Uint8Array;
  /** The key find() computed when it returned -1. */
  missedKey = '';
  private cursor = 0;
  private keyedMisses = 0;
  private index: IdentityIndex | null = null;

  constructor(private readonly byKey: ReadonlyMap<string, AlertRecord>) {
    // The lifecycle's own output (or the store's): its arrays, not a copy; another map's entries.
    const state = AlertState.of(byKey);
    this.keys = state.keyList;
    this.records = state.recordList;
    // Read back in Redis's order: no walk in this poll's order would find them.
    if (!state.ordered) this.index = new IdentityIndex(this.records);
    this.taken = new Uint8Array(this.records.length);
  }

  /** The position of `alert`'s previous record, or -1 (then `missedKey` is its key). */
  find(alert: Alert): number {
    if (this.records.length === 0) {
      // A first poll: every alert is new.
      this.missedKey = keyOf(alert);
      return -1;
    }
    if (this.index === null) {
      const end = Math.min(this.cursor + LOOKAHEAD, this.records.length);
      for (let at = this.cursor; at < end; at++) {
        const a = this.records[at].alert;
        if (a.productId === alert.productId && a.warehouseId === alert.warehouseId && a.rule === alert.rule) {
          this.cursor = at + 1;
          return at;
        }
      }
      if (this.keyedMisses < this.records.length * KEYED_MISS_SHARE) {
        this.keyedMisses++;
        const key = keyOf(alert);
        const before = this.byKey.get(key);
        if (before === undefined) {
          this.missedKey = key;
          return -1;
        }
        // Records passed over (alerts that stopped holding) put it a little further ahead.
        const far = Math.min(this.cursor + SKIP_AHEAD, this.records.length);
        for (let at = end; at < far; at++) {
          if (this.records[at] === before) {
            this.cursor = at + 1;
            return at;
          }
        }
        // Elsewhere: the state is not in this poll's order.
      }
      this.index = new IdentityIndex(this.records);
    }
    // Indexed: the cursor is not read again.
    const at = this.index.find(alert);
    if (at < 0) this.missedKey = keyOf(alert);
    return at;
  }
}

export function advanceAlerts(input: LifecycleInput): LifecycleResult {
  const { previous, evaluation, compiled, nowMs, resolveAbsent, itemsOf, conditionChanged } = input;
  const heldItems = input.heldItems ?? new Set<string>();
  const checkHeld = heldItems.size > 0;
  const rules = compiled.ruleByName;
  // The alerts of `next` in order, each with its books, in parallel arrays: no map keyed by record
  // and no object per alert (AlertState). Sized for the usual poll, where about as many alerts
  // hold as before (growing 335k-entry arrays step by step cost more than filling them).
  const prior = new PreviousRecords(previous);
  const expected = Math.max(evaluation.alerts.length, prior.records.length);
  const keys = new Array<string>(expected);
  const records = new Array<AlertRecord>(expected);
  /** Each one's previous version (previous.get(key)), where there is one. */
  const befores = new Array<AlertRecord | undefined>(expected);
  /** This poll's evaluation of each (what a notice reports); null for a record kept as it was. */
  const evaluations = new Array<Alert | null>(expected);
  /** FRESH and FROZEN. */
  let flags = new Uint8Array(expected);
  let count = 0;
  const put = (key: string, record: AlertRecord, before: AlertRecord | undefined, evaluated: Alert | null, fresh = false, frozen = false): void => {
    if (count === flags.length) {
      const more = new Uint8Array(2 * count + 16);
      more.set(flags);
      flags = more;
    }
    keys[count] = key;
    records[count] = record;
    befores[count] = before;
    evaluations[count] = evaluated;
    flags[count++] = (fresh ? FRESH : 0) | (frozen ? FROZEN : 0);
  };
  // Keys of alerts without a previous record met so far (found ones are told apart by `taken`).
  const newKeys = new Set<string>();

  const held = (a: Alert): boolean => checkHeld && heldItems.has(itemKey(a.warehouseId, a.productId));
  /**
   * A firing alert that goes on firing. Its previous record stays as it is when this evaluation
   * says the same (most alerts at most polls: nothing new is allocated or compared twice).
   */
  const keepFiring = (key: string, evaluated: Alert, before: AlertRecord): void => {
    const alert = withStatus(evaluated, 'firing');
    const unchanged = before.clearedSinceMs === undefined && sameEvaluation(before.alert, alert);
    put(key, unchanged ? before : { alert, firstSeenMs: before.firstSeenMs, lastNotifiedMs: before.lastNotifiedMs }, before, alert);
  };

  // 1. Alerts whose condition holds now.
  for (const alert of evaluation.alerts) {
    const at = prior.find(alert);
    let key: string;
    let before: AlertRecord | undefined;
    if (at >= 0) {
      // The same item twice in one overview: the first one counts.
      if (prior.taken[at] === 1) continue;
      prior.taken[at] = 1;
      key = prior.keys[at];
      before = prior.records[at];
    } else {
      key = prior.missedKey;
      if (newKeys.has(key)) continue;
      newKeys.add(key);
    }
    if (held(alert)) {
      if (before !== undefined) put(key, before, before, null, false, true);
      continue;
    }
    if (before !== undefined && before.alert.status === 'firing') {
      keepFiring(key, alert, before);
      continue;
    }
    const forMs = rules.get(alert.rule)?.forMs ?? 0;
    if (before === undefined || conditionChanged?.has(alert.rule)) {
      // New (or pending under a condition that was edited: it starts over).
      const a = withStatus(alert, forMs <= 0 ? 'firing' : 'pending');
      put(key, { alert: a, firstSeenMs: nowMs, lastNotifiedMs: null }, before, a, forMs <= 0);
    } else if (nowMs - before.firstSeenMs >= forMs) {
      const a = withStatus(alert, 'firing');
      put(key, { alert: a, firstSeenMs: nowMs, lastNotifiedMs: null }, before, a, true);
    } else {
      const a = withStatus(alert, 'pending');
      put(key, { alert: a, firstSeenMs: before.firstSeenMs, lastNotifiedMs: null }, before, a);
    }
  }

  // 2. Hysteresis: an alert that fires keeps firing while `clear_at` holds it; it starts nothing.
  for (const alert of evaluation.holding) {
    const at = prior.find(alert);
    if (at < 0 || prior.taken[at] === 1) continue;
    const before = prior.records[at];
    if (before.alert.status !== 'firing' || held(alert)) continue;
    prior.taken[at] = 1;
    keepFiring(prior.keys[at], alert, before);
  }

  // 3. Alerts of the previous poll whose condition no longer holds.
  const removed: string[] = [];
  const resolving: AlertRecord[] = [];
  for (let at = 0; at < prior.records.length; at++) {
    if (prior.taken[at] === 1) continue;
    const key = prior.keys[at];
    const before = prior.records[at];
    const rule = rules.get(before.alert.rule);
    if (rule === undefined) {
      // The rule was removed or renamed: its alerts go without a word, nothing resolved them.
      removed.push(key);
      continue;
    }
    if (!resolveAbsent || held(before.alert)) {
      put(key, before, before, null, false, true);
      continue;
    }
    if (before.alert.status === 'pending') {
      // A poll at which the condition does not hold drops a pending alert, silently.
      removed.push(key);
      continue;
    }
    const clearedSinceMs = before.clearedSinceMs ?? nowMs;
    if (nowMs - clearedSinceMs < rule.keepFiringForMs) {
      put(key, before.clearedSinceMs === undefined ? { ...before, clearedSinceMs } : before, before, null);
      continue;
    }
    removed.push(key);
    resolving.push(before);
  }

  // 4. Muting, now that it is known what fires: silences (evaluated with the alert) and inhibition.
  // Fewer than expected: the arrays end where the alerts do.
  keys.length = records.length = befores.length = evaluations.length = count;
  const inhibited = inhibitionOf(records, compiled);
  const events: AlertEvent[] = [];
  const changed: AlertRecord[] = [];
  const counter = new Counter();
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if ((flags[i] & FROZEN) !== 0) {
      counter.add(record.alert);
      continue;
    }
    let current = record;
    const isInhibited = inhibited(record.alert);
    // A record kept from the previous poll is shared with the previous state: copy before changing.
    if (record.alert.inhibited !== isInhibited) current = { ...record, alert: { ...record.alert, inhibited: isInhibited } };
    const a = current.alert;
    if (a.status === 'firing' && !a.silenced && !a.inhibited) {
      let kind: EventKind | null = null;
      // Fired muted and nobody was told: now that it is not muted, it is news.
      if ((flags[i] & FRESH) !== 0 || current.lastNotifiedMs === null) kind = 'new';
      else {
        const repeatEveryMs = rules.get(a.rule)?.repeatEveryMs ?? null;
        if (repeatEveryMs !== null && nowMs - current.lastNotifiedMs >= repeatEveryMs) kind = 'repeat';
      }
      if (kind !== null) {
        // A notice says what this poll evaluated, and the record keeps what was said.
        const evaluated = evaluations[i];
        const told = evaluated === null || evaluated === a ? a : { ...evaluated, status: a.status, inhibited: a.inhibited };
        current = { ...current, alert: told, lastNotifiedMs: nowMs };
        events.push({ kind, alert: told, firstSeenMs: current.firstSeenMs });
      }
    }
    // Nothing to write when it is what the previous poll stored.
    const before = befores[i];
    if (before !== undefined && current !== before && sameRecord(before, current)) current = before;
    if (current !== before) changed.push(current);
    records[i] = current;
    counter.add(current.alert);
  }

  // 5. Resolved notices: only for an alert whose firing was notified, and not while a silence covers it.
  const silencedNow = silenceChecker(compiled, nowMs);
  const resolved: Alert[] = [];
  const items = resolving.length > 0 && itemsOf !== undefined ? itemsOf(resolving.map((r) => r.alert)) : [];
  for (let i = 0; i < resolving.length; i++) {
    const before = resolving[i];
    const rule = rules.get(before.alert.rule)!;
    const now = items[i];
    const silenced = silencedNow(before.alert, now?.item);
    const alert = toResolved(before.alert, now, rule, silenced);
    resolved.push(alert);
    if (rule.sendResolved && before.lastNotifiedMs !== null && !silenced) events.push({ kind: 'resolved', alert, firstSeenMs: before.firstSeenMs });
  }

  sortByAlert(events, (e) => e.alert);
  return lifecycleResult({ events, next: new AlertState(keys, records), changed, removed, resolved, counts: counter.counts });
}

/**
 * The result, with `alerts` made when asked (eval): a poll itself needs only the counts, and a
 * 335k-entry array per poll is not free. Made out here so that the getter keeps only the next
 * state alive, not advanceAlerts' scope (the evaluation's alerts, the previous records: 55 MB at
 * 200k items, 95 % firing, held through the commit).
 */
function lifecycleResult(result: Omit<LifecycleResult, 'alerts'>): LifecycleResult {
  let alerts: Alert[] | null = null;
  return {
    ...result,
    get alerts(): Alert[] {
      return (alerts ??= result.next.recordList.map((r) => r.alert));
    },
  };
}

const sameValue = (same: InhibitSame, a: Alert): string | null => {
  switch (same) {
    case 'item':
      return a.warehouseId === null || a.productId === null ? null : itemKey(a.warehouseId, a.productId);
    case 'product':
      return a.productId;
    case 'warehouse':
      return a.warehouseId;
  }
};

/**
 * SPEC 3.4: while an alert of a `when` rule fires (not pending, not silenced), the alerts of the
 * `suppress` rules that share its item, product or warehouse are inhibited. Returns the predicate.
 */
function inhibitionOf(state: readonly AlertRecord[], compiled: CompiledRuleSet): (a: Alert) => boolean {
  if (compiled.inhibit.length === 0) return () => false;
  const isSource = (inh: CompiledInhibit, a: Alert): boolean => a.status === 'firing' && !a.silenced && inh.when.test(a.rule);
  // Per inhibit entry: how many inhibiting alerts share each `same` value.
  const sources = compiled.inhibit.map(() => new Map<string, number>());
  for (const { alert } of state) {
    compiled.inhibit.forEach((inh, i) => {
      if (!isSource(inh, alert)) return;
      const value = sameValue(inh.inhibit.same, alert);
      if (value !== null) sources[i].set(value, (sources[i].get(value) ?? 0) + 1);
    });
  }
  return (alert) =>
    compiled.inhibit.some((inh, i) => {
      if (!inh.suppress.test(alert.rule)) return false;
      const value = sameValue(inh.inhibit.same, alert);
      if (value === null) return false;
      // An alert never inhibits itself (a rule matching both `when` and `suppress`): another must.
      const others = (sources[i].get(value) ?? 0) - (isSource(inh, alert) ? 1 : 0);
      return others > 0;
    });
}
