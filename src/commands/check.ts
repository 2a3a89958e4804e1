// `stockwatch check [--rules DIR]`: validates the rule files, as the daemon would before using them.
import * as path from 'node:path';
import { UserError } from '../errors';
import type { RuleError, RuleSet } from '../model';
import { formatRuleError, loadRules } from '../rules/load';
import { parseCommandArgs, printUsage } from './args';

const USAGE = `Usage: stockwatch check [--rules DIR] [--format text|json|github]

Validates the rule files (*.yaml, *.yml) in DIR, all together, as the daemon would load them.
Prints one "FILE:LINE:COL: message" line per problem and exits 1, or a one-line summary and exits 0.

Options:
  --rules DIR       folder of rule files (default: $RULES_DIR, or ./rules)
  --format FORMAT   text (default): FILE:LINE:COL: message lines on stderr
                    json: one JSON array of {file, line, col, message} on stdout ([] when valid)
                    github: one "::error file=F,line=L,col=C::message" line per problem on stdout,
                    which GitHub Actions shows on the lines of a pull request
  -h, --help        show this help`;

const FORMATS = ['text', 'json', 'github'] as const;
type Format = (typeof FORMATS)[number];

/** The rules folder a command uses: --rules, else RULES_DIR, else ./rules. */
export function rulesDirOf(command: string, option: string | boolean | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option === '') throw new UserError(`${command}: --rules needs a folder`);
  if (typeof option === 'string') return option;
  return env.RULES_DIR !== undefined && env.RULES_DIR !== '' ? env.RULES_DIR : './rules';
}

/** `1 rule`, `2 rules`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** e.g. `5 rules, 2 channels, 3 silences (1 expired) in 2 files (rules/)` */
export function describeRuleSet(ruleSet: RuleSet, dir: string, nowMs: number): string {
  const shownDir = path.normalize(dir).replace(/[\\/]*$/, path.sep);
  // A silence past its `until` does nothing any more: worth a word, not an error.
  const expired = ruleSet.silences.filter((s) => s.untilMs <= nowMs).length;
  return (
    `${plural(ruleSet.rules.length, 'rule')}, ${plural(Object.keys(ruleSet.channels).length, 'channel')}, ` +
    `${plural(ruleSet.silences.length, 'silence')}${expired > 0 ? ` (${expired} expired)` : ''} ` +
    `in ${plural(ruleSet.files.length, 'file')} (${shownDir})`
  );
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('check', argv, { rules: { type: 'string' }, format: { type: 'string' } });
  if (args.help) return printUsage(USAGE);
  const format = formatOf(args.values.format);
  const dir = rulesDirOf('check', args.values.rules);
  let result;
  try {
    result = loadRules(dir);
  } catch (err) {
    // A missing folder is a problem a pull request should show too; the usual line follows on stderr.
    if (format === 'github' && err instanceof UserError) process.stdout.write(`::error::${escapeData(err.message)}\n`);
    throw err;
  }
  const errors = result.ok ? [] : result.errors;
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(errors.map(({ file, line, col, message }) => ({ file, line, col, message })))}\n`);
  } else if (format === 'github') {
    process.stdout.write(errors.map((e) => githubAnnotation(e) + '\n').join(''));
  } else {
    process.stderr.write(errors.map((e) => formatRuleError(e) + '\n').join(''));
  }
  if (!result.ok) return 1;
  if (format !== 'json') process.stdout.write(`rules OK: ${describeRuleSet(result.ruleSet, dir, Date.now())}\n`);
  return 0;
}

function formatOf(option: string | boolean | undefined): Format {
  if (option === undefined) return 'text';
  if (typeof option === 'string' && (FORMATS as readonly string[]).includes(option)) return option as Format;
  throw new UserError(`check: --format must be ${FORMATS.slice(0, -1).join(', ')} or ${FORMATS[FORMATS.length - 1]}; got "${String(option).slice(0, 40)}"`);
}

/** A GitHub Actions workflow command: an error annotation on the file's line and column. */
export function githubAnnotation(e: RuleError): string {
  return `::error file=${escapeProperty(e.file)},line=${e.line},col=${e.col}::${escapeData(e.message)}`;
}

// Workflow command escaping, as GitHub's own toolkit (@actions/core) does it.
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
