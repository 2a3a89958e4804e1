// The compact record value (alert-records.ts) read in place: whatever encodeValue() writes,
// decodeValue() gives back exactly, and values written by the format's first version still read.
import fc from 'fast-check';
import type { AlertRecord } from '../../src/engine/lifecycle';
import type { Alert, Rule } from '../../src/model';
import { base36, decodeValue, encodeValue } from '../../src/state/alert-records';

const rule = { name: 'low', summary: '{{sku}} at {{warehouse}}: {{available}} left' } as Rule;
const decode = (a: Alert, v: string, epoch = 0): AlertRecord =>
  decodeValue(a.rule, a.warehouseId, a.warehouse, a.productId, { sku: a.sku, product: a.product }, v, rule, epoch);

/** `r` with every field of its alert present, as the evaluation makes alerts and decodeValue reads them (undefined where not set). */
const shaped = (r: AlertRecord): AlertRecord => ({
  ...r,
  alert: { ...r.alert, availableElsewhere: r.alert.availableElsewhere, ratePerDay: r.alert.ratePerDay, runsOutAt: r.alert.runsOutAt },
});

// -0 is written as String(-0), '0', as the format always did: it reads back as 0.
const notMinusZero = (x: number): number => (Object.is(x, -0) ? 0 : x);
const level = fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer(), fc.double({ noNaN: true }), fc.constantFrom(2 ** 60, -(2 ** 60), 1e21, 0)).map(notMinusZero);
const time = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).chain((d) =>
    fc.integer({ min: 0, max: 6 }).map((places) => d.toISOString().slice(0, 19) + (places === 0 ? '' : '.' + String(d.getTime() % 1000).padStart(3, '0').padEnd(places, '7').slice(0, places)) + 'Z'),
  ),
  fc.string(),
);
const ms = fc.oneof(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.integer({ min: -1e15, max: 1e15 }));

const recordArb = fc
  .record({
    status: fc.constantFrom('pending' as const, 'firing' as const),
    type: fc.constantFrom('low_available' as const, 'negative_reserved' as const, 'stale' as const, 'unknown_product' as const, 'stale_warehouse' as const, 'runs_out' as const),
    severity: fc.constantFrom('info' as const, 'warning' as const, 'critical' as const),
    available: level,
    incoming: level,
    reserved: level,
    updatedAt: time,
    summary: fc.oneof(fc.constant(null), fc.string(), fc.constantFrom('~', '"', ',', 'a,b;c', 'S at W: 1 left', 'S at W: 0 left')),
    silenced: fc.boolean(),
    inhibited: fc.boolean(),
    availableElsewhere: fc.option(level, { nil: undefined }),
    ratePerDay: fc.option(fc.double({ noNaN: true }).map(notMinusZero), { nil: undefined }),
    runsOutAt: fc.option(time, { nil: undefined }),
    firstSeenMs: ms,
    lastNotified: fc.oneof(fc.constant(null), fc.constant('first' as const), ms),
    clearedSinceMs: fc.option(ms, { nil: undefined }),
  })
  .map((g): AlertRecord => {
    const alert: Alert = {
      rule: 'low', type: g.type, severity: g.severity, status: g.status, warehouseId: 'w', warehouse: 'W', productId: 'p', sku: 'S', product: 'P',
      available: g.available, incoming: g.incoming, reserved: g.reserved, updatedAt: g.updatedAt, summary: g.summary, silenced: g.silenced, inhibited: g.inhibited,
    };
    if (g.availableElsewhere !== undefined) alert.availableElsewhere = g.availableElsewhere;
    if (g.ratePerDay !== undefined) alert.ratePerDay = g.ratePerDay;
    if (g.runsOutAt !== undefined) alert.runsOutAt = g.runsOutAt;
    const record: AlertRecord = { alert, firstSeenMs: g.firstSeenMs, lastNotifiedMs: g.lastNotified === 'first' ? g.firstSeenMs : g.lastNotified };
    if (g.clearedSinceMs !== undefined) record.clearedSinceMs = g.clearedSinceMs;
    return record;
  });

