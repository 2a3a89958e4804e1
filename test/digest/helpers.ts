// Shared bits of the digest tests: a synthetic overview big enough to truncate a digest, rule sets
// from YAML text, real queues on a unique prefix, and a CSV reader for the attachment.
import { Queue } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';
import type { AlertRecord } from '../../src/engine/lifecycle';
import { compileRuleSet, type CompiledRuleSet } from '../../src/engine/evaluate';
import type { Alert } from '../../src/model';
import type { NoticeAlert } from '../../src/notify';
import { loadRuleFiles } from '../../src/rules';
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

export function compileRules(yaml: string, env: NodeJS.ProcessEnv = {}): CompiledRuleSet {
  const result = loadRuleFiles([{ name: 'rules.yaml', text: yaml }], env);
  if (!result.ok) throw new Error(`test rules do not load: ${JSON.stringify(result.errors)}`);
  return compileRuleSet(result.ruleSet);
}

export function alert(rule: string, sku: string, over: Partial<Alert> = {}): Alert {
  return {
    rule,
    type: 'low_available',
    severity: 'warning',
    status: 'firing',
    warehouseId: WAREHOUSE.id,
    warehouse: WAREHOUSE.name,
    productId: `p-${sku.toLowerCase()}`,
    sku,
    product: `Product ${sku}`,
    available: 2,
    incoming: 0,
    reserved: 0,
    updatedAt: '2026-01-15T07:00:00.000Z',
    summary: null,
    silenced: false,
    inhibited: false,
    ...over,
  };
}

export function record(a: Alert, firstSeenMs: number): AlertRecord {
  return { alert: a, firstSeenMs, lastNotifiedMs: a.silenced ? null : firstSeenMs };
}

export function event(a: Alert, kind: NoticeAlert['kind'], firstSeenMs: number): NoticeAlert {
  return { ...a, status: kind === 'resolved' ? 'resolved' : 'firing', kind, firstSeenMs };
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

/** RFC 4180 rows (quoted cells, doubled quotes, CRLF); a leading byte order mark is dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const src = text.replace(/^\ufeff/, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && src[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
