// Reads a series of overview bodies, each much like the one before (the running daemon's polls,
// replay's week of snapshots: the same warehouses and products, 1% of the items changed), parsing
// only what changed.
//
// parse(body) gives exactly JSON.parse of the body: the top-level values and each item are
// located by a byte scanner; a value whose bytes equal those of the previous body's value of the
// same key (top-level) or the same index (items) is taken from the previous parse (the very same
// value: one Buffer.compare), every other value goes through JSON.parse. Anything the scanner
// does not expect leaves the body to the caller's full parse, which words the errors.
// toOverview(json) then validates the assembled body as a whole (so duplicates, joins and
// malformed items are judged exactly as for a full parse), taking the Item of each reused element
// from the previous body when the warehouses and products were reused too (OverviewMemory).
import { constants as bufferConstants } from 'node:buffer';
import { OverviewError, OverviewMemory, jsonErrorReason, stripBom, toOverview, type SourceOverview } from './overview';
import type { PollOutcome } from '../engine/step';

interface Span {
  start: number;
  end: number;
  value: unknown;
}

/** The elements of an array: where each stands in the body (start, just past its end) and its value. */
interface Elements {
  starts: number[];
  ends: number[];
  values: unknown[];
}

interface Parsed {
  body: Buffer;
  /** Top-level members by key, in the order of the body. */
  members: Map<string, Span>;
  /** The elements of `items` when it is an array. */
  items: Elements | null;
}

/** The most elements of `items` compared in one Buffer.compare (about 18 KB of a bench body). */
const MAX_RUN = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Thrown by the scanner: the body is not what the fast path reads; the full parse takes over. */
class NotScannable extends Error {}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** A whole body, read the slow and sure way: the daemon's own steps. */
export function outcomeOf(body: Buffer): PollOutcome {
  let json: unknown;
  try {
    json = JSON.parse(stripBom(body.toString('utf8')));
  } catch (err) {
    return { error: `not JSON: ${jsonErrorReason(err)}` };
  }
  try {
    return { overview: toOverview(json) };
  } catch (err) {
    if (err instanceof OverviewError) return { error: `not an overview: ${err.message}` };
    throw err;
  }
}

export class OverviewReader {
  private previous: Parsed | null = null;
  private readonly memory = new OverviewMemory();

  /**
   * The body's JSON value, equal to JSON.parse of its text (a leading byte order mark left out),
   * or undefined when the scanner does not read this body: the caller then parses it whole, which
   * also gives the real error of a body that is not JSON. Values that did not change since the
   * previous body are that body's values. A body that is undefined here is forgotten, and so is
   * everything before it.
   */
  parse(body: Buffer): unknown {
    // Past V8's longest string a full parse fails to decode the text (the caller says so);
    // at or below it every decode succeeds (UTF-8 never has more characters than bytes).
    if (body.length > bufferConstants.MAX_STRING_LENGTH) {
      this.forget();
      return undefined;
    }
    let parsed: Parsed;
    try {
      parsed = this.scan(body);
    } catch (err) {
      if (!(err instanceof NotScannable) && !(err instanceof SyntaxError)) throw err;
      this.forget();
      return undefined;
    }
    this.previous = parsed;
    // defineProperty: a key like "__proto__" must be an own property, as JSON.parse makes it.
    const json: Record<string, unknown> = {};
    const define = (key: string, value: unknown): void => {
      Object.defineProperty(json, key, { value, enumerable: true, writable: true, configurable: true });
    };
    for (const [key, span] of parsed.members) define(key, span.value);
    if (parsed.items !== null) define('items', parsed.items.values);
    return json;
  }

  /** toOverview(json) for what parse() returned, reusing the Items of unchanged items. A body that is not an overview is forgotten. */
  toOverview(json: unknown): SourceOverview {
    try {
      return toOverview(json, this.memory);
    } catch (err) {
      this.forget();
      throw err;
    }
  }

  /** The next body's outcome: the same as outcomeOf(body). */
  read(body: Buffer): PollOutcome {
    const json = this.parse(body);
    if (json === undefined) return outcomeOf(body);
    try {
      return { overview: this.toOverview(json) };
    } catch (err) {
      if (err instanceof OverviewError) return { error: `not an overview: ${err.message}` };
      throw err;
    }
  }

  /** Parse the next body from scratch. */
  forget(): void {
    this.previous = null;
    this.memory.forget();
  }

  private scan(body: Buffer): Parsed {
    const prev = this.previous;
    const n = body.length;
    let i = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    const skip = (): void => {
      while (i < n && isSpace(body[i])) i++;
    };
    const expect = (b: number): void => {
      skip();
      if (body[i] !== b) throw new NotScannable();
      i++;
    };
    skip();
    expect(OPEN_OBJECT);
    const members = new Map<string, Span>();
    let items: Elements | null = null;
    skip();
    if (body[i] === CLOSE_OBJECT) {
      i++;
    } else {
      for (;;) {
        skip();
        const keyStart = i;
        if (body[i] !== QUOTE) throw new NotScannable();
        i = stringEnd(body, i);
        const key = JSON.parse(body.toString('utf8', keyStart, i)) as string;
        expect(COLON);
        skip();
        if (key === 'items' && body[i] === OPEN_ARRAY) {
          items = this.scanItems(body, i, prev);
          i = items.ends.length === 0 ? arrayEndAfterOpen(body, i) : itemsEnd(body, items.ends[items.ends.length - 1]);
          members.delete('items');
        } else {
          const span = reuse(body, i, prev?.body, prev?.members.get(key)) ?? parseValue(body, i, valueEnd(body, i));
          i = span.end;
          members.delete(key); // the last of duplicate keys wins, as in JSON.parse; and its place
          members.set(key, span);
          if (key === 'items') items = null;
        }
        skip();
        if (body[i] === COMMA) {
          i++;
          continue;
        }
        expect(CLOSE_OBJECT);
        break;
      }
    }
    skip();
    if (i !== n) throw new NotScannable();
    return { body, members, items };
  }

