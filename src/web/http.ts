// HTTP_PORT: /healthz and /metrics, plus whatever routes the daemon adds (the status page), on
// HTTP_HOST, behind HTTP_AUTH when it is set.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { oneLine } from '../errors';
import type { HttpCredentials } from '../config';
import type { Logger } from '../log';

export interface Response {
  status: number;
  contentType: string;
  body: string;
}

export type Route = (url: URL) => Promise<Response>;

export const json = (status: number, value: unknown): Response => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(value, null, 2) + '\n',
});

export interface HttpOptions {
  port: number;
  /** HTTP_HOST: the address to listen on. */
  host: string;
  /** HTTP_AUTH: when set, every path but the open ones answers 401 without these credentials. */
  auth: HttpCredentials | null;
  routes: Record<string, Route>;
  log: Logger;
}

/**
 * The request target as a URL on this server, or null when it is not one. A target is a path
 * (resolved against a base, `//a:b` would be read as a host and port, and throw outside any
 * handler; `//api/status` as the path `/status` of a host `api`), or an absolute URL (a proxy's
 * `GET http://host/metrics`), whose path is taken.
 */
function requestUrl(target: string | undefined): URL | null {
  try {
    if (target === undefined || target.startsWith('/')) return new URL(`http://localhost${target ?? '/'}`);
    const absolute = new URL(target);
    return absolute.protocol === 'http:' || absolute.protocol === 'https:' ? new URL(`http://localhost${absolute.pathname}${absolute.search}`) : null;
  } catch {
    return null;
  }
}

/** Paths served without credentials: orchestrators' health probes carry none. */
const OPEN_PATHS = new Set(['/healthz']);

export async function startHttp(opts: HttpOptions): Promise<http.Server> {
  const { port, host, routes, log } = opts;
  const authorized = opts.auth === null ? () => true : basicAuthCheck(opts.auth);
  const server = http.createServer((req, res) => {
    const reply = (r: Response, headers: Record<string, string> = {}): void => {
      res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : r.body);
    };
    const url = requestUrl(req.url);
    if (url === null) return reply(json(400, { error: 'bad request target' }));
    const route = routes[url.pathname];
    // Before anything else, so that an unauthenticated caller learns nothing, not even which pages exist.
    if (!OPEN_PATHS.has(url.pathname) && !authorized(req.headers.authorization)) {
      return reply(json(401, { error: 'authentication required' }), { 'www-authenticate': 'Basic realm="stockwatch", charset="UTF-8"' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(json(405, { error: 'only GET' }), { allow: 'GET, HEAD' });
    if (!route) return reply(json(404, { error: `no such page: ${url.pathname}` }));
    route(url).then(reply, (err) => {
      log.error({ path: url.pathname }, `HTTP handler failed: ${oneLine(err)}`);
      reply(json(500, { error: 'internal error' }));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log.info({ host: address.address, port: address.port, auth: opts.auth === null ? 'none' : 'basic' }, 'HTTP listening (/healthz, /metrics, status page)');
  return server;
}

/**
 * A check of an Authorization header against the credentials. Both sides are hashed first, so the
 * comparison takes the same time whatever the header holds and however long it is
 * (timingSafeEqual needs equal lengths): the time of an answer tells nothing about the password.
 */
export function basicAuthCheck(credentials: HttpCredentials): (header: string | undefined) => boolean {
  const expected = digest(`${credentials.user}:${credentials.password}`);
  return (header) => {
    const m = /^Basic\s+([A-Za-z0-9+/=]*)\s*$/i.exec(header ?? '');
    const given = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    // Compared even when the header is missing or malformed: the same work either way.
    return timingSafeEqual(digest(given), expected) && m !== null;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
