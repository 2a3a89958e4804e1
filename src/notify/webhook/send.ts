// POSTs a rendered body to a webhook and says, through DeliveryError, whether a failure is worth
// another try (SPEC section 5): 2xx delivered; 408, 429 and 5xx retried, with Retry-After
// honoured; any other status fails for good. One request per call: retrying is the queue's job.
import { createHmac } from 'node:crypto';
import { DeliveryError } from '../errors';
import { describeFetchError, formatSeconds, isTimeout, parseHttpUrl, parseRetryAfter, post, urlSecrets, type PostReply } from '../http';
import { scrubSecrets, shortLine } from '../../redact';

export const SIGNATURE_HEADER = 'x-stockwatch-signature';

export interface PostWebhookOptions {
  /** HMAC-SHA256 key: the body is signed in SIGNATURE_HEADER when given. */
  secret?: string;
  /** For the whole request, reply included (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_REPLY_IN_MESSAGE = 200;

/** `sha256=HEX`: the HMAC-SHA256 of the exact body bytes under the secret. */
export function webhookSignature(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether another try can help, by status (SPEC section 5). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export async function postWebhook(urlText: string, body: string, opts: PostWebhookOptions = {}): Promise<void> {
  const url = parseHttpUrl(urlText, 'webhook URL');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = [...urlSecrets(urlText, url), ...(opts.secret === undefined ? [] : [opts.secret])];
  const clean = (text: string): string => shortLine(scrubSecrets(text, secrets));
  const where = url.host;
  const bytes = Buffer.from(body, 'utf8');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'stockwatch' };
  if (opts.secret !== undefined) headers[SIGNATURE_HEADER] = webhookSignature(bytes, opts.secret);

  let response: PostReply;
  try {
    // Redirects are not followed (post() follows none): a signed body goes only where the rules say.
    response = await post(url, bytes, headers, timeoutMs);
  } catch (err) {
    if (isTimeout(err)) throw new DeliveryError(`webhook at ${where} did not answer within ${formatSeconds(timeoutMs)}`, false);
    throw new DeliveryError(clean(`webhook request to ${where} failed: ${describeFetchError(err)}`), false);
  }
  const status = response.status;
  // The receiver answered: a 2xx is delivered whatever happens to the rest of its reply.
  if (status >= 200 && status <= 299) return;
  const reply = clean(await response.text()).slice(0, MAX_REPLY_IN_MESSAGE);
  const answer = `HTTP ${status}${reply === '' ? '' : ` ${reply}`}`;
  if (isRetryableStatus(status)) {
    const header = response.header('retry-after');
    const waitMs = header === null ? undefined : parseRetryAfter(header);
    const after = waitMs === undefined ? '' : `; retry after ${Math.ceil(waitMs / 1000)}s`;
    throw new DeliveryError(`webhook at ${where} did not take the notice: ${answer}${after}`, false, waitMs);
  }
  if (status >= 300 && status <= 399) {
    throw new DeliveryError(`webhook at ${where} answered with a redirect (HTTP ${status}); redirects are not followed: check the URL`, true);
  }
  throw new DeliveryError(`webhook at ${where} rejected the notice: ${answer}`, true);
}
