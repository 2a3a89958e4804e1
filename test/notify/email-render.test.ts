import type { Notice, NoticeAlert } from '../../src/notify/notice';
import { CSV_COLUMNS } from '../../src/notify/email/csv';
import { htmlEscape, renderEmail } from '../../src/notify/email/render';
import { alertLine } from '../../src/notify/text';
import { noticeAlert } from '../support/alerts';
import { parseCsv } from '../support/csv';
import { many, NEGATIVE_RESERVED, plain, T0 } from './helpers';

/** The email without the isolates around API text (they have a test of their own): its text as laid out. */
function laidOut(...args: Parameters<typeof renderEmail>): ReturnType<typeof renderEmail> {
  const email = renderEmail(...args);
  return { ...email, subject: plain(email.subject), text: plain(email.text), html: plain(email.html) };
}

function alertsNotice(alerts: NoticeAlert[]): Notice {
  return { type: 'alerts', id: 'n-1', createdAtMs: T0, alerts };
}

function digest(over: Partial<Extract<Notice, { type: 'digest' }>> = {}): Extract<Notice, { type: 'digest' }> {
  return { type: 'digest', id: 'd-1', createdAtMs: T0, sinceMs: T0 - 86_400_000, timezone: 'UTC', firing: [], newSince: [], resolvedSince: [], ...over };
}

function csvOf(email: ReturnType<typeof renderEmail>): string[][] {
  expect(email.attachments).toHaveLength(1);
  const content = email.attachments![0].content;
  expect(content.startsWith('\ufeff')).toBe(true);
  return parseCsv(content.slice(1));
}

/** Things a mail client would fetch, or styles it would drop. */
function expectSelfContained(html: string): void {
  // escaped API text holds no `<`, so every tag here is one the renderer wrote
  const tags = html.match(/<[^>]*>/g) ?? [];
  expect(tags.length).toBeGreaterThan(10);
  for (const tag of tags) expect(tag).not.toMatch(/^<(link|style|script|img|iframe|object)\b|\ssrc=|\shref=|url\(|@import|\sclass=/i);
}

describe('renderEmail: subjects', () => {
  it('says what happened to an alerts notice and names the first SKUs', () => {
    const email = laidOut(
      alertsNotice([
        noticeAlert(NEGATIVE_RESERVED),
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-available', severity: 'warning', sku: 'MX03-N-BLUE' }),
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-available', severity: 'warning', sku: 'MX03-N-RED' }),
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-available', severity: 'warning', sku: 'MX03-N-GREEN', kind: 'resolved', status: 'resolved' }),
      ]),
    );
    expect(email.subject).toBe('[stockwatch] 3 new, 1 resolved: TEST-BLACK, MX03-N-BLUE, MX03-N-RED, …');
    const two = laidOut(alertsNotice([noticeAlert(NEGATIVE_RESERVED), noticeAlert({ ...NEGATIVE_RESERVED, sku: null, product: null, productId: 'p-9', kind: 'repeat' })]));
    expect(two.subject).toBe('[stockwatch] 1 new, 1 still firing: TEST-BLACK, p-9');
    expect(laidOut(alertsNotice([noticeAlert(NEGATIVE_RESERVED), noticeAlert({ ...NEGATIVE_RESERVED, warehouseId: 'w2' })])).subject).toBe('[stockwatch] 2 new: TEST-BLACK');
  });

  it('keeps the subject one short line', () => {
    const email = laidOut(alertsNotice([noticeAlert({ ...NEGATIVE_RESERVED, sku: 'A\r\nBcc: x@example.com' + 'y'.repeat(400) })]));
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject.length).toBeLessThanOrEqual(200);
  });

  it('names source, test and digest notices', () => {
    const source = (event: 'unreachable' | 'recovered' | 'suspect') => laidOut({ type: 'source', id: 's', createdAtMs: T0, event, detail: 'd' }).subject;
    expect(source('unreachable')).toBe('[stockwatch] S2 source unreachable');
    expect(source('recovered')).toBe('[stockwatch] S2 source recovered');
    expect(source('suspect')).toBe('[stockwatch] S2 source: suspect overview');
    expect(laidOut({ type: 'test', id: 't', createdAtMs: T0, channel: 'ops' }).subject).toBe('[stockwatch] test notice for channel ops');
    const firing = [...many(40), noticeAlert(NEGATIVE_RESERVED), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'X' })];
    expect(laidOut(digest({ firing, newSince: many(5), resolvedSince: many(3, { kind: 'resolved' }, 'R') })).subject).toBe(
      '[stockwatch] digest: 42 firing (5 new, 3 resolved)',
    );
    expect(laidOut(digest({ firing })).subject).toBe('[stockwatch] digest: 42 firing');
    expect(laidOut(digest()).subject).toBe('[stockwatch] digest: all clear');
    expect(laidOut(digest({ resolvedSince: [noticeAlert({ ...NEGATIVE_RESERVED, kind: 'resolved' })] })).subject).toBe('[stockwatch] digest: all clear (1 resolved)');
  });
});

