// YAML text -> document, refusing what could hang or crash the process before validation sees it:
// oversized files, absurd nesting (yaml composes recursively, and a stack overflow in the wrong place
// can abort Node outright) and alias bombs ("billion laughs").
import { CST, Lexer, LineCounter, isScalar, parseDocument, visit, type Document, type Pair } from 'yaml';
import type { RuleError } from '../model';
import { truncate } from './reader';

/** Hand-written rule files are a few KB; 1 MiB is thousands of rules and still parses in about a second. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Real rule files nest about 6 levels; the estimate below counts generously. */
export const MAX_NESTING = 64;
/** Aliases are handy for sharing a `where` list; more copies than this is an attack, not a rule file. */
export const MAX_ALIAS_COUNT = 50;

export interface ParsedFile {
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export type ParseResult = { ok: true; parsed: ParsedFile } | { ok: false; errors: RuleError[] };

export function parseRuleFile(file: string, text: string): ParseResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) return fail(file, 1, 1, tooLargeMessage(bytes));

  const tooDeep = firstTooDeepOffset(text);
  if (tooDeep !== undefined) {
    const before = text.slice(0, tooDeep).split('\n');
    return fail(file, before.length, before[before.length - 1].length + 1, `nested deeper than ${MAX_NESTING} levels; refusing the file`);
  }

  const lineCounter = new LineCounter();
  // Core schema (YAML 1.2): `yes`/`no`/`on` stay text and `0123` is not octal. Timestamps stay text too;
  // the validator reads dates from the source text either way.
  // logLevel 'error': yaml's warnings (a list used as a key) would go to the process's stderr
  // beside our own FILE:LINE:COL lines; the validator reports those keys itself.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) return { ok: false, errors: syntaxErrors(file, text, doc, lineCounter) };

  const unknown = firstUnknownAlias(doc);
  if (unknown !== undefined) {
    const { line, col } = lineCounter.linePos(unknown.offset);
    return fail(file, line, col, `alias *${unknown.name} names no anchor before it; set &${unknown.name} on an earlier value, or fix the name`);
  }
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const at = firstAliasOffset(doc) ?? 0;
    const { line, col } = lineCounter.linePos(at);
    const why = err instanceof ReferenceError && /excessive alias count/i.test(err.message)
      ? `aliases expand to too many copies (more than ${MAX_ALIAS_COUNT}); refusing a possible alias bomb`
      : `cannot be read as data (${firstLine(err instanceof Error ? err.message : String(err))})`;
    return fail(file, line, col, why);
  }
  return { ok: true, parsed: { doc, lineCounter } };
}

export function tooLargeMessage(bytes: number): string {
  return `file too large (${bytes} bytes; a rule file may be at most 1 MiB, ${MAX_FILE_BYTES} bytes)`;
}

function fail(file: string, line: number, col: number, message: string): ParseResult {
  return { ok: false, errors: [{ file, line, col, message }] };
}

/** After one mistake yaml often reports every following token too: keep one error per line, and at most a few. */
const MAX_SYNTAX_ERRORS = 10;

