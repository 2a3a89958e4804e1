// kill -9 at random moments of polls and deliveries, ten times in a row, while one item flips
// between firing and resolved. What must hold (docs/guarantees.md):
// - every change the daemon saw is told once, in order, and the last notice of each channel
//   matches the final state;
// - a duplicate only comes from the one documented window: the receiver took the message and the
//   daemon died before the queue recorded it. This run puts exactly one kill into that window (a
//   Slack request in flight), so it may show one duplicate, and that one must be from that kill.
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { mulberry32 } from '../../src/prng';
import { StateStore } from '../../src/state/store';
import { sleep, type ChildRun } from '../support/processes';
import type { FakeS2, FakeSlack, FakeSmtp } from '../support/stand-ins';
import { REDIS_URL, waitFor } from '../support/stand-ins';
import { asMade, mailStatuses, overview, rulesYaml, Scenario, statusOf, TAKEOVER_MS } from './helpers';

const ROUNDS = 10;
jest.setTimeout(ROUNDS * 12_000 + TAKEOVER_MS + 30_000);

type KillMode = 'poll' | 'mail' | 'slack-in-flight' | 'random';

interface Kill {
  round: number;
  mode: KillMode;
  atMs: number;
  /** What the trigger saw, for the failure message. */
  note: string;
}

/** The episode a notice is about: the item's `incoming` is the episode number. */
function episodeOf(text: string): number {
  // API text sits in Unicode isolates (U+2068 … U+2069).
  const m = /out-of-stock \(critical\) · \u2068SKU-F\u2069 @ [^\n]* incoming (\d+)/.exec(text);
  if (!m) throw new Error(`no out-of-stock line in:\n${text}`);
  return Number(m[1]);
}

