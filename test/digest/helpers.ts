// Shared bits of the digest tests: a synthetic overview big enough to truncate a digest, rule sets
// from YAML text, alert fields on that overview's warehouse and real queues on a unique prefix.
import { Queue } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';
import type { AlertRecord } from '../../src/engine/lifecycle';
import type { Alert } from '../../src/model';
import { REDIS_URL } from '../support/stand-ins';

export const WAREHOUSE = { id: 'wh-main', name: 'Main warehouse' };

/** SKU LOW-001.. (available 2) and NEG-1.. (reserved -3), in one warehouse. */
export function overview(opts: { low: number; negative: number; updatedAt?: string }): unknown {
  const updatedAt = opts.updatedAt ?? new Date().toISOString();
  const products: unknown[] = [];
  const items: unknown[] = [];
  const add = (sku: string, level: { available: number; reserved: number }) => {
    const id = `p-${sku.toLowerCase()}`;
    products.push({ id, sku, name: `Product ${sku}`, brand: { name: 'Acme' } });
    items.push({ warehouseId: WAREHOUSE.id, level: { productId: id, incoming: 0, updatedAt, ...level } });
  };
  for (let i = 1; i <= opts.low; i++) add(`LOW-${String(i).padStart(3, '0')}`, { available: 2, reserved: 0 });
  for (let i = 1; i <= opts.negative; i++) add(`NEG-${i}`, { available: 50, reserved: -3 });
  return { warehouses: [WAREHOUSE], products, items };
}

export { compileRules } from '../support/rules';

/** The fields of a low-available alert on `sku` in the main warehouse, as overview() makes them. */
export function atMain(rule: string, sku: string): Partial<Alert> {
  return {
    rule,
    warehouseId: WAREHOUSE.id,
    warehouse: WAREHOUSE.name,
    productId: `p-${sku.toLowerCase()}`,
    sku,
    product: `Product ${sku}`,
    available: 2,
    updatedAt: '2026-01-15T07:00:00.000Z',
  };
}

export function record(a: Alert, firstSeenMs: number): AlertRecord {
  return { alert: a, firstSeenMs, lastNotifiedMs: a.silenced ? null : firstSeenMs };
}

/** A connection and the digest and email queues on `prefix`; close() closes them all. */
export function queues(prefix: string): { redis: Redis; workerRedis: Redis; digest: Queue; email: Queue; close(): Promise<void> } {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const workerRedis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const digest = new Queue('digest', { connection: workerRedis, prefix });
  const email = new Queue('email', { connection: workerRedis, prefix });
  return {
    redis,
    workerRedis,
    digest,
    email,
    async close() {
      await Promise.all([digest.close(), email.close()]);
      redis.disconnect();
      workerRedis.disconnect();
    },
  };
}
