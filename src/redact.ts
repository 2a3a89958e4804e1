// Text that came from elsewhere (a library, a server, Node) ends up in logs, job records and
// errors; these helpers keep it to one short line and take out any secret it might have echoed.
// The source client and every channel use the same scrubber, each with its own secrets.

const MAX_MESSAGE = 400;

export interface ScrubOptions {
  /** What a secret is replaced with; default `[redacted]`. */
  label?: string;
  /**
   * Also replace every run of this many characters of a secret: a message that quotes a cut of
   * an echoed secret (JSON.parse quotes a short piece of the body) must not leak that piece either.
   */
  pieceLength?: number;
}

/** Replaces every occurrence of each secret (longest first) with the label. Empty secrets are ignored. */
export function scrubSecrets(text: string, secrets: readonly string[], options: ScrubOptions = {}): string {
  const label = options.label ?? '[redacted]';
  const list = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of list) out = out.split(secret).join(label);
  const n = options.pieceLength;
  if (n === undefined || n <= 0) return out;
  for (const secret of list) {
    for (let start = 0; start + n <= secret.length; start++) {
      const piece = secret.slice(start, start + n);
      if (out.includes(piece)) out = out.split(piece).join(label);
    }
  }
  return out;
}

/** One line, at most `max` characters. */
export function shortLine(text: string, max = MAX_MESSAGE): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
