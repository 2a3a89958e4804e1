// `stockwatch schema`: prints the JSON Schema (draft-07) of a rule file, for editors and CI linters.
import { ruleFileSchemaText } from '../rules/schema';
import { parseCommandArgs, printUsage } from './args';

const USAGE = `Usage: stockwatch schema

Prints the JSON Schema (draft-07) of a rule file, with a description and an example of every key.
Editors with the YAML language server (VS Code's YAML extension, neovim's yamlls, JetBrains) use it
when a rule file starts with:

  # yaml-language-server: $schema=./stockwatch.schema.json

The schema checks each file alone; \`stockwatch check\` also checks what spans files and the
environment (channel and rule names, \${VAR}s, cron expressions, time zones).

Options:
  -h, --help    show this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('schema', argv, {});
  if (args.help) return printUsage(USAGE);
  process.stdout.write(ruleFileSchemaText());
  return 0;
}