function syntaxErrors(file: string, text: string, doc: Document.Parsed, lineCounter: LineCounter): RuleError[] {
  const errors: RuleError[] = [];
  const lines = new Set<number>();
  let omitted: { line: number; col: number; count: number } | undefined;
  for (const e of doc.errors) {
    // `[${CH}]`: inside brackets YAML reads the `{` of an unquoted reference as the start of a map.
    const unquotedReference = text.startsWith('${', e.pos[0] - 1);
    // yaml finds an unclosed quote at the end of the file; the mistake is where it opens.
    const openQuote = e.code === 'MISSING_CHAR' ? unclosedQuoteOffset(text, e.message, e.pos[0]) : undefined;
    const { line, col } = lineCounter.linePos(unquotedReference ? e.pos[0] - 1 : (openQuote ?? e.pos[0]));
    if (lines.has(line)) continue;
    lines.add(line);
    if (errors.length < MAX_SYNTAX_ERRORS) errors.push({ file, line, col, message: unquotedReference ? UNQUOTED_REFERENCE : syntaxMessage(e.code, e.message, e.pos[0], doc, lineCounter) });
    else if (omitted) omitted.count++;
    else omitted = { line, col, count: 1 };
  }
  if (omitted) {
    const { line, col, count } = omitted;
    errors.push({ file, line, col, message: `YAML syntax error: ${count} more from here on, probably caused by the ones above; fix those first` });
  }
  return errors;
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/**
 * Where the quote that yaml says is never closed opens: the last one before `end` that is not
 * escaped (`\"` in double quotes, `''` in single ones).
 */
function unclosedQuoteOffset(text: string, message: string, end: number): number | undefined {
  const quote = /^Missing closing (["'])quote/.exec(message)?.[1];
  if (quote === undefined) return undefined;
  for (let i = Math.min(end, text.length) - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === "'") {
      if (text[i - 1] === "'") i--; // one escaped quote, both halves
      else return i;
      continue;
    }
    let backslashes = 0;
    while (text[i - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return undefined;
}

const UNQUOTED_REFERENCE = 'a ${NAME} reference inside [...] or {...} must be quoted: "${NAME}"';

function syntaxMessage(code: string, message: string, offset: number, doc: Document.Parsed, lineCounter: LineCounter): string {
  if (code === 'DUPLICATE_KEY') return duplicateKeyMessage(doc, offset, lineCounter);
  if (code === 'MULTIPLE_DOCS') return 'more than one YAML document (---) in one file; use one document per file';
  // yaml quotes source text in some messages ("Not a YAML token: ..."); keep control characters visible, not raw.
  const text = firstLine(message).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
  return `YAML syntax error: ${text}`;
}

/**
 * Names the key yaml refused as a duplicate at `offset`, and where the first one is. Keys are equal
 * by value, so `1` and `0x1` collide (both the number 1): the first's spelling is shown when it differs.
 */
function duplicateKeyMessage(doc: Document.Parsed, offset: number, lineCounter: LineCounter): string {
  let message = 'duplicate key: map keys must be unique';
  visit(doc, {
    Map(_key, map) {
      const index = map.items.findIndex((pair) => keyStart(pair) === offset);
      if (index < 0) return undefined;
      const dup = map.items[index];
      const first = map.items.slice(0, index).find((pair) => sameKey(pair, dup));
      if (first === undefined) return visit.BREAK;
      const { line, col } = lineCounter.linePos(keyStart(first) ?? 0);
      const shown = keySource(first) === keySource(dup) ? '' : ` as "${keySource(first)}", the same value to YAML`;
      message = `duplicate key "${keySource(dup)}" (first at line ${line}, column ${col}${shown})`;
      return visit.BREAK;
    },
  });
  return message;
}

function keyStart(pair: Pair): number | undefined {
  return isScalar(pair.key) ? pair.key.range?.[0] : undefined;
}

function keySource(pair: Pair): string {
  const key = pair.key;
  return truncate(isScalar(key) ? (key.source ?? String(key.value)) : '');
}

function sameKey(a: Pair, b: Pair): boolean {
  return isScalar(a.key) && isScalar(b.key) && a.key.value === b.key.value;
}

/** The first alias whose anchor is not set before it (yaml itself finds out only while converting). */
function firstUnknownAlias(doc: Document.Parsed): { name: string; offset: number } | undefined {
  const anchors = new Set<string>();
  let unknown: { name: string; offset: number } | undefined;
  visit(doc, {
    Node(_key, node) {
      if (node.anchor) anchors.add(node.anchor);
    },
    Alias(_key, node) {
      if (anchors.has(node.source)) return undefined;
      unknown = { name: node.source, offset: node.range?.[0] ?? 0 };
      return visit.BREAK;
    },
  });
  return unknown;
}

function firstAliasOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * Offset of the first token nested deeper than MAX_NESTING, by a generous estimate from yaml's own
 * (iterative) lexer: block indentation levels + indicators on the line (`- - a`, `? :`) + open flow
 * brackets. Real files stay far below the limit; the point is to never hand yaml's recursive composer
 * thousands of levels.
 */
function firstTooDeepOffset(text: string): number | undefined {
  const indents: number[] = [];
  let flowDepth = 0;
  let lineIndicators = 0;
  let lineIndent = 0;
  let atLineStart = true;
  let skipScalarText = false;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const start = offset;
    const type = CST.tokenType(token);
    // The lexer's control tokens (document mode, scalar marker, flow error end) are not in the source.
    if (type !== 'doc-mode' && type !== 'scalar' && type !== 'flow-error-end') offset += token.length;
    if (skipScalarText) {
      skipScalarText = false;
      if (type === null) continue;
    }
    if (type === 'scalar') {
      skipScalarText = true; // the next token is the scalar's text, whatever characters it holds
    } else if (type === 'newline') {
      atLineStart = true;
      lineIndent = 0;
      lineIndicators = 0;
      continue;
    } else if (type === 'space') {
      if (atLineStart) lineIndent = token.length;
      continue;
    } else if (type === 'comment' || type === 'doc-mode') {
      continue;
    }
    if (atLineStart) {
      atLineStart = false;
      while (indents.length > 0 && indents[indents.length - 1] > lineIndent) indents.pop();
      if (indents.length === 0 || indents[indents.length - 1] < lineIndent) indents.push(lineIndent);
    }
    if (type === 'flow-seq-start' || type === 'flow-map-start') flowDepth++;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') flowDepth = Math.max(0, flowDepth - 1);
    else if (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind') lineIndicators++;
    if (indents.length + lineIndicators + flowDepth > MAX_NESTING) return start;
  }
  return undefined;
}
