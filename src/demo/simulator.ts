// A local stand-in for the S2 API: serves `GET /inventory/overview` from the vendor's sample and
// changes it over time, so that the demo (and tests of the daemon) see alerts come and go.
//
// The inventory changes by a scripted story (STORY below: a sellout, a new negative reserved,
// recoveries) plus seeded random drift, so one seed always gives the same sequence of bodies.
// The step timer starts with the first overview served, not at start-up: a daemon that comes up
// late (a container waiting for Redis) still sees the whole story from step 0.
import { mulberry32 } from '../prng';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { itemKey } from '../model';

export interface SimulatorOptions {
  /** 0 = any free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, requests must carry `Authorization: Bearer <token>`, else 401. */
  token?: string;
  /** When set, requests must carry `X-S2-Organization: <organizationId>`, else 403. */
  organizationId?: string;
  /** How often the inventory changes, counted from the first overview served. Default 5000; 0 = never by itself (call step()). */
  stepEveryMs?: number;
  /** Seed of the drift; the same seed gives the same sequence. Default 1. */
  seed?: number;
  /** The overview at step 0. Default: fixtures/overview.sample.json plus the demo's second-warehouse stock. */
  sample?: unknown;
  /** Clock for the `updatedAt` of changed levels; default the system clock. */
  now?: () => Date;
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:43123 (S2_API_URL for the daemon). */
  url: string;
  port: number;
  /** Applies one change now (the next step of the story, plus drift). */
  step(): void;
  /** Steps applied so far. */
  steps(): number;
  /** A copy of the body served now. */
  overview(): unknown;
  close(): Promise<void>;
}

/** The vendor sample's two warehouses and five products (fixtures/overview.sample.json). */
export const WAREHOUSE_1 = '9cae310d-c440-4d78-bdc0-bf306ec33888'; // "test warehouse"
export const WAREHOUSE_2 = '0b6eaafa-565f-4989-b3d5-98e871f9e888'; // "test Warehouse2", empty in the sample
export const PRODUCT_IDS = {
  test: '3775cc37-30e7-4579-a58e-c9adda6fa888',
  'MX03-N-BLUE': '440352eb-241a-4cac-834f-e0980ffca888',
  'SKU-GREY': 'bab7c35b-2ecb-4b40-be82-8dc1e0a86888',
  'TEST-BLACK': 'f4053402-e79b-45c2-8621-377d28060888',
  'S600-LIGHT-GRAY': '4d5ab278-86f3-4237-993b-b16a19360888',
} as const;
type DemoSku = keyof typeof PRODUCT_IDS;

interface LevelChange {
  available?: number;
  incoming?: number;
  reserved?: number;
}

/**
 * Stock the sample lacks: its only known products with stock would otherwise be none (the items
 * with stock all have unknown productIds), so the story could not sell out a real SKU. These sit
 * in the sample's empty second warehouse, healthy at step 0, `updatedAt` = start time.
 */
const SECOND_WAREHOUSE_STOCK: ReadonlyArray<{ sku: DemoSku } & Required<LevelChange>> = [
  { sku: 'MX03-N-BLUE', available: 26, incoming: 0, reserved: 3 },
  { sku: 'SKU-GREY', available: 18, incoming: 0, reserved: 2 },
  { sku: 'S600-LIGHT-GRAY', available: 34, incoming: 10, reserved: 0 },
  { sku: 'test', available: 40, incoming: 0, reserved: 5 },
];

export interface StoryEvent {
  step: number;
  sku: DemoSku;
  warehouseId: string;
  /** What happens, in words (for the README and the demo's console). */
  what: string;
  set: LevelChange;
}

/** The scripted part of the sequence; at the default 5 s per step it all happens within a minute. */
export const STORY: readonly StoryEvent[] = [
  { step: 2, sku: 'SKU-GREY', warehouseId: WAREHOUSE_2, what: 'a large order: available 18 -> 6 (low stock)', set: { available: 6 } },
  { step: 4, sku: 'SKU-GREY', warehouseId: WAREHOUSE_2, what: 'sells out: available 6 -> 0', set: { available: 0 } },
  { step: 5, sku: 'MX03-N-BLUE', warehouseId: WAREHOUSE_2, what: 'reserved goes negative: 3 -> -4', set: { reserved: -4 } },
  {
    step: 7,
    sku: 'TEST-BLACK',
    warehouseId: WAREHOUSE_1,
    what: 'comes back: restocked to 36 available, the negative reserved (-13) fixed to 0, level refreshed',
    set: { available: 36, reserved: 0 },
  },
  { step: 8, sku: 'SKU-GREY', warehouseId: WAREHOUSE_2, what: 'a purchase order is on its way: incoming 0 -> 48', set: { incoming: 48 } },
  { step: 9, sku: 'MX03-N-BLUE', warehouseId: WAREHOUSE_2, what: 'reserved fixed: -4 -> 2', set: { reserved: 2 } },
  { step: 10, sku: 'SKU-GREY', warehouseId: WAREHOUSE_2, what: 'restocked: the order arrives, available 0 -> 48, incoming 48 -> 0', set: { available: 48, incoming: 0 } },
];

/** Drift never takes a level below this, so that random moves do not cross a low-stock threshold. */
const DRIFT_FLOOR = 12;
const OVERVIEW_PATH = '/inventory/overview';

interface Level {
  productId: string;
  available: number;
  incoming: number;
  reserved: number;
  updatedAt: string;
}
interface LevelItem {
  warehouseId: string;
  level: Level;
}

