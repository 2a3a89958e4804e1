// `stockwatch check [--rules DIR]`: validates the rule files, as the daemon would before using them.
import * as path from 'node:path';
import { UserError } from '../errors';
import type { RuleSet } from '../model';
import { formatRuleError, loadRules } from '../rules/load';
import { parseCommandArgs, printUsage } from './args';

const USAGE = `Usage: stockwatch check [--rules DIR]

Validates the rule files (*.yaml, *.yml) in DIR, all together, as the daemon would load them.
Prints one "FILE:LINE:COL: message" line per problem and exits 1, or a one-line summary and exits 0.

Options:
  --rules DIR   folder of rule files (default: $RULES_DIR, or ./rules)
  -h, --help    show this help`;

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
  const args = parseCommandArgs('check', argv, { rules: { type: 'string' } });
  if (args.help) return printUsage(USAGE);
  const dir = rulesDirOf('check', args.values.rules);
  const result = loadRules(dir);
  if (!result.ok) {
    process.stderr.write(result.errors.map((e) => formatRuleError(e) + '\n').join(''));
    return 1;
  }
  process.stdout.write(`rules OK: ${describeRuleSet(result.ruleSet, dir, Date.now())}\n`);
  return 0;
}
