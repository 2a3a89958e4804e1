// Error messages from senders end up in logs and job records; these helpers keep them to one
// short line and take out anything secret that a library or a server might have echoed.

const MAX_MESSAGE = 400;

/** Replaces every occurrence of each secret (longest first) with `[redacted]`. Empty secrets are ignored. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** One line, at most `max` characters. */
export function shortLine(text: string, max = MAX_MESSAGE): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
