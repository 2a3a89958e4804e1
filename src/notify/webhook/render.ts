// The JSON body of a webhook POST (SPEC section 5). Pure: notice in, the exact bytes to send (and
// sign) out. Alerts carry the fields of SPEC section 4 in that order, plus `event`.
import { alertKey, specAlert, type Alert } from '../../model';
import type { EventKind, Notice, NoticeAlert } from '../notice';
import { alertsHeadline, digestCounts, oneLineText, SOURCE_TITLES, sortAlerts } from '../text';

export type WebhookEvent = 'new' | 'still_firing' | 'resolved';

export type WebhookAlert = Alert & { event: WebhookEvent };

export interface WebhookBody {
  notice: string;
  at: string;
  kind: 'alerts' | 'source';
  text: string;
  alerts: WebhookAlert[];
}

const EVENTS: Record<EventKind, WebhookEvent> = { new: 'new', repeat: 'still_firing', resolved: 'resolved' };

/** SPEC section 4's fields, in its order, and the event. */
function webhookAlert(a: NoticeAlert, event: WebhookEvent): WebhookAlert {
  return { ...specAlert(a), event };
}

/** The body as a receiver parses it. */
export function webhookBody(n: Notice): WebhookBody {
  const head = { notice: n.id, at: new Date(n.createdAtMs).toISOString() };
  switch (n.type) {
    case 'alerts':
      return { ...head, kind: 'alerts', text: alertsHeadline(n.alerts, n.omitted), alerts: sortAlerts(n.alerts).map((a) => webhookAlert(a, EVENTS[a.kind])) };
    case 'source':
      return { ...head, kind: 'source', text: `stockwatch: ${SOURCE_TITLES[n.event]}: ${oneLineText(n.detail)}`, alerts: [] };
    case 'test':
      // An alerts notice with no alert: a receiver that acts on alerts has nothing to do.
      return {
        ...head,
        kind: 'alerts',
        text: `stockwatch: test notice for channel ${oneLineText(n.channel)}, sent by stockwatch notify-test; no alert is behind it`,
        alerts: [],
      };
    case 'digest': {
      // Routing never sends a digest to a webhook; should one be rendered, it still says what it holds.
      const changed = new Set([...n.newSince, ...n.resolvedSince].map((a) => alertKey(a.rule, a.warehouseId, a.productId)));
      const alerts = [
        ...n.newSince.map((a) => webhookAlert(a, 'new')),
        ...n.resolvedSince.map((a) => webhookAlert(a, 'resolved')),
        ...n.firing.filter((a) => !changed.has(alertKey(a.rule, a.warehouseId, a.productId))).map((a) => webhookAlert(a, 'still_firing')),
      ];
      return { ...head, kind: 'alerts', text: `stockwatch digest: ${digestCounts(n)}`, alerts };
    }
  }
}

/** The exact bytes that are sent, and signed. */
export function renderWebhook(n: Notice): string {
  return JSON.stringify(webhookBody(n));
}
