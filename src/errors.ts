/**
 * An error caused by the user's input (argument, file, config, API body) rather than by a bug.
 * Its message is one line that says where and what; the CLI prints it without a stack and exits 1.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Bad input with several problems, printed one per line under a heading (rule files: `FILE:LINE:COL: message`). */
export class ProblemList extends UserError {
  override name = 'ProblemList';
  constructor(
    heading: string,
    readonly problems: string[],
  ) {
    super(`${heading}\n${problems.map((p) => oneLine(p)).join('\n')}`);
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** A one-line description of any thrown value, for logs and CLI output. */
export function oneLine(err: unknown): string {
  // Not `instanceof Error`: errors made by Node's own code come from another realm under jest.
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  const text = typeof message === 'string' ? message : describeThrown(err);
  return visibleControls(text.replace(/\s*\n\s*/g, ' ').trim());
}

/**
 * Control characters as `\u001b`: messages quote text from outside (a server's body, a file), and
 * raw escape sequences would reach the operator's terminal.
 */
export function visibleControls(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** String(value), for any thrown value: one whose toString is broken must not throw again here. */
function describeThrown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
