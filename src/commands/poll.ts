import pino from 'pino';
import { loadConfig } from '../config';
import { Daemon } from '../daemon/daemon';
import { parseDuration } from '../duration';
import { UserError } from '../errors';
import { collectGarbage, withBoundedHeapGrowth } from '../heap';
import { createLogger, logConsoleWarnings } from '../log';
import { parseCommandArgs, printUsage } from './args';

const USAGE = `Usage: stockwatch poll --once [--wait DURATION]

Polls the S2 overview once, updates the alert state in Redis and delivers the immediate notices
the poll causes (Slack, email without digest), then exits: 0 when the poll succeeded, 1 when it
failed. Notices not delivered within --wait (default 60s) stay queued for a running daemon.

Options:
  --once            required: one poll, then exit
  --wait DURATION   how long to wait for delivery (default 60s)`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('poll', argv, { once: { type: 'boolean' }, wait: { type: 'string' } });
  if (args.help) return printUsage(USAGE);
  if (args.values.once !== true) throw new UserError('poll: --once is required (the scheduled poll is `stockwatch run`)');
  const waitText = (args.values.wait as string | undefined) ?? '60s';
  const waitMs = parseDuration(waitText);
  if (waitMs === null) throw new UserError(`poll: --wait "${waitText}" is not a duration (like 30s, 2m)`);

  const config = loadConfig(process.env, { needSource: true });
  // Synchronous writes: no log line is still in flight when bin/ exits the process right after this
  // returns (src/cli.ts, exitWhenDone). A single poll logs a handful of lines.
  const log = createLogger(config.logLevel, pino.destination({ dest: 1, sync: true }));
  logConsoleWarnings(log);
  const daemon = await Daemon.start({ config, env: process.env, log, schedule: false, metrics: false, betweenStages: () => collectGarbage() });
  try {
    // The poll holds the whole overview and alert state at once: keep its peak low (src/heap.ts).
    const report = await withBoundedHeapGrowth(() => daemon.pollNow());
    if (report.notices.length > 0) {
      const { pending, failed } = await daemon.waitForDelivery(report.notices, waitMs);
      if (pending.length > 0) log.warn({ pending }, `${pending.length} notice(s) not delivered yet; they stay queued for a running daemon`);
      if (failed.length > 0) log.error({ failed }, `${failed.length} notice(s) could not be delivered`);
    }
    if (!report.ok) process.stderr.write(`stockwatch: poll failed: ${report.error}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await daemon.stop();
  }
}
