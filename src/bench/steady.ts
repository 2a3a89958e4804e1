// The running daemon's steady poll, measured inside one process: a Daemon (as `stockwatch run`
// starts it, parsing each body where it differs from the one before, without the schedule) polls
// N times in a row while the source answers changing bodies in turn; before each poll the same
// process fetches and JSON.parses the body that poll will get (`?peek`): the in-process floor.
// The first poll starts from what Redis holds; the later ones are the steady state a daemon lives in.
//
// Usage: node --expose-gc dist/bench/steady.js POLLS   (configuration from the environment, as
// `stockwatch run`; prints one JSON line)
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../config';
import { Daemon } from '../daemon/daemon';
import { createLogger } from '../log';
import { fetchBody } from './floor';

export interface SteadyResult {
  floorsMs: number[];
  /** Wall time of each daemon.pollNow() (what stockwatch_poll_duration_seconds measures). */
  pollsMs: number[];
  phases: Array<Record<string, number>>;
  firing: number[];
  changes: Array<{ new: number; resolved: number }>;
  /** Resident set after each poll. */
  rssBytes: number[];
}

async function main(): Promise<void> {
  const polls = Number(process.argv[2]);
  if (!Number.isSafeInteger(polls) || polls < 1) throw new Error('usage: steady POLLS');
  const config = loadConfig(process.env, { needSource: true });
  const log = createLogger(config.logLevel);
  const daemon = await Daemon.start({ config, env: process.env, log, schedule: false, incrementalParse: true });
  const out: SteadyResult = { floorsMs: [], pollsMs: [], phases: [], firing: [], changes: [], rssBytes: [] };
  try {
    for (let i = 0; i < polls; i++) {
      let t = performance.now();
      const body = await fetchBody(`${config.apiUrl}/inventory/overview?peek`);
      JSON.parse(body.toString('utf8'));
      out.floorsMs.push(performance.now() - t);
      t = performance.now();
      const report = await daemon.pollNow();
      out.pollsMs.push(performance.now() - t);
      if (!report.ok || !report.committed) throw new Error(`poll ${i + 1}: ${report.error ?? 'not committed'}`);
      out.phases.push(report.phases);
      out.firing.push(report.firing);
      out.changes.push({ new: report.newCount, resolved: report.resolvedCount });
      out.rssBytes.push(process.memoryUsage().rss);
    }
  } finally {
    await daemon.stop();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`steady: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