describe('renderEmail: alerts notice', () => {
  it('has one alert line per alert in the text part and a table in the HTML part', () => {
    const alerts = [noticeAlert({ ...NEGATIVE_RESERVED, kind: 'resolved', status: 'resolved', sku: 'B' }), noticeAlert(NEGATIVE_RESERVED)];
    const email = laidOut(alertsNotice(alerts));
    const lines = email.text.split('\n');
    expect(lines[0]).toBe('stockwatch: 1 new, 1 resolved');
    expect(lines).toContain(plain(alertLine(alerts[1])));
    expect(lines).toContain(plain(alertLine(alerts[0])));
    expect(lines.indexOf(plain(alertLine(alerts[1])))).toBeLessThan(lines.indexOf(plain(alertLine(alerts[0]))));
    expect(lines.filter((l) => l.includes('resolved'))).toEqual(['stockwatch: 1 new, 1 resolved', plain(alertLine(alerts[0]))]);
    expect(email.html).toContain('<td dir="auto" valign="top" style="padding:3px 6px;border-bottom:1px solid #e4e4e7;">TEST-BLACK</td>');
    expect(email.attachments).toBeUndefined();
    expectSelfContained(email.html);
  });

  it('puts API text in Unicode isolates in the text lines, the subject and the HTML cells', () => {
    const RLO = '\u202E';
    const email = renderEmail(alertsNotice([noticeAlert({ ...NEGATIVE_RESERVED, sku: `S${RLO}`, warehouse: `<W>${RLO}`, product: `P${RLO}`, brand: `B${RLO}`, summary: null })]));
    expect(email.text.split('\n')).toContain(`firing · negative-reserved (critical) · \u2068S${RLO}\u2069 @ \u2068<W>${RLO}\u2069 · available 0, reserved -13, incoming 0`);
    expect(email.subject).toBe(`[stockwatch] 1 new: \u2068S${RLO}\u2069`);
    expect(email.html).toContain(`>\u2068&lt;W&gt;${RLO}\u2069</td>`);
    expect(email.html).toContain(`>\u2068P${RLO}\u2069 · \u2068B${RLO}\u2069</td>`);
  });

  it('escapes HTML in every API text and keeps RTL and emoji intact', () => {
    const email = laidOut(
      alertsNotice([
        noticeAlert({ ...NEGATIVE_RESERVED,
          sku: '<script>alert("x")</script>',
          product: "Tom's & Jerry's",
          warehouse: 'مستودع 🏭',
          summary: '<img src=x onerror=alert(1)>',
        }),
      ]),
    );
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(email.html).toContain('Tom&#39;s &amp; Jerry&#39;s');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.html).toContain('مستودع 🏭');
    expectSelfContained(email.html);
    // the text part is plain text: as it came, on one line
    expect(email.text).toContain('<script>alert("x")</script> @ مستودع 🏭');
  });

  it('lists at most maxPerRule alerts of a rule, counts the rest and attaches every alert', () => {
    const alerts = [...many(60), noticeAlert(NEGATIVE_RESERVED), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'C2' })];
    const email = laidOut(alertsNotice(alerts), { maxPerRule: 50 });
    const lines = email.text.split('\n');
    expect(lines.filter((l) => l.startsWith('firing · low-available'))).toHaveLength(50);
    expect(lines.filter((l) => l.startsWith('firing · negative-reserved'))).toHaveLength(2);
    expect(lines).toContain('… and 10 more: low-available 10 new (every alert is in the attached CSV)');
    expect(email.attachments![0].filename).toBe('stockwatch-alerts-2026-05-01.csv');
    expect(csvOf(email)).toHaveLength(1 + 62);
  });
});

