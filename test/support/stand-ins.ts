// Real local services standing in for S2, Slack, SMTP and webhook receivers, and the bits every
// daemon test needs: a config, a captured log, a unique Redis prefix and its cleanup. The servers
// misbehave on cue (slow, 5xx, truncated, 429, refusing, going away) and call a hook when a request
// arrives, so that a fault test can kill a daemon in the middle of a poll or a delivery. They are
// real servers on 127.0.0.1; nothing is mocked.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import IORedis from 'ioredis';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
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

// ---- S2 ----------------------------------------------------------------------------------------

/** How the S2 stand-in answers `GET /inventory/overview` (a request with a wrong token always gets 401). */
export type S2Answer =
  | { kind: 'json'; body: unknown }
  /** This status with a small JSON error body. */
  | { kind: 'status'; status: number }
  /** The body, but only after `ms` (past the client's timeout, the client gives up first). */
  | { kind: 'slow'; ms: number; body: unknown }
  /** Exactly this text (not JSON, or JSON of the wrong shape), with status 200 unless given. */
  | { kind: 'raw'; text: string; status?: number }
  /** The body, once `release` resolves (to make several pollers race). */
  | { kind: 'held'; release: Promise<void>; body: unknown }
  /** Announces the whole body's length, sends half of it, and closes the connection. */
  | { kind: 'truncated'; body: unknown }
  /** Announces a Content-Length past the client's 512 MiB limit, then sends a little and waits. */
  | { kind: 'huge' };

export interface S2Request {
  atMs: number;
  authorized: boolean;
  answer: S2Answer['kind'] | 'unauthorized';
}

export interface FakeS2 {
  url: string;
  token: string;
  /** What to answer now; a function is asked per request (n counts from 0). */
  answer: S2Answer | ((n: number) => S2Answer);
  requests: S2Request[];
  /** Called when a request arrives, before it is answered. */
  onRequest: ((req: S2Request) => void) | null;
  close(): Promise<void>;
}

export async function startFakeS2(body: unknown = sampleOverview()): Promise<FakeS2> {
  const token = `s2tok-${randomBytes(16).toString('hex')}`;
  const s2: FakeS2 = { url: '', token, answer: { kind: 'json', body }, requests: [], onRequest: null, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const authorized = req.headers.authorization === `Bearer ${token}`;
    const answer = typeof s2.answer === 'function' ? s2.answer(s2.requests.length) : s2.answer;
    const record: S2Request = { atMs: Date.now(), authorized, answer: authorized ? answer.kind : 'unauthorized' };
    s2.requests.push(record);
    s2.onRequest?.(record);
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    switch (answer.kind) {
      case 'json':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
        return;
      case 'status':
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end('{"error":"boom"}');
        return;
      case 'slow': {
        const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body)), answer.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'held':
        void answer.release.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body)));
        return;
      case 'raw':
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(answer.text);
        return;
      case 'truncated': {
        const text = Buffer.from(JSON.stringify(answer.body));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) });
        res.write(text.subarray(0, Math.floor(text.length / 2)), () => setTimeout(() => res.destroy(), 20));
        return;
      }
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(600 * 1024 * 1024) });
        res.write('{"warehouses":[');
        return;
    }
  });
  const port = await listen(server);
  s2.url = `http://127.0.0.1:${port}`;
  s2.close = () => closeServer(server);
  return s2;
}

// ---- Slack -------------------------------------------------------------------------------------

export interface SlackMessage {
  atMs: number;
  text: string;
  blocks: Array<Record<string, unknown>>;
  /** The payload exactly as posted. */
  raw: string;
}

export interface SlackAttempt {
  atMs: number;
  status: number;
}

export interface FakeSlack {
  webhookUrl: string;
  /** The secret part of the URL. */
  secretPath: string;
  /**
   * Messages Slack posted: every request answered 2xx, recorded when its body arrived, as Slack
   * posts a message it has received even when the sender is gone before reading the answer.
   */
  messages: SlackMessage[];
  attempts: SlackAttempt[];
  /** Answers for the next requests, in order; 200 once it is empty. */
  script: Array<{ status: number; retryAfter?: number }>;
  /** When set, asked for every request instead of `script`. */
  answer: ((attempt: number) => { status: number; retryAfter?: number }) | null;
  /** Error bodies repeat the request path (the webhook's secret), as a careless server might. */
  echoPath: boolean;
  /** Called when a request's body has arrived, before it is answered. */
  onRequest: ((attempt: SlackAttempt) => void) | null;
  /** Requests begun and not yet answered. */
  inFlight: number;
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const secretPath = `/services/T0FAULT/B0FAULT/${randomBytes(12).toString('hex')}`;
  const slack: FakeSlack = {
    webhookUrl: '',
    secretPath,
    messages: [],
    attempts: [],
    script: [],
    answer: null,
    echoPath: false,
    onRequest: null,
    inFlight: 0,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    slack.inFlight++;
    res.once('close', () => slack.inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const scripted = slack.answer ? slack.answer(slack.attempts.length) : (slack.script.shift() ?? { status: 200 });
      const next = req.url === secretPath ? scripted : { status: 404 };
      const attempt = { atMs: Date.now(), status: next.status };
      slack.attempts.push(attempt);
      if (next.status >= 200 && next.status < 300) {
        const raw = Buffer.concat(chunks).toString('utf8');
        const payload = JSON.parse(raw) as { text: string; blocks: Array<Record<string, unknown>> };
        slack.messages.push({ atMs: attempt.atMs, text: payload.text, blocks: payload.blocks, raw });
      }
      slack.onRequest?.(attempt);
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (next.retryAfter !== undefined) headers['retry-after'] = String(next.retryAfter);
      const error = next.status === 404 ? 'no_service' : 'error';
      res.writeHead(next.status, headers).end(next.status === 200 ? 'ok' : slack.echoPath ? `${error} for POST ${req.url}` : error);
    });
  });
  const port = await listen(server);
  slack.webhookUrl = `http://127.0.0.1:${port}${secretPath}`;
  slack.close = () => closeServer(server);
  return slack;
}

