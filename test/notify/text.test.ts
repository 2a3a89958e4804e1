import fc from 'fast-check';
import { alertLine, firingFor, formatCount, formatUtcTime, formatZonedDate, formatZonedTime, isolate, restSummary, sortAlerts } from '../../src/notify/text';
import { noticeAlert } from '../support/alerts';
import { NEGATIVE_RESERVED, plain, T0 } from './helpers';

describe('alertLine', () => {
  it('says firing, still firing or resolved, with rule, severity, SKU, warehouse, levels and summary', () => {
    expect(plain(alertLine(noticeAlert(NEGATIVE_RESERVED)))).toBe(
      'firing · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative',
    );
    expect(plain(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, kind: 'repeat' })))).toBe(
      'still firing · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative',
    );
    expect(plain(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, kind: 'resolved', status: 'resolved', reserved: 2 })))).toBe(
      'resolved · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved 2, incoming 0 — TEST-BLACK reserved is negative',
    );
  });

  it('uses the productId and the warehouseId where product or warehouse are unknown', () => {
    const line = plain(alertLine(
      noticeAlert({ ...NEGATIVE_RESERVED, rule: 'unknown-product', severity: 'warning', sku: null, product: null, warehouse: null, summary: null, available: 7, incoming: 3, reserved: 1 }),
    ));
    expect(line).toBe(
      'firing · unknown-product (warning) · unknown product 3775cc37-30e7-4579-a58e-c9adda6fa888 @ unknown warehouse 9cae310d-c440-4d78-bdc0-bf306ec33888 · available 7, reserved 1, incoming 3',
    );
  });

  it('names a known product with a blank SKU by its id, without calling it unknown', () => {
    expect(plain(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, sku: '  ', summary: null })))).toBe(
      'firing · negative-reserved (critical) · product 3775cc37-30e7-4579-a58e-c9adda6fa888 @ test warehouse · available 0, reserved -13, incoming 0',
    );
  });

  it('leaves out an empty summary and keeps API text on one line', () => {
    expect(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, summary: '   ' }))).not.toContain('—');
    const line = plain(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, sku: 'A\nB', warehouse: 'W\r\n2', summary: 'x\u2028y' })));
    expect(line).not.toMatch(/[\r\n\u2028]/);
    expect(line).toContain('A B @ W 2');
    expect(line.endsWith('— x y')).toBe(true);
  });

  it('keeps RTL text and emoji intact', () => {
    const line = alertLine(noticeAlert({ ...NEGATIVE_RESERVED, sku: 'מוצר-😀', warehouse: 'مستودع 🏭' }));
    expect(line).toContain('\u2068מוצר-😀\u2069 @ \u2068مستودع 🏭\u2069');
  });

  it('puts every name from the API in Unicode isolates, so an unbalanced RTL mark reverses nothing after it', () => {
    const RLO = '\u202E';
    const line = alertLine(noticeAlert({ ...NEGATIVE_RESERVED, sku: `SKU-${RLO}1`, product: 'P', warehouse: `W${RLO}`, summary: `s${RLO}` }));
    // Each piece of API text sits alone inside FSI … PDI; the PDI ends the override it holds.
    expect(line).toBe(
      `firing · negative-reserved (critical) · \u2068SKU-${RLO}1\u2069 @ \u2068W${RLO}\u2069 · available 0, reserved -13, incoming 0 — \u2068s${RLO}\u2069`,
    );
    expect(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, sku: null, product: null, productId: `p${RLO}` }))).toContain(`unknown product \u2068p${RLO}\u2069 @`);
  });

  it('balances isolate controls the API text brings, keeping every character', () => {
    const FSI = '\u2068';
    const PDI = '\u2069';
    const RLI = '\u2067';
    expect(isolate('abc')).toBe(`${FSI}abc${PDI}`);
    // A stray PDI would close our isolate early and let what follows out: it gets an opener of its own.
    expect(isolate(`a${PDI}\u202Eb`)).toBe(`${FSI}${FSI}a${PDI}\u202Eb${PDI}`);
    // An isolate the text leaves open is closed before ours.
    expect(isolate(`a${RLI}b`)).toBe(`${FSI}a${RLI}b${PDI}${PDI}`);
    for (const text of [`${PDI}${PDI}x${RLI}`, `${RLI}${PDI}${PDI}`, 'plain']) {
      const out = isolate(text);
      expect(plain(out)).toBe(plain(text));
      // Our outermost isolate opens first and closes last: the depth is 0 only at the very end.
      const chars = [...out];
      let depth = 0;
      chars.forEach((c, i) => {
        if (c === PDI) depth--;
        else if (c >= '\u2066' && c <= '\u2068') depth++;
        expect(depth > 0 || i === chars.length - 1).toBe(true);
      });
      expect(depth).toBe(0);
    }
  });

  it('says stock elsewhere, the forecast, network and warehouse scope, and an inhibition', () => {
    const low = noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low', type: 'low_available', severity: 'warning', summary: null, available: 3, availableElsewhere: 240 });
    expect(plain(alertLine(low))).toBe('firing · low (warning) · TEST-BLACK @ test warehouse · available 3, reserved -13, incoming 0 · 240 available elsewhere');
    expect(plain(alertLine({ ...low, availableElsewhere: 0 }))).not.toContain('elsewhere');
    const runsOut = noticeAlert({ ...NEGATIVE_RESERVED, rule: 'runs-out', type: 'runs_out', severity: 'warning', summary: null, available: 12, reserved: 0, ratePerDay: 2.345, runsOutAt: '2026-05-06T12:00:00.000Z' });
    expect(plain(alertLine(runsOut))).toBe(
      'firing · runs-out (warning) · TEST-BLACK @ test warehouse · available 12, reserved 0, incoming 0 · selling 2.3/day, runs out 2026-05-06 12:00 UTC',
    );
    const network = noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-network', type: 'low_available', summary: null, warehouseId: null, warehouse: null, available: 40 });
    expect(plain(alertLine(network))).toBe('firing · low-network (critical) · TEST-BLACK @ all warehouses · available 40, reserved -13, incoming 0');
    const feed = noticeAlert({ ...NEGATIVE_RESERVED, rule: 'feed-silent', type: 'stale_warehouse', summary: null, productId: null, sku: null, product: null });
    expect(plain(alertLine(feed))).toBe('firing · feed-silent (critical) · test warehouse · available 0, reserved -13, incoming 0');
    expect(plain(alertLine(noticeAlert({ ...NEGATIVE_RESERVED, summary: null, inhibited: true })))).toMatch(/incoming 0 · inhibited$/);
  });
});

