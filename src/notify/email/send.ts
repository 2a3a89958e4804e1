// Sends rendered emails over one pooled SMTP transport and says, through DeliveryError, whether
// a failure is worth another try. Retrying is the queue's job: nodemailer's own re-queueing of a
// message after a dropped connection is off, so one send() is at most one delivery attempt.
import type { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { UserError } from '../../errors';
import { DeliveryError } from '../errors';
import { scrubSecrets, shortLine } from '../../redact';
import type { RenderedEmail } from './render';

export type { RenderedEmail } from './render';

export interface EmailTransportConfig {
  /** `smtp://user:pass@host:587` or `smtps://…:465`; nodemailer URL options may follow, e.g. `?ignoreTLS=true`. */
  smtpUrl: string;
  from: string;
}

/** Used unless SMTP_URL sets them (`?connectionTimeout=…`); nodemailer's own defaults wait up to 10 minutes. */
const TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

const URL_SHAPE = 'expected smtp://user:password@host:port or smtps://user:password@host:port';

interface SmtpUrlParts {
  url: URL;
  user: string;
  password: string;
  /** `host:port`, safe to show. */
  where: string;
}

function splitSmtpUrl(text: string): SmtpUrlParts | string {
  if (text.trim() === '') return `is empty; ${URL_SHAPE}`;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // No echo: the text holds the password. The usual cause is a password with / ? # @ : not percent-encoded.
    return `is not a valid URL (${URL_SHAPE}; percent-encode special characters in the user name and password)`;
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    return `has scheme "${url.protocol.replace(/:$/, '')}"; ${URL_SHAPE}`;
  }
  if (url.hostname === '') return `has no host; ${URL_SHAPE}`;
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    return 'has a malformed percent-escape in its user name or password';
  }
  if (password !== '' && user === '') return 'has a password but no user name';
  if (user !== '' && password === '') return `has user name "${user}" but no password`;
  const port = url.port !== '' ? url.port : url.protocol === 'smtps:' ? '465' : '587';
  return { url, user, password, where: `${url.hostname}:${port}` };
}

/**
 * Checks an SMTP_URL the way nodemailer will read it. Returns null when it is usable, else the
 * problem in a few words (never the password), for the config module to prefix with `SMTP_URL: `.
 */
export function parseSmtpUrl(url: string): string | null {
  const parts = splitSmtpUrl(url);
  return typeof parts === 'string' ? parts : null;
}

interface SmtpError extends Error {
  code?: string;
  /** The system error's own code where nodemailer replaced it (e.g. CERT_HAS_EXPIRED under ESOCKET). */
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  permanent?: boolean;
  rejected?: string[];
}

/** Node's TLS verification codes: CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID, … */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL/;
const CONNECTION_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'EPROXY']);

/** A permanent SMTP reply: 5xx except 503 (bad sequence: the session, not the message, was wrong). */
function isPermanentReply(code: number): boolean {
  return code >= 500 && code < 600 && code !== 503;
}

export class EmailSender {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;
  private readonly from: string;
  private readonly where: string;
  private readonly secrets: string[];

  /** Throws a UserError when the SMTP URL is unusable (the message never shows the password). */
  constructor(cfg: EmailTransportConfig) {
    const parts = splitSmtpUrl(cfg.smtpUrl);
    if (typeof parts === 'string') throw new UserError(`SMTP_URL ${parts}`);
    this.from = cfg.from;
    this.where = parts.where;
    this.secrets = [parts.password, parts.url.password, cfg.smtpUrl, parts.url.href];
    // URL options win over these defaults; pool stays on unless the URL says `pool=false`.
    // Loaded here, not at the top: most commands (and polls without email channels) never mail.
    const nodemailer = require('nodemailer') as typeof import('nodemailer');
    this.transport = nodemailer.createTransport({
      url: cfg.smtpUrl.trim(),
      pool: true,
      maxConnections: 3,
      maxRequeues: 0,
      ...TIMEOUTS,
    });
  }

