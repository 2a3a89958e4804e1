// Argument parsing shared by every command: node:util parseArgs, with its errors turned into
// one-line UserErrors and `--help` handled the same way everywhere.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** true when --help was given; the caller prints its usage and exits 0. */
  help: boolean;
}

export function parseCommandArgs(command: string, argv: string[], options: Options, maxPositionals = 0): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: maxPositionals > 0,
      strict: true,
    });
  } catch (err) {
    const message = String((err as Error).message);
    // `--wait -5m`: parseArgs takes the value for another option and says so over three lines.
    const ambiguous = /^Option '(-[^']+)' argument is ambiguous/.exec(message);
    if (ambiguous) {
      throw new UserError(`${command}: ${ambiguous[1]} needs a value, and "${argAfter(argv, ambiguous[1])}" looks like an option; a value that starts with "-" is written ${ambiguous[1]}=-VALUE`);
    }
    // parseArgs messages are multi-line and mention internals; keep the first sentence.
    const first = message.split('\n')[0].replace(/\. To specify .*$/, '');
    throw new UserError(`${command}: ${first} (see \`stockwatch ${command} --help\`)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (parsed.positionals.length > maxPositionals) {
    throw new UserError(`${command}: unexpected argument "${parsed.positionals[maxPositionals]}" (see \`stockwatch ${command} --help\`)`);
  }
  return { values, positionals: parsed.positionals, help: values.help === true };
}

/** The argument after `option` in `argv` (for messages; short, one line). */
function argAfter(argv: string[], option: string): string {
  const next = argv[argv.indexOf(option) + 1] ?? '';
  return JSON.stringify(next).slice(1, -1).slice(0, 40);
}

/** Prints a command's usage to stdout; returns the exit code for `--help` (0). */
export function printUsage(text: string): number {
  process.stdout.write(text.trimEnd() + '\n');
  return 0;
}
