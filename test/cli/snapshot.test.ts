// `stockwatch snapshot [--out DIR]` through the real CLI entry point, against an S2 stand-in.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import zlib from 'node:zlib';
import { runCli } from './helpers';
import { listSnapshots } from '../../src/source/snapshots';
import { sampleOverview, startFakeS2, type FakeS2 } from '../support/stand-ins';

describe('stockwatch snapshot', () => {
  let s2: FakeS2;
  let dir: string;

  beforeEach(async () => {
    s2 = await startFakeS2();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-snapshot-'));
  });
  afterEach(async () => {
    await s2.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = (over: Record<string, string | undefined> = {}) => ({ S2_API_URL: s2.url, S2_API_TOKEN: s2.token, S2_ORGANIZATION_ID: 'org', ...over });

  test('fetches once, saves DIR/<time>.json.gz as the API sent it, prints the path', async () => {
    s2.answer = { kind: 'raw', text: JSON.stringify(sampleOverview(), null, 1) };
    const before = Date.now();
    const r = await runCli(['snapshot', '--out', path.join(dir, 'new', 'folder')], env());
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const file = r.stdout.trim();
    expect(path.dirname(file)).toBe(path.join(dir, 'new', 'folder'));
    expect(path.basename(file)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{6}Z\.json\.gz$/);
    expect(zlib.gunzipSync(fs.readFileSync(file)).toString()).toBe(JSON.stringify(sampleOverview(), null, 1));
    const [listed] = listSnapshots(path.dirname(file));
    expect(listed.atMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(listed.atMs).toBeLessThanOrEqual(Date.now());
    expect(s2.requests).toHaveLength(1);
  });

  test('without --out, saves into the current folder', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await runCli(['snapshot'], env());
      expect(r.code).toBe(0);
      expect(fs.readdirSync(dir)).toEqual([path.basename(r.stdout.trim())]);
    } finally {
      process.chdir(cwd);
    }
  });

  test('a failed fetch: one line, exit 1, nothing saved, no token', async () => {
    s2.answer = { kind: 'status', status: 503 };
    const r = await runCli(['snapshot', '--out', dir], env());
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'stockwatch: snapshot: S2 API answered HTTP 503 Service Unavailable\n' });
    s2.answer = { kind: 'raw', text: '{"items": 5}' };
    const bad = await runCli(['snapshot', '--out', dir], env());
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/^stockwatch: snapshot: S2 API body is not an overview: .*\n$/) });
    const wrong = await runCli(['snapshot', '--out', dir], env({ S2_API_TOKEN: 'wrong-token-value' }));
    expect(wrong).toMatchObject({ code: 1, stderr: 'stockwatch: snapshot: S2 API rejected the token (HTTP 401)\n' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a DIR that is not writable: one line, exit 1, before fetching', async () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    const r = await runCli(['snapshot', '--out', file], env());
    expect(r).toEqual({ code: 1, stdout: '', stderr: `stockwatch: snapshot: --out ${file}: not writable (not a folder)\n` });
    expect(s2.requests).toHaveLength(0);
    // Where the kernel refuses new entries, Node's recursive mkdir never returned.
    const proc = '/proc/stockwatch-nope/deeper';
    expect(await runCli(['snapshot', '--out', proc], env())).toEqual({ code: 1, stdout: '', stderr: `stockwatch: snapshot: --out ${proc}: not writable (not found)\n` });
  });

  test('missing configuration and bad arguments: one line, exit 1', async () => {
    const missing = await runCli(['snapshot', '--out', dir], env({ S2_API_URL: undefined }));
    expect(missing).toMatchObject({ code: 1, stderr: 'stockwatch: configuration: S2_API_URL is not set\n' });
    expect(await runCli(['snapshot', '--out'], env())).toMatchObject({ code: 1, stderr: expect.stringMatching(/^stockwatch: snapshot: Option '--out <value>' argument missing/) });
    expect(await runCli(['snapshot', 'extra'], env())).toMatchObject({ code: 1, stderr: expect.stringMatching(/^stockwatch: snapshot: Unexpected argument 'extra'/) });
  });
});