export function defaultSamplePath(): string {
  // The same relative path from src/demo (tests via swc) and from dist/demo (the build).
  return path.join(__dirname, '..', '..', 'fixtures', 'overview.sample.json');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Items the simulator may change; anything else in `items` is served as it came. */
function isLevelItem(v: unknown): v is LevelItem {
  if (!isRecord(v) || typeof v.warehouseId !== 'string' || !isRecord(v.level)) return false;
  const l = v.level;
  return (
    typeof l.productId === 'string' &&
    Number.isInteger(l.available) &&
    Number.isInteger(l.incoming) &&
    Number.isInteger(l.reserved)
  );
}

function loadDefaultSample(): unknown {
  const file = defaultSamplePath();
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`simulator: cannot read the sample overview ${file}: ${(err as Error).message}`);
  }
}

/** The changing inventory, without any HTTP: step() moves it on, body() is what is served. */
export class Inventory {
  private readonly body: Record<string, unknown>;
  private readonly byKey = new Map<string, LevelItem>();
  private readonly storyTargets = new Set<string>();
  private readonly random: () => number;
  private stepCount = 0;

  constructor(sample: unknown, seed: number, private readonly now: () => Date, addDemoStock: boolean) {
    if (!isRecord(sample) || !Array.isArray(sample.items)) {
      throw new Error('simulator: the sample overview must be an object with an "items" array');
    }
    this.body = structuredClone(sample);
    const items = this.body.items as unknown[];
    if (addDemoStock) {
      const at = this.now().toISOString();
      for (const s of SECOND_WAREHOUSE_STOCK) {
        const { sku, ...level } = s;
        items.push({ warehouseId: WAREHOUSE_2, level: { productId: PRODUCT_IDS[sku], ...level, updatedAt: at } });
      }
    }
    for (const item of items) if (isLevelItem(item)) this.byKey.set(itemKey(item.warehouseId, item.level.productId), item);
    // Items whose stock the story sets stay out of drift, so the story reads as written.
    for (const e of STORY) if (e.set.available !== undefined) this.storyTargets.add(itemKey(e.warehouseId, PRODUCT_IDS[e.sku]));
    this.random = mulberry32(seed);
  }

  get steps(): number {
    return this.stepCount;
  }

  step(): void {
    this.stepCount += 1;
    const at = this.now().toISOString();
    for (const e of STORY) {
      if (e.step !== this.stepCount) continue;
      // A sample without the story's item (a custom sample) just skips that event.
      const item = this.byKey.get(itemKey(e.warehouseId, PRODUCT_IDS[e.sku]));
      if (item) Object.assign(item.level, e.set, { updatedAt: at });
    }
    this.drift(at);
  }

  /** One or two items with stock move by 1 to 3 units, never below DRIFT_FLOOR. */
  private drift(at: string): void {
    const candidates = [...this.byKey.entries()]
      .filter(([key, item]) => !this.storyTargets.has(key) && item.level.available >= DRIFT_FLOOR)
      .map(([, item]) => item);
    const count = Math.min(candidates.length, 1 + Math.floor(this.random() * 2));
    for (let i = 0; i < count; i++) {
      // Partial Fisher-Yates: pick without repeats.
      const j = i + Math.floor(this.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
      const level = candidates[i].level;
      const size = 1 + Math.floor(this.random() * 3);
      const delta = this.random() < 0.5 ? -size : size;
      level.available += level.available + delta < DRIFT_FLOOR ? -delta : delta;
      level.updatedAt = at;
    }
  }

  json(): string {
    return JSON.stringify(this.body);
  }

  snapshot(): unknown {
    return structuredClone(this.body);
  }
}

function checkOptions(opts: SimulatorOptions): void {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`simulator: port ${port} is not 0..65535`);
  const every = opts.stepEveryMs ?? 5000;
  if (!Number.isFinite(every) || every < 0) throw new RangeError(`simulator: stepEveryMs ${every} is not a number of ms >= 0`);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new RangeError(`simulator: seed ${opts.seed} is not an integer`);
}

function sameSecret(given: string, expected: string): boolean {
  // Hash first so that the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function sendJson(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(body);
}

function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  checkOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const stepEveryMs = opts.stepEveryMs ?? 5000;
  const inventory = new Inventory(opts.sample ?? loadDefaultSample(), opts.seed ?? 1, opts.now ?? (() => new Date()), opts.sample === undefined);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const startClock = (): void => {
    if (timer !== undefined || closed || stepEveryMs === 0) return;
    timer = setInterval(() => inventory.step(), stepEveryMs);
    timer.unref();
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const { pathname } = new URL(req.url ?? '/', 'http://simulator.invalid');
    if (pathname !== OVERVIEW_PATH) return sendJson(res, 404, errorBody(`no such path: ${pathname} (try GET ${OVERVIEW_PATH})`));
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, errorBody('only GET'), { allow: 'GET, HEAD' });
    if (opts.token !== undefined) {
      const auth = req.headers.authorization ?? '';
      const given = /^Bearer (.+)$/i.exec(auth)?.[1];
      if (given === undefined || !sameSecret(given, opts.token)) {
        return sendJson(res, 401, errorBody('missing or wrong bearer token'), { 'www-authenticate': 'Bearer' });
      }
    }
    if (opts.organizationId !== undefined && req.headers['x-s2-organization'] !== opts.organizationId) {
      return sendJson(res, 403, errorBody('missing or wrong X-S2-Organization header'));
    }
    startClock();
    sendJson(res, 200, req.method === 'HEAD' ? '' : inventory.json());
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`simulator: cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`));
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // A wildcard bind is reached through loopback; an IPv6 literal needs brackets in a URL.
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    step: () => inventory.step(),
    steps: () => inventory.steps,
    overview: () => inventory.snapshot(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closed = true;
        if (timer !== undefined) clearInterval(timer);
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (fetch keeps them) would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
