// Real local services standing in for S2, Slack and SMTP, and the bits every daemon test needs:
// a config, a captured log, a unique Redis prefix and its cleanup.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import IORedis from 'ioredis';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/log';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SAMPLE_PATH = path.join(__dirname, '..', '..', 'fixtures', 'overview.sample.json');
export const sampleOverview = (): { warehouses: any[]; products: any[]; items: any[] } => JSON.parse(fs.readFileSync(SAMPLE_PATH, 'utf8'));

export function uniquePrefix(name: string): string {
  return `swtest-${name}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function cleanPrefix(prefix: string, redisUrl = REDIS_URL): Promise<void> {
  const redis = new IORedis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** S2 stand-in: answers what `reply` says now; counts requests and records their headers. */
export interface FakeS2 {
  url: string;
  token: string;
  requests: http.IncomingHttpHeaders[];
  /** A body (object -> JSON), or a status to answer with. */
  reply: { body?: unknown; status?: number; raw?: string; delayMs?: number };
  close(): Promise<void>;
}

export async function startFakeS2(body: unknown = sampleOverview()): Promise<FakeS2> {
  const token = `tok-${randomBytes(12).toString('hex')}`;
  const s2: FakeS2 = { url: '', token, requests: [], reply: { body }, close: async () => undefined };
  const server = http.createServer((req, res) => {
    s2.requests.push(req.headers);
    const { status = 200, body: b, raw, delayMs = 0 } = s2.reply;
    setTimeout(() => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(raw ?? (status === 200 ? JSON.stringify(b) : '{"error":"boom"}'));
    }, delayMs);
  });
  const port = await listen(server);
  s2.url = `http://127.0.0.1:${port}`;
  s2.close = () => closeServer(server);
  return s2;
}

/** Slack stand-in: records posted payloads; answers from a script, then 200. */
export interface FakeSlack {
  webhookUrl: string;
  /** Messages accepted (2xx). */
  messages: Array<{ text: string; blocks: any[] }>;
  /** Every request, accepted or not, with the time it arrived. */
  attempts: Array<{ atMs: number; status: number }>;
  /** Answers for the next requests, in order: a status, optionally with Retry-After seconds. */
  script: Array<{ status: number; retryAfter?: number }>;
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const secretPath = `/services/T000/B000/${randomBytes(12).toString('hex')}`;
  const slack: FakeSlack = { webhookUrl: '', messages: [], attempts: [], script: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const next = req.url === secretPath ? (slack.script.shift() ?? { status: 200 }) : { status: 404 };
      slack.attempts.push({ atMs: Date.now(), status: next.status });
      if (next.status >= 200 && next.status < 300) slack.messages.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (next.retryAfter !== undefined) headers['retry-after'] = String(next.retryAfter);
      res.writeHead(next.status, headers).end(next.status === 200 ? 'ok' : next.status === 404 ? 'no_service' : 'error');
    });
  });
  const port = await listen(server);
  slack.webhookUrl = `http://127.0.0.1:${port}${secretPath}`;
  slack.close = () => closeServer(server);
  return slack;
}

export interface CapturedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  text: string;
  html: string;
  attachments: Array<{ filename?: string; content: string }>;
}

export interface FakeSmtp {
  url: string;
  port: number;
  mails: CapturedMail[];
  close(): Promise<void>;
}

export async function startFakeSmtp(port = 0): Promise<FakeSmtp> {
  const smtp: FakeSmtp = { url: '', port: 0, mails: [], close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            smtp.mails.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: raw.toString('utf8'),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              attachments: parsed.attachments.map((a) => ({ filename: a.filename, content: a.content.toString('utf8') })),
            });
            callback();
          },
          (err) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  smtp.port = ((server as any).server.address() as AddressInfo).port;
  smtp.url = `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true`;
  smtp.close = () => new Promise((resolve) => server.close(() => resolve()));
  return smtp;
}

