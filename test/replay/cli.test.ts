// `stockwatch replay` through the CLI entry point, on plain rules (below, older_than).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../cli/helpers';
import { rulesDir } from '../support/stand-ins';
import { MIN, overviewWith, START, tempFolder, writeSeries } from './helpers';

const RULES = `
channels:
  ops:
    slack:
      webhook_url: \${TEST_SLACK_URL}
  buyers:
    email:
      to: [buyers@example.com]
      digest: "0 8 * * *"
defaults:
  channels: [ops]
  repeat_every: never
rules:
  - name: low-available
    type: low_available
    below: 10
    channels: [ops, buyers]
  - name: stale-level
    type: stale
    older_than: 1h
`;
const ENV = { TEST_SLACK_URL: 'https://hooks.slack.example/services/T000/B000/secret' };

let dir: string;
let rules: string;
beforeEach(() => {
  dir = tempFolder();
  rules = rulesDir({ 'rules.yaml': RULES });
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(rules, { recursive: true, force: true });
});

const replay = (...args: string[]) => runCli(['replay', dir, '--rules', rules, ...args], ENV);
const at = (i: number): string => new Date(START + i * 5 * MIN).toISOString();

describe('replay --json', () => {
  it('is one JSON array of what each channel would have been told, per poll, and nothing else', async () => {
    writeSeries(dir, [overviewWith(20), overviewWith(5), overviewWith(5), overviewWith(20)]);
    const r = await replay('--json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const entries = JSON.parse(r.stdout);
    expect(entries.map((e: any) => [e.at, e.channel, e.alerts.map((a: any) => `${a.event} ${a.rule} ${a.sku} ${a.status} ${a.available}`)])).toEqual([
      [at(1), 'ops', ['new low-available SKU-1 firing 5']],
      // A digest channel's events are reported at the poll they happened.
      [at(1), 'buyers', ['new low-available SKU-1 firing 5']],
      [at(3), 'ops', ['resolved low-available SKU-1 resolved 20']],
      [at(3), 'buyers', ['resolved low-available SKU-1 resolved 20']],
    ]);
    // ALERT: the alert fields of SPEC section 4, then event.
    expect(Object.keys(entries[0])).toEqual(['at', 'channel', 'alerts']);
    // (availableElsewhere is there once the engine computes it for item-scoped low_available alerts.)
    expect(Object.keys(entries[0].alerts[0]).filter((k) => k !== 'availableElsewhere')).toEqual([
      'rule', 'type', 'severity', 'status', 'warehouseId', 'warehouse', 'productId', 'sku', 'product',
      'available', 'incoming', 'reserved', 'updatedAt', 'summary', 'silenced', 'inhibited', 'event',
    ]);
  });

  it('uses each file time as now (older_than counts from it), and still_firing for repeats', async () => {
    // Updated at START: stale (older than 1h) from the poll at START + 65m on, whatever the clock says today.
    writeSeries(dir, [overviewWith(20), overviewWith(20), overviewWith(20)], { everyMs: 65 * MIN });
    const entries = JSON.parse((await replay('--json')).stdout);
    expect(entries.map((e: any) => [e.at, e.alerts.map((a: any) => `${a.event} ${a.rule}`)])).toEqual([
      [new Date(START + 65 * MIN).toISOString(), ['new stale-level']],
    ]);
  });

  it('counts a file that is no overview as a failed poll, as the daemon does: the third in a row is "source unreachable"', async () => {
    writeSeries(dir, [overviewWith(5), 'not json', '{"items": 5}', overviewWith(5), overviewWith(5)]);
    fs.writeFileSync(path.join(dir, '2026-11-30T081500Z.json.gz'), 'not gzip at all');
    // 08:00 good, 08:05 not JSON, 08:10 not an overview, 08:15 not gzip (replaces the good one), 08:20 good.
    const r = await replay('--json');
    expect(r.code).toBe(0);
    const stderr = r.stderr.trim().split('\n');
    expect(stderr).toEqual([
      expect.stringMatching(/2026-11-30T080500Z\.json\.gz: a failed poll: not JSON: /),
      expect.stringMatching(/2026-11-30T081000Z\.json\.gz: a failed poll: not an overview: warehouses: missing, expected an array/),
      expect.stringMatching(/2026-11-30T081500Z\.json\.gz: a failed poll: not gzip data/),
    ]);
    const entries = JSON.parse(r.stdout);
    expect(entries.map((e: any) => [e.at, e.channel, e.source ?? e.alerts.map((a: any) => a.event).join()])).toEqual([
      [at(0), 'ops', 'new'],
      [at(0), 'buyers', 'new'],
      [at(3), 'ops', 'unreachable'],
      [at(4), 'ops', 'recovered'],
    ]);
    expect(entries[2].detail).toMatch(/^3 polls failed in a row; last error: not gzip data/);
    expect(entries[2].alerts).toEqual([]);
  });
});

describe('replay (text)', () => {
  it('prints each poll that tells something as the channels would show it, then a summary', async () => {
    writeSeries(dir, [overviewWith(20), overviewWith(5), overviewWith(5), overviewWith(20)]);
    const r = await replay();
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const polls = r.stdout.split(/^== /m).slice(1);
    expect(polls.map((p) => p.split('\n')[0])).toEqual([`poll at ${at(1)} (2026-11-30T080500Z.json.gz)`, `poll at ${at(3)} (2026-11-30T081500Z.json.gz)`]);
    expect(polls[0]).toContain('slack → ops · alerts notice');
    expect(polls[0]).toMatch(/firing.*low-available/);
    expect(polls[0]).toContain('(digest channel buyers: these events go into its next digest)');
    expect(polls[1]).toMatch(/resolved.*low-available/);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe(`4 polls from ${at(0)} to ${at(3)}: 4 notices; at the end 0 firing, 0 pending`);
    expect(r.stdout).not.toContain(ENV.TEST_SLACK_URL);
  });
});

describe('replay: bad input is one line and exit 1', () => {
  it('a missing folder', async () => {
    const r = await runCli(['replay', path.join(dir, 'nope'), '--rules', rules], ENV);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `stockwatch: snapshot folder ${path.join(dir, 'nope')}: not found\n` });
  });

  it('a file that is not a snapshot, named', async () => {
    writeSeries(dir, [overviewWith(5)]);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hi');
    const r = await replay();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^stockwatch: ${path.join(dir, 'notes.txt').replace(/[.\\/]/g, '\\$&')}: not a snapshot .*\n$`));
  });

  it('a snapshot that cannot be read stops the replay; with --json, stdout is still one JSON array', async () => {
    const files = writeSeries(dir, [overviewWith(20), overviewWith(5), overviewWith(5)]);
    // Pruned (or made unreadable) between the listing and the read.
    fs.rmSync(files[2]);
    fs.symlinkSync(path.join(dir, 'gone'), files[2]);
    const r = await replay('--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`stockwatch: ${files[2]}: cannot read: not found\n`);
    expect(JSON.parse(r.stdout).map((e: { at: string; channel: string }) => `${e.at} ${e.channel}`)).toEqual([`${at(1)} ops`, `${at(1)} buyers`]);
  });

  it('bad rules, at FILE:LINE:COL', async () => {
    writeSeries(dir, [overviewWith(5)]);
    fs.writeFileSync(path.join(rules, 'rules.yaml'), RULES.replace('below: 10', 'below: ten'));
    const r = await replay('--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/rules\.yaml:\d+:\d+: .*below/);
  });

  it('no folder, an empty folder, an unknown option', async () => {
    expect(await runCli(['replay'], ENV)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^stockwatch: replay: the folder of snapshots is required.*\n$/) });
    expect(await replay()).toMatchObject({ code: 1, stderr: expect.stringMatching(/: no snapshots in it/) });
    expect(await replay('--jsn')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^stockwatch: replay: Unknown option '--jsn'/) });
  });

  it('--help says that a file that is no overview is a failed poll', async () => {
    const r = await runCli(['replay', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('counts as a failed');
  });
});
