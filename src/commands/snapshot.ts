// `stockwatch snapshot`: one overview, fetched as `poll` would fetch it, saved as `<time>.json.gz`
// for `replay`. No Redis, no rules: only the S2_* variables matter.
import { loadConfig } from '../config';
import { oneLine, UserError } from '../errors';
import { fetchOverview, SourceError } from '../source/client';
import { ensureSnapshotDir, writeSnapshot } from '../source/snapshots';
import { parseCommandArgs, printUsage } from './args';

const USAGE = `Usage: stockwatch snapshot [--out DIR]

Fetches the S2 overview once (S2_API_URL, S2_API_TOKEN, S2_ORGANIZATION_ID, S2_API_TIMEOUT, as for
\`poll\`) and saves it as DIR/<time>.json.gz, e.g. 2026-11-30T080500Z.json.gz: the format
\`stockwatch replay\` reads and SNAPSHOT_DIR writes. Prints the file's path.

Options:
  --out DIR    folder to save into, created when missing (default: the current folder)
  -h, --help   show this help

Exit status: 0 when saved, 1 when the fetch failed or DIR is not writable.`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('snapshot', argv, { out: { type: 'string' } });
  if (args.help) return printUsage(USAGE);
  const out = args.values.out ?? '.';
  if (out === '' || out === true) throw new UserError('snapshot: --out needs a folder');
  const config = loadConfig(process.env, { needSource: true });
  // Before the fetch: a body of tens of megabytes should not be downloaded for nothing.
  ensureSnapshotDir(String(out), 'snapshot: --out');

  const atMs = Date.now();
  let body: Buffer;
  try {
    ({ body } = await fetchOverview({ apiUrl: config.apiUrl, token: config.apiToken, organizationId: config.organizationId, timeoutMs: config.apiTimeoutMs }));
  } catch (err) {
    if (err instanceof SourceError) throw new UserError(`snapshot: ${err.message}`);
    throw err;
  }
  let file: string;
  try {
    file = await writeSnapshot(String(out), body, atMs);
  } catch (err) {
    throw new UserError(`snapshot: ${oneLine(err)}`);
  }
  process.stdout.write(file + '\n');
  return 0;
}
