// Reading typed values out of a parsed YAML document while remembering where each came from, so
// that every problem is reported at the key or value it concerns. `${NAME}` substitution happens
// here, on every string value read, before the value is checked.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { RuleError, SourcePos } from '../model';
import { DURATION_SYNTAX, parseDuration } from '../duration';
import { didYouMean } from './suggest';

/** Anything yaml can hand us in a document (nodes, plain values for missing keys). */
export type Node = unknown;

/** A text value after substitution; `fromEnv` names the variables it came from (never echo it then). */
export interface Text {
  text: string;
  fromEnv: string[];
  node: Scalar;
}

export interface KeyedMap {
  map: YAMLMap;
  /** The key the map sits under (`email:`), where problems of the map as a whole are reported; else the map. */
  at: Node;
  path: string;
  /** Pairs by key text, in document order. */
  pairs: Map<string, Pair>;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MAX_SHOWN = 60;
/** `0s`, `0m`, `0h0m`: what parseDuration refuses as zero. */
const ZERO_DURATION = /^(?:0+(?:ms|s|m|h|d|w))+$/;

export class FileReader {
  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
    private readonly env: NodeJS.ProcessEnv,
    private readonly errors: RuleError[],
  ) {}

  // ---- positions and errors ---------------------------------------------------------------

  /** Where `node` starts; `fallback` (usually its key) when it has no source of its own, e.g. `key:` with nothing after. */
  pos(node: Node, fallback?: Node): SourcePos {
    const target = isEmpty(node) && fallback !== undefined ? fallback : node;
    const offset = rangeStart(target) ?? rangeStart(fallback) ?? 0;
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }

  error(at: SourcePos, path: string, message: string): void {
    const text = path === '' ? message : `${path}: ${message}`;
    this.errors.push({ ...at, message: text.replace(/\s*[\r\n]+\s*/g, ' ') });
  }

  errorAt(node: Node, path: string, message: string, fallback?: Node): void {
    this.error(this.pos(node, fallback), path, message);
  }

  // ---- structure ---------------------------------------------------------------------------

