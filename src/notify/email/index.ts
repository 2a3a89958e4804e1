// The email kind: one message per notice to every address of the channel over SMTP_URL, or, for a
// channel with `digest`, the events collected for its scheduled digest.
import type { EmailChannel } from '../../model';
import { hostOf, type ChannelKind, type SenderConfig } from '../channel';
import { DeliveryError } from '../errors';
import { renderEmail, type RenderedEmail } from './render';
import { EmailSender } from './send';

export const emailKind: ChannelKind<EmailChannel, RenderedEmail> = {
  kind: 'email',
  queue: 'email',
  concurrency: 4,
  missingSetting: (config) => (config.smtpUrl === null ? 'SMTP_URL' : null),
  collectsForDigest: (channel) => channel.digest !== undefined,
  // Every alert: a long email lists some and attaches all of them as CSV.
  prepare: (alerts) => ({ alerts }),
  render: (notice) => renderEmail(notice),
  preview(email) {
    const out = [`Subject: ${email.subject}`, '', email.text.replace(/\n+$/, '')];
    for (const a of email.attachments ?? []) {
      out.push(`[attachment ${a.filename}, ${a.contentType}, ${Buffer.byteLength(a.content, 'utf8')} bytes]`);
    }
    return out.join('\n');
  },
  openSender(config: SenderConfig) {
    // Opened at the first message: most processes (and polls without email channels) never mail.
    let sender: EmailSender | null = null;
    return {
      async send(channel, email) {
        if (config.smtpUrl === null) throw new DeliveryError(`channel ${channel.name}: SMTP_URL is not set, so email cannot be sent`, true);
        sender ??= new EmailSender({ smtpUrl: config.smtpUrl, from: config.emailFrom });
        await sender.send(channel.to, email);
      },
      close: async () => sender?.close(),
    };
  },
  describe: (channel, config) => `email to ${channel.to.join(', ')} via ${config.smtpUrl === null ? 'no SMTP server' : hostOf(config.smtpUrl)}`,
  secrets: () => [],
};
