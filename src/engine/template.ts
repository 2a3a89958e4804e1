// A rule's `summary`: a one-line template such as "{{sku}} at {{warehouse}}: {{available}} left".
// Compiled once per rule into literal parts and field lookups; rendering is concatenation.
import type { Alert, Rule } from '../model';
import { formatDuration } from '../duration';

/** The placeholders a summary may use. */
export const SUMMARY_FIELDS = [
  'rule',
  'type',
  'severity',
  'status',
  'warehouseId',
  'warehouse',
  'productId',
  'sku',
  'product',
  'brand',
  'available',
  'incoming',
  'reserved',
  'updatedAt',
  'below',
  'older_than',
  // low_available of scope item: the stock of the product in the other warehouses
  'available_elsewhere',
  'elsewhere',
  // scope network: the warehouses that hold the product's stock
  'contributors',
  // runs_out
  'rate_per_day',
  'runs_out_at',
  'within',
] as const;

export type SummaryField = (typeof SUMMARY_FIELDS)[number];

const FIELD_SET: ReadonlySet<string> = new Set(SUMMARY_FIELDS);

/**
 * Texts that only the evaluation can know (they need the whole overview): `elsewhere` and
 * `contributors`, e.g. `Markham 180, Oakville 60`. Absent: rendered as missing.
 */
export interface SummaryExtra {
  elsewhere?: string;
  contributors?: string;
}

/** `{{ name }}`, spaces inside the braces allowed. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** What a missing value (unknown product or warehouse, empty brand, no threshold) renders as. */
export const MISSING = '-';

/** Control characters (newlines included) in API text would break the one-line promise. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Text on one line: each run of control characters (line breaks included) becomes one space. */
export function oneLineText(text: string): string {
  return text.replace(CONTROL, ' ');
}

/** The names of the placeholders in a template that are not summary fields, for the loader. */
export function unknownPlaceholders(template: string): string[] {
  const unknown: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!FIELD_SET.has(m[1]) && !unknown.includes(m[1])) unknown.push(m[1]);
  }
  return unknown;
}

function fieldValue(field: SummaryField, alert: Alert, brand: string | null, rule: Rule | undefined, extra: SummaryExtra | undefined): string {
  let value: string | number | null | undefined;
  switch (field) {
    case 'available_elsewhere':
      value = alert.availableElsewhere;
      break;
    case 'elsewhere':
      value = extra?.elsewhere === '' ? null : extra?.elsewhere;
      break;
    case 'contributors':
      value = extra?.contributors === '' ? null : extra?.contributors;
      break;
    case 'rate_per_day':
      value = alert.ratePerDay;
      break;
    case 'runs_out_at':
      value = alert.runsOutAt;
      break;
    case 'within':
      value = rule?.withinMs === undefined ? null : formatDuration(rule.withinMs);
      break;
    case 'brand':
      value = brand === '' ? null : brand;
      break;
    case 'below':
      value = rule?.below;
      break;
    case 'older_than':
      value = rule?.olderThanMs === undefined ? null : formatDuration(rule.olderThanMs);
      break;
    default:
      value = alert[field];
  }
  if (value === null || value === undefined) return MISSING;
  return typeof value === 'number' ? String(value) : value;
}

/** A template split into literal text around its fields: literals[i], fields[i], literals[i + 1], ... */
export class CompiledTemplate {
  private readonly literals: string[] = [];
  private readonly fields: SummaryField[] = [];

  constructor(readonly source: string) {
    let last = 0;
    let literal = '';
    for (const m of source.matchAll(PLACEHOLDER)) {
      const name = m[1];
      const index = m.index ?? 0;
      literal += source.slice(last, index);
      last = index + m[0].length;
      if (FIELD_SET.has(name)) {
        this.literals.push(literal);
        this.fields.push(name as SummaryField);
        literal = '';
      } else {
        // An unknown placeholder stays as written, so that a typo shows in the notice.
        literal += m[0];
      }
    }
    this.literals.push(literal + source.slice(last));
  }

  /** Whether the template has this placeholder (some are costly to compute). */
  uses(field: SummaryField): boolean {
    return this.fields.includes(field);
  }

  render(alert: Alert, brand: string | null, rule?: Rule, extra?: SummaryExtra): string {
    let out = this.literals[0];
    for (let i = 0; i < this.fields.length; i++) {
      out += fieldValue(this.fields[i], alert, brand, rule, extra) + this.literals[i + 1];
    }
    return oneLineText(out);
  }
}

export function compileTemplate(template: string): CompiledTemplate {
  return new CompiledTemplate(template);
}

/** Renders a summary template for one alert (compiles it on the spot; hot paths compile once). */
export function renderSummary(template: string, alert: Alert, brand: string | null, rule?: Rule): string {
  return new CompiledTemplate(template).render(alert, brand, rule);
}