  /** Follows aliases (`*name`) to the anchored node. */
  deref(node: Node): Node {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /**
   * A map whose keys are all in `allowed`; every other key is an error at the key, with a hint when
   * one of `allowed` is close. `what` describes the expected map for the type error.
   */
  map(node: Node, path: string, what: string, allowed: readonly string[], keyNode?: Node): KeyedMap | undefined {
    const value = this.deref(node);
    if (!isMap(value)) {
      this.errorAt(blame(node, value), path, `expected ${what}, got ${kindOf(value)}`, keyNode);
      return undefined;
    }
    const pairs = new Map<string, Pair>();
    for (const pair of value.items) {
      const key = this.deref(pair.key);
      const name = keyText(key);
      if (name === undefined) {
        this.errorAt(key, path, `expected a key name, got ${kindOf(key)}`);
        continue;
      }
      if (name === '<<') {
        this.errorAt(key, path, 'merge keys (<<) are not supported; repeat the keys, or use `defaults` for what rules share');
        continue;
      }
      if (!allowed.includes(name)) {
        // A key that looks like a URL is probably a misplaced webhook: do not print it.
        const shown = name.includes('://') ? 'that looks like a URL (not shown)' : `"${truncate(name)}"`;
        this.errorAt(key, path, `unknown key ${shown}${didYouMean(name, allowed)}`);
        continue;
      }
      pairs.set(name, pair);
    }
    return { map: value, at: keyNode ?? value, path, pairs };
  }

  /** Reports a missing required key (at the map's own key, else the map), unless an unknown key there was probably meant to be it. */
  require(m: KeyedMap, key: string, hint = ''): boolean {
    if (m.pairs.has(key)) return true;
    if (!this.misspeltAs(m, key)) this.errorAt(m.at, m.path, `missing required key "${key}"${hint}`);
    return false;
  }

  /** true when the map has an unknown key whose "did you mean" is `key` (already reported). */
  misspeltAs(m: KeyedMap, key: string): boolean {
    for (const pair of m.map.items) {
      const name = keyText(this.deref(pair.key));
      if (name !== undefined && !m.pairs.has(name) && didYouMean(name, [key]) !== '') return true;
    }
    return false;
  }

  /** The items of a list. */
  list(node: Node, path: string, what: string, keyNode?: Node): Node[] | undefined {
    const value = this.deref(node);
    if (isSeq(value)) return value.items;
    this.errorAt(blame(node, value), path, `expected ${what}, got ${kindOf(value)}`, keyNode);
    return undefined;
  }

  // ---- scalars -------------------------------------------------------------------------------

  /**
   * A value read as text: strings after `${NAME}` substitution; numbers, booleans and dates as
   * written in the file (so `sku: 00123` stays "00123"). Errors for lists, maps and nothing.
   */
  text(node: Node, path: string, what: string, keyNode?: Node): Text | undefined {
    const value = this.deref(node);
    if (!isScalar(value) || value.value === null || value.value === undefined) {
      this.errorAt(blame(node, value), path, `expected ${what}, got ${kindOf(value)}`, keyNode);
      return undefined;
    }
    if (typeof value.value !== 'string') {
      return { text: value.source ?? String(value.value), fromEnv: [], node: value };
    }
    return this.substitute(value, path);
  }

  private substitute(node: Scalar, path: string): Text | undefined {
    const raw = node.value as string;
    const fromEnv: string[] = [];
    let unset = false;
    const text = raw.replace(ENV_REFERENCE, (_match, name: string) => {
      const value = this.env[name];
      if (value === undefined) {
        this.errorAt(node, path, `environment variable ${name} is not set`);
        unset = true;
        return '';
      }
      fromEnv.push(name);
      return value;
    });
    if (unset) return undefined;
    // Anything else that starts like a reference is almost certainly a typo of one.
    if (raw.replace(ENV_REFERENCE, '').includes('${')) {
      this.errorAt(node, path, '"${" must start an environment variable reference like ${SLACK_WEBHOOK_URL}');
      return undefined;
    }
    return { text, fromEnv, node };
  }

  /** An integer (also from a `${VAR}` holding digits, quoted or not). */
  integer(node: Node, path: string, keyNode?: Node): number | undefined {
    const value = this.deref(node);
    if (isScalar(value) && typeof value.value === 'number') {
      if (Number.isSafeInteger(value.value)) return value.value;
      this.errorAt(blame(node, value), path, `expected a whole number, got ${value.source ?? value.value}`);
      return undefined;
    }
    const fromEnv = this.fromEnv(value, path);
    if (fromEnv && /^[-+]?\d{1,15}$/.test(fromEnv.text)) return Number(fromEnv.text);
    if (fromEnv === null) return undefined;
    this.errorAt(blame(node, value), path, `expected a whole number, got ${fromEnv ? shown(fromEnv) : describe(value)}`, keyNode);
    return undefined;
  }

  /** true or false (also from a `${VAR}`); `yes`/`no`/`on`/`off` are refused, not guessed. */
  boolean(node: Node, path: string, keyNode?: Node): boolean | undefined {
    const value = this.deref(node);
    if (isScalar(value) && typeof value.value === 'boolean') return value.value;
    const fromEnv = this.fromEnv(value, path);
    if (fromEnv && /^(true|false)$/i.test(fromEnv.text)) return fromEnv.text.toLowerCase() === 'true';
    if (fromEnv === null) return undefined;
    this.errorAt(blame(node, value), path, `expected true or false, got ${fromEnv ? shown(fromEnv) : describe(value)}`, keyNode);
    return undefined;
  }

  /**
   * For integer/boolean readers: the substituted text of a scalar that used `${VAR}` (quoted too:
   * inside [...] or {...} a reference must be); null when substitution failed (already reported);
   * undefined for anything else, so that `below: "10"` is still refused as text.
   */
  private fromEnv(value: Node, path: string): Text | null | undefined {
    if (!isScalar(value) || typeof value.value !== 'string') return undefined;
    if (!value.value.includes('${')) return undefined;
    const text = this.substitute(value, path);
    if (text === undefined) return null;
    return text.fromEnv.length > 0 ? text : undefined;
  }

  /** One of `choices`, with a hint for a near miss. */
  oneOf<T extends string>(node: Node, path: string, what: string, choices: readonly T[], keyNode?: Node): T | undefined {
    const t = this.text(node, path, what, keyNode);
    if (t === undefined) return undefined;
    if ((choices as readonly string[]).includes(t.text)) return t.text as T;
    const hint = t.fromEnv.length > 0 ? '' : didYouMean(t.text, choices);
    this.errorAt(t.node, path, `unknown ${what} ${shown(t)}${hint}; expected one of ${choices.join(', ')}`);
    return undefined;
  }

  /**
   * A duration like `90s`, `2h`, `1h30m` in ms; null for `never` when `allow.never`; `0s` (any zero
   * duration) only when `allow.zero`, for keys where zero means "off".
   */
  duration(node: Node, path: string, allow: { never?: boolean; zero?: boolean }, keyNode?: Node): number | null | undefined {
    const t = this.text(node, path, 'a duration', keyNode);
    if (t === undefined) return undefined;
    if (allow.never && t.text === 'never') return null;
    const ms = parseDuration(t.text);
    if (ms !== null) return ms;
    if (allow.zero && ZERO_DURATION.test(t.text.trim())) return 0;
    if (DURATION_SYNTAX.test(t.text.trim()) && !ZERO_DURATION.test(t.text.trim())) {
      this.errorAt(t.node, path, `duration ${shown(t)} is too long to count in milliseconds`);
      return undefined;
    }
    const never = allow.never ? ' or "never"' : '';
    const zero = ZERO_DURATION.test(t.text.trim()) ? ' (more than zero)' : '';
    this.errorAt(t.node, path, `expected a duration${zero} like 90s, 5m, 2h, 3d, 1w or 1h30m${never}, got ${shown(t)}`);
    return undefined;
  }

  /** One text or a non-empty list of texts (`sku: "A-*"` or `sku: ["A-*", "B-*"]`); `required`: the key cannot be left out. */
  textList(node: Node, path: string, what: string, keyNode?: Node, required = false): Text[] | undefined {
    const value = this.deref(node);
    if (!isSeq(value)) {
      const single = this.text(node, path, `${what} or a list of them`, keyNode);
      return single && [single];
    }
    if (value.items.length === 0) {
      this.errorAt(blame(node, value), path, `empty list; give at least one entry${required ? '' : ', or leave the key out'}`);
      return undefined;
    }
    const texts: Text[] = [];
    let ok = true;
    value.items.forEach((item, i) => {
      const t = this.text(item, `${path}[${i}]`, what);
      if (t) texts.push(t);
      else ok = false;
    });
    return ok ? texts : undefined;
  }
}

/** How a value is described in "expected X, got Y": its kind, never its content. */
export function kindOf(node: Node): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'nothing';
    if (typeof v === 'number') return 'a number';
    if (typeof v === 'boolean') return `${v}`;
    return 'text';
  }
  return node === null || node === undefined ? 'nothing' : 'something else';
}

