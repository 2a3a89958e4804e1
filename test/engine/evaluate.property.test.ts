// evaluate() against a reference written the plain way (recursive glob matcher, no compiling,
// one rule and item at a time), on random overviews and random rule sets.
import fc from 'fast-check';
import { compileRuleSet, evaluate } from '../../src/engine/evaluate';
import type { Alert, Item, Rule, RuleType, Severity, Silence, Where } from '../../src/model';
import { NOW, HOUR, rule, ruleSet, silence } from './helpers';

/** Glob semantics written out naively: `*` any run, `?` one code point, the rest literal. */
function naiveGlob(glob: string[], text: string[]): boolean {
  if (glob.length === 0) return text.length === 0;
  const [g, ...restGlob] = glob;
  if (g === '*') {
    for (let i = 0; i <= text.length; i++) if (naiveGlob(restGlob, text.slice(i))) return true;
    return false;
  }
  if (text.length === 0) return false;
  if (g === '?' || g === text[0]) return naiveGlob(restGlob, text.slice(1));
  return false;
}

const globMatches = (globs: string[], text: string | null): boolean =>
  text !== null && globs.some((g) => naiveGlob([...g], [...text]));

function naiveWhere(where: Where | undefined, it: Item): boolean {
  if (!where) return true;
  if (where.sku && !globMatches(where.sku, it.sku)) return false;
  if (where.brand && !globMatches(where.brand, it.brand)) return false;
  if (where.product_id && !globMatches(where.product_id, it.productId)) return false;
  if (where.warehouse && !globMatches(where.warehouse, it.warehouseId) && !globMatches(where.warehouse, it.warehouse)) return false;
  return true;
}

function naiveFires(r: Rule, it: Item, now: number): boolean {
  switch (r.type) {
    case 'low_available':
      return (r.countIncoming ? it.available + it.incoming : it.available) < (r.below as number);
    case 'negative_reserved':
      return it.reserved < 0;
    case 'stale':
      return now - it.updatedAtMs > (r.olderThanMs as number);
    case 'unknown_product':
      return !it.knownProduct || !it.knownWarehouse;
    default:
      return false;
  }
}

function naiveEvaluate(items: Item[], rules: Rule[], silences: Silence[], now: number): Alert[] {
  const out: Alert[] = [];
  for (const r of rules) {
    for (const it of items) {
      if (!naiveFires(r, it, now) || !naiveWhere(r.where, it)) continue;
      const silenced = silences.some((s) => now < s.untilMs && (s.rule === undefined || s.rule === r.name) && naiveWhere(s.where, it));
      out.push({
        rule: r.name,
        type: r.type,
        severity: r.severity,
        status: 'firing',
        warehouseId: it.warehouseId,
        warehouse: it.warehouse,
        productId: it.productId,
        sku: it.sku,
        product: it.product,
        available: it.available,
        incoming: it.incoming,
        reserved: it.reserved,
        updatedAt: it.updatedAt,
        summary: r.summary === undefined ? null : `${it.sku ?? '-'}:${it.available}`,
        silenced,
        inhibited: false,
        // SPEC 3.1: the positive stock of the product in every other warehouse.
        ...(r.type === 'low_available' && {
          availableElsewhere: items
            .filter((o) => o.productId === it.productId && o.warehouseId !== it.warehouseId && o.available > 0)
            .reduce((sum, o) => sum + o.available, 0),
        }),
      });
    }
  }
  return out;
}

// Names come from a small pool (so that rules, silences and items collide often) or are random
// over a small alphabet with regex metacharacters, non-ASCII and astral characters.
const alphabet = ['A', 'B', 'a', '-', '.', '(', '[', '$', '\\', 'é', '听', '😀'];
const pool = ['A-1', 'A-2', 'B.1', 'a-1', '听雨', '😀x', 'Main', ''];
const name = fc.oneof(fc.constantFrom(...pool), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 4 }));
const globText = fc.oneof(
  fc.constantFrom(...pool, 'A-*', '?-1', '听?', '?x', '*', 'A?1', '*.*', 'M*n'),
  fc.string({ unit: fc.constantFrom(...alphabet, '*', '?'), maxLength: 4 }),
);
const globList = fc.array(globText, { minLength: 1, maxLength: 3 });
/** Offsets around NOW that hit the boundaries (equal, one ms either side) often. */
const offset = (span: number, boundary = 0): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(boundary, boundary - 1, boundary + 1), fc.integer({ min: boundary - span, max: boundary + span }));

