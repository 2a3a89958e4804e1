// Builders for forecast tests: runs_out rules, overviews, and a poll loop that runs stepPoll in
// memory the way `replay` does (the history and the alert state of one poll feed the next).
import type { CompiledRuleSet } from '../../src/engine/evaluate';
import type { History, SeriesTable } from '../../src/engine/forecast';
import { EMPTY_HISTORY, itemHash, productHash } from '../../src/engine/forecast';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { EMPTY_BOOKS, stepPoll, type PollBooks, type StepResult } from '../../src/engine/step';
import type { Item, Overview, Rule } from '../../src/model';
import { rule } from './helpers';

export const MINUTE = 60_000;
export const DAY = 86_400_000;

export const runsOut = (overrides: Partial<Rule> = {}): Rule =>
  rule({ name: 'runs-out', type: 'runs_out', withinMs: 30 * DAY, ...overrides });

export function overviewOf(items: Item[]): Overview {
  return { items, malformed: [], warehouseCount: new Set(items.map((i) => i.warehouseId)).size, productCount: new Set(items.map((i) => i.productId)).size };
}

/** The state a sequence of polls carries from one to the next. */
export class Poller {
  books: PollBooks = EMPTY_BOOKS;
  alerts: ReadonlyMap<string, AlertRecord> = new Map();
  history: History = EMPTY_HISTORY;
  last: StepResult | null = null;

  constructor(private readonly compiled: CompiledRuleSet) {}

  poll(nowMs: number, outcome: Overview | { error: string }): StepResult {
    const step = stepPoll({
      books: this.books,
      alerts: this.alerts,
      compiled: this.compiled,
      nowMs,
      outcome: 'error' in outcome ? outcome : { overview: outcome },
      history: this.history,
    });
    this.books = step.books;
    if (step.lifecycle !== null) this.alerts = step.lifecycle.next;
    this.history = step.history;
    this.last = step;
    return step;
  }
}

/** The record of one item (or, with a productId only, one product of a network track) in a history. */
export function seriesOf(history: History | undefined, trackId: string, warehouseId: string | null, productId: string): { rate: number; weight: number; last: number; age: number } | null {
  const table: SeriesTable | undefined = history?.get(trackId);
  if (table === undefined) return null;
  const { lo, hi } = warehouseId === null ? productHash(productId) : itemHash(warehouseId, productId);
  for (let k = 0; k < table.size; k++) {
    if (table.hashLo[k] === lo && table.hashHi[k] === hi) return { rate: table.rate[k], weight: table.weight[k], last: table.last[k], age: table.age[k] };
  }
  return null;
}
