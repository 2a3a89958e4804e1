// The HTTP client of the S2 API: one GET of `/inventory/overview` per poll.
//
// Node's http/https is used directly rather than fetch: it makes one deadline over the whole
// exchange (connect, headers and body), a byte limit checked while the body streams in, and
// precise failure kinds simple. The body is collected as Buffer chunks and decoded once, which
// is the fast path for a ~56 MB body. gzip, deflate and br answers are accepted and decoded off
// the main thread; the size limit applies to the decoded body as well.
//
// Secrets: the token goes only into the Authorization header. No message built here contains
// it, and messages from Node or the server pass through `redact` as a second guard.

import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { constants as bufferConstants } from 'node:buffer';
import zlib from 'node:zlib';
import { formatDuration, MAX_TIMER_MS } from '../duration';
import { scrubSecrets } from '../redact';
import type { OverviewReader } from './incremental';
import { jsonErrorReason, OverviewError, stripBom, toOverview, type SourceOverview } from './overview';

export interface SourceConfig {
  /** Base URL, e.g. `https://s2.example.com/api`; `/inventory/overview` is appended. */
  apiUrl: string;
  token: string;
  organizationId: string;
  /** Deadline for the whole exchange, body included. */
  timeoutMs: number;
  /** Largest body accepted (after decompression). Default 512 MiB. */
  maxBodyBytes?: number;
}

export type SourceFailureKind =
  | 'unreachable'
  | 'timeout'
  | 'token_rejected'
  | 'http_error'
  | 'not_json'
  | 'not_overview'
  | 'too_large';

/** A failed fetch. The message is one line, never contains the token, and names the host at most. */
export class SourceError extends Error {
  override name = 'SourceError';
  readonly kind: SourceFailureKind;
  /** The HTTP status, for token_rejected and http_error. */
  readonly status?: number;

  constructor(kind: SourceFailureKind, message: string, status?: number) {
    super(message);
    this.kind = kind;
    if (status !== undefined) this.status = status;
  }
}

export interface FetchResult {
  /** An `Overview`, plus `malformedEntries` (bad warehouse/product entries) for the log. */
  overview: SourceOverview;
  /** The body as parsed (after decompression): what SNAPSHOT_DIR saves. */
  body: Buffer;
  /** Size of the body as parsed (after decompression). */
  bytes: number;
  /** From sending the request to having the whole (decoded) body. */
  fetchMs: number;
  /** Decoding the text, JSON.parse and validation. */
  parseMs: number;
}

export const DEFAULT_MAX_BODY_BYTES = 512 * 1024 * 1024;

const OVERVIEW_PATH = '/inventory/overview';

/**
 * Why `url` cannot be the S2 API base URL, or null when it can. The message names the variable
 * and never repeats credentials.
 */
export function checkApiUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'S2_API_URL is not a valid URL (expected e.g. https://s2.example.com)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `S2_API_URL must be an http:// or https:// URL, got ${parsed.protocol}//`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'S2_API_URL must not contain a user or password (the token goes in S2_API_TOKEN)';
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    return `S2_API_URL must not contain a query or fragment (${OVERVIEW_PATH} is appended to it)`;
  }
  return null;
}

// RFC 6750 bearer tokens are visible ASCII; the organization id is plain printable ASCII.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
const HEADER_TEXT = /^[\x20-\x7e]+$/;

/** Why the config cannot make a request, or null. For startup checks; fetchOverview checks it too. */
export function checkSourceConfig(cfg: SourceConfig): string | null {
  const urlProblem = checkApiUrl(cfg.apiUrl);
  if (urlProblem !== null) return urlProblem;
  if (cfg.token === '') return 'S2_API_TOKEN is empty';
  if (!TOKEN_CHARS.test(cfg.token)) return 'S2_API_TOKEN contains spaces, line breaks or non-ASCII characters';
  if (cfg.organizationId.trim() === '') return 'S2_ORGANIZATION_ID is empty';
  if (!HEADER_TEXT.test(cfg.organizationId)) return 'S2_ORGANIZATION_ID contains line breaks or non-ASCII characters';
  if (!(Number.isFinite(cfg.timeoutMs) && cfg.timeoutMs > 0)) return 'the S2 API timeout must be a positive duration';
  const max = cfg.maxBodyBytes;
  if (max !== undefined && !(Number.isSafeInteger(max) && max > 0)) return 'the S2 API body limit must be a positive number of bytes';
  return null;
}

/** The overview URL for a base URL (any trailing slashes dropped). */
export function overviewUrl(apiUrl: string): URL {
  return new URL(apiUrl.replace(/\/+$/, '') + OVERVIEW_PATH);
}

/**
 * Fetches, parses and validates one overview. Rejects with SourceError, or with `signal.reason` when aborted.
 * With `reader` (the running daemon's, kept from poll to poll), the body is parsed only where it
 * differs from the reader's previous one; the result and the errors are the same as without.
 */
