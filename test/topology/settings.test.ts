// Bad topology and HTTP settings, through the real bin: one line on stderr that names the variable
// and the problem, exit 1, before anything starts; secrets never echoed.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { childEnv, killAll, stockwatch } from '../support/processes';
import { cleanPrefix, REDIS_URL, uniquePrefix } from '../support/stand-ins';

jest.setTimeout(60_000);

const SECRET = 'pa55-Not-To-Be-Seen';
let rulesDir: string;

beforeAll(() => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-topology-rules-'));
  fs.writeFileSync(
    path.join(rulesDir, 'rules.yaml'),
    ['channels:', '  ops:', '    slack:', '      webhook_url: http://127.0.0.1:9/hook', 'rules:', '  - name: out', '    type: low_available', '    below: 1', '    channels: [ops]', ''].join('\n'),
  );
});

afterAll(async () => {
  await killAll();
  fs.rmSync(rulesDir, { recursive: true, force: true });
});

async function runWith(vars: Record<string, string>): Promise<{ code: number | null; lines: string[]; text: string }> {
  const env = childEnv({ S2_API_URL: 'http://127.0.0.1:9', S2_API_TOKEN: 'tok', S2_ORGANIZATION_ID: 'org', RULES_DIR: rulesDir, HTTP_PORT: '0', ...vars });
  const run = stockwatch(['run'], env);
  const exit = await run.exited;
  const text = run.lines.map((l) => String(l.msg ?? JSON.stringify(l))).join('\n');
  return { code: exit.code, lines: run.lines.map((l) => String(l.msg ?? '')), text };
}

