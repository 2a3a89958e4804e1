// The S2 API misbehaves in every way the issue lists, one poll each: an empty overview (suspect),
// then slow past S2_API_TIMEOUT, 500, a truncated body, a wrong shape, not JSON, a body announced
// past the 512 MiB limit, a rejected token. No alert resolves from any of them; "suspect",
// "unreachable" and "recovered" are told once each.
import IORedis from 'ioredis';
import { sleep, type ChildRun } from '../support/processes';
import { slackText, type S2Answer, type FakeS2, type FakeSlack, type FakeSmtp } from '../support/stand-ins';
import { REDIS_URL, waitFor } from '../support/stand-ins';
import { overview, rulesYaml, Scenario } from './helpers';
import { StateStore } from '../../src/state/store';

jest.setTimeout(90_000);

const GOOD = overview([
  { sku: 'SKU-1', available: 0 },
  { sku: 'SKU-2', available: 0 },
  { sku: 'SKU-3', available: 7 },
  { sku: 'SKU-4', available: 8 },
]);

/** One answer per poll, in this order; the good overview before and after. */
const BAD: Array<{ answer: S2Answer; logged: RegExp }> = [
  { answer: { kind: 'slow', ms: 2500, body: GOOD }, logged: /poll failed: S2 API timed out after 1s/ },
  { answer: { kind: 'status', status: 500 }, logged: /poll failed: S2 API answered HTTP 500 Internal Server Error/ },
  { answer: { kind: 'truncated', body: GOOD }, logged: /poll failed: S2 API closed the connection before the body was complete/ },
  { answer: { kind: 'raw', text: JSON.stringify({ warehouses: [], products: [], items: { oops: true } }) }, logged: /poll failed: S2 API body is not an overview: items: expected an array, got an object/ },
  { answer: { kind: 'raw', text: '<html>502 Bad Gateway</html>' }, logged: /poll failed: S2 API body is not JSON/ },
  { answer: { kind: 'huge' }, logged: /poll failed: S2 API body exceeds the 512 MiB limit/ },
  { answer: { kind: 'status', status: 401 }, logged: /poll failed: S2 API rejected the token \(HTTP 401\)/ },
];

describe('fault: the S2 API misbehaves', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('source', rulesYaml());
    ({ s2, slack, smtp } = await scenario.start({ overview: GOOD, slack: true, smtp: true }));
  });

  afterEach(() => scenario.cleanup());

  test('no bad poll resolves an alert; suspect, unreachable and recovered are told once each', async () => {
    const daemon: ChildRun = await scenario.startDaemon(scenario.env({ apiTimeout: '1s' }));
    await daemon.waitForLine(/poll ok/);
    expect(await waitFor(() => slack.messages.length === 1 && smtp.mails.length === 1, 10_000)).toBe(true);

    // From the next request on: empty (suspect, a successful poll), then each bad answer once, then good again.
    const start = s2.requests.length;
    const script: S2Answer[] = [{ kind: 'json', body: overview([]) }, ...BAD.map((b) => b.answer)];
    s2.answer = (n) => script[n - start] ?? { kind: 'json', body: GOOD };
    expect(await waitFor(() => s2.requests.length >= start + script.length + 3, 40_000)).toBe(true);
    await daemon.waitForLine(/poll ok/, 10_000, daemon.lines.findIndex((l) => /S2 API rejected the token/.test(String(l.msg))));
    expect(await waitFor(() => slack.messages.length >= 4 && smtp.mails.length >= 4, 15_000)).toBe(true);
    await sleep(1500);

    const logged = daemon.messages().join('\n');
    for (const b of BAD) expect(logged).toMatch(b.logged);
    expect(logged).toMatch(/suspect overview: resolving nothing/);

    const texts = slack.messages.map(slackText);
    const kinds = (list: string[]): string[] =>
      list.map((t) =>
        /resolved · /.test(t)
          ? 'RESOLVED'
          : /firing · /.test(t)
            ? 'alerts'
            : /S2 source unreachable/.test(t)
              ? 'unreachable'
              : /S2 source recovered/.test(t)
                ? 'recovered'
                : /suspect overview/.test(t)
                  ? 'suspect'
                  : t,
      );
    expect(kinds(texts)).toEqual(['alerts', 'suspect', 'unreachable', 'recovered']);
    expect(kinds(smtp.mails.map((m) => `${m.subject}\n${m.text}`))).toEqual(['alerts', 'suspect', 'unreachable', 'recovered']);
    // The unreachable notice says what went wrong, and after how many polls.
    expect(texts[2]).toMatch(/3 polls failed in a row; last error: S2 API closed the connection before the body was complete/);

    // Both alerts are still firing, untouched, and the log has no "resolved" of them.
    const redis = new IORedis(REDIS_URL);
    try {
      expect(await new StateStore(redis, scenario.prefix).firingAlerts()).toHaveLength(2);
    } finally {
      redis.disconnect();
    }
    expect(daemon.lines.filter((l) => l.msg === 'poll ok').every((l) => l.resolved === 0)).toBe(true);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