describe('ordering and sums', () => {
  it('lists most severe first, then new, still firing, resolved', () => {
    const sorted = sortAlerts([
      noticeAlert({ ...NEGATIVE_RESERVED, severity: 'info', rule: 'stale', sku: 'A' }),
      noticeAlert({ ...NEGATIVE_RESERVED, kind: 'resolved', sku: 'B' }),
      noticeAlert({ ...NEGATIVE_RESERVED, kind: 'repeat', sku: 'C' }),
      noticeAlert({ ...NEGATIVE_RESERVED, severity: 'warning', rule: 'low', sku: 'D' }),
      noticeAlert({ ...NEGATIVE_RESERVED, sku: 'E' }),
    ]);
    expect(sorted.map((a) => a.sku)).toEqual(['E', 'C', 'B', 'D', 'A']);
  });

  it('sums the rest per rule with counts per event', () => {
    const rest = [
      noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low', severity: 'warning' }),
      noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low', severity: 'warning', kind: 'resolved' }),
      noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low', severity: 'warning' }),
      noticeAlert({ ...NEGATIVE_RESERVED, rule: 'neg', kind: 'repeat' }),
    ];
    expect(restSummary(rest, Infinity)).toBe('… and 4 more: neg 1 still firing; low 2 new, 1 resolved');
  });

  it('says how long an alert has been firing', () => {
    expect(firingFor(noticeAlert(NEGATIVE_RESERVED), T0)).toBe('3d4h');
    expect(firingFor(noticeAlert({ ...NEGATIVE_RESERVED, firstSeenMs: T0 + 5000 }), T0)).toBe('0s');
  });
});

describe('formatCount', () => {
  it('groups thousands as en-US does, for every count a notice shows', () => {
    const en = new Intl.NumberFormat('en-US');
    const samples = [0, 1, 12, 123, 999, 1000, 1234, 12_345, 123_456, 1_234_567, 29_980, 100_000, 1_000_000, 2 ** 31, Number.MAX_SAFE_INTEGER];
    for (const n of [...samples, ...samples.map((s) => -s).filter((s) => s !== 0)]) expect(formatCount(n)).toBe(en.format(n));
    for (let n = 0; n < 20_000; n += 7) expect(formatCount(n)).toBe(en.format(n));
  });

  it('leaves what is not a whole number to Intl', () => {
    expect(formatCount(1234.5)).toBe('1,234.5');
    expect(formatCount(1e21)).toBe(new Intl.NumberFormat('en-US').format(1e21));
  });
});

describe('UTC times', () => {
  // Parts of a UTC time are read off the Date instead of Intl (its first use costs ~20 ms): the same text.
  const viaIntl = (ms: number): string => {
    const parts: Record<string, string> = {};
    const format = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
    for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} UTC`;
  };

  it('reads the same as through Intl, over the whole range of Date', () => {
    const edges = [0, -1, 8.64e15, -8.64e15, Date.UTC(1, 0, 1) - 1, Date.UTC(1, 0, 1), Date.UTC(2026, 4, 1, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59)];
    for (const ms of edges) expect(formatUtcTime(ms)).toBe(viaIntl(ms));
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(formatUtcTime(ms)).toBe(viaIntl(ms));
        expect(formatZonedTime(ms, 'UTC')).toBe(viaIntl(ms));
        expect(formatZonedDate(ms, 'UTC')).toBe(viaIntl(ms).slice(0, viaIntl(ms).indexOf(' ')));
      }),
      { numRuns: 2000 },
    );
  });

  it('still refuses an invalid time as Intl does', () => {
    expect(() => formatUtcTime(8.64e15 + 1)).toThrow(RangeError);
    expect(() => formatUtcTime(NaN)).toThrow(RangeError);
  });
});
