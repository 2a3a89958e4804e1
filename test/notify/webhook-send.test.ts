// postWebhook against a real local HTTP receiver that verifies the signature over the raw bytes.
import * as net from 'node:net';
import { DeliveryError } from '../../src/notify/errors';
import { renderWebhook } from '../../src/notify/webhook/render';
import { postWebhook, webhookSignature } from '../../src/notify/webhook/send';
import { startFakeWebhook, type FakeWebhook } from '../support/stand-ins';
import { noticeAlert } from '../support/alerts';
import { NEGATIVE_RESERVED, T0 } from './helpers';

const SECRET = 'whsec-0123456789abcdef';
const body = renderWebhook({ type: 'alerts', id: 'a-1-erp', createdAtMs: T0, alerts: [noticeAlert({ ...NEGATIVE_RESERVED, product: 'Perruque 听雨 مستودع \u202E' })] });

async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('postWebhook', () => {
  let hook: FakeWebhook;

  beforeEach(async () => {
    hook = await startFakeWebhook({ secret: SECRET });
  });
  afterEach(() => hook.close());

  it('POSTs the exact body as JSON, signed with HMAC-SHA256 of its bytes', async () => {
    await postWebhook(hook.url, body, { secret: SECRET });
    expect(hook.requests).toHaveLength(1);
    const [req] = hook.requests;
    expect(req).toMatchObject({ status: 200, raw: body, contentType: 'application/json', verified: true });
    expect(req.signature).toBe(webhookSignature(Buffer.from(body, 'utf8'), SECRET));
    expect(req.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(hook.delivered[0].alerts[0].product).toBe('Perruque 听雨 مستودع \u202E');
  });

  it('sends no signature without a secret', async () => {
    await postWebhook(hook.url, body);
    expect(hook.requests[0]).toMatchObject({ signature: undefined, verified: false, status: 200 });
  });

  it('a wrong secret does not verify: the receiver can tell', async () => {
    await postWebhook(hook.url, body, { secret: 'other-secret' });
    expect(hook.requests[0].verified).toBe(false);
  });

  it.each([408, 429, 500, 502, 503, 599])('HTTP %i is transient', async (status) => {
    hook.answer = () => ({ status });
    const err = await failure(postWebhook(hook.url, body, { secret: SECRET }));
    expect(err.permanent).toBe(false);
    expect(err.retryAfterMs).toBeUndefined();
    expect(err.message).toMatch(new RegExp(`^webhook at 127\\.0\\.0\\.1:\\d+ did not take the notice: HTTP ${status} nope$`));
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    hook.answer = () => ({ status: 429, retryAfter: '7' });
    const seconds = await failure(postWebhook(hook.url, body));
    expect(seconds).toMatchObject({ permanent: false, retryAfterMs: 7000 });
    expect(seconds.message).toMatch(/HTTP 429 nope; retry after 7s$/);
    hook.answer = () => ({ status: 503, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
    const date = await failure(postWebhook(hook.url, body));
    expect(date.retryAfterMs).toBeGreaterThan(25_000);
    expect(date.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it.each([400, 401, 403, 404, 410, 413, 422])('HTTP %i fails for good', async (status) => {
    hook.answer = () => ({ status, retryAfter: '5' });
    const err = await failure(postWebhook(hook.url, body));
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(new RegExp(`^webhook at 127\\.0\\.0\\.1:\\d+ rejected the notice: HTTP ${status} nope$`));
  });

  it('a redirect is not followed and fails for good', async () => {
    hook.answer = () => ({ status: 302 });
    const err = await failure(postWebhook(hook.url, body));
    expect(err).toMatchObject({ permanent: true });
    expect(err.message).toMatch(/redirect \(HTTP 302\); redirects are not followed/);
  });

  it('never shows the URL path, its token or the secret, even when the receiver echoes them', async () => {
    const url = new URL(hook.url);
    hook.answer = () => ({ status: 400, reply: `bad request to ${hook.url} path ${url.pathname} token ${url.searchParams.get('token')} secret ${SECRET}` });
    const err = await failure(postWebhook(hook.url, body, { secret: SECRET }));
    expect(err.message).not.toContain(url.pathname);
    expect(err.message).not.toContain(url.searchParams.get('token')!);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).toContain('[redacted]');
  });

  it('a receiver nobody listens at is transient, named by host only', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await failure(postWebhook(`http://127.0.0.1:${port}/hooks/very-secret-path`, body));
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(new RegExp(`^webhook request to 127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`));
    expect(err.message).not.toContain('very-secret-path');
  });

  it('a receiver that does not answer in time is transient', async () => {
    const server = net.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const err = await failure(postWebhook(`http://127.0.0.1:${port}/h`, body, { timeoutMs: 300 }));
      expect(err).toMatchObject({ permanent: false, message: `webhook at 127.0.0.1:${port} did not answer within 300ms` });
    } finally {
      server.close();
    }
  });

  it('a URL that is not http(s) fails for good without showing it', async () => {
    const err = await failure(postWebhook('ftp://example.com/secret-path', body));
    expect(err).toMatchObject({ permanent: true, message: 'webhook URL must be http(s), not ftp:' });
  });
});
