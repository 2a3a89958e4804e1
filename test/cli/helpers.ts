// Runs the real CLI entry point in-process and captures what it writes and the exit code it sets.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    process.exitCode = undefined;
    await main(argv);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export const REPO = path.resolve(__dirname, '../..');
export const SAMPLE = path.join(REPO, 'fixtures/overview.sample.json');

/** A fresh temporary folder, removed by cleanup(). */
export function tempDir(): { dir: string; write(name: string, text: string): string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-cli-'));
  return {
    dir,
    write(name: string, text: string): string {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
    cleanup(): void {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The example rule file of SPEC section 3, as written there. */
export const SPEC_RULES = `channels:
  ops:
    slack:
      webhook_url: \${SLACK_WEBHOOK_URL}
  buyers:
    email:
      to: [buyers@example.com]
      digest: "0 8 * * 1-5"
      timezone: America/Toronto

defaults:
  channels: [ops]
  severity: warning
  repeat_every: 24h
  send_resolved: true

rules:
  - name: low-available
    type: low_available
    below: 10
    count_incoming: false
    channels: [ops, buyers]
  - name: negative-reserved
    type: negative_reserved
    severity: critical
  - name: stale-level
    type: stale
    older_than: 48h
  - name: unknown-product
    type: unknown_product

silences:
  - where: { sku: "TEST-*" }
    rule: low-available
    until: 2026-12-31T00:00:00Z
    reason: test SKUs
`;

/** A non-secret stand-in for the webhook the SPEC rules reference. */
export const SPEC_ENV = { SLACK_WEBHOOK_URL: 'https://hooks.slack.invalid/services/T000/B000/XXXX' };
