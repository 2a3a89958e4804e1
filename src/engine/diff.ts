// The life of alerts between two polls (SPEC section 4): which alerts are new, which are due a
// reminder, which are resolved, and the alert state to keep. Pure: `nowMs` is an argument, the
// state is passed in and handed back, and nothing is sent from here.
import { alertKey, itemKey, type Alert, type Item, type Rule } from '../model';
import { compareAlerts } from './sort';
import { toResolved } from './resolved';

/** What the state keeps per alert between polls. */
export interface AlertRecord {
  /** The alert as last evaluated (status 'firing'). */
  alert: Alert;
  firstSeenMs: number;
  /** When its channels were last told; null while it has never been (it was silenced throughout). */
  lastNotifiedMs: number | null;
}

export type EventKind = 'new' | 'repeat' | 'resolved';

export interface AlertEvent {
  kind: EventKind;
  /** status 'resolved' for kind 'resolved', else 'firing'. */
  alert: Alert;
  firstSeenMs: number;
}

export interface DiffInput {
  /** The state after the previous poll, by alertKey(). */
  previous: ReadonlyMap<string, AlertRecord>;
  /** What fires now (from evaluate()). */
  current: readonly Alert[];
  nowMs: number;
  /** The rule set in force, by rule name. */
  rules: ReadonlyMap<string, Rule>;
  /** itemKey()s of malformed items: their previous alerts stay exactly as they were. */
  heldItems: ReadonlySet<string>;
  /** false while the overview is suspect: previous alerts not firing now are kept, not resolved. */
  resolveAbsent: boolean;
  /** By itemKey(): for a resolved alert, report the item's current levels when it still exists. */
  currentItems?: ReadonlyMap<string, Item>;
  /**
   * Whether a silence covers a resolved alert now (silenceChecker() of the compiled rule set).
   * Without it, an alert counts as silenced when it was at the previous poll.
   */
  isSilenced?: (alert: Alert, item?: Item) => boolean;
}

export interface DiffResult {
  /** What to notify, most severe first (silenced alerts and send_resolved: false are not here). */
  events: AlertEvent[];
  /** The alert state after this poll. */
  next: Map<string, AlertRecord>;
  /** Records that are new or differ from their previous version: what to write. */
  changed: AlertRecord[];
  /** Keys to delete from the state: resolved alerts and alerts of rules that no longer exist. */
  removed: string[];
}

/** Whether a still-firing alert's stored form needs rewriting. */
function sameAlert(a: Alert, b: Alert): boolean {
  return (
    a.available === b.available &&
    a.incoming === b.incoming &&
    a.reserved === b.reserved &&
    a.updatedAt === b.updatedAt &&
    a.silenced === b.silenced &&
    a.summary === b.summary &&
    a.severity === b.severity &&
    a.type === b.type &&
    a.status === b.status &&
    a.sku === b.sku &&
    a.warehouse === b.warehouse &&
    a.product === b.product
  );
}

export function diffAlerts(input: DiffInput): DiffResult {
  const { previous, current, nowMs, rules, heldItems, resolveAbsent, currentItems, isSilenced } = input;
  const events: AlertEvent[] = [];
  const next = new Map<string, AlertRecord>();
  const changed: AlertRecord[] = [];
  const removed: string[] = [];
  const checkHeld = heldItems.size > 0;

  for (const alert of current) {
    if (alert.status !== 'firing') continue;
    const key = alertKey(alert.rule, alert.warehouseId, alert.productId);
    // The same item twice in one overview: the first one counts.
    if (next.has(key)) continue;
    const before = previous.get(key);
    if (checkHeld && heldItems.has(itemKey(alert.warehouseId, alert.productId))) {
      if (before !== undefined) next.set(key, before);
      continue;
    }

    if (before === undefined) {
      const record: AlertRecord = { alert, firstSeenMs: nowMs, lastNotifiedMs: alert.silenced ? null : nowMs };
      next.set(key, record);
      changed.push(record);
      if (!alert.silenced) events.push({ kind: 'new', alert, firstSeenMs: nowMs });
      continue;
    }

    let kind: EventKind | null = null;
    if (!alert.silenced) {
      if (before.lastNotifiedMs === null) {
        // Fired while silenced and nobody was told: now that it is not, it is news.
        kind = 'new';
      } else {
        const repeatEveryMs = rules.get(alert.rule)?.repeatEveryMs ?? null;
        if (repeatEveryMs !== null && nowMs - before.lastNotifiedMs >= repeatEveryMs) kind = 'repeat';
      }
    }
    if (kind === null && sameAlert(before.alert, alert)) {
      next.set(key, before);
      continue;
    }
    const record: AlertRecord = {
      alert,
      firstSeenMs: before.firstSeenMs,
      lastNotifiedMs: kind === null ? before.lastNotifiedMs : nowMs,
    };
    next.set(key, record);
    changed.push(record);
    if (kind !== null) events.push({ kind, alert, firstSeenMs: before.firstSeenMs });
  }

  // `next` holds, so far, exactly the keys of the alerts firing now.
  for (const [key, before] of previous) {
    if (next.has(key)) continue;
    const rule = rules.get(before.alert.rule);
    if (rule === undefined) {
      // The rule was removed or renamed: its alerts go without a word, nothing resolved them.
      removed.push(key);
      continue;
    }
    const itemId = itemKey(before.alert.warehouseId, before.alert.productId);
    if (!resolveAbsent || heldItems.has(itemId)) {
      next.set(key, before);
      continue;
    }
    removed.push(key);
    if (!rule.sendResolved || before.lastNotifiedMs === null) continue;
    const item = currentItems?.get(itemId);
    const silenced = isSilenced ? isSilenced(before.alert, item) : before.alert.silenced;
    if (silenced) continue;
    events.push({ kind: 'resolved', alert: toResolved(before.alert, item, rule, false), firstSeenMs: before.firstSeenMs });
  }

  events.sort((a, b) => compareAlerts(a.alert, b.alert));
  return { events, next, changed, removed };
}
