// What the HTTP senders (Slack, webhook) share: the one POST they make, checking a URL, every form
// its secret part could take in a message, Retry-After, and naming a failed request. Errors may
// come from another realm (Node's own inside Jest's sandbox): they are read by shape, not instanceof.
import * as http from 'node:http';
import { DeliveryError } from './errors';

/** When a 429 carries no usable Retry-After; also the least we wait. */
const MIN_RETRY_AFTER_MS = 1000;

/** A webhook URL, checked; its path and query may be the secret, so no message here ever includes them. */
export function parseHttpUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DeliveryError(`${what} is not a valid URL`, true);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DeliveryError(`${what} must be http(s), not ${url.protocol}`, true);
  }
  return url;
}

/** Every form in which a webhook URL's secret part could show up in a message. */
export function urlSecrets(raw: string, url: URL): string[] {
  const secrets = [raw, url.href, url.pathname, url.search, url.username, url.password];
  for (const segment of url.pathname.split('/')) {
    if (segment.length >= 6) {
      secrets.push(segment);
      try {
        secrets.push(decodeURIComponent(segment));
      } catch {
        // not percent-encoded text; the raw segment is enough
      }
    }
  }
  for (const value of url.searchParams.values()) if (value.length >= 6) secrets.push(value);
  return secrets.filter((s) => s.length > 1);
}

/** Retry-After as seconds or as an HTTP date; at least a second, whatever it says. */
export function parseRetryAfter(header: string | null, nowMs: number = Date.now()): number {
  if (header === null) return MIN_RETRY_AFTER_MS;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    ms = Number.isNaN(at) ? MIN_RETRY_AFTER_MS : at - nowMs;
  }
  return Math.max(MIN_RETRY_AFTER_MS, ms);
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/** Errors may come from another realm (undici's fetch inside Jest's sandbox): read them by shape, not instanceof. */
function asErrorLike(value: unknown): ErrorLike | null {
  return typeof value === 'object' && value !== null ? (value as ErrorLike) : null;
}

export function isTimeout(value: unknown): boolean {
  const e = asErrorLike(value);
  return e !== null && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

/** `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9` style: the cause says what went wrong, `fetch failed` does not. */
export function describeFetchError(value: unknown): string {
  const e = asErrorLike(value);
  if (e === null) return String(value);
  const cause = asErrorLike(e.cause);
  if (cause !== null && typeof cause.message === 'string') {
    const code = typeof cause.code === 'string' ? cause.code : '';
    return code !== '' && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return typeof e.message === 'string' ? e.message : String(value);
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The answer to one POST: its status and headers at once, its text on request. */
export interface PostReply {
  status: number;
  /** The status line's text (`Too Many Requests`), '' when none. */
  statusText: string;
  /** A header's value, null when it was not sent. */
  header(name: string): string | null;
  /** The reply's text; '' when it cannot be read (cut off, or the request's time ran out). */
  text(): Promise<string>;
}

/**
 * One POST with node:http(s): no redirect is followed (a 3xx is just a status), and `timeoutMs`
 * covers the whole exchange, reply included. Rejects when no status came (network error, or a
 * TimeoutError when time ran out). node:http rather than fetch: the source client loads it
 * anyway, and undici's first fetch costs ~100 ms of start-up in a `poll --once` that sends one message.
 */
export function post(url: URL, body: string | Buffer, headers: Record<string, string>, timeoutMs: number): Promise<PostReply> {
  const client = url.protocol === 'https:' ? (require('node:https') as typeof import('node:https')) : http;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(bytes.length) } });
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      req.destroy(err);
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err); // a no-op once the status came
    });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      const read = new Promise<string>((done) => {
        res.on('end', () => done(text));
        res.on('error', () => done(''));
        res.on('close', () => done(res.complete ? text : ''));
      });
      void read.then(() => clearTimeout(timer));
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        header: (name) => {
          const value = res.headers[name.toLowerCase()];
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
        },
        text: () => read,
      });
    });
    req.end(bytes);
  });
}
