// The V8 code cache of bin/stockwatch.js (src/compile-cache.ts): modules run the same with it, a
// changed source is compiled anew, a broken cache file costs nothing, and no directory another user
// could write to is ever used. The loader hook runs in child processes (Jest has a loader of its
// own), on the built dist/ (`npm test` builds first).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheDir, cacheFile } from '../../src/compile-cache';
import { REPO } from './helpers';

const HOOK = path.join(REPO, 'dist/compile-cache.js');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-compile-cache-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A small module tree that reports what its modules see of the loader. */
function writeFixture(dir: string, depValue: string): string {
  fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'lib/dep.js'), `exports.value = '${depValue}';\nexports.where = [__filename, __dirname];\n`);
  fs.writeFileSync(
    path.join(dir, 'main.js'),
    [
      '#!/usr/bin/env node',
      "'use strict';",
      "const dep = require('./lib/dep');",
      'console.log(JSON.stringify({',
      '  value: dep.value,',
      '  where: dep.where,',
      "  resolved: require.resolve('./lib/dep'),",
      "  paths: Array.isArray(require.resolve.paths('x')),",
      "  cached: Object.keys(require.cache).some((f) => f.endsWith('dep.js')),",
      '  main: require.main === module,',
      '  self: this === module.exports,',
      '}));',
    ].join('\n'),
  );
  return path.join(dir, 'main.js');
}

