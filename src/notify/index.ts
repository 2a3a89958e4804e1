// The notify stage: one interface for every kind of channel (channel.ts), the registry of kinds,
// and each kind's pure renderer and thin sender under its own folder.
export type { EventKind, Notice, NoticeAlert, OmittedAlerts, SourceEvent } from './notice';
export type { ChannelKind, Sender, SenderConfig } from './channel';
export { CHANNEL_KINDS, channelKindOf } from './registry';
export { DeliveryError, isDeliveryError } from './errors';
export { alertLine, isolate } from './text';
export { renderSlack, slackEscape, slackNoticeAlerts, SLACK_LIMITS } from './slack/render';
export type { SlackPayload, SlackRenderOptions } from './slack/render';
export { SLACK_PACE_MS } from './slack';
export { renderEmail, htmlEscape } from './email/render';
export type { EmailAttachment, EmailRenderOptions, RenderedEmail } from './email/render';
export { alertsCsv, CSV_COLUMNS } from './email/csv';
export { renderWebhook, webhookBody } from './webhook/render';
export type { WebhookAlert, WebhookBody, WebhookEvent } from './webhook/render';
export { postWebhook, webhookSignature, SIGNATURE_HEADER } from './webhook/send';
export { renderConsole } from './console';
export { postSlack } from './slack/send';
export type { PostSlackOptions } from './slack/send';
export { parseRetryAfter } from './http';
export { EmailSender, parseSmtpUrl } from './email/send';
export type { EmailTransportConfig } from './email/send';