describe('alert record values', () => {
  test('decodeValue(encodeValue(r)) is r, field for field (a rendered summary included), from any epoch', () => {
    // Epochs as layouts choose them (seconds near the records' times), and far from them.
    const epoch = fc.oneof(fc.constant(0), fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), fc.integer({ min: -1e10, max: 1e10 }));
    fc.assert(
      fc.property(recordArb, epoch, (r, e) => {
        expect(decode(r.alert, encodeValue(r, rule, e), e)).toStrictEqual(shaped(r));
      }),
      { numRuns: 5000 },
    );
  });

  test('a record is written shorter from an epoch near its times', () => {
    const r: AlertRecord = {
      alert: {
        rule: 'low', type: 'low_available', severity: 'warning', status: 'firing', warehouseId: 'w', warehouse: 'W', productId: 'p', sku: 'S', product: 'P',
        available: 0, incoming: 0, reserved: 0, updatedAt: '2026-11-29T10:11:12.123456Z', summary: 'S at W: 0 left', silenced: false, inhibited: false,
      },
      firstSeenMs: Date.parse('2026-11-30T12:00:00Z'),
      lastNotifiedMs: Date.parse('2026-11-30T12:00:00Z'),
    };
    const fromZero = encodeValue(r, rule);
    const near = encodeValue(r, rule, Date.parse('2026-11-30T08:00:00Z') / 1000);
    // Rendered summary and first notice as flags (o: 8 + 16); first seen 4 hours after the epoch,
    // updatedAt a day before it, in microseconds.
    expect(near).toBe('o18kn40,,0,0,0,6-102pgxc0');
    expect(decode(r.alert, near, Date.parse('2026-11-30T08:00:00Z') / 1000)).toStrictEqual(shaped(r));
    expect(fromZero.length - near.length).toBeGreaterThanOrEqual(3);
  });

  test('base36 writes what toString(36) writes', () => {
    fc.assert(fc.property(fc.oneof(fc.maxSafeInteger(), fc.double(), fc.integer({ min: 0, max: 36 ** 6 })), (n) => expect(base36(n)).toBe(n.toString(36))), { numRuns: 5000 });
    for (const n of [0, 35, 36, 36 ** 5 - 1, 36 ** 5, 36 ** 10, Number.MAX_SAFE_INTEGER, -1, 0.5, 2 ** 60]) expect(base36(n)).toBe(n.toString(36));
  });

  test('values as the first version of the format wrote them read back the same', () => {
    // Written by encodeValue() before the decoder read values in place (commit c1fb32c).
    const base: Alert = {
      rule: 'low', type: 'low_available', severity: 'warning', status: 'firing', warehouseId: 'w', warehouse: 'W', productId: 'p', sku: 'S', product: 'P',
      available: -3, incoming: 0, reserved: 12, updatedAt: '2026-11-27T10:11:12.123456Z', summary: null, silenced: false, inhibited: false,
    };
    const stored: Array<[string, AlertRecord]> = [
      ['01mubbs7i8,=,-3,0,12,6hojrb83rk0', { alert: base, firstSeenMs: 1790000000000, lastNotifiedMs: 1790000000000 }],
      [
        '1hmubbs7i8,,-3,0,12,6hojrb83rk0,cmubbwhts;e40;r2.5;o0tpcao0,"edited, by hand; ~',
        {
          alert: {
            ...base, status: 'pending', type: 'runs_out', severity: 'critical', summary: 'edited, by hand; ~',
            availableElsewhere: 40, ratePerDay: 2.5, runsOutAt: '2026-12-01T00:00:00Z',
          },
          firstSeenMs: 1790000000000, lastNotifiedMs: null, clearedSinceMs: 1790000200000,
        },
      ],
      [
        '61mubbs7i8,mubbuurk,-3,0,12,!MjAyNi0xMS0yN1QxMDoxMToxMiswMjowMA,,"~',
        { alert: { ...base, silenced: true, inhibited: true, updatedAt: '2026-11-27T10:11:12+02:00', summary: '~' }, firstSeenMs: 1790000000000, lastNotifiedMs: 1790000123456 },
      ],
    ];
    for (const [value, record] of stored) {
      expect(decode(record.alert, value)).toStrictEqual(shaped(record));
      // Written again in today's form (flags for '=' and '~'), it reads back the same.
      const again = encodeValue(record, rule);
      expect(again.length).toBeLessThanOrEqual(value.length);
      expect(decode(record.alert, again)).toStrictEqual(shaped(record));
    }
  });
});
