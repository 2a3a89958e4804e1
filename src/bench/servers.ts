// The two local HTTP servers of the benchmark: the S2 stand-in that serves whichever generated
// body is current, and the Slack stand-in that answers 200 and keeps what it was sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Body {
  chunks: Buffer[];
  bytes: number;
}

export interface SourceServer {
  /** S2_API_URL for the processes under test. */
  url: string;
  /** What GET /inventory/overview answers from now on. */
  serve(body: Body): void;
  /**
   * Answers each GET with the next of `bodies` in turn (as polls see a changing stock), except
   * `GET /inventory/overview?peek`, which gets the body the next GET will get (for the floor).
   */
  serveInTurn(bodies: Body[]): void;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startSource(): Promise<SourceServer> {
  let bodies: Body[] = [];
  let turn = 0;
  const server = http.createServer((req, res) => {
    const peek = req.url === '/inventory/overview?peek';
    if (req.method !== 'GET' || (req.url !== '/inventory/overview' && !peek) || bodies.length === 0) {
      res.writeHead(404).end();
      return;
    }
    const body = bodies[turn % bodies.length];
    if (!peek) turn++;
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.bytes });
    // The buffers are written as they are (no copy); the socket takes them at its own pace.
    for (const chunk of body.chunks) res.write(chunk);
    res.end();
  });
  const url = await listen(server);
  return {
    url,
    serve: (body) => {
      bodies = [body];
      turn = 0;
    },
    serveInTurn: (list) => {
      bodies = list;
      turn = 0;
    },
    close: () => close(server),
  };
}

export interface SlackMessage {
  bytes: number;
  /** Number of blocks in the payload. */
  blocks: number;
  /** The payload's `text` (the notification line Slack shows). */
  text: string;
  /** The longest text of one block, in characters (Slack takes up to 3000 per section). */
  longestBlockText: number;
}

export interface SlackStandIn {
  /** The webhook URL; its path plays the secret part. */
  webhookUrl: string;
  /** Messages received since the last take(), which it forgets. */
  take(): SlackMessage[];
  close(): Promise<void>;
}

export async function startSlack(): Promise<SlackStandIn> {
  let received: SlackMessage[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      let payload: { text?: unknown; blocks?: unknown } = {};
      try {
        payload = JSON.parse(raw.toString('utf8')) as typeof payload;
      } catch {
        // Kept as an empty message: the count still shows it arrived.
      }
      const blocks = Array.isArray(payload.blocks) ? payload.blocks : [];
      received.push({
        bytes: raw.length,
        blocks: blocks.length,
        text: typeof payload.text === 'string' ? payload.text : '',
        longestBlockText: Math.max(0, ...blocks.map(blockTextLength)),
      });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  const url = await listen(server);
  return {
    webhookUrl: `${url}/services/TBENCH/BBENCH/benchwebhooksecret`,
    take: () => {
      const out = received;
      received = [];
      return out;
    },
    close: () => close(server),
  };
}

function blockTextLength(block: unknown): number {
  const text = (block as { text?: { text?: unknown } } | null)?.text?.text;
  return typeof text === 'string' ? text.length : 0;
}
