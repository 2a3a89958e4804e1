import type { Notice } from '../../src/notify/notice';
import { renderConsole } from '../../src/notify/console';
import { renderEmail } from '../../src/notify/email/render';
import { renderSlack } from '../../src/notify/slack/render';
import { renderWebhook } from '../../src/notify/webhook/render';
import { noticeAlert } from '../support/alerts';
import { many, NEGATIVE_RESERVED, plain, T0 } from './helpers';

const notice: Notice = {
  type: 'alerts',
  id: 'n-7',
  createdAtMs: T0,
  alerts: [noticeAlert(NEGATIVE_RESERVED), noticeAlert({ ...NEGATIVE_RESERVED, sku: '<!here>', kind: 'resolved', status: 'resolved' })],
};

describe('renderConsole', () => {
  it('shows a Slack message as sent: the fallback text and the text of every block', () => {
    const out = renderConsole(notice, { name: 'ops', kind: 'slack' });
    const lines = out.split('\n');
    expect(lines[1]).toBe('slack → ops · alerts notice n-7');
    const payload = renderSlack(notice);
    expect(out).toContain(`text:\n${payload.text}\n`);
    expect(out).toContain('blocks (3):\n[header]\nstockwatch: 1 new, 1 resolved\n[section]\n');
    expect(plain(out)).toContain('resolved · negative-reserved (critical) · &lt;!here&gt; @ test warehouse');
    expect(out).toContain('[context]\nstockwatch · 2026-05-01 12:00 UTC\n');
    expect(out.endsWith(`${'-'.repeat(72)}\n`)).toBe(true);
  });

  it('shows an email as sent: subject, text part and attachments', () => {
    const digest: Notice = { type: 'digest', id: 'd-1', createdAtMs: T0, sinceMs: null, timezone: 'UTC', firing: many(3), newSince: [], resolvedSince: [] };
    const out = renderConsole(digest, { name: 'buyers', kind: 'email' });
    const email = renderEmail(digest);
    expect(out).toContain(`email → buyers · digest notice d-1\n`);
    expect(out).toContain(`Subject: [stockwatch] digest: 3 firing\n\n${email.text.trimEnd()}\n`);
    const size = Buffer.byteLength(email.attachments![0].content, 'utf8');
    expect(out).toContain(`[attachment stockwatch-digest-2026-05-01.csv, text/csv; charset=utf-8, ${size} bytes]`);
    expect(out).not.toContain('<table');
  });

  it('shows a webhook body as sent, indented', () => {
    const out = renderConsole(notice, { name: 'erp', kind: 'webhook' });
    expect(out).toContain('webhook → erp · alerts notice n-7\n');
    expect(out).toContain(`POST application/json\n${JSON.stringify(JSON.parse(renderWebhook(notice)), null, 2)}\n`);
  });
});
