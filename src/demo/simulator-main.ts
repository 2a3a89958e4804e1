// `node dist/demo/simulator-main.js`: the S2 simulator on its own, for docker-compose's demo
// profile (or for pointing a `stockwatch run` at by hand). Configured by the environment:
//   SIMULATOR_PORT  default 8080
//   SIMULATOR_HOST  default 127.0.0.1 (the compose file sets 0.0.0.0)
//   SIMULATOR_STEP  how often the inventory changes, a duration; default 5s
//   SIMULATOR_SEED  integer seed of the drift; default 1
//   S2_API_TOKEN, S2_ORGANIZATION_ID  when set, required of every request (the same .env as stockwatch)
import { parseDuration } from '../duration';
import { oneLine, UserError } from '../errors';
import { startSimulator, type SimulatorOptions } from './simulator';

/** The simulator's options from the environment; every problem at once, one line, no secret echoed. */
export function readSimulatorEnv(env: NodeJS.ProcessEnv): SimulatorOptions & { port: number; host: string; stepEveryMs: number; seed: number } {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };

  const portText = value('SIMULATOR_PORT') ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) problems.push(`SIMULATOR_PORT: "${portText}" is not a port number`);

  const stepText = value('SIMULATOR_STEP') ?? '5s';
  const stepEveryMs = parseDuration(stepText);
  if (stepEveryMs === null) problems.push(`SIMULATOR_STEP: "${stepText}" is not a duration (like 5s, 1m)`);

  const seedText = value('SIMULATOR_SEED') ?? '1';
  const seed = Number(seedText);
  if (!/^-?\d+$/.test(seedText) || !Number.isSafeInteger(seed)) problems.push(`SIMULATOR_SEED: "${seedText}" is not an integer`);

  if (problems.length > 0) throw new UserError(`configuration: ${problems.join('; ')}`);
  return {
    port,
    host: value('SIMULATOR_HOST') ?? '127.0.0.1',
    stepEveryMs: stepEveryMs ?? 5000,
    seed,
    token: value('S2_API_TOKEN'),
    organizationId: value('S2_ORGANIZATION_ID'),
  };
}

async function main(): Promise<void> {
  const opts = readSimulatorEnv(process.env);
  const sim = await startSimulator(opts);
  const checks = [opts.token ? 'bearer token' : null, opts.organizationId ? `X-S2-Organization: ${opts.organizationId}` : null].filter(Boolean);
  process.stdout.write(
    `s2-simulator: serving GET /inventory/overview on ${opts.host}:${sim.port} ` +
      `(changes every ${opts.stepEveryMs / 1000}s from the first request, seed ${opts.seed}, ` +
      `requires: ${checks.length > 0 ? checks.join(', ') : 'nothing'})\n`,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => (process.exitCode = 0),
      (err) => {
        process.stderr.write(`s2-simulator: ${oneLine(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`s2-simulator: ${oneLine(err)}\n`);
    process.exitCode = 1;
  });
}