/** Like kindOf, but quotes a short string written in the file (`got "ten"`); only for values that are never secret. */
function describe(node: Node): string {
  return isScalar(node) && typeof node.value === 'string' ? `"${truncate(node.value)}"` : kindOf(node);
}

/** A text for an error message: quoted and shortened, or only the variables' names when it came from the environment. */
export function shown(t: Text): string {
  if (t.fromEnv.length > 0) return `the value of ${t.fromEnv.map((n) => `\${${n}}`).join(', ')} (not shown)`;
  return `"${truncate(t.text)}"`;
}

export function truncate(text: string): string {
  const oneLine = JSON.stringify(text).slice(1, -1);
  return oneLine.length > MAX_SHOWN ? `${oneLine.slice(0, MAX_SHOWN - 1)}…` : oneLine;
}

/** A key's name: text, or a number/boolean as written (`404:`); undefined for maps, lists and nothing. */
export function keyText(key: Node): string | undefined {
  if (!isScalar(key) || key.value === null || key.value === undefined) return undefined;
  return typeof key.value === 'string' ? key.value : (key.source ?? String(key.value));
}

/** Where a value of the wrong kind is reported: at the alias (`*w`) that put it there, not at its anchor elsewhere. */
function blame(node: Node, value: Node): Node {
  return isAlias(node) ? node : value;
}

function isEmpty(node: Node): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null && !node.source);
}

function rangeStart(node: Node): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    if (range) return range[0];
  }
  return undefined;
}
