import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { checkApiUrl, checkSourceConfig, fetchOverview, redact, SourceError, type SourceConfig } from '../../src/source/client';
import type { Item } from '../../src/model';
import { OverviewReader } from '../../src/source/incremental';

const SAMPLE = readFileSync(path.join(__dirname, '../../fixtures/overview.sample.json'));
const TOKEN = 'tok-Very-Secret-4f9c2a71b';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let server: http.Server;
let baseUrl: string;
let handler: Handler;
let requests: http.IncomingMessage[];
/** Every SourceError message seen in this file, checked for the token at the end. */
const messages: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  requests = [];
  handler = (_req, res) => res.end(SAMPLE);
});

afterEach(() => server.closeAllConnections());

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(messages.length).toBeGreaterThan(10);
  for (const message of messages) expect(message).not.toContain(TOKEN.slice(0, 8));
});

function config(overrides: Partial<SourceConfig> = {}): SourceConfig {
  return { apiUrl: `${baseUrl}/api`, token: TOKEN, organizationId: 'org-42', timeoutMs: 5000, ...overrides };
}

async function failure(cfg: SourceConfig = config(), signal?: AbortSignal, reader?: OverviewReader): Promise<SourceError> {
  try {
    await fetchOverview(cfg, signal, reader);
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    const e = err as SourceError;
    messages.push(e.message);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('fetchOverview succeeded but a failure was expected');
}

describe('fetchOverview: success', () => {
  it('GETs /inventory/overview with the token, organization and Accept headers', async () => {
    const result = await fetchOverview(config({ apiUrl: `${baseUrl}/api//` }));
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/api/inventory/overview');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['x-s2-organization']).toBe('org-42');
    expect(req.headers.accept).toBe('application/json');

    expect(result.overview.items).toHaveLength(5);
    expect(result.overview.items.filter((i) => !i.knownProduct)).toHaveLength(3);
    expect(result.bytes).toBe(SAMPLE.length);
    expect(result.fetchMs).toBeGreaterThanOrEqual(0);
    expect(result.parseMs).toBeGreaterThanOrEqual(0);
  });

  it('works against a base URL without a path', async () => {
    await fetchOverview(config({ apiUrl: baseUrl }));
    expect(requests[0].url).toBe('/inventory/overview');
  });

  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('decodes a %s body and counts its decoded size', async (encoding, compress) => {
    handler = (_req, res) => {
      res.setHeader('Content-Encoding', encoding);
      res.end(compress(SAMPLE));
    };
    const result = await fetchOverview(config());
    expect(requests[0].headers['accept-encoding']).toContain(encoding);
    expect(result.overview.items).toHaveLength(5);
    expect(result.bytes).toBe(SAMPLE.length);
  });

  it('reads a chunked body that arrives in many pieces', async () => {
    handler = (_req, res) => {
      let at = 0;
      const next = (): void => {
        if (at >= SAMPLE.length) return void res.end();
        res.write(SAMPLE.subarray(at, at + 500));
        at += 500;
        setImmediate(next);
      };
      next();
    };
    const result = await fetchOverview(config());
    expect(result.overview.items).toHaveLength(5);
  });

  it('keeps non-ASCII text split across chunks intact', async () => {
    const body = Buffer.from(
      JSON.stringify({
        warehouses: [{ id: 'w', name: 'Entrepôt 倉庫 🎧' }],
        products: [],
        items: [{ warehouseId: 'w', level: { productId: 'p', available: 1, incoming: 0, reserved: 0, updatedAt: '2024-06-03T03:40:41Z' } }],
      }),
    );
    const cut = body.indexOf(Buffer.from('倉')) + 1; // inside a multi-byte character
    handler = (_req, res) => {
      res.write(body.subarray(0, cut));
      setTimeout(() => res.end(body.subarray(cut)), 10);
    };
    const result = await fetchOverview(config());
    expect(result.overview.items[0].warehouse).toBe('Entrepôt 倉庫 🎧');
  });
});

describe('fetchOverview with a reader (the running daemon parses only what changed)', () => {
  const sample = (): { items: Array<{ level: { available: number } }> } => JSON.parse(SAMPLE.toString('utf8'));

  it('reads each body as the plain fetch does, keeping the Items of unchanged items', async () => {
    const changed = sample();
    changed.items[1].level.available += 100;
    const bodies = [JSON.stringify(sample()), JSON.stringify(changed), JSON.stringify(changed)].map((text) => Buffer.from(text));
    const reader = new OverviewReader();
    const read: Item[][] = [];
    for (const body of bodies) {
      handler = (_req, res) => res.end(body);
      const result = await fetchOverview(config(), undefined, reader);
      expect(result.overview).toEqual((await fetchOverview(config())).overview);
      expect(result.body.equals(body)).toBe(true);
      read.push(result.overview.items);
    }
    expect(read[1].map((item, k) => item === read[0][k])).toEqual(read[1].map((_, k) => k !== 1));
    expect(read[2].every((item, k) => item === read[1][k])).toBe(true);
  });

  it.each([
    ['not JSON', '<html><body>Bad gateway</body></html>'],
    ['empty', ''],
    ['cut short', SAMPLE.toString('utf8').slice(0, 700)],
    ['echoing the token', `{"warehouses": [], "products": [], "items": [${TOKEN}]}`],
    ['of the wrong shape', '{"warehouses":[],"products":[],"items":null}'],
    ['of the wrong shape, echoing the token', `{"warehouses":[],"products":[],"items":"${TOKEN}"}`],
  ])('a body %s fails with the same kind and message as without a reader, then the next good body reads', async (_what, broken) => {
    const reader = new OverviewReader();
    const good = (): void => {
      handler = (_req, res) => res.end(SAMPLE);
    };
    good();
    const first = await fetchOverview(config(), undefined, reader);
    handler = (_req, res) => res.end(broken);
    const withReader = await failure(config(), undefined, reader);
    const plain = await failure(config());
    expect({ kind: withReader.kind, message: withReader.message }).toEqual({ kind: plain.kind, message: plain.message });
    expect(['not_json', 'not_overview']).toContain(withReader.kind);
    good();
    const again = await fetchOverview(config(), undefined, reader);
    expect(again.overview).toEqual(first.overview);
  });
});

describe('fetchOverview: failures', () => {
  it.each([401, 403])('HTTP %i -> token_rejected', async (status) => {
    handler = (_req, res) => {
      res.statusCode = status;
      res.end(`{"error":"bad token ${TOKEN}"}`);
    };
    const err = await failure();
    expect(err.kind).toBe('token_rejected');
    expect(err.status).toBe(status);
    expect(err.message).toBe(`S2 API rejected the token (HTTP ${status})`);
  });

  it('HTTP 500 -> http_error', async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    const err = await failure();
    expect(err.kind).toBe('http_error');
    expect(err.status).toBe(500);
    expect(err.message).toBe('S2 API answered HTTP 500 Internal Server Error');
  });

  it('does not follow a redirect (it would carry the token elsewhere)', async () => {
    handler = (req, res) => {
      res.statusCode = 302;
      res.setHeader('Location', `${baseUrl}/elsewhere`);
      res.end();
    };
    const err = await failure();
    expect(err.kind).toBe('http_error');
    expect(err.message).toBe('S2 API answered HTTP 302 Found (redirects are not followed; check S2_API_URL)');
    expect(requests).toHaveLength(1);
  });

  it('a body that is not JSON -> not_json', async () => {
    handler = (_req, res) => res.end('<html><body>Bad gateway</body></html>');
    const err = await failure();
    expect(err.kind).toBe('not_json');
    expect(err.message).toMatch(/^S2 API body is not JSON: Unexpected token '<'/);
  });

  it('an empty body -> not_json', async () => {
    handler = (_req, res) => res.end();
    const err = await failure();
    expect(err.kind).toBe('not_json');
    expect(err.message).toBe('S2 API body is not JSON: Unexpected end of JSON input');
  });

  it('a body that echoes the token never puts it, or a piece of it, in the message', async () => {
    handler = (_req, res) => res.end(`${TOKEN} is not allowed`);
    expect((await failure()).message).toBe('S2 API body is not JSON (and it quotes the API token, so no excerpt is shown)');
    // V8's excerpt would end three characters into the token, below any piece redact could know.
    handler = (_req, res) => res.end(`{"items": [ Bearer ${TOKEN}`);
    const err = await failure();
    expect(err.kind).toBe('not_json');
    expect(err.message).toBe('S2 API body is not JSON (and it quotes the API token, so no excerpt is shown)');
  });

  it('control characters of a body that is not JSON are shown escaped, never sent raw to a terminal', async () => {
    handler = (_req, res) => res.end('\u001b[31mRED\u001b[0m\u001b]0;pwn\u0007');
    const err = await failure();
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
    expect(err.message).toContain('\\u001b[31mRED');
  });

  it('JSON of the wrong shape -> not_overview', async () => {
    handler = (_req, res) => res.end('{"warehouses":[],"products":[],"items":null}');
    const err = await failure();
    expect(err.kind).toBe('not_overview');
    expect(err.message).toBe('S2 API body is not an overview: items: expected an array, got null');
  });

  it('a corrupt gzip body -> not_json', async () => {
    handler = (_req, res) => {
      res.setHeader('Content-Encoding', 'gzip');
      res.end(SAMPLE);
    };
    const err = await failure();
    expect(err.kind).toBe('not_json');
    expect(err.message).toMatch(/^S2 API body could not be decompressed \(gzip: /);
  });

  it('an unknown Content-Encoding -> http_error', async () => {
    handler = (_req, res) => {
      res.setHeader('Content-Encoding', 'zstd');
      res.end(SAMPLE);
    };
    const err = await failure();
    expect(err.kind).toBe('http_error');
    expect(err.message).toBe('S2 API answered with an unsupported Content-Encoding "zstd"');
  });

  it('a body cut short of its Content-Length -> unreachable', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(SAMPLE.subarray(0, 10), () => setTimeout(() => res.socket?.destroy(), 20));
    };
    const err = await failure();
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe('S2 API closed the connection before the body was complete (received 10 of 1000 bytes)');
  });

  it('a connection closed before any answer -> unreachable', async () => {
    handler = (req) => req.socket.destroy();
    const err = await failure();
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe('S2 API unreachable (socket hang up)');
  });

  it('a server that never answers -> timeout', async () => {
    handler = () => {};
    const err = await failure(config({ timeoutMs: 200 }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe('S2 API timed out after 200ms');
  });

  it('the deadline covers the body too', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(SAMPLE.subarray(0, 100)); // and never the rest
    };
    const err = await failure(config({ timeoutMs: 200 }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe('S2 API timed out after 200ms');
  });

  it('a Content-Length over the limit -> too_large before reading the body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Length': String(SAMPLE.length) });
      res.end(SAMPLE);
    };
    const err = await failure(config({ maxBodyBytes: 1024 }));
    expect(err.kind).toBe('too_large');
    expect(err.message).toBe(`S2 API body exceeds the 1 KiB limit (Content-Length ${SAMPLE.length})`);
  });

  it('a chunked body growing over the limit -> too_large', async () => {
    handler = (_req, res) => {
      res.write(SAMPLE.subarray(0, 600));
      setTimeout(() => res.end(SAMPLE.subarray(600)), 10);
    };
    const err = await failure(config({ maxBodyBytes: 1000 }));
    expect(err.kind).toBe('too_large');
    expect(err.message).toBe('S2 API body exceeds the 1000 bytes limit');
  });

  it('a compressed body over the limit once decoded -> too_large', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    handler = (_req, res) => {
      res.setHeader('Content-Encoding', 'gzip');
      res.end(bomb);
    };
    const err = await failure(config({ maxBodyBytes: 64 * 1024 }));
    expect(err.kind).toBe('too_large');
    expect(err.message).toBe('S2 API body exceeds the 64 KiB limit once decompressed');
  });

  it('a refused connection -> unreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(config({ apiUrl: `http://127.0.0.1:${port}` }));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`S2 API unreachable (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('a bad S2_API_URL -> unreachable, without a request', async () => {
    const err = await failure(config({ apiUrl: 'ftp://s2.example.com' }));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe('S2_API_URL must be an http:// or https:// URL, got ftp://');
  });

  it('a token that cannot go in a header -> unreachable, without a request and without the token', async () => {
    const err = await failure(config({ token: `${TOKEN}\r\nX-Evil: 1` }));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe('S2_API_TOKEN contains spaces, line breaks or non-ASCII characters');
    expect(requests).toHaveLength(0);
  });

  it('rejects with the abort reason when the caller aborts', async () => {
    handler = () => {};
    const controller = new AbortController();
    const pending = fetchOverview(config(), controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(pending).rejects.toThrow('shutting down');
    const already = AbortSignal.abort(new Error('too late'));
    await expect(fetchOverview(config(), already)).rejects.toThrow('too late');
  });
});

