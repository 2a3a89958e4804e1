import type { Notice, NoticeAlert, OmittedAlerts } from '../../src/notify/notice';
import { renderSlack, SLACK_LIMITS, SLACK_NOTICE_KEEPS, slackEscape, slackNoticeAlerts } from '../../src/notify/slack/render';
import { alertLine } from '../../src/notify/text';
import { noticeAlert } from '../support/alerts';
import { many, NEGATIVE_RESERVED, plain, T0 } from './helpers';

interface Block {
  type: string;
  text?: { type: string; text: string };
  elements?: Array<{ type: string; text: string }>;
}

function alertsNotice(alerts: NoticeAlert[]): Notice {
  return { type: 'alerts', id: 'n-1', createdAtMs: T0, alerts };
}

function blocksOf(payload: { blocks: object[] }): Block[] {
  return payload.blocks as Block[];
}

/** Every text a Slack client would show, block by block. */
function texts(payload: { text: string; blocks: object[] }): string[] {
  const out = [payload.text];
  for (const b of blocksOf(payload)) {
    if (b.text) out.push(b.text.text);
    for (const e of b.elements ?? []) out.push(e.text);
  }
  return out;
}

/** The alert lines of the message's sections, without the isolates around API text (tested on their own). */
function sectionLines(payload: { blocks: object[] }): string[] {
  return blocksOf(payload)
    .filter((b) => b.type === 'section')
    .flatMap((b) => plain(b.text!.text).split('\n'));
}

function expectWithinLimits(payload: { text: string; blocks: object[] }): void {
  const blocks = blocksOf(payload);
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const b of blocks) {
    if (b.type === 'header') expect(b.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    for (const e of b.elements ?? []) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
  }
  expect(payload.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const t of texts(payload)) expect(t).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no split emoji
}

describe('slackEscape', () => {
  it('escapes & first, then < and >, nothing else', () => {
    expect(slackEscape('<!channel> & <http://x|y> &lt; *b* _i_ "q"')).toBe('&lt;!channel&gt; &amp; &lt;http://x|y&gt; &amp;lt; *b* _i_ "q"');
  });
});

