// What the status page and demo tests share: real Redis under a unique prefix, a free port, a
// rules folder, a config, and transports that keep notices in memory instead of sending them.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import IORedis from 'ioredis';
import type { Config } from '../../src/config';
import type { Transports } from '../../src/daemon/delivery';
import { PRODUCT_IDS, WAREHOUSE_1 } from '../../src/demo/simulator';
import type { Channel } from '../../src/model';
import type { Notice } from '../../src/notify';

export { REDIS_URL, SAMPLE_PATH } from '../support/stand-ins';
import { REDIS_URL, SAMPLE_PATH, testConfig as supportConfig } from '../support/stand-ins';

/** Product and warehouse names that would run script or add elements if the page did not escape them. */
export const HOSTILE_PRODUCT = '<img src=x onerror=alert(1)>';
export const HOSTILE_WAREHOUSE = 'Main <script>alert(2)</script> & "co"';

export function uniquePrefix(name: string): string {
  return `swtest-${name}-${randomBytes(4).toString('hex')}`;
}

/** Keys under `prefix` (SCAN, never KEYS). */
export async function keysOf(prefix: string, redisUrl = REDIS_URL): Promise<string[]> {
  const redis = new IORedis(redisUrl);
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return found;
}

export async function cleanPrefix(prefix: string, redisUrl = REDIS_URL): Promise<void> {
  const keys = await keysOf(prefix, redisUrl);
  if (keys.length === 0) return;
  const redis = new IORedis(redisUrl);
  try {
    for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
  } finally {
    redis.disconnect();
  }
}

/** A port nothing listens on right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export { rulesDir } from '../support/stand-ins';

export function testConfig(over: Partial<Config> & Pick<Config, 'prefix' | 'rulesDir'>): Config {
  return supportConfig({ logLevel: 'silent', ...over });
}

/** The vendor sample with a hostile product name on TEST-BLACK and a hostile name on its warehouse. */
export function hostileSample(): unknown {
  const sample = JSON.parse(fs.readFileSync(SAMPLE_PATH, 'utf8')) as {
    products: Array<{ id: string; name: string }>;
    warehouses: Array<{ id: string; name: string }>;
  };
  sample.products.find((p) => p.id === PRODUCT_IDS['TEST-BLACK'])!.name = HOSTILE_PRODUCT;
  sample.warehouses.find((w) => w.id === WAREHOUSE_1)!.name = HOSTILE_WAREHOUSE;
  return sample;
}

export interface SentNotice {
  channel: string;
  kind: Channel['kind'];
  notice: Notice;
}

/** Transports that keep what they are given; `fail` decides per channel kind whether to throw instead. */
export function recordingTransports(fail: Partial<Record<Channel['kind'], () => Error>> = {}): Transports & { sent: SentNotice[] } {
  const sent: SentNotice[] = [];
  const deliver = async (channel: Channel, notice: Notice): Promise<void> => {
    const failure = fail[channel.kind];
    if (failure) throw failure();
    sent.push({ channel: channel.name, kind: channel.kind, notice });
  };
  return { sent, slack: deliver, email: deliver, close: async () => undefined };
}

/** Polls `check` every 50 ms until it returns true or `ms` passes; returns whether it did. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
