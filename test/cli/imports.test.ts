// `check` and `eval` must start light: nothing that talks to Redis, SMTP or Slack may be loaded,
// even indirectly. Follows every runtime import from the command modules through src/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './helpers';

const HEAVY = ['bullmq', 'ioredis', 'nodemailer'];

/** Runtime module specifiers of a TypeScript file (`import type` and `export type` do not load anything). */
function runtimeImports(source: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /^\s*import\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?!type\b)[^'";]*?\sfrom\s+['"]([^'"]+)['"]/gm,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) specs.push(m[1]);
  return specs;
}

function resolveLocal(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Every package reachable from `entry` through local files. */
function packagesReachableFrom(entry: string): { packages: Set<string>; files: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeImports(fs.readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const local = resolveLocal(file, spec);
        if (local !== null && local.endsWith('.ts')) queue.push(local);
      } else {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
  }
  return { packages, files };
}

describe('offline commands stay light', () => {
  it.each(['check', 'eval'])('%s loads no Redis, SMTP or Slack client', (command) => {
    const { packages, files } = packagesReachableFrom(path.join(REPO, 'src/commands', `${command}.ts`));
    // The scan is real: it reaches the engine, the rule loader and (for eval) the overview parser.
    expect([...files].some((f) => f.endsWith(path.join('rules', 'load.ts')))).toBe(true);
    expect(packages.has('yaml')).toBe(true);
    expect(HEAVY.filter((p) => packages.has(p))).toEqual([]);
  });

  it('the scanner sees imports of every form', () => {
    const found = runtimeImports(
      "import x from 'a';\nimport { y } from \"b\";\nimport type { Z } from 'c';\nexport { w } from 'd';\nexport type { V } from 'e';\nconst q = require('f');\nimport 'g';\n",
    );
    expect(found.sort()).toEqual(['a', 'b', 'd', 'f', 'g']);
  });
});