  /**
   * The elements of the array opening at `open`, each reused from the previous body's element of
   * the same index when its bytes are the same. A run of elements is compared at once (separators
   * included): MAX_RUN of them, halving on a difference down to the one element that changed,
   * which is parsed; about a dozen compares find each changed element.
   */
  private scanItems(body: Buffer, open: number, prev: Parsed | null): Elements {
    const elements: Elements = { starts: [], ends: [], values: [] };
    const { starts, ends, values } = elements;
    const n = body.length;
    let i = open + 1;
    const skip = (): void => {
      while (i < n && isSpace(body[i])) i++;
    };
    skip();
    if (body[i] === CLOSE_ARRAY) return elements;
    const before = prev?.items ?? null;
    let run = MAX_RUN;
    for (;;) {
      skip();
      const k = values.length;
      if (prev !== null && before !== null && run > 1 && k + 1 < before.values.length) {
        run = Math.min(run, before.values.length - k);
        if (sameRun(body, i, prev.body, before, k, run)) {
          const shift = i - before.starts[k];
          for (let j = k; j < k + run; j++) {
            starts.push(before.starts[j] + shift);
            ends.push(before.ends[j] + shift);
            values.push(before.values[j]);
          }
          i = ends[ends.length - 1];
        } else {
          run >>= 1;
          continue;
        }
      } else {
        const was = before !== null && k < before.values.length ? { start: before.starts[k], end: before.ends[k], value: before.values[k] } : undefined;
        const span = reuse(body, i, prev?.body, was) ?? parseValue(body, i, valueEnd(body, i));
        starts.push(span.start);
        ends.push(span.end);
        values.push(span.value);
        i = span.end;
        run = MAX_RUN;
      }
      skip();
      if (body[i] === COMMA) {
        i++;
        continue;
      }
      if (body[i] !== CLOSE_ARRAY) throw new NotScannable();
      return elements;
    }
  }
}

/**
 * Whether the previous body's elements k..k+run-1 (and what stands between them) have the same
 * bytes at `start`. The last one must be an object, an array or a string: their bytes say where
 * they end, a number's end depends on what follows it.
 */
function sameRun(body: Buffer, start: number, prevBody: Buffer, before: Elements, k: number, run: number): boolean {
  const from = before.starts[k];
  const to = before.ends[k + run - 1];
  const last = prevBody[before.starts[k + run - 1]];
  if (last !== OPEN_OBJECT && last !== OPEN_ARRAY && last !== QUOTE) return false;
  if (start + (to - from) > body.length) return false;
  return body.compare(prevBody, from, to, start, start + (to - from)) === 0;
}

/**
 * The previous value when the same bytes stand at `start`. Only for objects, arrays and strings:
 * their bytes say where they end; a number's end depends on what follows it.
 */
function reuse(body: Buffer, start: number, prevBody: Buffer | undefined, prev: Span | undefined): Span | null {
  if (prevBody === undefined || prev === undefined) return null;
  const first = prevBody[prev.start];
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY && first !== QUOTE) return null;
  const length = prev.end - prev.start;
  if (start + length > body.length) return null;
  if (body.compare(prevBody, prev.start, prev.end, start, start + length) !== 0) return null;
  return { start, end: start + length, value: prev.value };
}

function parseValue(body: Buffer, start: number, end: number): Span {
  // A SyntaxError here sends the whole body to the full parse, which words the error.
  return { start, end, value: JSON.parse(body.toString('utf8', start, end)) };
}

/** The index just past the string that opens at `i`. */
function stringEnd(body: Buffer, i: number): number {
  let at = i + 1;
  for (;;) {
    const q = body.indexOf(QUOTE, at);
    if (q < 0) throw new NotScannable();
    let backslashes = 0;
    while (body[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    at = q + 1;
  }
}

/** The index just past the JSON value that starts at `i` (brackets counted, strings skipped; JSON.parse checks the rest). */
function valueEnd(body: Buffer, i: number): number {
  const n = body.length;
  const b = body[i];
  if (b === QUOTE) return stringEnd(body, i);
  if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
    let depth = 0;
    while (i < n) {
      const c = body[i];
      if (c === QUOTE) {
        i = stringEnd(body, i);
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new NotScannable();
  }
  const start = i;
  while (i < n) {
    const c = body[i];
    if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isSpace(c)) break;
    i++;
  }
  if (i === start) throw new NotScannable();
  return i;
}

/** Just past an empty array's `]`. */
function arrayEndAfterOpen(body: Buffer, open: number): number {
  let i = open + 1;
  while (i < body.length && isSpace(body[i])) i++;
  if (body[i] !== CLOSE_ARRAY) throw new NotScannable();
  return i + 1;
}

/** Just past the `]` that follows the last element (ending at `lastEnd`). */
function itemsEnd(body: Buffer, lastEnd: number): number {
  let i = lastEnd;
  while (i < body.length && isSpace(body[i])) i++;
  if (body[i] !== CLOSE_ARRAY) throw new NotScannable();
  return i + 1;
}