/** A pino logger whose lines are kept (parsed) for assertions. */
export function captureLog(level = 'debug'): { log: Logger; lines: any[]; text: () => string } {
  const lines: any[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        raw.push(line);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ msg: line });
        }
      }
      cb();
    },
  });
  return { log: createLogger(level, sink), lines, text: () => raw.join('\n') };
}

/** A rules folder in a temp dir, from file name -> YAML text. */
export function rulesDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-rules-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

export function testConfig(over: Partial<Config>): Config {
  return {
    apiUrl: 'http://127.0.0.1:9',
    apiToken: 'unset',
    organizationId: 'org-1',
    apiTimeoutMs: 5000,
    redisUrl: REDIS_URL,
    redis: { kind: 'server' },
    redisUsername: null,
    redisPassword: null,
    prefix: uniquePrefix('cfg'),
    rulesDir: './rules',
    pollEveryMs: 60_000,
    httpPort: 0,
    httpHost: '127.0.0.1',
    httpAuth: null,
    logLevel: 'debug',
    smtpUrl: null,
    emailFrom: 'stockwatch@test.local',
    snapshotDir: null,
    snapshotKeepMs: 7 * 86_400_000,
    jobLockMs: 30_000,
    ...over,
  };
}

/** Polls `check` every 50 ms until it returns true or `ms` passes; returns whether it did. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await check();
}

/** One request a webhook stand-in received. */
export interface WebhookRequest {
  atMs: number;
  /** What the stand-in answered. */
  status: number;
  /** The exact body bytes, as text. */
  raw: string;
  /** The parsed body (null when it was not JSON). */
  body: any;
  contentType: string | undefined;
  signature: string | undefined;
  /** The signature is the HMAC-SHA256 of the exact body bytes under the secret (false without a secret or a signature). */
  verified: boolean;
}

/** A receiver for webhook channels: verifies signatures over the raw bytes; answers from `answer`, else 200. */
export interface FakeWebhook {
  /** Holds a secret path and query token, as real receivers' URLs often do. */
  url: string;
  secret: string | undefined;
  /** Every request to the right path, answered or not. */
  requests: WebhookRequest[];
  /** The bodies answered 2xx. */
  delivered: any[];
  /** The answer to the n-th request (from 0): a status, optionally with Retry-After. */
  answer: (n: number, body: any) => { status: number; retryAfter?: string; reply?: string };
  close(): Promise<void>;
}

export async function startFakeWebhook(opts: { secret?: string } = {}): Promise<FakeWebhook> {
  const { createHmac, timingSafeEqual } = await import('node:crypto');
  const path = `/hooks/${randomBytes(12).toString('hex')}`;
  const token = `tok${randomBytes(10).toString('hex')}`;
  const hook: FakeWebhook = { url: '', secret: opts.secret, requests: [], delivered: [], answer: () => ({ status: 200 }), close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== `${path}?token=${token}`) {
        res.writeHead(404).end('no such hook');
        return;
      }
      const raw = Buffer.concat(chunks);
      const signature = req.headers['x-stockwatch-signature'] as string | undefined;
      let verified = false;
      if (hook.secret !== undefined && signature !== undefined) {
        const expected = Buffer.from(`sha256=${createHmac('sha256', hook.secret).update(raw).digest('hex')}`);
        const got = Buffer.from(signature);
        verified = got.length === expected.length && timingSafeEqual(got, expected);
      }
      let body: any = null;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        // recorded as null
      }
      const a = hook.answer(hook.requests.length, body);
      hook.requests.push({ atMs: Date.now(), status: a.status, raw: raw.toString('utf8'), body, contentType: req.headers['content-type'], signature, verified });
      if (a.status >= 200 && a.status < 300) hook.delivered.push(body);
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (a.retryAfter !== undefined) headers['retry-after'] = a.retryAfter;
      res.writeHead(a.status, headers).end(a.reply ?? (a.status < 300 ? 'ok' : 'nope'));
    });
  });
  const port = await listen(server);
  hook.url = `http://127.0.0.1:${port}${path}?token=${token}`;
  hook.close = () => closeServer(server);
  return hook;
}
