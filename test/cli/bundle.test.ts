// bin/stockwatch.js runs the CLI from one bundled file (dist/stockwatch.js, scripts/bundle.js):
// a command loads that file, not the ~480 of dist/ and node_modules, and the bundle keeps the
// commands lazy, so that `check` still never runs BullMQ. Checked on the built files in child
// processes (`npm test` builds first), by what each process has in require.cache at exit.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './helpers';

/** What bin/stockwatch.js itself loads from the repository. */
const OWN = ['bin/stockwatch.js', 'dist/compile-cache.js', 'dist/stockwatch.js'];

let tmp: string;
/** A `-r` module that prints, at exit, every file in require.cache. */
let preload: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bundle-'));
  preload = path.join(tmp, 'report-loaded.js');
  fs.writeFileSync(preload, "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n");
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The files (relative to the repository) a `stockwatch ARGS` process had loaded when it exited. */
function loadedBy(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['-r', preload, path.join(REPO, 'bin/stockwatch.js'), ...args], {
    env: { ...process.env, STOCKWATCH_COMPILE_CACHE: 'off', NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED ')) as string;
  return (JSON.parse(line.slice('LOADED '.length)) as string[]).filter((f) => f !== preload).map((f) => path.relative(REPO, f));
}

test('`check` loads the bundle and nothing else: no dependency runs outside it, BullMQ not at all', () => {
  expect(loadedBy(['check', '--help']).sort()).toEqual(OWN);
});

test('`poll` runs BullMQ from the bundle: only its native msgpack addon comes from node_modules', () => {
  const loaded = loadedBy(['poll', '--help']);
  const outside = loaded.filter((f) => !OWN.includes(f));
  // BullMQ requires msgpackr, which requires the addon (kept external: scripts/bundle.js).
  expect(outside.length).toBeGreaterThan(0);
  for (const file of outside) expect(file).toMatch(/^node_modules\/(msgpackr-extract|@msgpackr-extract|node-gyp-build-optional-packages|detect-libc)\//);
  expect(loaded).toContain('dist/stockwatch.js');
});
