// What the status page and demo tests share: real Redis under a unique prefix, a free port, a
// rules folder, a config, and transports that keep notices in memory instead of sending them.
import * as fs from 'node:fs';
import IORedis from 'ioredis';
import type { Config } from '../../src/config';
import type { Transports } from '../../src/delivery/worker';
import { PRODUCT_IDS, WAREHOUSE_1 } from '../../src/demo/simulator';
import type { Channel } from '../../src/model';
import type { Notice } from '../../src/notify';

export { cleanPrefix, REDIS_URL, SAMPLE_PATH, uniquePrefix, waitFor } from '../support/stand-ins';
export { freePort } from '../support/processes';
import { REDIS_URL, SAMPLE_PATH, testConfig as supportConfig } from '../support/stand-ins';

/** Product and warehouse names that would run script or add elements if the page did not escape them. */
export const HOSTILE_PRODUCT = '<img src=x onerror=alert(1)>';
export const HOSTILE_WAREHOUSE = 'Main <script>alert(2)</script> & "co"';

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
  return { sent, send: deliver, close: async () => undefined };
}

