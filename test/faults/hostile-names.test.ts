// Product, warehouse and SKU text from the API that tries to mention, link, inject HTML or mail
// headers, or plays with direction and emoji: through a real `poll --once`, it arrives escaped
// (Slack cannot mention or link, HTML cannot run) and intact (every character the API sent is
// there, as text). Line breaks are the one exception: they become spaces, so they cannot add lines
// or headers.
import { htmlEscape, slackEscape } from '../../src/notify';
import type { FakeS2, FakeSlack, FakeSmtp } from '../support/stand-ins';
import { rulesYaml, Scenario, WAREHOUSE_ID } from './helpers';

jest.setTimeout(30_000);

const RLO = '\u202E';
const PDF = '\u202C';
const PRODUCT = `<!channel> <@U123> <http://evil.example/login|click here> <script>alert("x")</script> &amp; 'q' "dq"`;
const WAREHOUSE = `مستودع ${RLO}evil.exe${PDF} מחסן 📦🔥 👨‍👩‍👧 <!here> <#C999|general>`;
const SKU = 'SKU-<!everyone>-😀';
const INJECTED_SKU = 'INJ\r\nBcc: evil@example.com';
const INJECTED_PRODUCT = 'Header\r\nX-Evil: 1\n<b>bold</b>';

function body(): unknown {
  const updatedAt = new Date().toISOString();
  return {
    warehouses: [{ id: WAREHOUSE_ID, name: WAREHOUSE }],
    products: [
      { id: 'p-hostile', sku: SKU, name: PRODUCT, brand: { name: '<!subteam^S1>' } },
      { id: 'p-inject', sku: INJECTED_SKU, name: INJECTED_PRODUCT, brand: null },
    ],
    items: ['p-hostile', 'p-inject'].map((productId) => ({ warehouseId: WAREHOUSE_ID, level: { productId, available: 0, incoming: 0, reserved: 0, updatedAt } })),
  };
}

/** Every text Slack would format: the fallback and each block's text. */
function slackTexts(payload: { text: string; blocks: Array<Record<string, unknown>> }): string[] {
  const out = [payload.text];
  for (const b of payload.blocks) {
    const text = b.text as { text?: string } | undefined;
    if (text?.text !== undefined) out.push(text.text);
    for (const e of (b.elements as Array<{ text?: string }> | undefined) ?? []) if (e.text !== undefined) out.push(e.text);
  }
  return out;
}

describe('hostile names from the API', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('hostile', rulesYaml({ summary: '{{product}} in {{warehouse}}' }));
    ({ s2, slack, smtp } = await scenario.start({ overview: body(), slack: true, smtp: true }));
  });

  afterEach(() => scenario.cleanup());

  test('arrive escaped and intact in the Slack message and in both parts of the email', async () => {
    const poll = scenario.stockwatch(['poll', '--once', '--wait', '15s'], scenario.env());
    expect(await poll.exited).toEqual({ code: 0, signal: null });
    expect(slack.messages).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);

    // Slack: nothing can mention, link or format a channel; every name is there, escaped.
    const payload = JSON.parse(slack.messages[0].raw) as { text: string; blocks: Array<Record<string, unknown>> };
    const texts = slackTexts(payload);
    for (const t of texts) expect(t).not.toMatch(/[<>]/);
    const all = texts.join('\n');
    for (const name of [PRODUCT, WAREHOUSE, SKU]) expect(all).toContain(slackEscape(name));
    expect(payload.text).toContain(slackEscape(WAREHOUSE));
    expect(all).toContain('&lt;!channel&gt;');
    expect(all).toContain('&amp;amp;');
    // Line breaks in API text become a space: each alert stays one line.
    expect(all).toContain(slackEscape('INJ Bcc: evil@example.com'));
    expect(all).not.toMatch(/\nBcc:|\nX-Evil/);

    // Email text part: plain text, so every name is there exactly as sent.
    const mail = smtp.mails[0];
    for (const name of [PRODUCT, WAREHOUSE, SKU]) expect(mail.text).toContain(name);
    expect(mail.text).toContain(`${RLO}evil.exe${PDF}`);
    // In lines, each name sits in Unicode isolates: the unbalanced direction marks it carries end with it.
    expect(all).toContain(`\u2068${slackEscape(WAREHOUSE)}\u2069`);
    expect(mail.text).toContain(`\u2068${WAREHOUSE}\u2069`);
    // Email HTML part: escaped, so nothing runs or links; the same characters once unescaped.
    expect(mail.html).not.toMatch(/<script|<!channel>|<@U123>|<b>bold/);
    for (const name of [PRODUCT, WAREHOUSE, SKU]) expect(mail.html).toContain(htmlEscape(name));
    // No header or recipient smuggled in through a SKU or a product name.
    expect(mail.to).toEqual(['buyers@example.com']);
    expect(mail.headerNames).not.toContain('bcc');
    expect(mail.headerNames).not.toContain('x-evil');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toContain(SKU);
  });
});
