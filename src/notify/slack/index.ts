// The Slack kind: an incoming webhook per channel, one Block Kit message per notice, at most one
// message per second per webhook.
import { createHash } from 'node:crypto';
import type { SlackChannel } from '../../model';
import { hostOf, type ChannelKind } from '../channel';
import { renderSlack, slackNoticeAlerts, type SlackPayload } from './render';
import { postSlack } from './send';

/** Slack takes about one message per second per webhook. */
export const SLACK_PACE_MS = 1000;

interface TextBlock {
  type?: string;
  text?: { text?: string };
  elements?: Array<{ text?: string }>;
}

function blockText(block: TextBlock): string {
  if (block.text?.text !== undefined) return block.text.text;
  return (block.elements ?? []).map((e) => e.text ?? '').join(' ');
}

export const slackKind: ChannelKind<SlackChannel, SlackPayload> = {
  kind: 'slack',
  queue: 'slack',
  concurrency: 2,
  prepare: slackNoticeAlerts,
  render: (notice) => renderSlack(notice),
  preview(payload) {
    const out = ['text:', payload.text, '', `blocks (${payload.blocks.length}):`];
    for (const block of payload.blocks as TextBlock[]) out.push(`[${block.type ?? '?'}]`, blockText(block));
    return out.join('\n');
  },
  // The key is a hash of the URL: the URL itself is the secret.
  // The URL is a secret: a hash of it names the receiver.
  pace: { key: (channel) => createHash('sha1').update(channel.webhookUrl).digest('hex').slice(0, 16), everyMs: SLACK_PACE_MS },
  openSender: () => ({ send: (channel, payload) => postSlack(channel.webhookUrl, payload), close: async () => undefined }),
  describe: (channel) => `Slack webhook at ${hostOf(channel.webhookUrl)}`,
  secrets: (channel) => [channel.webhookUrl],
};