describe('checkApiUrl', () => {
  it.each([
    ['https://s2.example.com', null],
    ['http://127.0.0.1:8080/api/', null],
    ['s2.example.com', 'S2_API_URL is not a valid URL (expected e.g. https://s2.example.com)'],
    ['', 'S2_API_URL is not a valid URL (expected e.g. https://s2.example.com)'],
    ['ftp://s2.example.com', 'S2_API_URL must be an http:// or https:// URL, got ftp://'],
    ['https://user:pw@s2.example.com', 'S2_API_URL must not contain a user or password (the token goes in S2_API_TOKEN)'],
    ['https://s2.example.com/?org=1', 'S2_API_URL must not contain a query or fragment (/inventory/overview is appended to it)'],
  ])('%j -> %s', (url, problem) => {
    expect(checkApiUrl(url)).toBe(problem);
  });
});

describe('checkSourceConfig', () => {
  const good: SourceConfig = { apiUrl: 'https://s2.example.com', token: TOKEN, organizationId: 'org 1', timeoutMs: 30000 };
  it.each([
    [{}, null],
    [{ token: '' }, 'S2_API_TOKEN is empty'],
    [{ token: 'a b' }, 'S2_API_TOKEN contains spaces, line breaks or non-ASCII characters'],
    [{ organizationId: ' ' }, 'S2_ORGANIZATION_ID is empty'],
    [{ organizationId: 'org\n1' }, 'S2_ORGANIZATION_ID contains line breaks or non-ASCII characters'],
    [{ timeoutMs: 0 }, 'the S2 API timeout must be a positive duration'],
    [{ maxBodyBytes: -1 }, 'the S2 API body limit must be a positive number of bytes'],
  ] as const)('%j -> %s', (overrides, problem) => {
    expect(checkSourceConfig({ ...good, ...overrides })).toBe(problem);
  });
});

describe('redact', () => {
  it('removes the token and any 8-character piece of it', () => {
    expect(redact(`a ${TOKEN} b`, TOKEN)).toBe('a [token] b');
    expect(redact(`"${TOKEN.slice(0, 10)}"... is not valid JSON`, TOKEN)).not.toContain(TOKEN.slice(0, 8));
    expect(redact('nothing here', TOKEN)).toBe('nothing here');
    expect(redact('text', '')).toBe('text');
  });
});
