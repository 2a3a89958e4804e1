// Prometheus metrics (prom-client). One registry per daemon, not the global one, so that tests can
// run several daemons in one process. Counters count this process's work; gauges read shared state.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type NoticeOutcome = 'sent' | 'failed' | 'retried';

export class Metrics {
  readonly registry = new Registry();
  readonly polls = new Counter({ name: 'stockwatch_polls_total', help: 'Polls by outcome (ok, failed).', labelNames: ['outcome'], registers: [this.registry] });
  readonly pollDuration = new Histogram({
    name: 'stockwatch_poll_duration_seconds',
    help: 'Duration of a poll, fetch to commit.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly items = new Gauge({ name: 'stockwatch_overview_items', help: 'Items in the last good overview.', registers: [this.registry] });
  readonly malformed = new Gauge({ name: 'stockwatch_overview_malformed_items', help: 'Items left out of the last overview as malformed.', registers: [this.registry] });
  readonly pending = new Gauge({ name: 'stockwatch_alerts_pending', help: 'Alerts pending after the last poll (condition holds, `for` not passed yet).', registers: [this.registry] });
  readonly firing = new Gauge({ name: 'stockwatch_alerts_firing', help: 'Alerts firing after the last poll, by rule and severity.', labelNames: ['rule', 'severity'], registers: [this.registry] });
  readonly notices = new Counter({
    name: 'stockwatch_notices_total',
    help: 'Notice deliveries by channel type and outcome (sent, failed = given up, retried = will try again).',
    labelNames: ['channel_type', 'outcome'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'stockwatch_queue_jobs', help: 'Jobs in the delivery and poll queues, by queue and state.', labelNames: ['queue', 'state'], registers: [this.registry] });
  readonly lastSuccessfulPoll = new Gauge({
    name: 'stockwatch_last_successful_poll_timestamp_seconds',
    help: 'Unix time of the last successful poll of the deployment (any daemon), by the clock of the daemon that ran it; 0 before the first.',
    registers: [this.registry],
  });
  readonly rulesRefused = new Gauge({ name: 'stockwatch_rules_refused', help: '1 while the last change to the rule files was refused.', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'stockwatch_process_' });
  }

  setFiring(rows: Array<{ rule: string; severity: string; count: number }>): void {
    this.firing.reset();
    for (const r of rows) this.firing.set({ rule: r.rule, severity: r.severity }, r.count);
  }

  notice(channelType: string, outcome: NoticeOutcome): void {
    this.notices.inc({ channel_type: channelType, outcome });
  }
}
