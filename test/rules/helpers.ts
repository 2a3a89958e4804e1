import { formatRuleError, loadRuleFiles, type LoadResult } from '../../src/rules';
import type { RuleSet } from '../../src/model';
import { schemaProblems } from '../schema/validator';

/** Strips the first newline and the common indentation, so tests can write YAML inline and count lines from 1. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((text, s, i) => text + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').replace(/\n[ \t]*$/, '\n').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A channel `ops` and defaults sending to it, in a file named before the ones under test. */
export const CHANNELS_FILE = {
  name: '00-channels.yaml',
  text: yaml`
    channels:
      ops:
        email:
          to: ops@example.com
    defaults:
      channels: [ops]
  `,
};

/** `LINE:COL: message` lines for `text` as test.yaml next to CHANNELS_FILE ([] when valid). */
export function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  return problemsOf(load([CHANNELS_FILE, { name: 'test.yaml', text }], env));
}

/** `LINE:COL: message` lines for `text` alone as test.yaml. */
export function problemsAlone(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  return problemsOf(load([{ name: 'test.yaml', text }], env));
}

/**
 * loadRuleFiles, plus the promise the JSON Schema makes to editors: every file of a rule set that
 * `check` accepts is accepted by the schema too (a real validator, ajv). So every valid rule file
 * written in these tests is also a test of rules/stockwatch.schema.json.
 */
function load(files: Array<{ name: string; text: string }>, env: NodeJS.ProcessEnv): LoadResult {
  const result = loadRuleFiles(files, env);
  if (result.ok) {
    for (const file of files) {
      const found = schemaProblems(file.text);
      if (found === undefined || found.length > 0) {
        throw new Error(`check accepts ${file.name} but the JSON Schema refuses it: ${found?.join('; ') ?? 'not YAML'}\n${file.text}`);
      }
    }
  }
  return result;
}

function problemsOf(result: LoadResult): string[] {
  if (result.ok) return [];
  return result.errors.map((e) => {
    const line = formatRuleError(e);
    return line.startsWith('test.yaml:') ? line.slice('test.yaml:'.length) : line;
  });
}

/** The rule set for files that must be valid; fails the test with the problems otherwise. */
export function ruleSetOf(files: Array<{ name: string; text: string }>, env: NodeJS.ProcessEnv = {}): RuleSet {
  const result = load(files, env);
  if (!result.ok) throw new Error(`expected valid rules, got:\n${result.errors.map(formatRuleError).join('\n')}`);
  return result.ruleSet;
}
