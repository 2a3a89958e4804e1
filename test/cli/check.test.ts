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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
