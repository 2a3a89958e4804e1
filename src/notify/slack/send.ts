// Posts a rendered message to a Slack incoming webhook and says, through DeliveryError, whether a
// failure is worth another try. Retrying is the queue's job, so the client makes exactly one request.
// A plain POST of the payload (what @slack/webhook's send does), with node:http: see post().
import { DeliveryError } from '../errors';
import { scrubSecrets, shortLine } from '../../redact';
import { describeFetchError, formatSeconds, isTimeout, parseHttpUrl, parseRetryAfter, post, urlSecrets, type PostReply } from '../http';
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
 * a redirect and any other 4xx (deleted webhook, bad payload) → permanent.
 */
export async function postSlack(webhookUrl: string, payload: SlackPayload, opts: PostSlackOptions = {}): Promise<void> {
  const url = parseHttpUrl(webhookUrl, 'Slack webhook URL');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clean = (text: string) => shortLine(scrubSecrets(text, urlSecrets(webhookUrl, url)));
  const where = url.host;
  const body = JSON.stringify({ text: payload.text, blocks: payload.blocks, unfurl_links: false, unfurl_media: false });

  let reply: PostReply;
  try {
    reply = await post(url, body, { 'content-type': 'application/json', 'user-agent': 'stockwatch' }, timeoutMs);
  } catch (err) {
    if (isTimeout(err)) throw new DeliveryError(`Slack webhook at ${where} did not answer within ${formatSeconds(timeoutMs)}`, false);
    throw new DeliveryError(clean(`Slack webhook request to ${where} failed: ${describeFetchError(err)}`), false);
  }
  // Slack answered 2xx: the message is posted, whatever happens to the rest of its short reply; a retry would post it twice.
  if (reply.status >= 200 && reply.status < 300) return;
  throw classifySlackAnswer(reply, await reply.text(), { where, clean });
}

function classifySlackAnswer(reply: PostReply, text: string, ctx: { where: string; clean: (text: string) => string }): DeliveryError {
  const code = reply.status;
  if (code >= 300 && code < 400) {
    // hooks.slack.com does not redirect; a redirect means the URL is not a webhook
    return new DeliveryError(`Slack webhook at ${ctx.where} answered with a redirect; check the webhook URL`, true);
  }
  const shown = ctx.clean(text).slice(0, MAX_BODY_IN_MESSAGE) || ctx.clean(reply.statusText);
  const answer = `HTTP ${code}${shown === '' ? '' : ` ${shown}`}`;
  if (code === 429) {
    const waitMs = parseRetryAfter(reply.header('retry-after'));
    return new DeliveryError(`Slack webhook rate-limited the message: ${answer}; retry after ${Math.ceil(waitMs / 1000)}s`, false, waitMs);
  }
  if (code >= 500 || code === 408) return new DeliveryError(`Slack webhook failed: ${answer}`, false);
  return new DeliveryError(`Slack webhook rejected the message: ${answer}`, true);
}
