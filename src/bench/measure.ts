// Runs one process and measures it from the outside: wall-clock time from spawn to exit, and the
// peak resident set (VmHWM) read from /proc every 20 ms. VmHWM is the kernel's own high-water
// mark, so a sample taken any time before exit already holds every earlier peak; only a peak in
// the last <20 ms could be missed. Nothing inside the process under test has to cooperate.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Spawn to exit. */
  wallMs: number;
  /** Date.now() at spawn, to place the process's own log timestamps. */
  spawnedAtMs: number;
  /** Peak resident set in bytes; null where /proc is not available. */
  peakRssBytes: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const RSS_SAMPLE_MS = 20;

function readHighWaterMark(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null; // gone already, or no /proc
  }
}

/** The running child, so that an interrupted benchmark can stop it. */
let running: { pid: number; kill: () => void } | null = null;

export function killRunning(): void {
  running?.kill();
}

/** Runs `node args…` with `env`; kills it (SIGKILL) after `timeoutMs`. */
export function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const spawnedAtMs = Date.now();
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      child.once('error', reject);
      return;
    }
    const pid = child.pid;
    running = { pid, kill: () => child.kill('SIGKILL') };
    let peak: number | null = null;
    const sample = (): void => {
      const hwm = readHighWaterMark(pid);
      if (hwm !== null && (peak === null || hwm > peak)) peak = hwm;
    };
    const sampler = setInterval(sample, RSS_SAMPLE_MS);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      clearInterval(sampler);
      clearTimeout(killer);
      running = null;
      // Output may still be in the pipes after 'exit'; 'close' waits for it.
      child.once('close', () =>
        resolve({
          code,
          signal,
          wallMs,
          spawnedAtMs,
          peakRssBytes: peak,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
        }),
      );
    });
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