function runWithCache(main: string, cache: string): { out: unknown; stderr: string } {
  const loader = path.join(tmp, 'loader.js');
  fs.writeFileSync(loader, `require(${JSON.stringify(HOOK)}).installCompileCache('fixture'); require(${JSON.stringify(main)});`);
  const r = spawnSync(process.execPath, [loader], { env: { ...process.env, STOCKWATCH_COMPILE_CACHE: cache, NODE_OPTIONS: '' }, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

/** What the child processes here keep their cache files apart by (their Node options are not this process's). */
const CHILD = { root: REPO, execArgv: [], options: '' };

function runPlain(main: string): unknown {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(main)})`], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

test('modules compiled from the cache see what Node gives them, and a second run reads the cache instead of rewriting it', () => {
  const main = writeFixture(path.join(tmp, 'app'), 'one');
  const cache = path.join(tmp, 'cache');
  const plain = runPlain(main);
  // runPlain's `-e` makes no module the main one; with the hook it is the same.
  expect(plain).toMatchObject({ value: 'one', paths: true, cached: true, self: true });

  const first = runWithCache(main, cache);
  expect(first).toEqual({ out: plain, stderr: '' });
  const file = cacheFile(cache, 'fixture', CHILD) as string;
  const written = fs.readFileSync(file);
  expect(written.includes(fs.realpathSync(main))).toBe(true);

  fs.utimesSync(file, 0, 0);
  expect(runWithCache(main, cache)).toEqual({ out: plain, stderr: '' });
  // Every module came from the cache, so nothing was written back.
  expect(fs.statSync(file).mtimeMs).toBe(0);
});

test('a changed source is compiled anew, even at the same length (V8 itself only checks the length)', () => {
  const app = path.join(tmp, 'app');
  const main = writeFixture(app, 'one');
  const cache = path.join(tmp, 'cache');
  runWithCache(main, cache);
  writeFixture(app, 'two');
  expect(runWithCache(main, cache).out).toMatchObject({ value: 'two' });
});

test('a damaged cache file is ignored (V8 would run damaged bytecode) and replaced', () => {
  const main = writeFixture(path.join(tmp, 'app'), 'one');
  const cache = path.join(tmp, 'cache');
  runWithCache(main, cache);
  const file = cacheFile(cache, 'fixture', CHILD) as string;
  const bytes = fs.readFileSync(file);
  bytes.fill(0x5a, bytes.length - 200);
  fs.writeFileSync(file, bytes);
  expect(runWithCache(main, cache).out).toMatchObject({ value: 'one' });
  fs.writeFileSync(file, 'not a cache');
  expect(runWithCache(main, cache).out).toMatchObject({ value: 'one' });
  expect(fs.readFileSync(file).length).toBeGreaterThan(100);
});

describe('cacheDir', () => {
  test('makes a private directory, in the temp dir by default', () => {
    const dir = cacheDir({ STOCKWATCH_COMPILE_CACHE: path.join(tmp, 'new') });
    expect(dir).toBe(path.join(tmp, 'new'));
    expect(fs.statSync(dir as string).mode & 0o777).toBe(0o700);
    expect(cacheDir({})).toBe(path.join(os.tmpdir(), `stockwatch-v8-cache-${process.getuid?.()}`));
  });

  test('refuses a directory others can write to, a symlink, and a file', () => {
    const open = path.join(tmp, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    expect(cacheDir({ STOCKWATCH_COMPILE_CACHE: open })).toBeNull();
    const link = path.join(tmp, 'link');
    fs.symlinkSync(fs.mkdtempSync(path.join(tmp, 'target-')), link);
    expect(cacheDir({ STOCKWATCH_COMPILE_CACHE: link })).toBeNull();
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, '');
    expect(cacheDir({ STOCKWATCH_COMPILE_CACHE: file })).toBeNull();
  });

  test('off turns the cache off, on keeps the default place (no directory called "on")', () => {
    for (const off of ['off', '0', 'false', 'NO', ' off ']) expect(cacheDir({ STOCKWATCH_COMPILE_CACHE: off })).toBeNull();
    const byDefault = path.join(os.tmpdir(), `stockwatch-v8-cache-${process.getuid?.()}`);
    for (const on of ['on', '1', 'true', 'Yes', '']) expect(cacheDir({ STOCKWATCH_COMPILE_CACHE: on })).toBe(byDefault);
  });
});

test('cacheFile: one file per command, installation and set of Node options; anything else than a command name gets none', () => {
  const poll = cacheFile('/c', 'poll', CHILD);
  expect(poll).toMatch(new RegExp(`^/c/poll-node${process.versions.node}-${process.arch}-[0-9a-f]{8}-v1\\.bin$`));
  expect(cacheFile('/c', 'poll', { ...CHILD })).toBe(poll);
  expect(cacheFile('/c', 'poll', { ...CHILD, options: '--max-old-space-size=100' })).not.toBe(poll);
  expect(cacheFile('/c', 'poll', { ...CHILD, execArgv: ['--cpu-prof'] })).not.toBe(poll);
  expect(cacheFile('/c', 'poll', { ...CHILD, root: '/elsewhere' })).not.toBe(poll);
  expect(cacheFile('/c', 'check', CHILD)).not.toBe(poll);
  expect(cacheFile('/c', '--version')).toBeNull();
  expect(cacheFile('/c', '../x')).toBeNull();
  expect(cacheFile('/c', '')).toBeNull();
});

test("writing a command's cache removes its files of other Node versions, and only those", () => {
  const main = writeFixture(path.join(tmp, 'app'), 'one');
  const cache = path.join(tmp, 'cache');
  fs.mkdirSync(cache, { mode: 0o700 });
  const old = ['fixture-node18.0.0-x64-0123abcd-v1.bin', 'fixture-node18.0.0-x64-0123abcd-v1.bin.7.tmp'];
  const kept = ['other-node18.0.0-x64-0123abcd-v1.bin', `fixture-node${process.versions.node}-${process.arch}-0123abcd-v1.bin`];
  for (const name of [...old, ...kept]) fs.writeFileSync(path.join(cache, name), '');
  runWithCache(main, cache);
  expect(fs.readdirSync(cache).sort()).toEqual([...kept, path.basename(cacheFile(cache, 'fixture', CHILD) as string)].sort());
});

test('bin/stockwatch.js gives the same answers with the cache as without', () => {
  const cache = path.join(tmp, 'cache');
  const run = (setting: string) =>
    spawnSync(process.execPath, [path.join(REPO, 'bin/stockwatch.js'), 'check', '--rules', path.join(REPO, 'rules')], {
      env: { ...process.env, STOCKWATCH_COMPILE_CACHE: setting, NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
  const plain = run('off');
  expect(plain.status).toBe(0);
  for (let i = 0; i < 2; i++) {
    const cached = run(cache);
    expect({ status: cached.status, stdout: cached.stdout, stderr: cached.stderr }).toEqual({ status: plain.status, stdout: plain.stdout, stderr: plain.stderr });
  }
  expect(fs.existsSync(cacheFile(cache, 'check', CHILD) as string)).toBe(true);
});
