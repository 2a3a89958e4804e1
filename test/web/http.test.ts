// HTTP_HOST and HTTP_AUTH on a real `stockwatch run` (the bin, as deployed): where it listens, who
// gets in, and that the password shows up in no log line.
import * as http from 'node:http';
import { freePort, killAll, type ChildRun } from '../support/processes';
import { startFakeS2, type FakeS2 } from '../support/stand-ins';
import { daemonEnv, overview, rulesYaml, Scenario, startDaemon } from '../faults/helpers';

jest.setTimeout(60_000);

const USER = 'ops';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-x`;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:http (fetch would refuse credentials in the URL and hide nothing else). */
function request(host: string, port: number, path: string, opts: { method?: string; authorization?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: opts.method ?? 'GET', headers: opts.authorization ? { authorization: opts.authorization } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether anything accepts a TCP connection at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

describe('HTTP_HOST and HTTP_AUTH', () => {
  let s2: FakeS2;
  let scenario: Scenario;

  beforeAll(async () => {
    s2 = await startFakeS2(overview([{ sku: 'SKU-M', available: 0 }]));
    scenario = new Scenario('http', rulesYaml({ email: false }));
  });

  afterAll(async () => {
    await killAll();
    await s2.close();
    await scenario.cleanup();
  });

  async function daemon(vars: Record<string, string>): Promise<{ run: ChildRun; port: number }> {
    const port = await freePort();
    const env = { ...daemonEnv({ scenario, s2, httpPort: port, logLevel: 'debug' }), ...vars };
    if (vars.HTTP_HOST === undefined) delete env.HTTP_HOST;
    const run = await startDaemon(env, `daemon ${JSON.stringify(vars)}`);
    await run.waitForLine(/^HTTP listening/);
    return { run, port };
  }

  test('HTTP_HOST: the default is 127.0.0.1 only; another address is taken as given', async () => {
    const byDefault = await daemon({});
    // 127.0.0.2 is loopback too, but a socket bound to 127.0.0.1 does not answer there.
    expect(await accepts('127.0.0.1', byDefault.port)).toBe(true);
    expect(await accepts('127.0.0.2', byDefault.port)).toBe(false);
    expect(byDefault.run.lines.find((l) => /^HTTP listening/.test(String(l.msg)))).toMatchObject({ host: '127.0.0.1', auth: 'none' });
    expect(await byDefault.run.stop()).toEqual({ code: 0, signal: null });

    const other = await daemon({ HTTP_HOST: '127.0.0.2' });
    expect(await accepts('127.0.0.2', other.port)).toBe(true);
    expect(await accepts('127.0.0.1', other.port)).toBe(false);
    expect(await other.run.stop()).toEqual({ code: 0, signal: null });
  });

  test('HTTP_AUTH: 401 with WWW-Authenticate without or with wrong credentials; 200 with the right ones; /healthz open; the password in no log line', async () => {
    const { run, port } = await daemon({ HTTP_AUTH: `${USER}:${PASSWORD}` });
    await run.waitForLine(/^poll ok$/);
    const wrong = [undefined, basic(USER, 'wrong'), basic('someone', PASSWORD), basic(USER, `${PASSWORD}x`), basic(USER, PASSWORD.slice(0, -1)), `Bearer ${PASSWORD}`, 'Basic !!!', basic(`${USER}:${PASSWORD}`, '')];
    for (const path of ['/', '/api/status', '/metrics', '/no-such-page']) {
      for (const authorization of wrong) {
        const r = await request('127.0.0.1', port, path, { authorization });
        expect({ path, authorization, status: r.status, challenge: r.headers['www-authenticate'] }).toEqual({
          path,
          authorization,
          status: 401,
          challenge: 'Basic realm="stockwatch", charset="UTF-8"',
        });
        expect(r.body).not.toContain('SKU-M');
      }
      const ok = await request('127.0.0.1', port, path, { authorization: basic(USER, PASSWORD) });
      expect({ path, status: ok.status }).toEqual({ path, status: path === '/no-such-page' ? 404 : 200 });
    }
    expect((await request('127.0.0.1', port, '/api/status', { authorization: basic(USER, PASSWORD) })).body).toContain('SKU-M');
    expect((await request('127.0.0.1', port, '/metrics', { authorization: basic(USER, PASSWORD) })).body).toMatch(/^stockwatch_last_successful_poll_timestamp_seconds \d+(\.\d+)?$/m);
    // Other methods are refused before anything else, too; with credentials, 405 says what is allowed.
    expect((await request('127.0.0.1', port, '/', { method: 'POST' })).status).toBe(401);
    const post = await request('127.0.0.1', port, '/api/status', { method: 'POST', authorization: basic(USER, PASSWORD) });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    // A target is a path on this server, however it reads: `//a:b` resolved as a URL would be host
    // a, port b, and threw outside any handler, taking the daemon down for anyone who sent it.
    for (const target of ['//a:b', '//[', '//x:99999', '//api/status']) {
      const anonymous = (await request('127.0.0.1', port, target)).status;
      const known = await request('127.0.0.1', port, target, { authorization: basic(USER, PASSWORD) });
      expect({ target, anonymous, known: known.status, body: JSON.parse(known.body) }).toEqual({ target, anonymous: 401, known: 404, body: { error: `no such page: ${target}` } });
    }
    expect(run.exit).toBeNull();
    // An absolute-form target (as a proxy sends it) is its path.
    expect((await request('127.0.0.1', port, `http://127.0.0.1:${port}/metrics`, { authorization: basic(USER, PASSWORD) })).status).toBe(200);
    // Health probes carry no credentials.
    const health = await request('127.0.0.1', port, '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers['www-authenticate']).toBeUndefined();

    expect(await run.stop()).toEqual({ code: 0, signal: null });
    const output = run.output();
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  });
});
