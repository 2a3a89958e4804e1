// SMTP is down when an event happens and comes back later, on the same port: the mail arrives once.
import { sleep, type ChildRun } from '../support/processes';
import { startFakeSmtp, type FakeS2 } from '../support/stand-ins';
import { waitFor } from '../support/stand-ins';
import { mailStatuses, overview, rulesYaml, Scenario } from './helpers';

jest.setTimeout(60_000);

describe('fault: SMTP down, then back', () => {
  let scenario: Scenario;
  let s2: FakeS2;

  beforeEach(async () => {
    scenario = new Scenario('smtp', rulesYaml({ slack: false }));
    ({ s2 } = await scenario.start({ overview: overview([{ sku: 'SKU-A', available: 5 }]) }));
  });

  afterEach(() => scenario.cleanup());

  test('a mail that could not be sent while the server was away is sent once when it is back', async () => {
    // The port of a server that is gone: connections are refused, as when the mail relay is down.
    const gone = await startFakeSmtp();
    const port = gone.port;
    const smtpUrl = gone.url;
    await gone.close();

    const daemon: ChildRun = await scenario.startDaemon(scenario.env({ smtpUrl }));
    await daemon.waitForLine(/poll ok/);
    s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-A', available: 0 }]) };

    // The event is committed and its mail fails at least twice (the retries back off: 1 s, 2 s, …).
    const firstTry = daemon.lines.length;
    await daemon.waitForLine((l) => /email notice not delivered, will retry: SMTP server 127\.0\.0\.1:\d+ connection failed/.test(String(l.msg)), 15_000);
    await daemon.waitForLine((l) => /email notice not delivered, will retry/.test(String(l.msg)), 15_000, daemon.lines.findIndex((l, i) => i >= firstTry && /will retry/.test(String(l.msg))) + 1);

    const smtp = await scenario.startSmtp({ port });
    expect(await waitFor(() => smtp.mails.length >= 1, 30_000)).toBe(true);
    await daemon.waitForLine(/email notice delivered/);
    // Several polls later, still one mail: nothing was queued twice.
    const polls = daemon.messages().filter((m) => m === 'poll ok').length;
    await waitFor(() => daemon.messages().filter((m) => m === 'poll ok').length >= polls + 3, 10_000);
    await sleep(500);

    expect(mailStatuses(smtp.mails)).toEqual(['firing']);
    expect(smtp.mails[0].to).toEqual(['buyers@example.com']);
    expect(smtp.mails[0].text).toContain('SKU-A');
    expect(daemon.messages().filter((m) => /email notice delivered/.test(m))).toHaveLength(1);
    expect(daemon.messages().some((m) => /failed for good/.test(m))).toBe(false);
  });
});
