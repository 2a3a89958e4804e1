// Snapshot folders for replay tests: small S2 overviews written as the daemon writes them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import type { CompiledRuleSet } from '../../src/engine/evaluate';
import { readOutcomes, Replayer, type ReplayedPoll } from '../../src/commands/replay';
import { listSnapshots, snapshotName } from '../../src/source/snapshots';
import { BIN, REPO_ROOT } from '../support/processes';

export const START = Date.parse('2026-11-30T08:00:00Z');
export const MIN = 60_000;
export const WAREHOUSE = 'wh-1';
export const PRODUCT = 'p-1';

/** An S2 overview of one item (warehouse wh-1, product p-1, SKU SKU-1) with this `available`. */
export function overviewWith(available: number, updatedAtMs = START): object {
  return {
    warehouses: [{ id: WAREHOUSE, name: 'Main' }],
    products: [{ id: PRODUCT, sku: 'SKU-1', name: 'Product 1', brand: { name: 'Acme' } }],
    items: [{ warehouseId: WAREHOUSE, level: { productId: PRODUCT, available, incoming: 0, reserved: 0, updatedAt: new Date(updatedAtMs).toISOString() } }],
  };
}

export function tempFolder(prefix = 'swtest-replay-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `bodies` (objects as JSON, strings as they are) as snapshots `everyMs` apart from `startMs`. */
export function writeSeries(dir: string, bodies: Array<object | string>, opts: { startMs?: number; everyMs?: number } = {}): string[] {
  const { startMs = START, everyMs = 5 * MIN } = opts;
  return bodies.map((b, i) => {
    const file = path.join(dir, snapshotName(startMs + i * everyMs));
    fs.writeFileSync(file, zlib.gzipSync(typeof b === 'string' ? b : JSON.stringify(b)));
    return file;
  });
}

/** Replays a folder with replay's own reader and core, as the command does. */
export async function replayFolder(dir: string, compiled: CompiledRuleSet): Promise<ReplayedPoll[]> {
  const replayer = new Replayer(compiled);
  const polls: ReplayedPoll[] = [];
  for await (const { file, outcome } of readOutcomes(listSnapshots(dir))) polls.push(replayer.step(file.atMs, outcome));
  return polls;
}

/** Per poll, what was told: `event rule sku` for each alert of each notice. */
export function toldPerPoll(polls: ReplayedPoll[]): string[][] {
  return polls.map((p) => p.told.flatMap((t) => (t.notice.type === 'source' ? [`${t.notice.event}`] : t.alerts.map((a) => `${a.kind} ${a.rule} ${a.sku}`))));
}

/** `node bin/stockwatch.js ARGS` with exactly `env` (plus PATH), its whole output kept as text. */
export function runBin(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'stockwatch.js'))) throw new Error('dist/stockwatch.js is missing: run `npm run build` first (`npm test` does)');
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
