// `stockwatch replay DIR`: saved overviews, in time order, through the daemon's own poll step
// (stepPoll: the lifecycle, failed polls, suspect overviews) in memory, each file's time as `now`;
// prints what each channel would have been told at each poll. The notices are built by the
// daemon's own routing (routeEvents, alertNotices, sourceNotices), so replay and daemon cannot
// disagree about who hears what. No Redis, nothing sent.
import { UserError } from '../errors';
import { compileRuleSet, type CompiledRuleSet } from '../engine/evaluate';
import { EMPTY_HISTORY, type History } from '../engine/forecast';
import type { AlertRecord } from '../engine/lifecycle';
import { EMPTY_BOOKS, stepPoll, type PollBooks, type PollOutcome, type SourceEvent } from '../engine/step';
import { alertNotices, routeEvents, sourceNotices, type DeliveryJobData, type PollTag } from '../delivery/route';
import type { Alert, Channel } from '../model';
import type { Notice, NoticeAlert } from '../notify/notice';
import { renderConsole } from '../notify/console';
import { formatRuleError, loadRules } from '../rules/load';
import { OverviewReader } from '../source/incremental';
import { listSnapshots, readSnapshot, type SnapshotFile } from '../source/snapshots';
import { parseCommandArgs, printUsage } from './args';
import { plural, rulesDirOf } from './check';

const USAGE = `Usage: stockwatch replay DIR [--rules DIR] [--json]

Replays the overviews saved in DIR (by SNAPSHOT_DIR or \`stockwatch snapshot\`) in time order through
the same alert lifecycle as the daemon, in memory: no Redis, nothing sent. Each file's time (in its
name) is the poll's \`now\`. Prints, per poll, what each channel would have been told, as the
channel would show it. Use it to tune for, keep_firing_for, clear_at and inhibit on real history.

Files are named by their UTC time, with or without colons, plain or gzipped:
  2026-11-30T080500Z.json.gz   2026-11-30T08:05:00Z.json
Any other file in DIR is an error. A file whose body is not a valid overview counts as a failed
poll, exactly as the daemon counts one (three in a row: "source unreachable").
Digest channels: their events are shown at the poll they happened, not at the digest's cron time.

Options:
  --rules DIR   folder of rule files (default: $RULES_DIR, or ./rules)
  --json        print one JSON array of {"at": ISO, "channel": NAME, "alerts": [ALERT + "event"]}
                (event: new, still_firing or resolved) and nothing else; a source notice
                (unreachable, recovered, suspect) is an entry with "source" and "detail" and no alerts
  -h, --help    show this help

Exit status: 0 when replayed, 1 on bad input (DIR missing, a file that is not a snapshot, bad rules).`;

/** What one channel would have been told at one poll. */
export interface Told {
  channel: string;
  /** A digest channel: these events wait for its next digest. */
  digest: boolean;
  /** The notice as the daemon would queue it (a Slack notice keeps only what its message shows). */
  notice: Notice;
  /** Every alert event of the notice (none for a source notice). */
  alerts: NoticeAlert[];
}

export interface ReplayedPoll {
  atMs: number;
  /** null, or why the poll failed (the file is not a valid overview). */
  error: string | null;
  suspect: boolean;
  told: Told[];
  /** Things the daemon would log (suspect overviews accepted or held). */
  warnings: string[];
  firing: number;
  pending: number;
}

/** The replay's state between polls: what the daemon keeps in Redis, kept in memory. */
export class Replayer {
  private books: PollBooks = EMPTY_BOOKS;
  private alerts: ReadonlyMap<string, AlertRecord> = new Map();
  private history: History = EMPTY_HISTORY;
  private gen = 0;

  constructor(readonly compiled: CompiledRuleSet) {}

  /** One poll at `atMs`; polls must come in time order. */
  step(atMs: number, outcome: PollOutcome): ReplayedPoll {
    const { ruleSet } = this.compiled;
    const step = stepPoll({ books: this.books, alerts: this.alerts, compiled: this.compiled, nowMs: atMs, outcome, history: this.history });
    this.history = step.history;
    // The daemon's generation grows with every poll, failed or not; it makes the notice ids.
    this.gen++;
    const poll: PollTag = { id: `${this.gen}-${atMs.toString(36)}`, gen: this.gen, nowMs: atMs };
    this.books = step.books;
    const told: Told[] = [];
    for (const s of step.source) {
      for (const entry of sourceNotices(ruleSet, s.event, s.detail, poll)) {
        const data = entry.data as DeliveryJobData;
        told.push({ channel: data.channel, digest: false, notice: data.notice, alerts: [] });
      }
    }
    const lifecycle = step.lifecycle;
    let firing = 0;
    let pending = 0;
    if (lifecycle !== null) {
      this.alerts = lifecycle.next;
      const routed = routeEvents(lifecycle.events, ruleSet);
      for (const entry of alertNotices(routed, ruleSet, poll)) {
        const data = entry.data as DeliveryJobData;
        told.push({ channel: data.channel, digest: false, notice: data.notice, alerts: routed.immediate.get(data.channel) ?? [] });
      }
      for (const [channel, alerts] of routed.digest) {
        told.push({ channel, digest: true, notice: { type: 'alerts', id: `d-${poll.id}-${channel}`, createdAtMs: atMs, alerts }, alerts });
      }
      firing = lifecycle.counts.firing;
      pending = lifecycle.counts.pending;
    } else {
      for (const r of this.alerts.values()) if (r.alert.status === 'firing') firing++;
      for (const r of this.alerts.values()) if (r.alert.status === 'pending') pending++;
    }
    return { atMs, error: 'error' in outcome ? outcome.error : null, suspect: step.suspect, told, warnings: step.warnings, firing, pending };
  }
}

