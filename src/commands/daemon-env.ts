// What `run`, `poll` and `notify-test` share: config from the environment and a logger.
import { loadConfig, type Config } from '../config';
import { createLogger, logConsoleWarnings, type Logger } from '../log';

export function daemonSetup(needSource: boolean): { config: Config; log: Logger } {
  const config = loadConfig(process.env, { needSource });
  const log = createLogger(config.logLevel);
  logConsoleWarnings(log);
  return { config, log };
}

/** Resolves on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
