/**
 * A notice could not be delivered. `permanent` tells the queue whether another try can help
 * (a deleted webhook, a refused recipient, bad credentials: no; a timeout, a 5xx, a 429: yes).
 * The message is one line and never holds a secret: no webhook URL or path, no SMTP password.
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';

  constructor(
    message: string,
    public readonly permanent: boolean,
    /** How long the receiver asked us to wait before the next try (Slack's Retry-After). */
    public readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function isDeliveryError(err: unknown): err is DeliveryError {
  return err instanceof DeliveryError;
}