/** How many files are read and gunzipped ahead of the one being replayed (zlib works off the main thread). */
const READ_AHEAD = 4;

/** The snapshots' outcomes in order (as the daemon's poll would see each body), read ahead while earlier ones are replayed. */
export async function* readOutcomes(files: readonly SnapshotFile[]): AsyncGenerator<{ file: SnapshotFile; outcome: PollOutcome }> {
  const reading: Array<Promise<{ body: Buffer } | { error: string }>> = [];
  const start = (i: number): void => {
    if (i >= files.length) return;
    reading[i] = readSnapshot(files[i]);
    // Handled when awaited; keeps an early rejection from being reported as unhandled meanwhile.
    reading[i].catch(() => undefined);
  };
  // One reader for the series: each body is parsed only where it differs from the one before.
  const reader = new OverviewReader();
  for (let i = 0; i < Math.min(READ_AHEAD, files.length); i++) start(i);
  for (let i = 0; i < files.length; i++) {
    const read = await reading[i];
    delete reading[i];
    start(i + READ_AHEAD);
    yield { file: files[i], outcome: 'body' in read ? reader.read(read.body) : { error: read.error } };
  }
}

/** One replayed alert for --json: the alert fields (SPEC section 4) and `event`. */
export function jsonAlert(n: NoticeAlert): Alert & { event: 'new' | 'still_firing' | 'resolved' } {
  const { kind, firstSeenMs: _first, brand: _brand, since: _since, ...alert } = n;
  return { ...alert, event: kind === 'repeat' ? 'still_firing' : kind };
}

export interface JsonEntry {
  at: string;
  channel: string;
  source?: SourceEvent;
  detail?: string;
  alerts: ReturnType<typeof jsonAlert>[];
}

export function jsonEntries(poll: ReplayedPoll): JsonEntry[] {
  const at = new Date(poll.atMs).toISOString();
  return poll.told.map((t) =>
    t.notice.type === 'source'
      ? { at, channel: t.channel, source: t.notice.event, detail: t.notice.detail, alerts: [] }
      : { at, channel: t.channel, alerts: t.alerts.map(jsonAlert) },
  );
}

function consoleText(poll: ReplayedPoll, file: SnapshotFile, channels: Record<string, Channel>): string {
  if (poll.told.length === 0) return '';
  const out = [`== poll at ${new Date(poll.atMs).toISOString()} (${file.name})${poll.suspect ? ', suspect overview' : ''}`];
  for (const t of poll.told) {
    if (t.digest) out.push(`(digest channel ${t.channel}: these events go into its next digest)`);
    out.push(renderConsole(t.notice, { name: t.channel, kind: channels[t.channel]?.kind ?? 'email' }));
  }
  return out.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('replay', argv, { rules: { type: 'string' }, json: { type: 'boolean' } }, 1);
  if (args.help) return printUsage(USAGE);
  const dir = args.positionals[0];
  if (dir === undefined || dir === '') throw new UserError('replay: the folder of snapshots is required: stockwatch replay DIR (see `stockwatch replay --help`)');
  const json = args.values.json === true;

  const loaded = loadRules(rulesDirOf('replay', args.values.rules));
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.map((e) => formatRuleError(e) + '\n').join(''));
    return 1;
  }
  const compiled = compileRuleSet(loaded.ruleSet);
  const files = listSnapshots(dir);
  if (files.length === 0) throw new UserError(`replay: ${dir}: no snapshots in it (expected files like 2026-11-30T080500Z.json.gz)`);

  const replayer = new Replayer(compiled);
  const channels = compiled.ruleSet.channels;
  let entries = 0;
  let notices = 0;
  let failed = 0;
  let last: ReplayedPoll | null = null;
  if (json) process.stdout.write('[');
  try {
    for await (const { file, outcome } of readOutcomes(files)) {
      const poll = replayer.step(file.atMs, outcome);
      last = poll;
      if (poll.error !== null) {
        failed++;
        process.stderr.write(`replay: ${file.path}: a failed poll: ${poll.error}\n`);
      }
      for (const w of poll.warnings) process.stderr.write(`replay: ${file.path}: ${w}\n`);
      notices += poll.told.length;
      if (json) {
        // Streamed, one entry per line: a week of polls never has to sit in memory as one string.
        for (const entry of jsonEntries(poll)) process.stdout.write(`${entries++ === 0 ? '\n' : ',\n'}${JSON.stringify(entry)}`);
      } else {
        process.stdout.write(consoleText(poll, file, channels));
      }
    }
  } finally {
    // Also when a file cannot be read (exit 1): stdout stays one JSON array.
    if (json) process.stdout.write(entries === 0 ? ']\n' : '\n]\n');
  }
  if (!json) {
    const span = `${new Date(files[0].atMs).toISOString()} to ${new Date(files[files.length - 1].atMs).toISOString()}`;
    const failedNote = failed > 0 ? ` (${failed} failed)` : '';
    process.stdout.write(
      `${plural(files.length, 'poll')}${failedNote} from ${span}: ${plural(notices, 'notice')}; at the end ${last!.firing} firing, ${last!.pending} pending\n`,
    );
  }
  return 0;
}
