// What the benchmark asks Redis: how much memory a prefix's keys take, what a poll writes, and
// removing every key of a prefix afterwards.
//
// Memory: `MEMORY USAGE key SAMPLES 0` per key (every element counted, allocator overhead
// included) rather than the `used_memory` delta of INFO: other processes share this Redis, and
// the delta also moves with fragmentation and lazy frees, so it cannot be pinned on one prefix.
//
// Writes: MONITOR on a connection of its own while one extra poll runs, keeping the commands that
// touch the prefix. Commands run inside BullMQ's Lua scripts show up too (source "lua"), so the
// keys a script wrote are counted, not the script text. MONITOR slows Redis down, so the polls
// that are timed never run under it.
import IORedis, { type Redis } from 'ioredis';

export function connect(url: string): Redis {
  return new IORedis(url, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
}

export async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${globEscape(prefix)}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Removes every key of the prefix; resolves to how many there were. */
export async function removePrefix(redis: Redis, prefix: string): Promise<number> {
  const keys = await keysOf(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  return keys.length;
}

/**
 * HOOK for the forecast's rate history (issue 14: ≤ 24 bytes per item): state keys whose name
 * (after `<prefix>:state:`) starts with this are counted as `historyBytes` and reported per item,
 * apart from the alert state. Rename here if src/state/history.ts names its keys otherwise.
 */
export const HISTORY_STATE_KEY = 'history';

export interface PrefixMemory {
  /** Bytes of the `<prefix>:state:*` keys (alerts, products, meta, outbox, digests, history). */
  stateBytes: number;
  /** Bytes of the forecast history's keys (HISTORY_STATE_KEY), included in stateBytes. */
  historyBytes: number;
  /** Bytes of every other key of the prefix (BullMQ's queues and jobs, pacing). */
  queueBytes: number;
  /** Bytes by state key (suffix after `<prefix>:state:`, bucket numbers `:<n>` taken off: one entry per kind). */
  byStateKey: Record<string, number>;
  /** Elements (hash fields) by state key. */
  lengthByStateKey: Record<string, number>;
  keys: number;
}

export async function prefixMemory(redis: Redis, prefix: string): Promise<PrefixMemory> {
  const keys = await keysOf(redis, prefix);
  const statePrefix = `${prefix}:state:`;
  const result: PrefixMemory = { stateBytes: 0, historyBytes: 0, queueBytes: 0, byStateKey: {}, lengthByStateKey: {}, keys: keys.length };
  for (const key of keys) {
    const bytes = Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
    if (key.startsWith(statePrefix)) {
      result.stateBytes += bytes;
      const name = key.slice(statePrefix.length).replace(/:\d+$/, '');
      result.byStateKey[name] = (result.byStateKey[name] ?? 0) + bytes;
      if (name.startsWith(HISTORY_STATE_KEY)) result.historyBytes += bytes;
      if ((await redis.type(key)) === 'hash') result.lengthByStateKey[name] = (result.lengthByStateKey[name] ?? 0) + (await redis.hlen(key));
    } else {
      result.queueBytes += bytes;
    }
  }
  return result;
}

// ---- writes ----------------------------------------------------------------------------------

/** Commands that change data (the ones a poll of stockwatch or BullMQ can send). */
const WRITES = new Set([
  'set', 'setex', 'psetex', 'del', 'unlink', 'expire', 'pexpire', 'pexpireat', 'persist', 'rename',
  'hset', 'hmset', 'hsetnx', 'hdel', 'hincrby',
  'rpush', 'lpush', 'lpop', 'rpop', 'lrem', 'ltrim', 'lmove', 'rpoplpush', 'linsert', 'lset',
  'sadd', 'srem', 'zadd', 'zrem', 'zincrby', 'zremrangebyscore', 'zremrangebyrank', 'zpopmin', 'bzpopmin',
  'incr', 'incrby', 'decr', 'decrby', 'xadd', 'xtrim', 'xdel',
]);

export interface KeyWrites {
  commands: number;
  /** Hash fields set or deleted, list entries pushed, keys deleted, … */
  elements: number;
  /** Bytes of the command arguments (key, fields, values). */
  bytes: number;
}

export interface WriteAccount {
  /** By key group: `state:snapshot`, `state:alerts`, `state:meta`, `state:outbox`, `state:digest`, `queue`. */
  byGroup: Record<string, KeyWrites>;
  /**
   * Hash fields written (set or deleted) in the snapshot and alerts hashes, decoded: item keys
   * (`warehouseId\x1fproductId`) and alert keys (`rule\x1fwarehouseId\x1fproductId`).
   */
  snapshotFields: string[];
  alertFields: string[];
  /** Distinct keys written. */
  keys: number;
  totalBytes: number;
  totalCommands: number;
}

/**
 * An argument as MONITOR prints it (Redis' sdscatrepr: printable ASCII as is, `\xHH` for other
 * bytes, `\n`, `\r`, `\t`, `\a`, `\b`, `\"`, `\\`) back to its bytes.
 */
export function unrepr(repr: string): Buffer {
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, '\\': 92 };
  for (let i = 0; i < repr.length; i++) {
    const c = repr.charCodeAt(i);
    if (c === 92 && i + 1 < repr.length) {
      const next = repr[i + 1];
      if (next === 'x' && i + 3 < repr.length) {
        bytes.push(parseInt(repr.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      if (next in simple) {
        bytes.push(simple[next]);
        i += 1;
        continue;
      }
    }
    bytes.push(c & 0xff);
  }
  return Buffer.from(bytes);
}

function elementsOf(command: string, argCount: number): number {
  switch (command) {
    case 'hset':
    case 'hmset':
    case 'hsetnx':
    case 'zadd':
      return Math.floor((argCount - 2) / 2);
    case 'del':
    case 'unlink':
      return argCount - 1;
    default:
      return Math.max(1, argCount - 2);
  }
}

export interface WriteMonitor {
  stop(): Promise<WriteAccount>;
}

/** Starts counting the writes to the prefix's keys until stop(). */
export async function monitorWrites(url: string, prefix: string): Promise<WriteMonitor> {
  // monitor() opens a connection of its own in monitor mode; `conn` only lends it its options.
  const conn = connect(url);
  const monitor = await conn.monitor();
  const keyPrefix = `${prefix}:`;
  const statePrefix = `${prefix}:state:`;
  const byGroup: Record<string, KeyWrites> = {};
  const fields: Record<'snapshot' | 'alerts', string[]> = { snapshot: [], alerts: [] };
  const keys = new Set<string>();
  monitor.on('monitor', (_time: string, args: string[]) => {
    const command = String(args[0]).toLowerCase();
    if (!WRITES.has(command)) return;
    const key = args[1];
    if (typeof key !== 'string' || !key.startsWith(keyPrefix)) return;
    let group = 'queue';
    if (key.startsWith(statePrefix)) {
      const rest = key.slice(statePrefix.length);
      const kind = rest.startsWith('digest:') ? 'digest' : rest.replace(/:\d+$/, '');
      group = `state:${kind}`;
      if ((kind === 'snapshot' || kind === 'alerts') && (command === 'hset' || command === 'hdel')) {
        const step = command === 'hset' ? 2 : 1;
        for (let i = 2; i < args.length; i += step) fields[kind].push(unrepr(String(args[i])).toString('utf8'));
      }
    }
    const entry = (byGroup[group] ??= { commands: 0, elements: 0, bytes: 0 });
    entry.commands++;
    entry.elements += elementsOf(command, args.length);
    for (let i = 1; i < args.length; i++) entry.bytes += unrepr(String(args[i])).length;
    keys.add(key);
  });
  return {
    async stop(): Promise<WriteAccount> {
      // The process under test has exited; give its last commands time to reach the monitor.
      await new Promise((resolve) => setTimeout(resolve, 200));
      monitor.disconnect();
      conn.disconnect();
      let totalBytes = 0;
      let totalCommands = 0;
      for (const g of Object.values(byGroup)) {
        totalBytes += g.bytes;
        totalCommands += g.commands;
      }
      return { byGroup, snapshotFields: fields.snapshot, alertFields: fields.alerts, keys: keys.size, totalBytes, totalCommands };
    },
  };
}
