// Every rule file written anywhere in the tests, checked against the JSON Schema with a real
// validator (ajv): the files `check` accepts must validate, and the files with a structural mistake
// (an unknown key, a wrong type of value, a missing key...) must not. The files are collected from
// the test sources themselves (string and template literals that look like rule files), so a rule
// file added to any test joins this check without anyone listing it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { formatRuleError, loadRuleFiles, type LoadResult } from '../../src/rules';
import { CHANNELS_FILE, yaml } from '../rules/helpers';
import { schemaProblems } from './validator';

const REPO = path.join(__dirname, '..', '..');
const RULE_FILE_LIKE = /^(channels|defaults|rules|inhibit|silences):/m;

interface Found {
  text: string;
  /** file:line in the test sources */
  at: string;
}

/** The value of a string-ish expression, when it is fully literal: 'a', `a`, yaml`a`, 'a' + 'b'. */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node)) return literalText(node.expression);
  if (ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag) && node.tag.text === 'yaml' && ts.isNoSubstitutionTemplateLiteral(node.template)) {
    const text = node.template.text;
    return yaml(Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray);
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = literalText(node.left);
    const right = literalText(node.right);
    return left !== undefined && right !== undefined ? left + right : undefined;
  }
  return undefined;
}

function collect(): Found[] {
  const found: Found[] = [];
  const seen = new Set<string>();
  const files = (fs.readdirSync(path.join(REPO, 'test'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(REPO, 'test', f));
  for (const file of files) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      const text = literalText(node);
      if (text !== undefined) {
        if (RULE_FILE_LIKE.test(text) && !seen.has(text)) {
          seen.add(text);
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          found.push({ text, at: `${path.relative(REPO, file)}:${line + 1}` });
        }
        return; // the parts of a concatenation are not files of their own
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  // The shipped starter files too.
  for (const name of fs.readdirSync(path.join(REPO, 'rules')).filter((n) => n.endsWith('.yaml'))) {
    found.push({ text: fs.readFileSync(path.join(REPO, 'rules', name), 'utf8'), at: `rules/${name}` });
  }
  return found;
}

/** Loads the text as rules/test.yaml, alone and beside a channels file, with its ${VAR}s set to a URL or a number. */
function attempts(text: string): LoadResult[] {
  const names = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
  const envs = [Object.fromEntries(names.map((n) => [n, 'https://example.invalid/hook'])), Object.fromEntries(names.map((n) => [n, '7']))];
  return envs.flatMap((env) => [loadRuleFiles([CHANNELS_FILE, { name: 'test.yaml', text }], env), loadRuleFiles([{ name: 'test.yaml', text }], env)]);
}

// Mistakes a schema can state. Not here: what needs other files or the environment (channel and rule
// names, ${VAR}s), cron, time zones, calendar dates, URL hosts, clear_at against below.
const STRUCTURAL = [
  /unknown key "/,
  /missing required key/,
  /only applies to/,
  /unknown (rule type|severity|scope|"same" value) /,
  /a channel is either/,
  /empty list; give at least one/,
  /: empty; give at least one of/,
  /needs "where", "rule" or both/,
  /only applies to digest channels/,
  /expected .*, got (a map|a list|nothing)$/,
  /expected a whole number, got [^t]/,
  /must be \d+ or more/,
  /expected a duration.*, got "/,
  /use letters, digits/,
];

const corpus = collect().map((f) => ({ ...f, results: attempts(f.text) }));

test('the tests hold many rule files, valid and invalid (so the checks below are not vacuous)', () => {
  const valid = corpus.filter((f) => f.results.some((r) => r.ok));
  expect(valid.length).toBeGreaterThanOrEqual(30);
  expect(corpus.length - valid.length).toBeGreaterThanOrEqual(60);
});

test('every rule file that check accepts validates against the schema', () => {
  const refused: string[] = [];
  for (const f of corpus) {
    if (!f.results.some((r) => r.ok)) continue;
    const problems = schemaProblems(f.text);
    if (problems === undefined || problems.length > 0) refused.push(`${f.at}: ${problems?.join('; ') ?? 'not one YAML document'}`);
  }
  expect(refused).toEqual([]);
});

test('every rule file with a structural mistake fails the schema too', () => {
  const accepted: string[] = [];
  let structural = 0;
  for (const f of corpus) {
    const [withChannels] = f.results;
    if (withChannels.ok) continue;
    const mistakes = withChannels.errors.filter(
      (e) => e.file === 'test.yaml' && !e.message.includes('(not shown)') && STRUCTURAL.some((re) => re.test(e.message)),
    );
    if (mistakes.length === 0) continue;
    structural++;
    if (schemaProblems(f.text)?.length === 0) accepted.push(`${f.at}: ${mistakes.map(formatRuleError).join('; ')}`);
  }
  expect(accepted).toEqual([]);
  expect(structural).toBeGreaterThanOrEqual(30);
});
