import { Daemon } from '../daemon/daemon';
import { parseCommandArgs, printUsage } from './args';
import { daemonSetup, untilSignal } from './daemon-env';

const USAGE = `Usage: stockwatch run

Runs the daemon: polls the S2 overview every POLL_EVERY, evaluates the rules in RULES_DIR (reloaded
when they change), notifies Slack and email channels, sends digests, and serves /healthz and
/metrics on HTTP_PORT. Configuration comes from the environment (see docs/configuration.md).
Runs until SIGTERM or SIGINT, then finishes the work in hand and exits 0.`;

export async function run(argv: string[]): Promise<number> {
  if (parseCommandArgs('run', argv, {}).help) return printUsage(USAGE);
  const { config, log } = daemonSetup(true);
  const daemon = await Daemon.start({ config, env: process.env, log, schedule: true });
  const signal = await untilSignal();
  log.info({ signal }, 'stopping: finishing the work in hand');
  await daemon.stop();
  log.info('stopped');
  log.flush();
  // Everything is finished and closed. A BullMQ worker whose blocking connection went to a Redis
  // Cluster node that died may still hold a reconnect timer: it must not keep the process up.
  setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
  return 0;
}
