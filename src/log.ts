// pino, JSON to stdout. Secrets are kept out by construction (no config object or URL is ever
// logged); the redact list is a second line of defence for the places a secret could sit.
import { format } from 'node:util';
import pino, { type Logger } from 'pino';
import { oneLine } from './errors';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { name: 'stockwatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token', '*.token', 'apiToken', '*.apiToken',
          'webhookUrl', '*.webhookUrl', 'webhook_url', '*.webhook_url',
          'smtpUrl', '*.smtpUrl', 'password', '*.password', 'pass', '*.pass',
          'headers.authorization', 'headers.Authorization', '*.headers.authorization', '*.headers.Authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * Libraries that warn with console.warn (ioredis: "[WARN] … a password was supplied") write to
 * `log` from now on: a JSON line like every other, not raw text on stderr beside the one-line
 * errors. For the commands that run a daemon (`run`, `poll --once`).
 */
export function logConsoleWarnings(log: Logger): void {
  console.warn = (...args: unknown[]) => log.warn(oneLine(format(...args)));
}