export async function fetchOverview(cfg: SourceConfig, signal?: AbortSignal, reader?: OverviewReader): Promise<FetchResult> {
  const problem = checkSourceConfig(cfg);
  if (problem !== null) throw new SourceError('unreachable', problem);
  signal?.throwIfAborted();

  const started = performance.now();
  const body = await download(overviewUrl(cfg.apiUrl), cfg, signal);
  const parseStarted = performance.now();

  // undefined: no reader, or a body its scanner does not read (a failure among them).
  let json = reader?.parse(body);
  if (json === undefined) {
    let text: string;
    try {
      text = body.toString('utf8');
    } catch {
      // Past V8's longest string (~512 MiB) the text cannot even be made.
      throw new SourceError('too_large', `S2 API body of ${formatBytes(body.length)} is too large to decode`);
    }
    try {
      json = JSON.parse(stripBom(text));
    } catch (err) {
      // V8 quotes ~10 characters of the body, which can cut an echoed token below what redact
      // recognises as a piece of it: a body that holds the token gets no excerpt at all.
      if (cfg.token !== '' && body.includes(cfg.token)) throw new SourceError('not_json', 'S2 API body is not JSON (and it quotes the API token, so no excerpt is shown)');
      throw new SourceError('not_json', `S2 API body is not JSON: ${redact(jsonErrorReason(err), cfg.token)}`);
    }
  }
  let overview: SourceOverview;
  try {
    overview = reader === undefined ? toOverview(json) : reader.toOverview(json);
  } catch (err) {
    if (!(err instanceof OverviewError)) throw err;
    throw new SourceError('not_overview', `S2 API body is not an overview: ${redact(err.message, cfg.token)}`);
  }
  const done = performance.now();
  return { overview, body, bytes: body.length, fetchMs: parseStarted - started, parseMs: done - parseStarted };
}

function download(url: URL, cfg: SourceConfig, signal: AbortSignal | undefined): Promise<Buffer> {
  const maxBytes = cfg.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const client = url.protocol === 'https:' ? https : http;

  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err !== null) {
        req.destroy();
        reject(err);
      } else {
        resolve(body as Buffer);
      }
    };
    const fail = (kind: SourceFailureKind, message: string, status?: number): void =>
      finish(new SourceError(kind, redact(message, cfg.token), status));
    const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'));

    const req = client.request(url, {
      method: 'GET',
      headers: {
        Authorization: `Bearer ${cfg.token}`,
        'X-S2-Organization': cfg.organizationId,
        Accept: 'application/json',
        'Accept-Encoding': 'gzip, deflate, br',
        'User-Agent': 'stockwatch',
      },
      // One fresh connection per poll: polls are minutes apart and no idle socket outlives one.
      agent: false,
    });
    // setTimeout fires at once past 2^31-1 ms; nobody means a timeout that long anyway.
    const timer = setTimeout(() => fail('timeout', `S2 API timed out after ${formatTimeout(cfg.timeoutMs)}`), Math.min(cfg.timeoutMs, MAX_TIMER_MS));
    signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err) => fail('unreachable', `S2 API unreachable (${messageOf(err)})`));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        if (status === 401 || status === 403) fail('token_rejected', `S2 API rejected the token (HTTP ${status})`, status);
        else fail('http_error', `S2 API answered HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd() + redirectNote(status), status);
        return;
      }
      const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (!DECODERS.has(encoding)) {
        res.resume();
        fail('http_error', `S2 API answered with an unsupported Content-Encoding ${describeHeader(encoding)}`, status);
        return;
      }
      const announced = Number(res.headers['content-length'] ?? NaN);
      if (announced > maxBytes) {
        fail('too_large', `S2 API body exceeds the ${formatBytes(maxBytes)} limit (Content-Length ${announced})`);
        return;
      }

      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          fail('too_large', `S2 API body exceeds the ${formatBytes(maxBytes)} limit`);
          return;
        }
        chunks.push(chunk);
      });
      const truncated = (): void => {
        const of = Number.isFinite(announced) ? ` of ${announced}` : '';
        fail('unreachable', `S2 API closed the connection before the body was complete (received ${received}${of} bytes)`);
      };
      res.on('aborted', truncated);
      res.on('error', truncated);
      res.on('end', () => {
        if (settled) return;
        if (!res.complete) {
          truncated();
          return;
        }
        const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
        chunks.length = 0;
        const decode = DECODERS.get(encoding);
        if (decode === undefined) {
          finish(null, raw);
          return;
        }
        decode(raw, { maxOutputLength: Math.min(maxBytes, bufferConstants.MAX_LENGTH) }, (err, decoded) => {
          if (err === null) finish(null, decoded);
          else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
            fail('too_large', `S2 API body exceeds the ${formatBytes(maxBytes)} limit once decompressed`);
          } else fail('not_json', `S2 API body could not be decompressed (${encoding}: ${messageOf(err)})`);
        });
      });
    });
    req.end();
  });
}

type Decoder = (buf: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions, cb: (err: Error | null, result: Buffer) => void) => void;

/** Content-Encoding -> async decoder; identity needs none. */
const DECODERS = new Map<string, Decoder | undefined>([
  ['identity', undefined],
  ['gzip', zlib.gunzip],
  ['x-gzip', zlib.gunzip],
  ['deflate', zlib.inflate],
  ['br', zlib.brotliDecompress],
]);

/** The message of an error from Node, on one line (no `instanceof`: it may come from another realm). */
function messageOf(err: unknown): string {
  const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  return message.replace(/\s+/g, ' ').trim();
}

function redirectNote(status: number): string {
  // Following a redirect could hand the token to another host; ops should fix S2_API_URL instead.
  return status >= 300 && status < 400 ? ' (redirects are not followed; check S2_API_URL)' : '';
}

function describeHeader(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/**
 * Removes the token from text that came from elsewhere (Node, the server), should it ever be
 * there: the whole token, and any piece of 8 characters of it (JSON.parse quotes a short cut of
 * the body, which could hold part of an echoed token).
 */
export function redact(text: string, token: string): string {
  return scrubSecrets(text, [token], { label: '[token]', pieceLength: 8 });
}

function formatTimeout(ms: number): string {
  if (ms % 1000 === 0) return formatDuration(ms);
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

/** `512 MiB`, `64 KiB`, `1000 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