const whereArb: fc.Arbitrary<Where | undefined> = fc.option(
  fc.record({ sku: globList, product_id: globList, brand: globList, warehouse: globList }, { requiredKeys: [] }),
  { nil: undefined },
);

const itemArb: fc.Arbitrary<Item> = fc
  .record({
    warehouseId: name,
    productId: name,
    warehouse: fc.option(name),
    sku: name,
    product: name,
    brand: fc.option(name),
    knownProduct: fc.boolean(),
    available: fc.integer({ min: -5, max: 20 }),
    incoming: fc.integer({ min: -2, max: 20 }),
    reserved: fc.integer({ min: -5, max: 5 }),
    ageMs: offset(50 * HOUR, 48 * HOUR),
  })
  .map((r) => {
    const updatedAtMs = NOW - r.ageMs;
    return {
      warehouseId: r.warehouseId,
      productId: r.productId,
      warehouse: r.warehouse,
      knownWarehouse: r.warehouse !== null,
      productSlot: -1,
      sku: r.knownProduct ? r.sku : null,
      product: r.knownProduct ? r.product : null,
      brand: r.knownProduct ? r.brand : null,
      knownProduct: r.knownProduct,
      available: r.available,
      incoming: r.incoming,
      reserved: r.reserved,
      updatedAt: new Date(updatedAtMs).toISOString(),
      updatedAtMs,
    };
  });

const ruleArb = (index: number): fc.Arbitrary<Rule> =>
  fc
    .record({
      type: fc.constantFrom<RuleType>('low_available', 'negative_reserved', 'stale', 'unknown_product'),
      severity: fc.constantFrom<Severity>('info', 'warning', 'critical'),
      below: fc.integer({ min: -3, max: 25 }),
      countIncoming: fc.boolean(),
      olderThanMs: fc.oneof(fc.constant(48 * HOUR), fc.integer({ min: 1, max: 72 * HOUR })),
      where: whereArb,
      summary: fc.boolean(),
    })
    .map((r) =>
      rule({
        name: `r${index}`,
        type: r.type,
        severity: r.severity,
        ...(r.type === 'low_available' ? { below: r.below, countIncoming: r.countIncoming } : {}),
        ...(r.type === 'stale' ? { olderThanMs: r.olderThanMs } : {}),
        ...(r.where ? { where: r.where } : {}),
        ...(r.summary ? { summary: '{{sku}}:{{available}}' } : {}),
      }),
    );

const rulesArb = fc.integer({ min: 0, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(i))));

const silenceArb = fc
  .record({
    where: whereArb,
    rule: fc.option(fc.constantFrom('r0', 'r1', 'r2', 'nope'), { nil: undefined }),
    untilOffsetMs: offset(HOUR),
  })
  .map((s) => {
    const untilMs = NOW + s.untilOffsetMs;
    return silence({
      until: new Date(untilMs).toISOString(),
      untilMs,
      ...(s.where ? { where: s.where } : {}),
      ...(s.rule ? { rule: s.rule } : {}),
    });
  });

describe('evaluate matches a naive reference', () => {
  it('on random overviews, rule sets and silences', () => {
    fc.assert(
      fc.property(
        // Unique by warehouse and product, as toOverview() leaves an overview's items.
        fc.uniqueArray(itemArb, { maxLength: 30, selector: (i) => `${i.warehouseId}\u001f${i.productId}` }),
        rulesArb,
        fc.array(silenceArb, { maxLength: 3 }),
        fc.oneof(fc.constant(0), offset(HOUR)),
        (items, rules, silences, nowOffset) => {
          const now = NOW + nowOffset;
          const actual = evaluate(items, compileRuleSet(ruleSet(rules, silences)), now);
          expect(actual).toEqual(naiveEvaluate(items, rules, silences, now));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
