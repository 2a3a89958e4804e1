// What the notify stage is given to deliver. A notice is fixed when it is created (by a poll or a
// digest tick) and stored in a queued job; it is rendered only at delivery, so it holds data, not text.
import type { EventKind } from '../engine/lifecycle';
import type { SourceEvent } from '../engine/step';
import type { Alert, Severity } from '../model';

// What happened to an alert (new, repeat, resolved) and to the source are the engine's words.
export type { EventKind, SourceEvent };

export interface NoticeAlert extends Alert {
  kind: EventKind;
  /** When the alert started firing (ms since the epoch); for digests' "firing for". */
  firstSeenMs: number;
  brand?: string | null;
  /**
   * Set at delivery when the alert's state moved on after the notice was made (a delayed or
   * retried notice): its line then says so, so that a late line never contradicts the present.
   */
  since?: 'resolved' | 'firing again' | 'resolved and firing again';
}

/** How many alerts of one rule, severity and kind a notice left out. */
export interface OmittedAlerts {
  rule: string;
  severity: Severity;
  kind: EventKind;
  count: number;
}


/** A notice is fixed when created (by a poll or a digest tick) and stored in a job; rendering happens at delivery. */
export type Notice =
  /**
   * One poll's events for one channel. `omitted` counts alerts left out when the notice was made:
   * a Slack message lists the most severe ~20 and sums up the rest, so a mass event's notice
   * keeps only what can be shown, not 30,000 alerts in a queued job.
   */
  | { type: 'alerts'; id: string; createdAtMs: number; alerts: NoticeAlert[]; omitted?: OmittedAlerts[] }
  /** `detail` says what was seen, e.g. `3 polls failed in a row; last error: S2 API timed out after 30s`; never a secret. */
  | { type: 'source'; id: string; createdAtMs: number; event: SourceEvent; detail: string }
  | {
      type: 'digest';
      id: string;
      createdAtMs: number;
      /** The previous digest's time; null for a channel's first digest. */
      sinceMs: number | null;
      /** IANA zone the channel's digest cron runs in; times in the digest are shown in it. */
      timezone: string;
      firing: NoticeAlert[];
      newSince: NoticeAlert[];
      resolvedSince: NoticeAlert[];
    }
  | { type: 'test'; id: string; createdAtMs: number; channel: string };
