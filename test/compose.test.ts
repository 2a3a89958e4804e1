// Docker is not available where the tests run, so the container files are checked by reading:
// the compose services, and every environment name against the config code (src/config.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ENV_VARS } from '../src/config';

const ROOT = path.join(__dirname, '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** Read by something other than stockwatch's config: rule files (`${SLACK_WEBHOOK_URL}`) and the simulator. */
const isDocumentedExtra = (name: string): boolean => name === 'SLACK_WEBHOOK_URL' || name.startsWith('SIMULATOR_');
const isKnown = (name: string): boolean => name in ENV_VARS || isDocumentedExtra(name);

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | null> | string[];
  env_file?: string | string[];
  ports?: Array<string | number>;
  profiles?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: string[];
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;

function environmentOf(service: Service): Map<string, string> {
  const env = new Map<string, string>();
  const raw = service.environment ?? {};
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const eq = entry.indexOf('=');
      env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
    }
  } else {
    for (const [k, v] of Object.entries(raw)) env.set(k, v === null ? '' : String(v));
  }
  return env;
}

const words = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(' ') : (v ?? ''));

interface EnvLine {
  name: string;
  value: string;
  commented: boolean;
  /** The comment line just above. */
  doc: string;
}

function envExampleLines(): EnvLine[] {
  const lines = read('.env.example').split('\n');
  const out: EnvLine[] = [];
  lines.forEach((line, i) => {
    const m = /^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.push({ name: m[2], value: m[3], commented: m[1] !== undefined, doc: i > 0 ? lines[i - 1] : '' });
  });
  return out;
}