describe('renderSlack: alerts', () => {
  it('has a header with counts and one line per alert, most severe first', () => {
    const payload = renderSlack(
      alertsNotice([
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-available', severity: 'warning', sku: 'MX03-N-BLUE', summary: null, kind: 'resolved', status: 'resolved', available: 12, reserved: 0 }),
        noticeAlert({ ...NEGATIVE_RESERVED, kind: 'repeat', sku: 'TEST-WHITE', summary: null }),
        noticeAlert(NEGATIVE_RESERVED),
        noticeAlert({ ...NEGATIVE_RESERVED, rule: 'low-available', severity: 'warning', sku: 'MX03-N-RED', summary: null, available: 3, reserved: 0, incoming: 40 }),
      ]),
    );
    const blocks = blocksOf(payload);
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'stockwatch: 2 new, 1 still firing, 1 resolved', emoji: true } });
    expect(sectionLines(payload)).toEqual([
      'firing · negative-reserved (critical) · TEST-BLACK @ test warehouse · available 0, reserved -13, incoming 0 — TEST-BLACK reserved is negative',
      'still firing · negative-reserved (critical) · TEST-WHITE @ test warehouse · available 0, reserved -13, incoming 0',
      'firing · low-available (warning) · MX03-N-RED @ test warehouse · available 3, reserved 0, incoming 40',
      'resolved · low-available (warning) · MX03-N-BLUE @ test warehouse · available 12, reserved 0, incoming 0',
    ]);
    expect(blocks[blocks.length - 1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'stockwatch · 2026-05-01 12:00 UTC', verbatim: true }],
    });
    expect(payload.text.split('\n')[0]).toBe('stockwatch: 2 new, 1 still firing, 1 resolved');
    expect(plain(payload.text)).toContain('resolved · low-available (warning) · MX03-N-BLUE');
  });

  it('says resolved only on the lines of resolved alerts', () => {
    const alerts = [noticeAlert({ ...NEGATIVE_RESERVED, sku: 'A' }), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'B', kind: 'resolved', status: 'resolved' }), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'C', kind: 'repeat' })];
    const lines = sectionLines(renderSlack(alertsNotice(alerts)));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const sku = line.split(' · ')[2].split(' @ ')[0];
      expect(line.includes('resolved')).toBe(sku === 'B');
    }
  });

  it('escapes API and rule text so that it cannot mention or link', () => {
    const payload = renderSlack(
      alertsNotice([
        noticeAlert({ ...NEGATIVE_RESERVED,
          sku: '<!channel>',
          warehouse: '<@U024BE7LH> & <#C123>',
          summary: '<http://evil.example|click here> &lt;b&gt;',
        }),
      ]),
    );
    const line = sectionLines(payload)[0];
    expect(line).toBe(
      'firing · negative-reserved (critical) · &lt;!channel&gt; @ &lt;@U024BE7LH&gt; &amp; &lt;#C123&gt; · available 0, reserved -13, incoming 0 — &lt;http://evil.example|click here&gt; &amp;lt;b&amp;gt;',
    );
    for (const t of texts(payload)) {
      expect(t).not.toMatch(/[<>]/);
      expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    // mrkdwn texts are verbatim: no auto-linking of bare URLs or channel names
    for (const b of blocksOf(payload)) if (b.text?.type === 'mrkdwn') expect(b.text).toHaveProperty('verbatim', true);
  });

  it('keeps RTL text and emoji intact', () => {
    const payload = renderSlack(alertsNotice([noticeAlert({ ...NEGATIVE_RESERVED, sku: 'מוצר-😀', product: 'منتج', warehouse: 'مستودع 🏭' })]));
    expect(sectionLines(payload)[0]).toContain('מוצר-😀 @ مستودع 🏭');
  });

  it('puts escaped API text in Unicode isolates, so an unbalanced RTL mark cannot reverse the rest of the line', () => {
    const RLO = '\u202E';
    const payload = renderSlack(alertsNotice([noticeAlert({ ...NEGATIVE_RESERVED, sku: `<b>${RLO}`, warehouse: `مستودع ${RLO}&`, summary: null })]));
    const raw = blocksOf(payload).find((b) => b.type === 'section')!.text!.text;
    expect(raw).toBe(
      `firing · negative-reserved (critical) · \u2068&lt;b&gt;${RLO}\u2069 @ \u2068مستودع ${RLO}&amp;\u2069 · available 0, reserved -13, incoming 0`,
    );
    expect(payload.text).toContain(`\u2068&lt;b&gt;${RLO}\u2069`);
  });

  it('appends the summary text where the rule has one', () => {
    const [withSummary, without] = sectionLines(
      renderSlack(alertsNotice([noticeAlert({ ...NEGATIVE_RESERVED, sku: 'A', summary: 'A at test warehouse: 0 left' }), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'B', summary: null })])),
    );
    expect(withSummary.endsWith(' — A at test warehouse: 0 left')).toBe(true);
    expect(without.endsWith('incoming 0')).toBe(true);
  });

  it('turns a mass event of 30,000 alerts into one message within Slack limits', () => {
    const alerts = [
      ...many(25_000, { kind: 'new' }, 'N'),
      ...many(4_980, { kind: 'resolved', status: 'resolved' }, 'R'),
      ...Array.from({ length: 20 }, (_, i) => noticeAlert({ ...NEGATIVE_RESERVED, sku: `CRIT-${String(i).padStart(2, '0')}`, productId: `c${i}` })),
    ];
    const payload = renderSlack(alertsNotice(alerts));
    expectWithinLimits(payload);
    const blocks = blocksOf(payload);
    expect(blocks[0].text!.text).toBe('stockwatch: 25,020 new, 4,980 resolved');
    const lines = sectionLines(payload);
    // the 20 most severe are listed, then the rest is summed up per rule
    expect(lines.slice(0, 20).every((l) => l.startsWith('firing · negative-reserved (critical) · CRIT-'))).toBe(true);
    expect(lines.slice(20)).toEqual(['… and 29,980 more: low-available 25,000 new, 4,980 resolved']);
    expect(JSON.stringify(payload).length).toBeLessThan(40_000);
  });

  it('sums up the alerts left out per rule, and the sums add up', () => {
    const alerts: NoticeAlert[] = [
      ...many(7, { rule: 'stale', type: 'stale', severity: 'info' }, 'S'),
      ...many(5, { kind: 'repeat' }, 'L'),
      ...many(9, { kind: 'resolved', status: 'resolved' }, 'LR'),
      ...Array.from({ length: 4 }, (_, i) => noticeAlert({ ...NEGATIVE_RESERVED, sku: `NEG-${i}`, productId: `n${i}` })),
      ...Array.from({ length: 3 }, (_, i) => noticeAlert({ ...NEGATIVE_RESERVED, sku: `NEGR-${i}`, productId: `nr${i}`, kind: 'resolved', status: 'resolved' })),
    ];
    const payload = renderSlack(alertsNotice(alerts), { maxAlerts: 6 });
    const lines = sectionLines(payload);
    // listed: 4 critical new, then 2 critical resolved; left: 1 critical resolved, 5+9 warning, 7 info
    expect(lines.slice(0, 6).map((l) => l.split(' · ')[0])).toEqual(['firing', 'firing', 'firing', 'firing', 'resolved', 'resolved']);
    expect(lines[6]).toBe('… and 22 more: negative-reserved 1 resolved; low-available 5 still firing, 9 resolved; stale 7 new');
    expect(lines).toHaveLength(7);
  });

  it('cuts overlong text in one place without splitting an emoji or an entity', () => {
    const long = '😀<&'.repeat(2000);
    const payload = renderSlack(alertsNotice([noticeAlert({ ...NEGATIVE_RESERVED, summary: long }), noticeAlert({ ...NEGATIVE_RESERVED, sku: 'B', summary: long })]));
    expectWithinLimits(payload);
    for (const line of sectionLines(payload)) {
      expect(line.endsWith('…')).toBe(true);
      expect(line).not.toMatch(/&[a-z]{0,3}…$/);
    }
  });

  it('stays within 50 blocks when a large maxAlerts meets long lines, and counts what it left out', () => {
    const alerts = many(500, { summary: 'x'.repeat(1400) });
    const payload = renderSlack(alertsNotice(alerts), { maxAlerts: 500 });
    expectWithinLimits(payload);
    const lines = sectionLines(payload);
    const rest = lines[lines.length - 1];
    const left = Number(/^… and ([\d,]+) more: /.exec(rest)![1].replace(/,/g, ''));
    expect(lines.length - 1 + left).toBe(500);
    expect(rest).toBe(`… and ${left.toLocaleString('en-US')} more: low-available ${left.toLocaleString('en-US')} new`);
  });

  it('keeps the per-rule sum within a section when hundreds of rules are left out', () => {
    const alerts = Array.from({ length: 600 }, (_, i) => noticeAlert({ ...NEGATIVE_RESERVED, rule: `rule-number-${String(i).padStart(3, '0')}`, sku: `S${i}`, productId: `p${i}` }));
    const payload = renderSlack(alertsNotice(alerts));
    expectWithinLimits(payload);
    const rest = sectionLines(payload).pop()!;
    const match = /^… and 580 more: (.*); ([\d,]+) more rules$/.exec(rest)!;
    expect(match).not.toBeNull();
    expect(match[1].split('; ').length + Number(match[2].replace(/,/g, ''))).toBe(580);
  });
});