/** Everything a Slack message shows (fallback text and blocks), for matching. */
export function slackText(m: SlackMessage): string {
  return [m.text, ...m.blocks.map((b) => JSON.stringify(b))].join('\n');
}

// ---- SMTP --------------------------------------------------------------------------------------

export interface Mail {
  atMs: number;
  /** The envelope sender. */
  from: string;
  to: string[];
  /** The message exactly as it arrived. */
  raw: string;
  subject: string;
  text: string;
  html: string;
  attachments: Array<{ filename?: string; content: string }>;
  /** Header names, lower case, as the message arrived. */
  headerNames: string[];
  /** The stockwatch notice id from the footer (`notice a-3-…`), null when there is none. */
  noticeId: string | null;
}

export interface SmtpOptions {
  /** Listen here (to come back on the same port after a stop); default a free one. */
  port?: number;
  /** Require AUTH with these credentials. */
  auth?: { user: string; pass: string };
  /** Refuse these recipients at RCPT TO with 550 (permanent). */
  refuseRecipients?: string[];
}

export interface FakeSmtp {
  port: number;
  /** SMTP_URL for the daemon (credentials included when auth is on). */
  url: string;
  /** Mails the server accepted (answered 250 after DATA). */
  mails: Mail[];
  /** Called at MAIL FROM; a returned promise holds the answer until it settles. */
  onMailFrom: (() => Promise<void> | void) | null;
  /** While true, every login is refused (535), with the password it was given in the reply, as a careless server might. */
  refuseLogins: boolean;
  /** Logins refused so far. */
  refusedLogins: number;
  /** Messages whose sender was accepted and that are not yet taken or dropped. */
  inFlight: number;
  close(): Promise<void>;
}

export async function startFakeSmtp(opts: SmtpOptions = {}): Promise<FakeSmtp> {
  const smtp: FakeSmtp = { port: 0, url: '', mails: [], onMailFrom: null, refuseLogins: false, refusedLogins: 0, inFlight: 0, close: async () => undefined };
  const open = new WeakSet<object>();
  const closed = new WeakSet<object>();
  const settle = (session: object): void => {
    if (open.delete(session)) smtp.inFlight--;
  };
  const options: SMTPServerOptions = {
    disabledCommands: ['STARTTLS'],
    logger: false,
    authOptional: opts.auth === undefined,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (!smtp.refuseLogins && opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        callback(null, { user: auth.username });
        return;
      }
      smtp.refusedLogins++;
      callback(Object.assign(new Error(`Authentication credentials invalid for ${auth.username}:${auth.password}`), { responseCode: 535 }));
    },
    onMailFrom(_address, session, callback) {
      Promise.resolve(smtp.onMailFrom?.()).then(
        () => {
          // A client that went away while MAIL FROM was held has nothing in flight.
          if (!open.has(session) && !closed.has(session)) {
            smtp.inFlight++;
            open.add(session);
          }
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    onClose(session) {
      closed.add(session);
      settle(session);
    },
    onRcptTo(address, _session, callback) {
      if (opts.refuseRecipients?.includes(address.address)) callback(Object.assign(new Error(`mailbox ${address.address} unavailable`), { responseCode: 550 }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const text = parsed.text ?? '';
            smtp.mails.push({
              atMs: Date.now(),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: raw.toString('utf8'),
              subject: parsed.subject ?? '',
              text,
              html: typeof parsed.html === 'string' ? parsed.html : '',
              attachments: parsed.attachments.map((a) => ({ filename: a.filename, content: a.content.toString('utf8') })),
              headerNames: [...parsed.headers.keys()],
              noticeId: /\(notice ([^)\s]+)\)/.exec(text)?.[1] ?? null,
            });
            settle(session);
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  };
  const server = new SMTPServer(options);
  // A client killed mid-session resets its socket; that is the point of some tests, not an error.
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  smtp.port = ((server as unknown as { server: http.Server }).server.address() as AddressInfo).port;
  const credentials = opts.auth ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@` : '';
  smtp.url = `smtp://${credentials}127.0.0.1:${smtp.port}?ignoreTLS=true`;
  smtp.close = () =>
    new Promise((resolve) => {
      // Drop open sessions too: a pooled client must see the server gone, not an idle socket.
      const connections = (server as unknown as { connections?: Set<{ close(): void }> }).connections;
      for (const c of connections ?? []) c.close();
      server.close(() => resolve());
    });
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
