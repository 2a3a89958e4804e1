import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../../src/notify/errors';
import { renderSlack } from '../../src/notify/slack/render';
import { parseRetryAfter } from '../../src/notify/http';
import { postSlack } from '../../src/notify/slack/send';
import { noticeAlert } from '../support/alerts';
import { NEGATIVE_RESERVED, T0 } from './helpers';

const SECRET_PATH = '/services/T0SECRET1/B0SECRET2/abcdefghijklmnopqrstuvwx';
const payload = renderSlack({ type: 'alerts', id: 'n', createdAtMs: T0, alerts: [noticeAlert(NEGATIVE_RESERVED)] });

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** A real HTTP server on 127.0.0.1 that plays Slack; every request it got is in `received`. */
async function slackServer(handler: Handler): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${SECRET_PATH}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(DeliveryError);
    const e = err as DeliveryError;
    // the webhook's path is its secret: never in a message, in any form
    for (const part of [SECRET_PATH, 'T0SECRET1', 'B0SECRET2', 'abcdefghijklmnopqrstuvwx', '/services/']) expect(e.message).not.toContain(part);
    expect(e.message).not.toMatch(/\n/);
    return e;
  }
  throw new Error('expected postSlack to fail');
}

function answer(status: number, body: string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
}

describe('parseRetryAfter', () => {
  it('reads seconds or an HTTP date, and waits at least a second', () => {
    const now = Date.UTC(2026, 4, 1, 12, 0, 0);
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Fri, 01 May 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('0', now)).toBe(1000);
    expect(parseRetryAfter('soon', now)).toBe(1000);
    expect(parseRetryAfter(null, now)).toBe(1000);
  });
});

describe('postSlack', () => {
  let server: Awaited<ReturnType<typeof slackServer>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('posts the text and blocks as JSON and resolves on 200', async () => {
    server = await slackServer(answer(200, 'ok'));
    await postSlack(server.url, payload);
    expect(server.received).toHaveLength(1);
    const [req] = server.received;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(SECRET_PATH);
    expect(req.contentType).toBe('application/json');
    const sent = JSON.parse(req.body);
    expect(sent).toMatchObject({ text: payload.text, blocks: payload.blocks, unfurl_links: false, unfurl_media: false });
  });

  it('turns 429 into a transient error that carries Retry-After', async () => {
    server = await slackServer(answer(429, 'rate_limited', { 'retry-after': '2' }));
    const e = await failure(postSlack(server.url, payload));
    expect(e.permanent).toBe(false);
    expect(e.retryAfterMs).toBe(2000);
    expect(e.message).toBe('Slack webhook rate-limited the message: HTTP 429 rate_limited; retry after 2s');
    expect(server.received).toHaveLength(1); // no retry of its own
  });

  it('waits a second after a 429 without Retry-After', async () => {
    server = await slackServer(answer(429, ''));
    const e = await failure(postSlack(server.url, payload));
    expect([e.permanent, e.retryAfterMs]).toEqual([false, 1000]);
  });

  it('turns 5xx into a transient error, tried once', async () => {
    server = await slackServer(answer(500, 'internal_error'));
    const e = await failure(postSlack(server.url, payload));
    expect(e.permanent).toBe(false);
    expect(e.retryAfterMs).toBeUndefined();
    expect(e.message).toBe('Slack webhook failed: HTTP 500 internal_error');
    expect(server.received).toHaveLength(1);
  });

  it('turns a deleted webhook (404) and a bad payload (400) into permanent errors', async () => {
    server = await slackServer(answer(404, 'no_service'));
    const gone = await failure(postSlack(server.url, payload));
    expect(gone.permanent).toBe(true);
    expect(gone.message).toBe('Slack webhook rejected the message: HTTP 404 no_service');
    await server.close();
    server = await slackServer(answer(400, 'invalid_blocks\n'));
    const bad = await failure(postSlack(server.url, payload));
    expect(bad.permanent).toBe(true);
    expect(bad.message).toBe('Slack webhook rejected the message: HTTP 400 invalid_blocks');
  });

  it('takes the webhook path out of a reply that echoes it', async () => {
    server = await slackServer((req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(`action_prohibited for ${req.url}\nfull url http://127.0.0.1${req.url}`);
    });
    const e = await failure(postSlack(server.url, payload));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/^Slack webhook rejected the message: HTTP 403 action_prohibited for \[redacted\]/);
  });

  it('turns a refused connection into a transient error that names only the host', async () => {
    server = await slackServer(answer(200, 'ok'));
    const url = server.url;
    await server.close();
    server = undefined;
    const e = await failure(postSlack(url, payload));
    expect(e.permanent).toBe(false);
    expect(e.message).toMatch(/^Slack webhook request to 127\.0\.0\.1:\d+ failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('gives up on a server that does not answer in time, as a transient error', async () => {
    server = await slackServer(() => {
      // never answers; close() ends the connection
    });
    const e = await failure(postSlack(server.url, payload, { timeoutMs: 200 }));
    expect(e.permanent).toBe(false);
    expect(e.message).toMatch(/^Slack webhook at 127\.0\.0\.1:\d+ did not answer within 200ms$/);
  });

  it('counts a message as posted once Slack answered 2xx, even when its reply is cut off', async () => {
    server = await slackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('o'); // and never ends: a retry would post the message twice
    });
    await expect(postSlack(server.url, payload, { timeoutMs: 200 })).resolves.toBeUndefined();
  });

  it('turns a 5xx whose reply never ends into a transient error once the time is up', async () => {
    server = await slackServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('overl'); // and never ends
    });
    const e = await failure(postSlack(server.url, payload, { timeoutMs: 200 }));
    expect(e.permanent).toBe(false);
    expect(e.message).toBe('Slack webhook failed: HTTP 503 Service Unavailable');
  });

  it('refuses a redirect (not a webhook) permanently', async () => {
    server = await slackServer(answer(302, '', { location: '/elsewhere' }));
    const e = await failure(postSlack(server.url, payload));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/^Slack webhook at 127\.0\.0\.1:\d+ answered with a redirect; check the webhook URL$/);
    expect(server.received).toHaveLength(1); // not followed
  });

  it('refuses a URL that is not one, without echoing it', async () => {
    const e = await failure(postSlack('hooks.slack.com/services/T0SECRET1/B0SECRET2/abcdefghijklmnopqrstuvwx', payload));
    expect([e.permanent, e.message]).toEqual([true, 'Slack webhook URL is not a valid URL']);
  });
});