describe('docker-compose.yml', () => {
  it('has redis, stockwatch, mailpit, and the S2 simulator under the demo profile', () => {
    expect(Object.keys(services).sort()).toEqual(['mailpit', 'redis', 's2-simulator', 'stockwatch']);
    expect(services.redis.profiles).toBeUndefined();
    expect(services.stockwatch.profiles).toBeUndefined();
    expect(services.mailpit.profiles).toBeUndefined();
    expect(services['s2-simulator'].profiles).toEqual(['demo']);
  });

  it('runs redis with AOF on, noeviction, a named volume and a ping healthcheck', () => {
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7/);
    const command = words(redis.command);
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    const volume = (redis.volumes ?? []).find((v) => v.endsWith(':/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume!.split(':')[0]);
    expect(words(redis.healthcheck?.test)).toMatch(/redis-cli ping/);
  });

  it('builds stockwatch here, configures it from .env against the compose redis and mailpit', () => {
    const sw = services.stockwatch;
    expect(sw.build).toBe('.');
    expect(sw.env_file).toBe('.env');
    const env = environmentOf(sw);
    expect(env.get('REDIS_URL')).toBe('redis://redis:6379');
    expect(env.get('SMTP_URL')).toMatch(/smtp:\/\/mailpit:1025/);
    expect(sw.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect((sw.ports ?? []).map(String)).toContain('9464:9464');
    expect(sw.volumes).toContain('./rules:/app/rules:ro');
    expect(sw.entrypoint).toBeUndefined(); // the image's: node bin/stockwatch.js run
  });

  it('gives mailpit its web UI and SMTP ports', () => {
    expect(services.mailpit.image).toMatch(/^axllent\/mailpit/);
    const ports = (services.mailpit.ports ?? []).map(String);
    expect(ports.some((p) => p.endsWith(':8025'))).toBe(true);
    expect(ports.some((p) => p.endsWith(':1025'))).toBe(true);
  });

  it('runs the simulator from the same image on the port .env.example points S2_API_URL at', () => {
    const sim = services['s2-simulator'];
    expect(sim.build).toBe('.');
    expect(sim.image).toBe(services.stockwatch.image);
    const entry = Array.isArray(sim.entrypoint) ? sim.entrypoint : [];
    expect(entry).toEqual(['node', 'dist/demo/simulator-main.js']);
    expect(existsSync(path.join(ROOT, 'src/demo/simulator-main.ts'))).toBe(true);
    const env = environmentOf(sim);
    expect(env.get('SIMULATOR_HOST')).toBe('0.0.0.0');
    const port = env.get('SIMULATOR_PORT');
    expect((sim.ports ?? []).map(String).some((p) => p.endsWith(`:${port}:${port}`) || p === `${port}:${port}`)).toBe(true);
    const apiUrl = envExampleLines().find((l) => l.name === 'S2_API_URL' && !l.commented)?.value;
    expect(apiUrl).toBe(`http://s2-simulator:${port}`);
  });

  it('uses no environment name that stockwatch, the rules or the simulator do not read', () => {
    const names = new Set<string>();
    for (const service of Object.values(services)) {
      if (service.build === undefined) continue; // third-party images have their own variables
      for (const name of environmentOf(service).keys()) names.add(name);
    }
    for (const m of composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]);
    expect(names.size).toBeGreaterThan(0);
    expect([...names].filter((n) => !isKnown(n))).toEqual([]);
  });
});

describe('.env.example', () => {
  const lines = envExampleLines();

  it('sets every variable of ENV_VARS once, and names nothing else', () => {
    const set = lines.filter((l) => !l.commented).map((l) => l.name);
    expect(set.sort()).toEqual(Object.keys(ENV_VARS).sort());
    expect(lines.filter((l) => !isKnown(l.name)).map((l) => l.name)).toEqual([]);
    expect(lines.find((l) => l.name === 'SLACK_WEBHOOK_URL')?.commented).toBe(true);
  });

  it('documents each default as src/config.ts has it, and keeps the defaults except where the demo needs otherwise', () => {
    // Values that differ from the default on purpose: the demo source, and a poll fast enough to watch.
    // HTTP_HOST: inside a container 127.0.0.1 cannot be reached through a published port.
    const demoValues: Record<string, string> = { POLL_EVERY: '10s', HTTP_HOST: '0.0.0.0' };
    for (const [name, spec] of Object.entries(ENV_VARS)) {
      const line = lines.find((l) => l.name === name && !l.commented)!;
      expect(line.doc.startsWith('#')).toBe(true);
      if (spec.default === null) {
        expect(line.doc).toMatch(/no default|Default none/);
      } else {
        expect(line.doc).toContain(`Default ${spec.default}`);
        expect(line.value).toBe(demoValues[name] ?? spec.default);
      }
    }
  });

  it('holds no real secret', () => {
    for (const line of lines) {
      expect(line.value).not.toMatch(/\/\/[^/@\s]+:[^/@\s]+@/); // user:password@ in a URL
      expect(line.value).not.toMatch(/hooks\.slack\.com\/services\/T(?!000\/)/);
    }
    expect(lines.find((l) => l.name === 'S2_API_TOKEN')?.value).toMatch(/^(demo-[a-z-]+)?$/);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  // Join continuation lines so that each instruction is one entry.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const of = (keyword: string) => instructions.filter((l) => l.toUpperCase().startsWith(`${keyword} `));

  it('is multi-stage: builds in one stage, runs from another', () => {
    const froms = of('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/node:20/);
    expect(text).toMatch(/npm run build/);
    expect(text).toMatch(/npm prune --omit=dev/);
    expect(of('COPY').some((l) => l.includes('--from=build'))).toBe(true);
  });

  it('runs as a user that is not root, in the final stage', () => {
    const fromIndexes = instructions.flatMap((l, i) => (l.toUpperCase().startsWith('FROM ') ? [i] : []));
    const lastFrom = fromIndexes[fromIndexes.length - 1];
    const users = instructions.slice(lastFrom).filter((l) => l.toUpperCase().startsWith('USER '));
    expect(users).toHaveLength(1);
    expect(users[0].split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('checks health on /healthz of HTTP_PORT, exposes it, and runs the daemon by default', () => {
    const health = of('HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0]).toContain('/healthz');
    expect(health[0]).toContain('HTTP_PORT');
    expect(of('EXPOSE')).toEqual(['EXPOSE 9464']);
    expect(of('ENV').join(' ')).toMatch(/HTTP_PORT=9464/);
    expect(of('ENTRYPOINT')).toEqual(['ENTRYPOINT ["node", "bin/stockwatch.js"]']);
    expect(of('CMD')).toEqual(['CMD ["run"]']);
    expect(existsSync(path.join(ROOT, 'bin/stockwatch.js'))).toBe(true);
  });

  it('copies into the build stage every file `npm run build` reads', () => {
    const build = instructions.slice(0, instructions.findIndex((l, i) => i > 0 && l.toUpperCase().startsWith('FROM ')));
    const copied = build.filter((l) => l.toUpperCase().startsWith('COPY ')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.build;
    const needs = [...script.matchAll(/(?:-p |node )(\S+)/g)].map((m) => m[1]);
    expect(needs).toEqual(expect.arrayContaining(['tsconfig.build.json', 'scripts/bundle.js']));
    for (const file of [...needs, 'src']) {
      expect(copied.some((c) => file === c || file.startsWith(`${c.replace(/\/$/, '')}/`))).toBe(true);
    }
  });

  it('copies into the runtime what the daemon and the simulator read at run time', () => {
    const copies = of('COPY').join('\n');
    for (const dir of ['node_modules', 'dist', 'bin', 'rules', 'fixtures', 'package.json']) expect(copies).toContain(dir);
  });
});

describe('.dockerignore', () => {
  it('keeps local builds, dependencies and secrets out of the build context', () => {
    const entries = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const e of ['node_modules', 'dist', '.git', 'coverage', '.env']) expect(entries).toContain(e);
  });
});
