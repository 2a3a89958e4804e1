// Slack Block Kit messages for incoming webhooks. Pure: notice in, payload out.
// Slack's limits (50 blocks, 3000 characters per section, 150 per header) are enforced here, in
// SlackMessage, and nowhere else; a mass event becomes one message that lists the most severe
// alerts and sums up the rest per rule.
import type { Notice, NoticeAlert, OmittedAlerts } from '../notice';
import {
  alertLine,
  alertsHeadline,
  digestCounts,
  formatCount,
  formatUtcTime,
  oneLineText,
  restSummary,
  sortAlerts,
  sumPerRule,
  joinWithin,
  SOURCE_TITLES,
  truncate,
} from '../text';

export interface SlackPayload {
  /** Fallback for notifications and clients without blocks (mrkdwn, escaped). */
  text: string;
  blocks: object[];
}

export interface SlackRenderOptions {
  /** How many alerts a message lists before it sums up the rest per rule (default 20). */
  maxAlerts?: number;
}

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  contextText: 2000,
  /** Our own cap for the fallback text: it is a preview, the blocks carry the message. */
  fallbackText: 3000,
} as const;

const DEFAULT_MAX_ALERTS = 20;

/**
 * Slack's escaping: `&` first, then `<` and `>`; nothing else. Text escaped this way cannot
 * mention (`<!channel>`, `<@U123>`) or make a link with a disguised label (`<http://x|y>`).
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts escaped text to at most `max` units without splitting an emoji or an entity (`&amp;`). */
export function fitEscaped(text: string, max: number): string {
  return truncate(text, max, { entities: true });
}

type TextObject = { type: 'mrkdwn'; text: string; verbatim: true } | { type: 'plain_text'; text: string; emoji: true };

interface SlackBlock {
  type: 'header' | 'section' | 'context';
  text?: TextObject;
  elements?: TextObject[];
}

/**
 * A message under construction. Every piece of text goes through it, so Slack's limits hold
 * whatever the notice holds. Texts passed in are already escaped (headers are plain text and are not).
 */
class SlackMessage {
  private readonly blocks: SlackBlock[] = [];

  /** Blocks still free after keeping `reserved` for what must come last. */
  free(reserved: number): number {
    return SLACK_LIMITS.blocks - this.blocks.length - reserved;
  }

  header(plain: string): void {
    this.push({ type: 'header', text: { type: 'plain_text', text: truncate(plain, SLACK_LIMITS.headerText), emoji: true } });
  }

  section(mrkdwn: string): void {
    // verbatim: Slack does not turn bare URLs or #channel names into links.
    this.push({ type: 'section', text: { type: 'mrkdwn', text: fitEscaped(mrkdwn, SLACK_LIMITS.sectionText), verbatim: true } });
  }

  context(mrkdwn: string): void {
    this.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: fitEscaped(mrkdwn, SLACK_LIMITS.contextText), verbatim: true }],
    });
  }

  /**
   * Lists lines in as few sections as fit, taking at most `maxLines` lines and `maxSections` blocks.
   * Returns how many lines were listed.
   */
  lines(lines: readonly string[], maxLines: number, maxSections: number): number {
    let listed = 0;
    let flushed = 0;
    let current: string[] = [];
    let length = 0;
    for (const raw of lines) {
      if (listed >= maxLines) break;
      const line = fitEscaped(raw, SLACK_LIMITS.sectionText);
      if (current.length > 0 && length + 1 + line.length > SLACK_LIMITS.sectionText) {
        // this line needs a section of its own: flushing the current one must leave room for it
        if (flushed + 2 > maxSections) break;
        this.section(current.join('\n'));
        flushed += 1;
        current = [];
      }
      if (current.length === 0) {
        if (flushed + 1 > maxSections) break;
        length = line.length;
      } else {
        length += 1 + line.length;
      }
      current.push(line);
      listed += 1;
    }
    if (current.length > 0) this.section(current.join('\n'));
    return listed;
  }

  toPayload(fallback: readonly string[]): SlackPayload {
    // The fallback keeps whole lines: the header first, as much of the rest as fits.
    const text = joinWithin(fallback, '\n', SLACK_LIMITS.fallbackText, () => '…');
    return { text: fitEscaped(text, SLACK_LIMITS.fallbackText), blocks: this.blocks };
  }

  private push(block: SlackBlock): void {
    if (this.blocks.length >= SLACK_LIMITS.blocks) {
      // Callers budget blocks with free(); reaching this is a bug, and Slack would refuse the message.
      throw new Error(`Slack message would exceed ${SLACK_LIMITS.blocks} blocks`);
    }
    this.blocks.push(block);
  }
}

function footer(n: Notice): string {
  return slackEscape(`stockwatch · ${formatUtcTime(n.createdAtMs)}`);
}

/**
 * Lists alerts (most severe first) under a budget and sums up the ones left out per rule.
 * Returns the escaped lines that went into the message, for the fallback text.
 */