describe('fault: kill -9 during polls and deliveries', () => {
  let scenario: Scenario;
  let s2: FakeS2;
  let slack: FakeSlack;
  let smtp: FakeSmtp;

  beforeEach(async () => {
    scenario = new Scenario('kill', rulesYaml());
    ({ s2, slack, smtp } = await scenario.start({ overview: overview([{ sku: 'SKU-F', available: 50 }]), slack: true, smtp: true }));
  });

  afterEach(() => scenario.cleanup());

  test(`${ROUNDS} kills in a row: the last notice matches the final state, no duplicate outside the documented window`, async () => {
    const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = mulberry32(seed); // seeded: a failing run replays with FAULT_SEED
    const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
    const env = scenario.env();

    // Episode e: odd = out of stock (firing), even = back in stock (resolved); `incoming: e` makes each one's text unique.
    let episode = 0;
    const flip = (): void => {
      episode += 1;
      const firing = episode % 2 === 1;
      s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-F', available: firing ? 0 : 50 + episode, incoming: episode }]) };
    };

    const kills: Kill[] = [];
    const slackRound = between(2, ROUNDS - 2);
    const modes: KillMode[] = Array.from({ length: ROUNDS }, (_, i) =>
      i === slackRound ? 'slack-in-flight' : (['poll', 'mail', 'random'] as const)[Math.floor(random() * 3)],
    );
    const context = (): string =>
      `seed ${seed} (replay with FAULT_SEED=${seed}); modes ${modes.join(',')}\nkills: ${JSON.stringify(kills)}\n` +
      `slack: ${JSON.stringify(slack.messages.map((m) => ({ atMs: m.atMs, line: m.text.split('\n')[1] })))}\n` +
      `mail: ${JSON.stringify(smtp.mails.map((m) => ({ atMs: m.atMs, id: m.noticeId, line: m.text.split('\n').find((l) => /out-of-stock/.test(l)) })))}`;

    for (let round = 0; round < ROUNDS; round++) {
      const daemon = await scenario.startDaemon(env, `daemon round ${round}`);
      const mode = modes[round];
      await new Promise<void>((resolve) => {
        let done = false;
        let postponed = 0;
        const timers: NodeJS.Timeout[] = [];
        const kill = (note: string): void => {
          if (done) return;
          // Only the slack-in-flight round may kill inside a delivery's window: postpone a kill that
          // would land while a message is on its way, or just after a receiver took one, before the
          // daemon could record it. (A mail held at MAIL FROM is not on its way yet.)
          const lastAnswer = Math.max(slack.attempts.at(-1)?.atMs ?? 0, smtp.mails.at(-1)?.atMs ?? 0);
          const inWindow = slack.inFlight > 0 || smtp.inFlight > 0 || Date.now() - lastAnswer < 500;
          if (mode !== 'slack-in-flight' && inWindow && postponed < 20) {
            postponed++;
            timers.push(setTimeout(() => kill(note), 300));
            return;
          }
          done = true;
          process.kill(daemon.pid, 'SIGKILL');
          const k: Kill = { round, mode, atMs: Date.now(), note: postponed > 0 ? `${note} (postponed ${postponed}x${inWindow ? ', still in a window' : ''})` : note };
          kills.push(k);
          if (process.env.FAULT_DEBUG) process.stderr.write(`round ${round}: killed (${mode}, ${k.note})\n`);
          for (const t of timers) clearTimeout(t);
          s2.onRequest = null;
          slack.onRequest = null;
          smtp.onMailFrom = null;
          resolve();
        };
        // The change happens at a random moment; the kill follows its mode.
        timers.push(
          setTimeout(() => {
            flip();
            if (mode === 'poll') {
              // Kill somewhere in the poll: while the overview is fetched, or during evaluate, commit and queueing.
              const answer = s2.answer;
              s2.answer = { kind: 'slow', ms: 80, body: (answer as { body: unknown }).body };
              s2.onRequest = () => timers.push(setTimeout(() => kill('during a poll'), between(0, 160)));
            } else if (mode === 'mail') {
              // Kill while the SMTP server holds MAIL FROM: the mail is not taken, it must come later,
              // once. (Late enough in the hold that the Slack notice of the same change is recorded.)
              smtp.onMailFrom = () => {
                timers.push(setTimeout(() => kill('during an SMTP exchange'), between(600, 1200)));
                return sleep(1500);
              };
            } else if (mode === 'slack-in-flight') {
              // Slack has the message; the daemon dies before it can record that: the documented window.
              slack.onRequest = () => kill('Slack request in flight');
            } else {
              timers.push(setTimeout(() => kill('at a random moment'), between(100, 2500)));
            }
            // Should the trigger not come (the event went out before it was armed), kill anyway.
            timers.push(setTimeout(() => kill('fallback'), 5000));
          }, between(0, 1200)),
        );
      });
      await daemon.exited;
    }

    // The final change, with a daemon that stays up: everything must settle. It is the opposite of
    // the state the daemons last committed, so that it must be told.
    const connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    const queues = ['slack', 'email'].map((name) => new Queue(name, { connection, prefix: scenario.prefix }));
    try {
      const committedFiring = (await new StateStore(connection, scenario.prefix).firingAlerts()).length > 0;
      flip();
      if ((episode % 2 === 1) === committedFiring) flip();
      const finalStatus = episode % 2 === 1 ? 'firing' : 'resolved';
      const daemon: ChildRun = await scenario.startDaemon(env, 'final daemon');
      const lastStatus = (texts: string[]): string | undefined => {
        const last = texts.filter((t) => /out-of-stock/.test(t)).at(-1);
        return last === undefined ? undefined : statusOf(last);
      };
      // Settled: both channels' last notice says the final state, and nothing is left to deliver
      // (a job held by a killed daemon counts as active until another daemon takes it over).
      const settled = await waitFor(async () => {
        if (lastStatus(slack.messages.map((m) => m.text)) !== finalStatus || lastStatus(smtp.mails.map((m) => m.text)) !== finalStatus) return false;
        for (const q of queues) {
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          if (Object.values(counts).some((n) => n > 0)) return false;
        }
        return (await connection.hlen(`${scenario.prefix}:state:outbox`)) === 0;
      }, TAKEOVER_MS + 15_000);
      expect({ settled, context: settled ? '' : context() }).toEqual({ settled: true, context: '' });
      // Nothing more trickles in.
      await sleep(2500);

      const slackAlerts = slack.messages.filter((m) => /out-of-stock/.test(m.text));
      const mailAlerts = smtp.mails.filter((m) => /out-of-stock/.test(m.text));
      expect(statusOf(slackAlerts.at(-1)!.text)).toBe(finalStatus);
      expect(statusOf(mailAlerts.at(-1)!.text)).toBe(finalStatus);

      // Duplicates: the same notice twice (Slack: same text as made, whose levels name the episode; mail: same notice id).
      // Explained: a kill came while the first copy was on its way or just after it was taken.
      const explained = (atMs: number): boolean => kills.some((k) => Math.abs(k.atMs - atMs) <= 1000);
      const duplicates: string[] = [];
      const unexplained: string[] = [];
      const check = <T>(list: T[], key: (x: T) => string, at: (x: T) => number, what: string): T[] => {
        const seen = new Map<string, T>();
        const unique: T[] = [];
        for (const x of list) {
          const first = seen.get(key(x));
          if (first === undefined) {
            seen.set(key(x), x);
            unique.push(x);
            continue;
          }
          duplicates.push(`${what}: ${key(x)}`);
          if (!explained(at(first))) unexplained.push(`${what}: ${key(x)}`);
        }
        return unique;
      };
      const slackUnique = check(slackAlerts, (m) => asMade(m.text), (m) => m.atMs, 'slack');
      const mailUnique = check(mailAlerts, (m) => m.noticeId ?? asMade(m.text), (m) => m.atMs, 'mail');
      expect({ unexplained, context: unexplained.length ? context() : '' }).toEqual({ unexplained: [], context: '' });
      expect({ atMostOne: duplicates.length <= 1, duplicates, context: duplicates.length > 1 ? context() : '' }).toEqual({ atMostOne: true, duplicates, context: '' });

      // In order, and alternating: firing, resolved, firing, … (a change is told once, never skipped in between).
      for (const [what, episodes] of [
        ['slack', slackUnique.map((m) => episodeOf(m.text))],
        ['mail', mailUnique.map((m) => episodeOf(m.text))],
      ] as const) {
        const inOrder = episodes.every((e, i) => i === 0 || e > episodes[i - 1]);
        const alternating = episodes.every((e, i) => i === 0 || e % 2 !== episodes[i - 1] % 2);
        expect({ what, inOrder, alternating, context: inOrder && alternating ? '' : context() }).toEqual({ what, inOrder: true, alternating: true, context: '' });
      }
      expect(daemon.messages().filter((m) => /failed for good/.test(m))).toEqual([]);
      expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      connection.disconnect();
    }
  });
  test('a notice whose daemon is killed twice while sending it is still sent, once', async () => {
    // Mail only, and the item goes out of stock once.
    const mailOnly = new Scenario('kill-twice', rulesYaml({ slack: false }));
    try {
      const env = mailOnly.env({ s2, smtpUrl: smtp.url });
      let daemon = await mailOnly.startDaemon(env, 'daemon 1');
      await daemon.waitForLine(/poll ok/);
      // The first two tries die at MAIL FROM (the mail is not taken); the third goes through.
      let kills = 0;
      smtp.onMailFrom = () => {
        if (kills >= 2) return;
        kills++;
        process.kill(daemon.pid, 'SIGKILL');
        return sleep(1000);
      };
      s2.answer = { kind: 'json', body: overview([{ sku: 'SKU-F', available: 0 }]) };
      await daemon.exited;
      // The second daemon takes the dead one's job over once its lock has run out, and dies the same way.
      daemon = await mailOnly.startDaemon(env, 'daemon 2');
      expect(await waitFor(() => kills === 2, TAKEOVER_MS)).toBe(true);
      await daemon.exited;
      expect(smtp.mails).toHaveLength(0);
      // The third takes it over again, and sends it.
      daemon = await mailOnly.startDaemon(env, 'daemon 3');
      const gaveUp = (): string[] => daemon.messages().filter((m) => /failed for good/.test(m));
      await waitFor(() => smtp.mails.length > 0 || gaveUp().length > 0, TAKEOVER_MS);
      await sleep(1000);
      expect({ mails: mailStatuses(smtp.mails), gaveUp: gaveUp() }).toEqual({ mails: ['firing'], gaveUp: [] });
      expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await mailOnly.cleanup();
    }
  });
});