describe('renderSlack: other notices', () => {
  it('renders source notices with the escaped detail', () => {
    const unreachable = renderSlack({
      type: 'source',
      id: 's1',
      createdAtMs: T0,
      event: 'unreachable',
      detail: '3 polls failed in a row; last error: S2 API answered 502 <html>',
    });
    expect(blocksOf(unreachable)[0].text!.text).toBe('stockwatch: S2 source unreachable');
    expect(sectionLines(unreachable)[0]).toBe('3 polls failed in a row; last error: S2 API answered 502 &lt;html&gt;');
    const suspect = renderSlack({ type: 'source', id: 's2', createdAtMs: T0, event: 'suspect', detail: 'the overview has 40 items, the last good one had 200' });
    expect(blocksOf(suspect)[0].text!.text).toBe('stockwatch: suspect overview from S2');
    expect(suspect.text).toContain('the overview has 40 items, the last good one had 200');
    const recovered = renderSlack({ type: 'source', id: 's3', createdAtMs: T0, event: 'recovered', detail: 'poll succeeded after 4 failures' });
    expect(recovered.text.split('\n')[0]).toBe('stockwatch: S2 source recovered');
  });

  it('renders a test notice naming the channel', () => {
    const payload = renderSlack({ type: 'test', id: 't1', createdAtMs: T0, channel: 'ops' });
    expect(blocksOf(payload)[0].text!.text).toBe('stockwatch: test notice');
    expect(sectionLines(payload)[0]).toContain('test notice for channel ops');
  });

  it('renders a digest sanely: what fires, and counts of what changed', () => {
    const payload = renderSlack({
      type: 'digest',
      id: 'd1',
      createdAtMs: T0,
      sinceMs: T0 - 86_400_000,
      timezone: 'UTC',
      firing: [noticeAlert(NEGATIVE_RESERVED), ...many(30, { kind: 'repeat' })],
      newSince: [noticeAlert(NEGATIVE_RESERVED)],
      resolvedSince: many(2, { kind: 'resolved', status: 'resolved' }, 'R'),
    });
    expectWithinLimits(payload);
    expect(blocksOf(payload)[0].text!.text).toBe('stockwatch digest: 31 firing (1 new, 2 resolved)');
    const lines = sectionLines(payload);
    expect(lines).toContain('… and 11 more: low-available 11 still firing');
    expect(lines).toContain('1 new since the last digest: negative-reserved 1');
    expect(lines).toContain('2 resolved since the last digest: low-available 2');
    const clear = renderSlack({ type: 'digest', id: 'd2', createdAtMs: T0, sinceMs: null, timezone: 'UTC', firing: [], newSince: [], resolvedSince: [] });
    expect(blocksOf(clear)[0].text!.text).toBe('stockwatch digest: all clear');
  });
});

