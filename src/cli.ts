// The `stockwatch` command. Thin on purpose: it parses the command name and hands the rest to
// src/commands/<name>.ts, loaded lazily so that `check` never pays for BullMQ or nodemailer.
import { isUserError, oneLine, ProblemList } from './errors';

export interface CommandModule {
  /** Runs the command with its own arguments; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => CommandModule;
  /**
   * The process may exit as soon as the command has returned: it awaited everything it started and
   * its logger writes synchronously. bin/ then calls process.exit instead of letting Node drain its
   * event loop, which after a poll waits 150–500 ms on V8's background GC tasks and closing sockets.
   */
  exitWhenDone?: boolean;
}

const COMMANDS: Record<string, CommandEntry> = {
  run: { summary: 'run the daemon: poll on a schedule, notify, serve HTTP_PORT', load: () => require('./commands/run') },
  poll: { summary: 'poll once (--once) and deliver the immediate notices it causes', load: () => require('./commands/poll'), exitWhenDone: true },
  check: { summary: 'validate the rule files', load: () => require('./commands/check') },
  schema: { summary: 'print the JSON Schema of a rule file (for editors)', load: () => require('./commands/schema') },
  eval: { summary: 'what the rules make of a saved overview, offline', load: () => require('./commands/eval') },
  'notify-test': { summary: 'send a test notice to one channel', load: () => require('./commands/notify-test') },
  replay: { summary: 'replay saved overviews through the rules: what each channel would have been told', load: () => require('./commands/replay') },
  snapshot: { summary: 'fetch the overview once and save it for replay', load: () => require('./commands/snapshot') },
};

export const USAGE = `Usage: stockwatch <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Run \`stockwatch <command> --help\` for a command's options.
Configuration comes from the environment (S2_API_URL, REDIS_URL, RULES_DIR, ...): see docs/configuration.md.`;

/**
 * Runs the command named by argv[0] and sets process.exitCode. `exitNow`: the process may exit
 * right away (see CommandEntry.exitWhenDone); tests that run commands in-process ignore it.
 */
export async function main(argv: string[]): Promise<{ exitNow: boolean }> {
  const [name, ...rest] = argv;
  let exitNow = false;
  let code: number;
  try {
    if (name === undefined) {
      process.stderr.write(`stockwatch: no command given (try: ${Object.keys(COMMANDS).join(', ')}; or stockwatch --help)\n`);
      code = 1;
    } else if (name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(USAGE + '\n');
      code = 0;
    } else if (name === '--version' || name === '-V') {
      process.stdout.write(require('../package.json').version + '\n');
      code = 0;
    } else {
      const command = COMMANDS[name];
      if (!command) {
        process.stderr.write(`stockwatch: unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})\n`);
        code = 1;
      } else {
        code = await command.load().run(rest);
        exitNow = command.exitWhenDone === true;
      }
    }
  } catch (err) {
    // Bad input gets its one line (a ProblemList one line per problem: FILE:LINE:COL each); a bug
    // gets one line too, its stack only with STOCKWATCH_DEBUG set, so that secrets in a stack's
    // context never reach a terminal.
    const text = err instanceof ProblemList ? err.message : oneLine(err);
    process.stderr.write(`stockwatch: ${text}\n`);
    if (!isUserError(err) && process.env.STOCKWATCH_DEBUG) process.stderr.write(String((err as Error).stack) + '\n');
    code = 1;
  }
  process.exitCode = code;
  return { exitNow };
}
