// The webhook kind (SPEC section 5): one JSON POST per notice, signed with the channel's secret.
import type { WebhookChannel } from '../../model';
import { hostOf, type ChannelKind } from '../channel';
import { renderWebhook } from './render';
import { postWebhook } from './send';

export const webhookKind: ChannelKind<WebhookChannel, string> = {
  kind: 'webhook',
  queue: 'webhook',
  concurrency: 4,
  // Every alert: a receiver acts on each of them.
  prepare: (alerts) => ({ alerts }),
  render: renderWebhook,
  preview: (body) => `POST application/json\n${JSON.stringify(JSON.parse(body), null, 2)}`,
  openSender: () => ({ send: (channel, body) => postWebhook(channel.url, body, { secret: channel.secret }), close: async () => undefined }),
  describe: (channel) => `webhook at ${hostOf(channel.url)}`,
  secrets: (channel) => [channel.url, ...(channel.secret === undefined ? [] : [channel.secret])],
};
