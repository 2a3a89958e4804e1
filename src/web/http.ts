// HTTP_PORT: /healthz and /metrics, plus whatever routes the daemon adds (the status page).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { oneLine } from '../errors';
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

export async function startHttp(port: number, host: string, routes: Record<string, Route>, log: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    const reply = (r: Response): void => {
      res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : r.body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(json(405, { error: 'only GET' }));
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
  log.info({ port: (server.address() as AddressInfo).port }, 'HTTP listening (/healthz, /metrics)');
  return server;
}

export function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
