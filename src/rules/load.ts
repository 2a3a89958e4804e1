// The rules folder -> a validated RuleSet, or every problem in every file at once, each as
// `FILE:LINE:COL: message`. Bad content never throws; only a folder that cannot be read or holds
// no rule file does.
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuleError, RuleSet } from '../model';
import { UserError, visibleControls } from '../errors';
import { MAX_FILE_BYTES, parseRuleFile, tooLargeMessage } from './parse';
import { FileReader } from './reader';
import { buildRuleSet, type DraftFile } from './ruleset';
import { readRuleFile } from './validate';

export type LoadResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleError[] };

const RULE_FILE = /\.ya?ml$/;

/** A file to validate: `name` is what RuleSet.files records, `shownAs` what error messages print. */
interface SourceFile {
  name: string;
  shownAs: string;
  text?: string;
  /** Set instead of text when the file could not be read. */
  readError?: { line: number; col: number; message: string };
}

/**
 * Reads every *.yaml / *.yml file directly in `dir` (name order), validates them together. Never throws for bad content;
 * throws UserError only when `dir` itself cannot be read or holds no rule file (one line: `rules folder ./x: not found`).
 */
export function loadRules(dir: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new UserError(`rules folder ${dir}: ${describeFsError(err)}`);
  }
  const files: SourceFile[] = [];
  for (const name of entries.map((e) => e.name).filter(isRuleFileName).sort(byName)) {
    const file = path.join(dir, name);
    try {
      // Directories named x.yaml are skipped; symlinks count by what they point to.
      const stat = fs.statSync(file);
      if (!stat.isFile()) continue;
      if (stat.size > MAX_FILE_BYTES) {
        files.push({ name, shownAs: file, readError: { line: 1, col: 1, message: tooLargeMessage(stat.size) } });
        continue;
      }
      const bytes = fs.readFileSync(file);
      // Decoding would turn each bad byte into U+FFFD: a Latin-1 `brand: "Nestlé"` would load as a
      // filter that never matches.
      if (isUtf8(bytes)) files.push({ name, shownAs: file, text: bytes.toString('utf8') });
      else files.push({ name, shownAs: file, readError: notUtf8(bytes) });
    } catch (err) {
      files.push({ name, shownAs: file, readError: { line: 1, col: 1, message: `cannot read the file: ${describeFsError(err)}` } });
    }
  }
  if (files.length === 0) {
    // A mistyped RULES_DIR or --rules would otherwise pass `check` and start a daemon that watches nothing.
    throw new UserError(`rules folder ${dir}: no rule files in it (*.yaml, *.yml)`);
  }
  return validateSources(files, env);
}

/** Where the first byte that is not UTF-8 stands (the column in characters, as editors count them). */
function notUtf8(bytes: Buffer): { line: number; col: number; message: string } {
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || !isUtf8(bytes.subarray(at, at + length))) break;
    at += length;
  }
  const lineStart = at === 0 ? 0 : bytes.lastIndexOf(0x0a, at - 1) + 1;
  const line = bytes.subarray(0, lineStart).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 1);
  const col = bytes.subarray(lineStart, at).toString('utf8').length + 1;
  const bad = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  return { line, col, message: `not UTF-8 text (byte 0x${bad} here); save the file as UTF-8` };
}

/** Same, from in-memory files (name -> text); used by tests and property tests. `dir`-relative names. */
export function loadRuleFiles(files: Array<{ name: string; text: string }>, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const sorted = [...files].sort((a, b) => byName(a.name, b.name));
  return validateSources(sorted.map((f) => ({ name: f.name, shownAs: f.name, text: f.text })), env);
}

/** `FILE:LINE:COL: message` */
export function formatRuleError(e: RuleError): string {
  // A file name may hold a line break or an escape sequence: one line, and nothing raw to a terminal.
  return `${visibleControls(e.file.replace(/\n/g, '\\n'))}:${e.line}:${e.col}: ${e.message}`;
}

/**
 * Which names in the folder are rule files: *.yaml and *.yml, except hidden ones, so that editor
 * lock and swap files (`.#stock.yaml`) are never read as rules while someone edits.
 */
export function isRuleFileName(name: string): boolean {
  return RULE_FILE.test(name) && !name.startsWith('.');
}

/** Name order by code points, the same on every machine and locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validateSources(files: SourceFile[], env: NodeJS.ProcessEnv): LoadResult {
  const errors: RuleError[] = [];
  const drafts: DraftFile[] = [];
  let complete = true;
  for (const file of files) {
    if (file.text === undefined) {
      errors.push({ file: file.shownAs, ...(file.readError ?? { line: 1, col: 1, message: 'cannot read the file' }) });
      complete = false;
      continue;
    }
    const parsed = parseRuleFile(file.shownAs, file.text);
    if (!parsed.ok) {
      errors.push(...parsed.errors);
      complete = false;
      continue;
    }
    const reader = new FileReader(file.shownAs, parsed.parsed.doc, parsed.parsed.lineCounter, env, errors);
    drafts.push({ name: file.name, draft: readRuleFile(reader, parsed.parsed.doc) });
  }
  const ruleSet = buildRuleSet(drafts, complete, errors);
  if (ruleSet && errors.length === 0) return { ok: true, ruleSet };
  return { ok: false, errors: sortAndDedupe(errors, files.map((f) => f.shownAs)) };
}

/** By file (in name order), line, column; an aliased value read twice is reported once. */
function sortAndDedupe(errors: RuleError[], fileOrder: string[]): RuleError[] {
  const rank = new Map(fileOrder.map((f, i) => [f, i]));
  const seen = new Set<string>();
  return errors
    .map((e) => ({ ...e, message: oneLine(e.message) })) // a last guard for the FILE:LINE:COL one-line promise
    .filter((e) => {
      const key = formatRuleError(e);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (rank.get(a.file) ?? 0) - (rank.get(b.file) ?? 0) || a.line - b.line || a.col - b.col);
}

function oneLine(message: string): string {
  return message.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'ENOTDIR') return 'not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}