  /** Sends one message to every recipient. Resolves when the server took it for all of them. */
  async send(to: string[], msg: RenderedEmail): Promise<void> {
    if (to.length === 0) throw new DeliveryError('email has no recipients', true);
    let info: SMTPPool.SentMessageInfo;
    try {
      info = await this.transport.sendMail({
        from: this.from,
        to,
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        attachments: msg.attachments?.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
      });
    } catch (err) {
      throw this.classify(err);
    }
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) {
      // Some recipients have the message. Another try would send it to them twice, so this is final.
      const replies = ((info as { rejectedErrors?: SmtpError[] }).rejectedErrors ?? [])
        .map((e) => e.response)
        .filter((r): r is string => typeof r === 'string');
      throw new DeliveryError(
        this.clean(
          `SMTP server refused ${rejected.length} of ${to.length} recipients (${rejected.join(', ')})` +
            `${replies.length > 0 ? `: ${replies[0]}` : ''}; the others got the message`,
        ),
        true,
      );
    }
  }

  /** Connects and authenticates once, to check the configuration. */
  async verify(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (err) {
      throw this.classify(err);
    }
  }

  close(): void {
    this.transport.close();
  }

  private clean(text: string): string {
    return shortLine(scrubSecrets(text, this.secrets));
  }

  private classify(err: unknown): DeliveryError {
    // Read by shape, not instanceof: socket errors may come from another realm (Jest's sandbox).
    const e: SmtpError = typeof err === 'object' && err !== null ? (err as SmtpError) : new Error(String(err));
    const reply = typeof e.response === 'string' ? e.response : null;
    const detail = reply ?? e.message;
    // nodemailer marks replies itself (5xx except 503); the code is the fallback for errors it did not mark
    const replyPermanent =
      typeof e.responseCode === 'number' ? (typeof e.permanent === 'boolean' ? e.permanent : isPermanentReply(e.responseCode)) : null;

    if (e.code === 'EAUTH' || e.code === 'ENOAUTH') {
      // Wrong or missing credentials do not fix themselves; a 454 "temporary authentication failure" does.
      return new DeliveryError(this.clean(`SMTP authentication failed at ${this.where}: ${detail}`), replyPermanent ?? true);
    }
    if (e.code === 'ETLS' || (e.originalCode !== undefined && TLS_CODE.test(e.originalCode))) {
      // Transient on purpose: a certificate gets renewed or fixed, and the notices waiting meanwhile
      // are delivered then instead of being dropped. Every failed try is logged by the queue.
      return new DeliveryError(this.clean(`TLS with SMTP server ${this.where} failed: ${e.message}`), false);
    }
    if (e.code !== undefined && CONNECTION_CODES.has(e.code)) {
      const what = e.code === 'ETIMEDOUT' ? 'timed out' : 'connection failed';
      return new DeliveryError(this.clean(`SMTP server ${this.where} ${what}: ${e.message}`), false);
    }
    if (e.code === 'EENVELOPE' && e.command === 'MAIL FROM') {
      return new DeliveryError(this.clean(`SMTP server refused the sender ${this.from}: ${detail}`), replyPermanent ?? true);
    }
    if (replyPermanent !== null) {
      const recipients = e.code === 'EENVELOPE' && e.rejected && e.rejected.length > 0 ? ` (recipients: ${e.rejected.join(', ')})` : '';
      const verb = replyPermanent ? 'refused the message' : 'deferred the message';
      return new DeliveryError(this.clean(`SMTP server ${verb}: ${detail}${recipients}`), replyPermanent);
    }
    if (e.code === 'ECONFIG' || e.code === 'EMAXRECIPIENTS' || e.code === 'EENVELOPE') {
      return new DeliveryError(this.clean(`email could not be sent: ${detail}`), true);
    }
    // Unknown: let the queue try again; a lasting problem shows as repeated failures in the log.
    return new DeliveryError(this.clean(`email to ${this.where} failed: ${detail}`), false);
  }
}
