// SNAPSHOT_DIR in a running daemon (its scheduler on): every good overview is saved under the
// poll's time, snapshots older than SNAPSHOT_KEEP go, and a write that fails is one log line,
// never a failed poll.
import * as fs from 'node:fs';
import * as path from 'node:path';
import zlib from 'node:zlib';
import { Daemon } from '../../src/daemon/daemon';
import { listSnapshots, snapshotName } from '../../src/source/snapshots';
import { captureLog, cleanPrefix, rulesDir, startFakeS2, testConfig, uniquePrefix, waitFor, type FakeS2 } from '../support/stand-ins';
import { overviewWith, tempFolder } from './helpers';

const RULES = `
channels:
  ops:
    slack:
      webhook_url: http://127.0.0.1:9/hook
defaults:
  channels: [ops]
rules:
  - name: low
    type: low_available
    below: 1
`;
const DAY = 86_400_000;

describe('SNAPSHOT_DIR', () => {
  let s2: FakeS2;
  let prefix: string;
  let rules: string;
  let dir: string;
  let daemon: Daemon | null = null;

  beforeEach(async () => {
    s2 = await startFakeS2(overviewWith(20));
    prefix = uniquePrefix('snapdir');
    rules = rulesDir({ 'rules.yaml': RULES });
    dir = tempFolder('swtest-snapdir-');
  });
  afterEach(async () => {
    await daemon?.stop();
    await s2.close();
    await cleanPrefix(prefix);
    fs.rmSync(rules, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('saves each good overview, prunes older than SNAPSHOT_KEEP, leaves other files, and a failed write fails no poll', async () => {
    const old = snapshotName(Date.now() - 8 * DAY);
    const recent = snapshotName(Date.now() - 6 * DAY).replace('.json.gz', '.json');
    fs.writeFileSync(path.join(dir, old), zlib.gzipSync('{}'));
    fs.writeFileSync(path.join(dir, recent), '{}');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'kept');
    const log = captureLog('info');
    daemon = await Daemon.start({
      config: testConfig({ apiUrl: s2.url, apiToken: s2.token, prefix, rulesDir: rules, pollEveryMs: 1000, snapshotDir: dir, snapshotKeepMs: 7 * DAY }),
      env: {},
      log: log.log,
      schedule: true,
    });

    const saved = () => fs.readdirSync(dir).filter((n) => n !== old && n !== recent && n !== 'notes.txt' && !n.endsWith('.tmp'));
    expect(await waitFor(() => saved().length >= 2 && !fs.existsSync(path.join(dir, old)), 20_000)).toBe(true);
    expect(fs.existsSync(path.join(dir, recent))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('kept');
    // Each is the overview as served, gzipped, named by its poll's time (just now).
    const first = saved().sort()[0];
    expect(JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, first))).toString())).toEqual(overviewWith(20));
    fs.rmSync(path.join(dir, 'notes.txt'));
    const times = listSnapshots(dir).map((f) => f.atMs);
    expect(Date.now() - times[times.length - 1]).toBeLessThan(10_000);

    // The folder turns into a file: the snapshot cannot be written, the polls go on.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'in the way');
    const okBefore = log.lines.filter((l) => l.msg === 'poll ok').length;
    expect(await waitFor(() => log.lines.some((l) => /^snapshot not saved: cannot save the snapshot .*: not a folder$/.test(String(l.msg))), 20_000)).toBe(true);
    expect(await waitFor(() => log.lines.filter((l) => l.msg === 'poll ok').length > okBefore + 1, 20_000)).toBe(true);
    expect(log.lines.filter((l) => /poll failed/.test(String(l.msg)))).toEqual([]);
    fs.rmSync(dir, { force: true });
    fs.mkdirSync(dir);
  });

  test('a SNAPSHOT_DIR that cannot be written refuses to start, naming it', async () => {
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    await expect(
      Daemon.start({
        config: testConfig({ apiUrl: s2.url, apiToken: s2.token, prefix, rulesDir: rules, snapshotDir: path.join(file, 'sub') }),
        env: {},
        log: captureLog('warn').log,
        schedule: false,
      }),
    ).rejects.toThrow(`SNAPSHOT_DIR ${path.join(file, 'sub')}: not writable (not a folder)`);
  });
});
