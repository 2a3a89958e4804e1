// The status page in a real browser (Debian's chromium through playwright-core), served by a real
// daemon that polls a local S2 stand-in every second on real Redis, behind HTTP_AUTH.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Daemon } from '../../src/daemon/daemon';
import type { StatusReport } from '../../src/web/status';
import { startSimulator, type Simulator } from '../../src/demo/simulator';
import { createLogger } from '../../src/log';
import { HOSTILE_PRODUCT, cleanPrefix, freePort, hostileSample, recordingTransports, rulesDir, testConfig, uniquePrefix, waitFor } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const CREDENTIALS = { username: 'ops', password: `pw-${randomBytes(8).toString('hex')}` };
const AUTH = { authorization: `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}` };
const RULES = `
channels:
  ops:
    email:
      to: [ops@example.com]
defaults:
  channels: [ops]
rules:
  - name: negative-reserved
    type: negative_reserved
    severity: critical
  - name: out-of-stock
    type: low_available
    below: 1
  - name: unknown-product
    type: unknown_product
    severity: info
`;

describe('status page in chromium', () => {
  let browser: Browser;
  let sim: Simulator;
  let daemon: Daemon;
  let base: string;
  let prefix: string;
  let dir: string;
  const transports = recordingTransports();

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (.ci/run does it)`);
    prefix = uniquePrefix('browser');
    dir = rulesDir({ 'rules.yaml': RULES });
    sim = await startSimulator({ stepEveryMs: 0, sample: hostileSample(), token: 'tok-browser' });
    // HTTP_PORT 0 means "HTTP off", so the daemon gets a port known to be free.
    const httpPort = await freePort();
    daemon = await Daemon.start({
      config: testConfig({ prefix, rulesDir: dir, apiUrl: sim.url, apiToken: 'tok-browser', pollEveryMs: 1000, httpPort, httpAuth: { user: CREDENTIALS.username, password: CREDENTIALS.password } }),
      env: {},
      log: createLogger('silent'),
      schedule: true,
      transports,
      httpHost: '127.0.0.1',
    });
    base = `http://127.0.0.1:${httpPort}`;
    // If chromium cannot start, playwright's error carries the browser's own stderr.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const polled = await waitFor(async () => {
      const status = (await (await fetch(`${base}/api/status`, { headers: AUTH })).json()) as StatusReport;
      return status.lastPoll?.state === 'ok' && (status.firing?.total ?? 0) > 0;
    });
    if (!polled) throw new Error('the daemon did not poll within 15 s');
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await sim?.close();
    if (prefix) await cleanPrefix(prefix);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A page in a context of its own that answers the server's Basic challenge with the credentials.
   * `close` closes the context (and the page) and is awaited: a close left in flight rejected once
   * afterAll closed the browser under it, and Jest failed every test of the file for it.
   */
  async function open(path = '/'): Promise<{ page: Page; dialogs: string[]; close: () => Promise<void> }> {
    const context = await browser.newContext({ httpCredentials: CREDENTIALS });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(base + path);
    return { page, dialogs, close: () => context.close() };
  }

  test('over HTTP: /api/status is JSON and / is HTML', async () => {
    const json = await fetch(`${base}/api/status`, { headers: AUTH });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const report = (await json.json()) as StatusReport;
    expect(report.firing!.alerts).toContainEqual(expect.objectContaining({ sku: 'TEST-BLACK', rule: 'negative-reserved', reserved: -13 }));
    const html = await fetch(`${base}/`, { headers: AUTH });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  test('without credentials, or with wrong ones, the browser cannot open the page', async () => {
    // Headless chromium fails a navigation whose Basic challenge it has no credentials for; with
    // wrong ones it ends on the 401 answer.
    const cases = [
      { httpCredentials: undefined, expected: 'no credentials to answer with' },
      { httpCredentials: { ...CREDENTIALS, password: 'wrong' }, expected: 'HTTP 401' },
    ];
    for (const { httpCredentials, expected } of cases) {
      const context = await browser.newContext({ httpCredentials });
      const page = await context.newPage();
      const outcome = await page.goto(base + '/').then(
        (r) => `HTTP ${r?.status()}`,
        (err: Error) => (/ERR_INVALID_AUTH_CREDENTIALS/.test(err.message) ? 'no credentials to answer with' : err.message),
      );
      expect(outcome).toBe(expected);
      await context.close();
    }
  });

  test('firing alerts appear, TEST-BLACK with its negative reserved among them', async () => {
    const { page, close } = await open();
    const rows = page.locator('#alerts tbody tr');
    expect(await rows.count()).toBeGreaterThan(1);
    const black = rows.filter({ hasText: 'TEST-BLACK' }).filter({ hasText: 'negative-reserved' });
    expect(await black.count()).toBe(1);
    expect(await black.locator('td.neg').allTextContents()).toEqual(['-13']);
    expect(await page.locator('#poll').textContent()).toContain('Last poll: ok');
    expect(await page.title()).toMatch(/^stockwatch — \d+ firing$/);
    await close();
  });

  test('typing in the filter box hides the rows that do not match, and clearing it shows them again', async () => {
    const { page, close } = await open();
    const rows = page.locator('#alerts tbody tr');
    const all = await rows.count();

    await page.locator('#filter').fill('test-black');
    const visible = page.locator('#alerts tbody tr:visible');
    const shown = await visible.count();
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(all);
    for (const text of await visible.allTextContents()) expect(text).toContain('TEST-BLACK');
    expect(await page.locator('#shown').textContent()).toBe(String(shown));

    // Every word must match.
    await page.locator('#filter').fill('TEST-BLACK negative');
    expect(await visible.count()).toBe(1);

    await page.locator('#filter').fill('no-such-thing-anywhere');
    expect(await visible.count()).toBe(0);
    expect(await page.locator('#no-match').isVisible()).toBe(true);

    await page.locator('#filter').fill('');
    expect(await visible.count()).toBe(all);
    expect(await page.locator('#no-match').isVisible()).toBe(false);

    // Enter asks the server for every match (beyond the rows on the page).
    await page.locator('#filter').fill('TEST-BLACK');
    await Promise.all([page.waitForURL(/\?q=TEST-BLACK$/), page.locator('#filter').press('Enter')]);
    expect(await page.locator('#alerts tbody tr').count()).toBe(shown);
    await close();
  });

  test('the hostile product name shows as text: no element injected, no dialog', async () => {
    const { page, dialogs, close } = await open();
    const black = page.locator('#alerts tbody tr').filter({ hasText: 'TEST-BLACK' }).first();
    expect(await black.textContent()).toContain(HOSTILE_PRODUCT);
    expect(await page.locator('img').count()).toBe(0);
    // The page's own filter script is the only script element.
    expect(await page.locator('script').count()).toBe(1);
    // Typing the name into the filter treats it as text too.
    await page.locator('#filter').fill(HOSTILE_PRODUCT);
    expect(await page.locator('#alerts tbody tr:visible').count()).toBeGreaterThan(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await close();
  });
});