describe('renderEmail: source and test notices', () => {
  it('tells what happened with the detail', () => {
    const email = laidOut({ type: 'source', id: 's', createdAtMs: T0, event: 'unreachable', detail: '3 polls failed in a row; last error: <timeout>' });
    expect(email.text.split('\n').slice(0, 3)).toEqual([
      'stockwatch cannot reach the S2 inventory API',
      '',
      '3 polls failed in a row; last error: <timeout>',
    ]);
    expect(email.html).toContain('3 polls failed in a row; last error: &lt;timeout&gt;');
    expectSelfContained(email.html);
  });

  it('renders a test notice', () => {
    const email = laidOut({ type: 'test', id: 't', createdAtMs: T0, channel: 'buyers' });
    expect(email.text).toContain('stockwatch test notice for channel buyers');
    expect(email.html).toContain('stockwatch test notice for channel buyers');
  });
});

describe('renderEmail: digest', () => {
  const critical = [noticeAlert({ ...NEGATIVE_RESERVED, sku: 'NEG-B', productId: 'nb' }), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'NEG-A', productId: 'na', kind: 'repeat' })];
  const stale = [noticeAlert({ ...NEGATIVE_RESERVED, rule: 'stale', type: 'stale', severity: 'info', sku: 'OLD-1', summary: null, firstSeenMs: T0 - 90 * 60_000 })];
  const low = many(120, { kind: 'repeat', firstSeenMs: T0 - 2 * 86_400_000 });

  it('lists what fires by severity then rule, with how long, then what is new and resolved', () => {
    const gone = noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-available', severity: 'warning', sku: 'GONE-1', kind: 'resolved', status: 'resolved', available: 40, reserved: 0, summary: null });
    const email = laidOut(digest({ firing: [...stale, ...low.slice(0, 2), ...critical], newSince: [critical[0]], resolvedSince: [gone] }));
    const text = email.text.split('\n');
    const at = (line: string) => {
      const i = text.indexOf(line);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(text[0]).toBe('stockwatch digest: 5 firing (1 new, 1 resolved)');
    expect(text[1]).toBe('Alerts firing at 2026-05-01 12:00 UTC; the last digest was at 2026-04-30 12:00 UTC.');
    const order = [
      at('FIRING NOW (5)'),
      at('critical · negative-reserved (2)'),
      at('firing for 3d4h · negative-reserved (critical) · NEG-A (Test Product) @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative'),
      at('firing for 3d4h · negative-reserved (critical) · NEG-B (Test Product) @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative'),
      at('warning · low-available (2)'),
      at('firing for 2d · low-available (warning) · SKU-00000 (Test Product) @ test warehouse · available 0, reserved 0, incoming 0'),
      at('info · stale (1)'),
      at('firing for 1h30m · stale (info) · OLD-1 (Test Product) @ test warehouse · available 0, reserved -13, incoming 0'),
      at('NEW SINCE THE LAST DIGEST (1)'),
      at(plain(alertLine({ ...critical[0], kind: 'new' }))),
      at('RESOLVED SINCE THE LAST DIGEST (1)'),
      at('resolved · low-available (warning) · GONE-1 @ test warehouse · available 40, reserved 0, incoming 0'),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // only the resolved section's line says resolved about an alert
    const alertLines = text.filter((l) => / · \S+ \((critical|warning|info)\) · /.test(l));
    expect(alertLines.filter((l) => l.includes('resolved'))).toEqual(['resolved · low-available (warning) · GONE-1 @ test warehouse · available 40, reserved 0, incoming 0']);
    expect(email.html).toContain('Firing now (5)');
    expect(email.html).toContain('New since the last digest (1)');
    expect(email.html).toContain('Resolved since the last digest (1)');
    expect(email.html).toContain('>3d4h</td>');
    expectSelfContained(email.html);
  });

  it('lists maxPerRule alerts of each rule and attaches a CSV of every firing alert', () => {
    const firing = [...low, ...critical, ...stale];
    const email = laidOut(digest({ firing, newSince: many(70, {}, 'NEW'), resolvedSince: [] }), { maxPerRule: 50 });
    const text = email.text.split('\n');
    expect(text.filter((l) => l.startsWith('firing for 2d · low-available'))).toHaveLength(50);
    expect(text).toContain('… and 70 more low-available alerts (every firing alert is in the attached CSV)');
    expect(text.filter((l) => l.startsWith('firing · low-available (warning) · NEW-'))).toHaveLength(50);
    expect(text).toContain('… and 20 more: low-available 20 new');
    expect(email.html.match(/<tr><td dir="auto"/g)!.length).toBe(50 + 2 + 1 + 50);

    const rows = csvOf(email);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows.slice(1)).toHaveLength(firing.length);
    expect(new Set(rows.slice(1).map((r) => r[7])).size).toBe(firing.length); // one row per alert
    const neg = rows.find((r) => r[7] === 'NEG-B')!;
    expect(neg).toEqual([
      'negative-reserved',
      'negative_reserved',
      'critical',
      'firing',
      '9cae310d-c440-4d78-bdc0-bf306ec33888',
      'test warehouse',
      'nb',
      'NEG-B',
      'Test Product',
      '0',
      '0',
      '-13',
      '2026-04-30T10:00:00Z',
      'TEST-BLACK reserved is negative',
      'false',
      'false',
      '',
      '',
      '',
      '2026-04-28T08:00:00.000Z',
    ]);
    expect(email.attachments![0]).toMatchObject({ filename: 'stockwatch-digest-2026-05-01.csv', contentType: 'text/csv; charset=utf-8' });
  });

  it('quotes CSV cells per RFC 4180 and defuses formulas in text cells only', () => {
    const tricky = noticeAlert({ ...NEGATIVE_RESERVED,
      sku: '=HYPERLINK("http://x","y")',
      product: '+cmd, "quoted"\r\nsecond line',
      warehouse: '@SUM(A1)',
      summary: '-2+3',
    });
    const unknown = noticeAlert({ ...NEGATIVE_RESERVED, sku: null, product: null, warehouse: null, summary: null, productId: 'p-x', reserved: -7, silenced: true });
    const rows = csvOf(laidOut(digest({ firing: [tricky, unknown] })));
    const t = rows.find((r) => r[6] === tricky.productId)!;
    expect(t[7]).toBe('\'=HYPERLINK("http://x","y")');
    expect(t[8]).toBe('\'+cmd, "quoted"\r\nsecond line');
    expect(t[5]).toBe("'@SUM(A1)");
    expect(t[13]).toBe("'-2+3");
    expect(t[11]).toBe('-13');
    const u = rows.find((r) => r[6] === 'p-x')!;
    expect([u[5], u[7], u[8], u[11], u[13], u[14]]).toEqual(['', '', '', '-7', '', 'true']);
  });

  it('dates the attachment in the channel timezone and says when there was no earlier digest', () => {
    const at = Date.UTC(2026, 4, 1, 2, 0); // 2026-04-30 22:00 in Toronto
    const email = laidOut(digest({ createdAtMs: at, sinceMs: null, timezone: 'America/Toronto', firing: critical }));
    expect(email.attachments![0].filename).toBe('stockwatch-digest-2026-04-30.csv');
    expect(email.text.split('\n')[1]).toBe('Alerts firing at 2026-04-30 22:00 America/Toronto; this is the first digest of this channel.');
  });

  it('says all clear with nothing firing and attaches nothing', () => {
    const email = laidOut(digest());
    expect(email.text).toContain('Nothing is firing.');
    expect(email.attachments).toBeUndefined();
    expectSelfContained(email.html);
  });
});

it('htmlEscape escapes & < > " \'', () => {
  expect(htmlEscape(`&<>"'x`)).toBe('&amp;&lt;&gt;&quot;&#39;x');
});
