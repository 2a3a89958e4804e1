// The one interface every kind of channel implements (Alertmanager's Notifier idea): what a notice
// made at a poll keeps, how it is rendered, and how the rendered message is sent. Sending resolves
// when the receiver took the message and otherwise throws a DeliveryError that says whether another
// try can help. Retry, pacing, ordering and late annotation are delivery stages that know no kind;
// everything a kind knows lives in its own module under src/notify/<kind>/.
import type { Channel } from '../model';
import type { Notice, NoticeAlert, OmittedAlerts } from './notice';

/** What senders may need from the environment. */
export interface SenderConfig {
  smtpUrl: string | null;
  emailFrom: string;
}

/** An open connection (or none) to a kind's receivers; one per process, reused for every message. */
export interface Sender<C extends Channel, M> {
  /** Resolves when the receiver took the message; throws a DeliveryError otherwise. */
  send(channel: C, message: M): Promise<void>;
  close(): Promise<void>;
}

export interface ChannelKind<C extends Channel = Channel, M = unknown> {
  readonly kind: C['kind'];
  /** Its own BullMQ delivery queue: one kind's pacing or outage never holds up another's notices. */
  readonly queue: string;
  /** Deliveries of this kind running at once, per daemon. */
  readonly concurrency: number;
  /** A setting this kind cannot send without (e.g. `SMTP_URL`) when it is missing, else null. */
  missingSetting?(config: SenderConfig): string | null;
  /** True when the channel collects events for a scheduled digest instead of hearing each poll. */
  collectsForDigest?(channel: C): boolean;
  /**
   * What a poll's notice keeps of the poll's alerts when it is made (and stored in a job): every
   * alert, or a budget (Slack keeps what its message can show and counts the rest).
   */
  prepare(alerts: NoticeAlert[]): { alerts: NoticeAlert[]; omitted?: OmittedAlerts[] };
  /** The message for a notice. Pure, and the same whatever the channel: a message holds no secret. */
  render(notice: Notice): M;
  /** The rendered message as terminal text (the demo's console, dry runs). */
  preview(message: M): string;
  /** At most one message per `everyMs` to one `key(channel)` (e.g. Slack: 1 message/s per webhook). */
  readonly pace?: { key(channel: C): string; everyMs: number };
  openSender(config: SenderConfig): Sender<C, M>;
  /** Where a message goes, in words safe to print (no URL path, no password). */
  describe(channel: C, config: SenderConfig): string;
  /** The channel's secrets, to take out of any error text that did not come from the sender. */
  secrets(channel: C): string[];
}

/** `http://host:port` of a URL: never its path (a webhook's secret), query or password. */
export function hostOf(url: string): string {
  try {
    return new URL(url.trim()).host;
  } catch {
    return 'an unparseable URL';
  }
}
