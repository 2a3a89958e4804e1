// Bad topology and HTTP settings, through the real bin: one line on stderr that names the variable
// and the problem, exit 1, before anything starts; secrets never echoed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childEnv, killAll, stockwatch } from '../support/processes';

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
];

describe('bad topology and HTTP settings: one line, exit 1', () => {
  test.each(cases)('%s', async (_what, vars, expected) => {
    const r = await runWith(vars);
    expect({ code: r.code, lines: r.lines.length }).toEqual({ code: 1, lines: 1 });
    expect(r.lines[0]).toMatch(expected);
    expect(r.text).not.toContain(SECRET);
  });
});