function listAlerts(
  msg: SlackMessage,
  alerts: readonly NoticeAlert[],
  maxAlerts: number,
  reservedAfter: number,
  omitted: readonly OmittedAlerts[] = [],
): string[] {
  const sorted = sortAlerts(alerts);
  const lines = sorted.slice(0, Math.max(0, maxAlerts)).map((a) => slackEscape(alertLine(a)));
  // one block for the sum of the rest, plus what the caller keeps for after the list
  const listed = msg.lines(lines, Math.max(0, maxAlerts), msg.free(1 + reservedAfter));
  const shown = lines.slice(0, listed);
  if (listed < sorted.length || omitted.length > 0) {
    const rest = restSummary(sorted.slice(listed), SLACK_LIMITS.sectionText, slackEscape, omitted);
    msg.section(slackEscape(rest));
    shown.push(slackEscape(rest));
  }
  return shown;
}

/** Alerts a Slack notice keeps when it is made: more than a message lists, so it renders the same. */
export const SLACK_NOTICE_KEEPS = 50;

/**
 * What a Slack notice needs of a poll's alerts: the most severe SLACK_NOTICE_KEEPS in full, the
 * rest as counts per rule, severity and kind. The message renders exactly as from the full list.
 */
export function slackNoticeAlerts(alerts: readonly NoticeAlert[]): { alerts: NoticeAlert[]; omitted?: OmittedAlerts[] } {
  if (alerts.length <= SLACK_NOTICE_KEEPS) return { alerts: [...alerts] };
  const sorted = sortAlerts(alerts);
  const omitted = new Map<string, OmittedAlerts>();
  for (const a of sorted.slice(SLACK_NOTICE_KEEPS)) {
    const key = `${a.rule}\u001f${a.severity}\u001f${a.kind}`;
    const o = omitted.get(key);
    if (o) o.count++;
    else omitted.set(key, { rule: a.rule, severity: a.severity, kind: a.kind, count: 1 });
  }
  return { alerts: sorted.slice(0, SLACK_NOTICE_KEEPS), omitted: [...omitted.values()] };
}

function renderAlerts(n: Extract<Notice, { type: 'alerts' }>, maxAlerts: number): SlackPayload {
  const msg = new SlackMessage();
  const headline = alertsHeadline(n.alerts, n.omitted);
  msg.header(headline);
  const shown = listAlerts(msg, n.alerts, maxAlerts, 1, n.omitted);
  msg.context(footer(n));
  return msg.toPayload([slackEscape(headline), ...shown]);
}

/** What a source event means for the alerts; the notice's detail says what was seen (and, for a suspect overview, for how many polls it is held). */
const SOURCE_AFTER: Record<Extract<Notice, { type: 'source' }>['event'], string> = {
  unreachable: 'Alerts stay as they were, none is raised or resolved, until a poll succeeds again.',
  recovered: 'Polls succeed again; alerts are evaluated from this poll on.',
  suspect: 'The overview lost more than half of its items; no alert is resolved from it meanwhile.',
};

function renderSource(n: Extract<Notice, { type: 'source' }>): SlackPayload {
  const msg = new SlackMessage();
  const title = `stockwatch: ${SOURCE_TITLES[n.event]}`;
  const after = SOURCE_AFTER[n.event];
  msg.header(title);
  const detail = slackEscape(oneLineText(n.detail));
  msg.section(`${detail}\n${slackEscape(after)}`);
  msg.context(footer(n));
  return msg.toPayload([slackEscape(title), detail]);
}

function renderTest(n: Extract<Notice, { type: 'test' }>): SlackPayload {
  const msg = new SlackMessage();
  const title = 'stockwatch: test notice';
  const body = slackEscape(
    `This is a test notice for channel ${oneLineText(n.channel)}, sent by \`stockwatch notify-test\`. ` +
      'No alert is behind it; if you can read it, delivery to this channel works.',
  );
  msg.header(title);
  msg.section(body);
  msg.context(footer(n));
  return msg.toPayload([slackEscape(title), body]);
}

/** Digests go by email; a digest sent to Slack still reads sanely: what fires, and counts of what changed. */
function renderDigest(n: Extract<Notice, { type: 'digest' }>, maxAlerts: number): SlackPayload {
  const msg = new SlackMessage();
  const headline = `stockwatch digest: ${digestCounts(n)}`;
  msg.header(headline);
  const shown: string[] = [slackEscape(headline)];
  const changes = [
    { label: 'new since the last digest', alerts: n.newSince },
    { label: 'resolved since the last digest', alerts: n.resolvedSince },
  ]
    .filter((c) => c.alerts.length > 0)
    .map((c) =>
      slackEscape(
        `${formatCount(c.alerts.length)} ${c.label}: ` +
          joinWithin(sumPerRule(c.alerts).map((s) => `${oneLineText(s.rule)} ${formatCount(s.total)}`), '; ', 1400, (k) => `${formatCount(k)} more rules`),
      ),
    );
  // the changes section and the footer come after the list
  if (n.firing.length > 0) shown.push(...listAlerts(msg, n.firing, maxAlerts, 2));
  if (changes.length > 0) {
    msg.section(changes.join('\n'));
    shown.push(...changes);
  }
  msg.context(footer(n));
  return msg.toPayload(shown);
}

/** The Slack message for a notice: Block Kit blocks plus a plain fallback text. */
export function renderSlack(n: Notice, opts: SlackRenderOptions = {}): SlackPayload {
  const maxAlerts = opts.maxAlerts ?? DEFAULT_MAX_ALERTS;
  switch (n.type) {
    case 'alerts':
      return renderAlerts(n, maxAlerts);
    case 'source':
      return renderSource(n);
    case 'test':
      return renderTest(n);
    case 'digest':
      return renderDigest(n, maxAlerts);
  }
}