const cases: Array<[string, Record<string, string>, RegExp]> = [
  [
    'both topologies',
    { REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_SENTINELS: '127.0.0.1:26379', STOCKWATCH_PREFIX: '{sw}' },
    /^stockwatch: configuration: REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: a deployment uses one topology, unset one of them$/,
  ],
  [
    'a cluster prefix without hash tag',
    { REDIS_CLUSTER_NODES: '127.0.0.1:7000', STOCKWATCH_PREFIX: 'acme' },
    /^stockwatch: configuration: STOCKWATCH_PREFIX: "acme" has no hash tag; on Redis Cluster every key of a deployment must land in one slot: use e\.g\. \{acme\}$/,
  ],
  ['an empty hash tag', { REDIS_CLUSTER_NODES: '127.0.0.1:7000', STOCKWATCH_PREFIX: 'a{}b' }, /STOCKWATCH_PREFIX: "a\{\}b" has no hash tag/],
  ['a seed that is not host:port', { REDIS_CLUSTER_NODES: '127.0.0.1:7000,redis-2', STOCKWATCH_PREFIX: '{sw}' }, /^stockwatch: configuration: REDIS_CLUSTER_NODES: "redis-2" is not host:port/],
  [
    'an unreachable seed list',
    { REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2', STOCKWATCH_PREFIX: '{sw}', REDIS_PASSWORD: SECRET },
    /^stockwatch: cannot reach Redis Cluster \(seed nodes 127\.0\.0\.1:1, 127\.0\.0\.1:2\): None of startup nodes is available$/,
  ],
  [
    'unreachable sentinels',
    { REDIS_SENTINELS: '127.0.0.1:1', REDIS_PASSWORD: SECRET },
    /^stockwatch: cannot reach Redis master "mymaster" \(sentinels 127\.0\.0\.1:1\): All sentinels are unreachable/,
  ],
  ['a user name without password', { REDIS_SENTINELS: '127.0.0.1:26379', REDIS_USERNAME: 'app' }, /REDIS_USERNAME is set but REDIS_PASSWORD is not$/],
  ['HTTP_AUTH without a colon', { HTTP_AUTH: SECRET }, /^stockwatch: configuration: HTTP_AUTH: expected user:password, with a non-empty user name and password$/],
  ['HTTP_AUTH with an empty password', { HTTP_AUTH: 'ops:' }, /HTTP_AUTH: expected user:password/],
  ['HTTP_HOST not a host', { HTTP_HOST: 'every interface' }, /^stockwatch: configuration: HTTP_HOST: "every interface" is not an IP address or host name/],
  ['S2_API_URL not a URL', { S2_API_URL: 'http://' }, /^stockwatch: configuration: S2_API_URL: not a URL/],
  ['S2_API_URL not http', { S2_API_URL: 'ftp://s2.example.com' }, /^stockwatch: configuration: S2_API_URL: scheme "ftp" is not http or https$/],
  ['SMTP_URL unparseable', { SMTP_URL: `smtp://ops:${SECRET}@` }, /^stockwatch: configuration: SMTP_URL: /],
  // What every request needs is checked at start: at each poll it would count towards "source
  // unreachable" and notify the ops channels of a typo.
  [
    'S2_API_URL with a password in it',
    { S2_API_URL: `http://ops:${SECRET}@127.0.0.1:9` },
    /^stockwatch: configuration: S2_API_URL must not contain a user or password \(the token goes in S2_API_TOKEN\)$/,
  ],
  ['S2_API_URL with a query', { S2_API_URL: `http://127.0.0.1:9/api?token=${SECRET}` }, /^stockwatch: configuration: S2_API_URL must not contain a query or fragment/],
  ['S2_API_TOKEN with a space', { S2_API_TOKEN: `Bearer ${SECRET}` }, /^stockwatch: configuration: S2_API_TOKEN contains spaces, line breaks or non-ASCII characters$/],
  ['S2_ORGANIZATION_ID not ASCII', { S2_ORGANIZATION_ID: 'orgé€' }, /^stockwatch: configuration: S2_ORGANIZATION_ID contains line breaks or non-ASCII characters$/],
  // ioredis would send SELECT NaN and crash on the reply.
  ['REDIS_URL naming a database that is not a number', { REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379/abc` }, /^stockwatch: configuration: REDIS_URL: the database \(the path after host:port, or \?db=\) must be a whole number/],
  ['REDIS_URL with ?db= not a number', { REDIS_URL: 'redis://127.0.0.1:6379?db=x' }, /^stockwatch: configuration: REDIS_URL: the database/],
  // BullMQ renews locks on a timer at half their length; past 2^31 ms Node fires it at once, forever.
  ['a job lock longer than a timer can wait', { STOCKWATCH_JOB_LOCK: '5w' }, /^stockwatch: configuration: STOCKWATCH_JOB_LOCK: "5w" is longer than 24d, the longest a lock can be held$/],
  ['RULES_DIR that does not exist', { RULES_DIR: '/nonexistent-stockwatch-rules' }, /^stockwatch: RULES_DIR: rules folder \/nonexistent-stockwatch-rules: not found$/],
];

describe('settings only a running Redis or network can refuse: one line, exit 1, before any poll', () => {
  const prefix = uniquePrefix('settings');
  afterAll(() => cleanPrefix(prefix));

  test('a database that the Redis server does not have is refused, not swapped for database 0', async () => {
    const r = await runWith({ REDIS_URL: `${REDIS_URL.replace(/\/\d*$/, '')}/9999`, STOCKWATCH_PREFIX: prefix });
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatch(/^stockwatch: REDIS_URL: Redis at [^ ]+\/9999 refuses database 9999: ERR DB index is out of range$/);
    expect(r.lines.filter((l) => /^poll/.test(l))).toEqual([]);
  });

  test('credentials Redis refuses are said to be refused, not that Redis cannot be reached', async () => {
    const r = await runWith({ REDIS_URL: REDIS_URL.replace('redis://', `redis://nobody-here:${SECRET}@`), STOCKWATCH_PREFIX: prefix });
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([expect.stringMatching(/^stockwatch: Redis at [^ ]+ refuses the credentials: WRONGPASS /)]);
    expect(r.text).not.toContain(SECRET);
  });

  test('an HTTP port that is taken stops start-up before the first poll, naming the settings', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = await runWith({ HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', STOCKWATCH_PREFIX: prefix, POLL_EVERY: '1s' });
      expect(r.code).toBe(1);
      expect(r.lines.at(-1)).toBe(`stockwatch: HTTP_HOST/HTTP_PORT: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
      expect(r.lines.filter((l) => /^poll/.test(l))).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('bad topology and HTTP settings: one line, exit 1', () => {
  test.each(cases)('%s', async (_what, vars, expected) => {
    const r = await runWith(vars);
    expect({ code: r.code, lines: r.lines.length }).toEqual({ code: 1, lines: 1 });
    expect(r.lines[0]).toMatch(expected);
    expect(r.text).not.toContain(SECRET);
  });
});
