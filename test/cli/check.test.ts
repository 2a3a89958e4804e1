import * as path from 'node:path';
import { REPO, SPEC_ENV, SPEC_RULES, runCli, tempDir } from './helpers';

describe('stockwatch check', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('accepts the SPEC example and sums it up in one line', async () => {
    tmp.write('stock.yaml', SPEC_RULES);
    const r = await runCli(['check', '--rules', tmp.dir], SPEC_ENV);
    expect(r).toEqual({ code: 0, stdout: `rules OK: 4 rules, 2 channels, 1 silence in 1 file (${path.normalize(tmp.dir)}${path.sep})\n`, stderr: '' });
  });

  it('counts across files and says when a silence has expired', async () => {
    tmp.write('00-channels.yaml', 'channels:\n  ops:\n    email:\n      to: [ops@example.com]\ndefaults:\n  channels: [ops]\n');
    tmp.write(
      'stock.yml',
      'rules:\n  - name: a\n    type: negative_reserved\n  - name: b\n    type: unknown_product\n' +
        'silences:\n  - rule: a\n    until: 2000-01-01T00:00:00Z\n  - rule: b\n    until: 2999-01-01T00:00:00Z\n',
    );
    const r = await runCli(['check', '--rules', tmp.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rules OK: 2 rules, 1 channel, 2 silences \(1 expired\) in 2 files \(/);
  });

  it('accepts the starter rules shipped in rules/', async () => {
    const r = await runCli(['check', '--rules', path.join(REPO, 'rules')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rules OK: \d+ rules?, /);
  });

  it('uses RULES_DIR when --rules is not given', async () => {
    tmp.write('stock.yaml', SPEC_RULES);
    const r = await runCli(['check'], { ...SPEC_ENV, RULES_DIR: tmp.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('4 rules');
  });

  it('prints one FILE:LINE:COL line per problem on stderr and exits 1', async () => {
    const file = tmp.write(
      'bad.yaml',
      'channels:\n  ops:\n    email:\n      to: [ops@example.com]\ndefaults:\n  channels: [ops]\n' +
        'rules:\n  - name: low\n    type: low_availble\n    below: 10\n  - name: neg\n    type: negative_reserved\n    severity: urgent\n',
    );
    const r = await runCli(['check', '--rules', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${escape(file)}:9:\\d+: .*low_availble`));
    expect(lines[1]).toMatch(new RegExp(`^${escape(file)}:13:\\d+: .*urgent`));
  });

  it('names an unset ${VAR} as a problem', async () => {
    tmp.write('stock.yaml', SPEC_RULES);
    const r = await runCli(['check', '--rules', tmp.dir], { SLACK_WEBHOOK_URL: undefined });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\S+stock\.yaml:4:\d+: .*SLACK_WEBHOOK_URL/);
  });

  it('a missing folder is one line, no stack', async () => {
    const r = await runCli(['check', '--rules', path.join(tmp.dir, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('not found');
  });

  it('--help prints the usage and exits 0; an unknown option is one line and exit 1', async () => {
    const help = await runCli(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: stockwatch check \[--rules DIR\]/);
    expect(help.stdout).toContain('RULES_DIR');
    const bad = await runCli(['check', '--rule', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining("Unknown option '--rule'")]);
    const empty = await runCli(['check', '--rules', '']);
    expect(empty).toMatchObject({ code: 1, stdout: '', stderr: 'stockwatch: check: --rules needs a folder\n' });
  });
});

describe('stockwatch check --format', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  const BAD =
    'channels:\n  ops:\n    email:\n      to: [ops@example.com]\ndefaults:\n  channels: [ops]\n' +
    'rules:\n  - name: low\n    type: low_availble\n    below: 10\n  - name: neg\n    type: negative_reserved\n    severity: "50% urgent, really"\n';

  it('json: one JSON array of {file, line, col, message} on stdout, exit 1; [] and exit 0 when valid', async () => {
    const file = tmp.write('bad.yaml', BAD);
    const r = await runCli(['check', '--rules', tmp.dir, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const problems = JSON.parse(r.stdout);
    expect(problems).toEqual([
      { file, line: 9, col: 11, message: expect.stringContaining('unknown rule type "low_availble" (did you mean "low_available"?)') },
      { file, line: 13, col: 15, message: expect.stringContaining('unknown severity "50% urgent, really"') },
    ]);
    // The same problems as the text form, field for field.
    const text = await runCli(['check', '--rules', tmp.dir]);
    expect(text.stderr.trimEnd().split('\n')).toEqual(problems.map((p: { file: string; line: number; col: number; message: string }) => `${p.file}:${p.line}:${p.col}: ${p.message}`));

    const good = await runCli(['check', '--rules', path.join(REPO, 'rules'), '--format=json']);
    expect(good).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('github: one ::error annotation per problem, with GitHub\'s escaping; the summary line when valid', async () => {
    const file = tmp.write('bad,name.yaml', BAD);
    const r = await runCli(['check', '--rules', tmp.dir, '--format', 'github']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const shownFile = file.replace(/:/g, '%3A').replace(/,/g, '%2C');
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `::error file=${shownFile},line=9,col=11::rules[0].type: unknown rule type "low_availble" (did you mean "low_available"?); expected one of low_available, negative_reserved, stale, unknown_product, stale_warehouse, runs_out`,
      `::error file=${shownFile},line=13,col=15::rules[1].severity: unknown severity "50%25 urgent, really"; expected one of info, warning, critical`,
    ]);
    const good = await runCli(['check', '--rules', path.join(REPO, 'rules'), '--format', 'github']);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^rules OK: /);
  });

  it('github: a missing folder is an annotation too, and the usual line on stderr', async () => {
    const r = await runCli(['check', '--rules', path.join(tmp.dir, 'nope'), '--format', 'github']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::rules folder .*nope: not found\n$/);
    expect(r.stderr).toMatch(/^stockwatch: rules folder .*nope: not found\n$/);
  });

  it('text is the default; a bad --format is one line and exit 1', async () => {
    tmp.write('bad.yaml', BAD);
    const text = await runCli(['check', '--rules', tmp.dir, '--format', 'text']);
    expect(text.code).toBe(1);
    expect(text.stderr.trimEnd().split('\n')).toHaveLength(2);
    const bad = await runCli(['check', '--rules', tmp.dir, '--format', 'xml']);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'stockwatch: check: --format must be text, json or github; got "xml"\n' });
    const none = await runCli(['check', '--format']);
    expect(none.code).toBe(1);
    expect(none.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
