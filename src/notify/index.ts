// The notify stage: pure renderers (Slack, email, console) and thin senders that classify
// failures as permanent or transient for the delivery queue.
export type { EventKind, Notice, NoticeAlert, OmittedAlerts, SourceEvent } from './notice';
export { DeliveryError, isDeliveryError } from './errors';
export { alertLine } from './render/text';
export { renderSlack, slackEscape, slackNoticeAlerts, SLACK_LIMITS } from './render/slack';
export type { SlackPayload, SlackRenderOptions } from './render/slack';
export { renderEmail, htmlEscape } from './render/email';
export type { EmailAttachment, EmailRenderOptions, RenderedEmail } from './render/email';
export { alertsCsv, CSV_COLUMNS } from './render/csv';
export { renderConsole } from './render/console';
export type { ConsoleChannel } from './render/console';
export { postSlack, parseRetryAfter } from './slack';
export type { PostSlackOptions } from './slack';
export { EmailSender, parseSmtpUrl } from './email';
export type { EmailTransportConfig } from './email';