it('renders the same line as alertLine, escaped', () => {
  const a = noticeAlert({ ...NEGATIVE_RESERVED, sku: 'A&B' });
  const section = blocksOf(renderSlack(alertsNotice([a]))).find((b) => b.type === 'section')!.text!.text;
  expect(section).toBe(slackEscape(alertLine(a)));
});

describe('slackNoticeAlerts', () => {
  const notice = (alerts: NoticeAlert[], omitted?: OmittedAlerts[]): Notice => ({
    type: 'alerts',
    id: 'a-1',
    createdAtMs: T0,
    alerts,
    ...(omitted ? { omitted } : {}),
  });

  it('keeps few alerts whole', () => {
    const alerts = many(12);
    expect(slackNoticeAlerts(alerts)).toEqual({ alerts });
  });

  it('a mass event keeps the most severe alerts and counts, and renders exactly as the full list', () => {
    const alerts = [
      ...many(20_000, { kind: 'new' }),
      ...many(9_000, { kind: 'resolved', status: 'resolved' }, 'OLD'),
      ...many(1_000, { rule: 'negative-reserved', type: 'negative_reserved', severity: 'critical', reserved: -1 }, 'NEG'),
    ];
    const slim = slackNoticeAlerts(alerts);
    expect(slim.alerts).toHaveLength(SLACK_NOTICE_KEEPS);
    expect(slim.alerts.every((a) => a.severity === 'critical')).toBe(true);
    expect(slim.omitted!.reduce((n, o) => n + o.count, 0)).toBe(alerts.length - SLACK_NOTICE_KEEPS);
    expect(renderSlack(notice(slim.alerts, slim.omitted))).toEqual(renderSlack(notice(alerts)));
  });
});
