// `npm run bench:replay`: how long `stockwatch replay` takes over a week of 5-minute snapshots of
// 10,000 items (SPEC target: under a minute). The series is generated once (generate.ts: 1% of
// the items change per poll), written as SNAPSHOT_DIR writes it, replayed by the real bin, and
// deleted at the end (unless --dir names a folder to keep and reuse).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { listSnapshots, writeSnapshot } from '../source/snapshots';
import { generate, mutate, overviewBuffers } from './generate';
import { killRunning, runNode } from './measure';
import { WEBHOOK_ENV, writeRulesDir } from './rules';

const USAGE = `Usage: node dist/bench/replay.js [--warehouses W] [--products P] [--polls N] [--dir DIR]

Generates N snapshots 5 minutes apart of P x W items (default 2016 polls, a week, of 2000 x 5 =
10,000 items), then times \`stockwatch replay DIR --json\` and \`stockwatch replay DIR\` on them.
--dir DIR keeps the snapshots there and reuses them on the next run; without it they go in a
temporary folder that is deleted at the end.`;

const BIN = path.join(__dirname, '..', '..', 'bin', 'stockwatch.js');
const START = Date.parse('2026-11-23T00:00:00Z');
const EVERY_MS = 5 * 60_000;
/** Share of the items whose level changes between two polls. */
const CHANGED_PER_POLL = 0.01;

async function generateSeries(dir: string, products: number, warehouses: number, polls: number): Promise<void> {
  let overview = generate({ products, warehouses, seed: 42, nowMs: START });
  const started = performance.now();
  let bytes = 0;
  for (let i = 0; i < polls; i++) {
    const nowMs = START + i * EVERY_MS;
    if (i > 0) overview = mutate(overview, CHANGED_PER_POLL, 1000 + i, nowMs).overview;
    const { chunks } = overviewBuffers(overview);
    const body = Buffer.concat(chunks);
    bytes += body.length;
    await writeSnapshot(dir, body, nowMs);
    if ((i + 1) % 200 === 0) process.stdout.write(`  generated ${i + 1}/${polls}\n`);
  }
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  const onDisk = fs.readdirSync(dir).reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
  process.stdout.write(`generated ${polls} snapshots (${mb(bytes)} of JSON, ${mb(onDisk)} gzipped) in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { warehouses: { type: 'string' }, products: { type: 'string' }, polls: { type: 'string' }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const warehouses = Number(values.warehouses ?? 5);
  const products = Number(values.products ?? 2000);
  const polls = Number(values.polls ?? 2016);
  if (![warehouses, products, polls].every((n) => Number.isSafeInteger(n) && n > 0)) {
    process.stderr.write('bench:replay: --warehouses, --products and --polls are positive integers\n');
    return 1;
  }
  const keep = values.dir !== undefined;
  const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'swbench-replay-'));
  const rules = writeRulesDir();
  try {
    fs.mkdirSync(dir, { recursive: true });
    const existing = listSnapshots(dir);
    if (existing.length !== polls) {
      if (existing.length > 0) throw new Error(`${dir} holds ${existing.length} snapshots, not ${polls}: empty it or name another folder`);
      process.stdout.write(`generating ${polls} snapshots of ${products * warehouses} items into ${dir}\n`);
      await generateSeries(dir, products, warehouses, polls);
    } else {
      process.stdout.write(`reusing the ${polls} snapshots in ${dir}\n`);
    }
    const env = { PATH: process.env.PATH, [WEBHOOK_ENV]: 'http://127.0.0.1:9/bench-hook' };
    for (const mode of [['--json'], []]) {
      const run = await runNode([BIN, 'replay', dir, '--rules', rules.dir, ...mode], env, 10 * 60_000);
      if (run.code !== 0) throw new Error(`replay ${mode.join(' ')} exited ${run.code ?? run.signal}: ${run.stderr.split('\n')[0]}`);
      const detail =
        mode.length > 0
          ? `${(JSON.parse(run.stdout) as unknown[]).length} notices`
          : run.stdout.trimEnd().split('\n').pop();
      process.stdout.write(
        `replay ${mode.join(' ') || '(text)'}: ${polls} polls of ${products * warehouses} items in ${(run.wallMs / 1000).toFixed(1)} s ` +
          `(${(run.wallMs / polls).toFixed(1)} ms a poll), peak RSS ${run.peakRssBytes === null ? '?' : `${Math.round(run.peakRssBytes / 1e6)} MB`}; ${detail}\n`,
      );
    }
    return 0;
  } finally {
    rules.cleanup();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.on('SIGINT', () => {
    killRunning();
    process.exit(130);
  });
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`bench:replay: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
