// Posts a rendered message to a Slack incoming webhook and says, through DeliveryError, whether a
// failure is worth another try. Retrying is the queue's job, so the client makes exactly one request.
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { DeliveryError } from '../errors';
import { scrubSecrets, shortLine } from '../../redact';
import { describeFetchError, formatSeconds, isTimeout, parseHttpUrl, parseRetryAfter, urlSecrets } from '../http';
import type { SlackPayload } from './render';

export interface PostSlackOptions {
  /** For the whole request, body included (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_IN_MESSAGE = 200;

/**
 * Posts one message. Resolves when Slack took it (2xx); otherwise throws a DeliveryError:
 * 429 → transient with the Retry-After delay; 5xx, 408, network errors and timeouts → transient;
 * any other 4xx (deleted webhook, bad payload) → permanent.
 */
export async function postSlack(webhookUrl: string, payload: SlackPayload, opts: PostSlackOptions = {}): Promise<void> {
  const url = parseHttpUrl(webhookUrl, 'Slack webhook URL');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clean = (text: string) => shortLine(scrubSecrets(text, urlSecrets(webhookUrl, url)));
  const where = url.host;

  // @slack/webhook drops the response headers of a failed request; a fetch wrapper keeps what we need.
  // It also rewraps fetch's own error in a way that can lose its cause (ECONNREFUSED, timeout,
  // redirect), so the wrapper keeps that error as well.
  let status: number | null = null;
  let retryAfter: string | null = null;
  let fetchError: unknown = undefined;
  const webhook = new IncomingWebhook(webhookUrl, {
    timeout: timeoutMs,
    fetch: async (input, init) => {
      try {
        const response = await fetch(input, init);
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        return response;
      } catch (err) {
        fetchError = err;
        throw err;
      }
    },
  });

  try {
    await webhook.send({
      text: payload.text,
      blocks: payload.blocks as IncomingWebhookSendArguments['blocks'],
      unfurl_links: false,
      unfurl_media: false,
    });
  } catch (err) {
    // Slack answered 2xx and only reading its short reply failed: the message is posted; a retry would post it twice.
    if (status !== null && status >= 200 && status < 300) return;
    throw classifySlackError(err, { where, timeoutMs, retryAfter, fetchError, clean });
  }
}

function classifySlackError(
  err: unknown,
  ctx: { where: string; timeoutMs: number; retryAfter: string | null; fetchError: unknown; clean: (text: string) => string },
): DeliveryError {
  if (err instanceof IncomingWebhookHTTPError) {
    const code = err.statusCode;
    const reply = ctx.clean(err.body).slice(0, MAX_BODY_IN_MESSAGE) || ctx.clean(err.statusMessage);
    const answer = `HTTP ${code}${reply === '' ? '' : ` ${reply}`}`;
    if (code === 429) {
      const waitMs = parseRetryAfter(ctx.retryAfter);
      return new DeliveryError(`Slack webhook rate-limited the message: ${answer}; retry after ${Math.ceil(waitMs / 1000)}s`, false, waitMs);
    }
    if (code >= 500 || code === 408) return new DeliveryError(`Slack webhook failed: ${answer}`, false);
    return new DeliveryError(`Slack webhook rejected the message: ${answer}`, true);
  }
  // No answer: fetch failed (seen by the wrapper), or reading the reply did (only the library saw it).
  const cause = ctx.fetchError ?? (err instanceof IncomingWebhookRequestError ? err.original : err);
  if (isTimeout(cause)) {
    return new DeliveryError(`Slack webhook at ${ctx.where} did not answer within ${formatSeconds(ctx.timeoutMs)}`, false);
  }
  const detail = describeFetchError(cause);
  if (/unexpected redirect/i.test(detail)) {
    // hooks.slack.com does not redirect; a redirect means the URL is not a webhook
    return new DeliveryError(`Slack webhook at ${ctx.where} answered with a redirect; check the webhook URL`, true);
  }
  return new DeliveryError(ctx.clean(`Slack webhook request to ${ctx.where} failed: ${detail}`), false);
}
