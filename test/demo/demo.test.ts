// `npm run demo` in-process: the real daemon, the simulator, console transports, real Redis.
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { startDemo, type Demo } from '../../src/demo/main';
import { findOnPath, redisAnswers } from '../../src/demo/redis';
import { UserError } from '../../src/errors';
import { REDIS_URL, cleanPrefix, freePort, keysOf, uniquePrefix, waitFor } from '../status/helpers';

function capture(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { out, text: () => text };
}

/** The first notice that holds TEST-BLACK's negative reserved, as the console transport printed it. */
// Names from the API sit in Unicode isolates (U+2068 … U+2069).
const BLACK_NEGATIVE = /firing · negative-reserved \(critical\) · \u2068TEST-BLACK\u2069 @ \u2068test warehouse\u2069 · available 0, reserved -13, incoming 0/;

describe('npm run demo', () => {
  const running: Demo[] = [];
  const prefixes: string[] = [];
  let blocker: Server | null = null;

  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    await Promise.all(prefixes.splice(0).map((p) => cleanPrefix(p)));
    if (blocker) await new Promise<void>((resolve) => blocker!.close(() => resolve()));
    blocker = null;
  });

  async function demo(env: NodeJS.ProcessEnv, prefix: string, stepEveryMs = 300): Promise<{ demo: Demo; text: () => string }> {
    const { out, text } = capture();
    const d = await startDemo({ env, out, prefix, stepEveryMs });
    running.push(d);
    return { demo: d, text };
  }

  test('prints the sample alerts and the story as it happens, falls back from a taken port, and starts fresh every run', async () => {
    const prefix = uniquePrefix('demo');
    prefixes.push(prefix);
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve()));
    const taken = (blocker.address() as { port: number }).port;
    const env = { PATH: process.env.PATH, REDIS_URL, POLL_EVERY: '1s', HTTP_PORT: String(taken) };

    const first = await demo(env, prefix);
    expect(await waitFor(() => BLACK_NEGATIVE.test(first.text()))).toBe(true);
    const banner = first.text();
    expect(banner).toContain(`port ${taken} is taken (set HTTP_PORT to choose another); using `);
    expect(banner).toContain(`keys under ${prefix}:* (cleared at start)`);
    expect(banner).toContain('email → ops · alerts notice');
    expect(first.demo.statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(first.demo.statusUrl).not.toContain(`:${taken}/`);

    // The story goes on: the simulator says what it did, and the next notice shows it.
    expect(await waitFor(() => /SKU-GREY: a large order[\s\S]*firing · low-available \(warning\) · \u2068SKU-GREY/.test(first.text()))).toBe(true);

    const page = await fetch(first.demo.statusUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('TEST-BLACK');
    await first.demo.stop();
    expect(await keysOf(prefix)).not.toEqual([]);

    // A second run clears what the first left, so the sample's alerts are new (and printed) again.
    const second = await demo(env, prefix);
    expect(second.text()).toMatch(new RegExp(`keys under ${prefix}:\\* \\(\\d+ left from an earlier demo cleared\\)`));
    expect(await waitFor(() => BLACK_NEGATIVE.test(second.text()))).toBe(true);
  });

  test('nothing answers at REDIS_URL and redis-server is on the PATH: a throwaway one runs the demo and stops with it', async () => {
    expect(findOnPath('redis-server', process.env.PATH)).not.toBeNull();
    const prefix = uniquePrefix('demo-throwaway');
    const dead = await freePort();
    const { demo: d, text } = await demo({ PATH: process.env.PATH, REDIS_URL: `redis://127.0.0.1:${dead}`, POLL_EVERY: '1s', HTTP_PORT: '0' }, prefix, 0);
    const port = Number(/a throwaway redis-server on 127\.0\.0\.1:(\d+) \(nothing answered at 127\.0\.0\.1:(\d+); stopped on exit\)/.exec(text())?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(text()).toContain('status page   off (HTTP_PORT=0)');
    expect(d.statusUrl).toBeNull();
    expect(await waitFor(() => BLACK_NEGATIVE.test(text()))).toBe(true);
    expect(await redisAnswers(`redis://127.0.0.1:${port}`)).toBe(true);

    await d.stop();
    expect(await redisAnswers(`redis://127.0.0.1:${port}`)).toBe(false);
  });

  test('no Redis and no redis-server: one line on how to get Redis, and nothing started', async () => {
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-nopath-'));
    try {
      const dead = await freePort();
      const { out, text } = capture();
      const err = await startDemo({ env: { PATH: emptyDir, REDIS_URL: `redis://:hunter2@127.0.0.1:${dead}` }, out, prefix: uniquePrefix('demo-none') }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UserError);
      const message = (err as Error).message;
      expect(message).toBe(
        `no Redis answers at 127.0.0.1:${dead} and redis-server is not on the PATH: install Redis (Debian/Ubuntu: sudo apt-get install redis-server; ` +
          'macOS: brew install redis) so that redis-server is on the PATH, or start one with Docker (docker run --rm -p 6379:6379 redis:7), or point REDIS_URL at one',
      );
      expect(message).not.toContain('hunter2');
      expect(text()).toBe('');
    } finally {
      fs.rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  test('a bad setting is one line before anything starts', async () => {
    const { out, text } = capture();
    await expect(startDemo({ env: { PATH: process.env.PATH, REDIS_URL, POLL_EVERY: 'soon' }, out, prefix: uniquePrefix('demo-bad') })).rejects.toThrow(
      'configuration: POLL_EVERY: "soon" is not a duration (like 90s, 5m, 1h30m)',
    );
    expect(text()).toBe('');
  });
});
