// V8 code cache for the CommonJS modules a `stockwatch` process loads (Node 20 has no
// module.enableCompileCache): mainly dist/stockwatch.js, the CLI bundled with BullMQ, ioredis,
// pino and yaml (scripts/bundle.js); compiling it is a good part of a one-shot command's start-up.
// Each process compiles through vm.Script with the bytecode the previous run of the same command
// left behind, and writes it back on exit when something had to be compiled afresh.
// bin/stockwatch.js installs it before anything else.
//
// Safety: cached bytecode is executed as it is, so it lives only in a directory that this user
// owns and nobody else can write to; anything else turns the cache off. Invalidation: each entry
// carries the SHA-1 of its source (a changed file is compiled anew); the file name carries the
// Node version, architecture, options and installation; V8 itself refuses data from another V8 or
// other flags; and the file carries a checksum. Any failure only costs the cache: a command never
// fails or behaves differently because of it. STOCKWATCH_COMPILE_CACHE=off turns it off.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Bumped when the file layout changes: an old file is then ignored, not misread. */
const FORMAT = 1;
/** Index length (uint32) and SHA-1 of the rest of the file. */
const HEAD_BYTES = 4 + 20;

/** The CommonJS loader internals this replaces or calls (not in @types/node). */
interface LoaderModule {
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string): unknown;
}
interface Loader {
  prototype: LoaderModule;
  wrap(script: string): string;
  _resolveFilename(request: string, parent: LoaderModule, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: LoaderModule): string[] | null;
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Dict<NodeModule>;
}

interface Entry {
  /** SHA-1 of the module source, base64. */
  hash: string;
  offset: number;
  length: number;
}

interface Compiled {
  filename: string;
  hash: string;
  script: vm.Script;
}

/** Values of STOCKWATCH_COMPILE_CACHE that switch it, rather than name a directory (`on` is no folder called "on"). */
const SWITCHED_OFF = new Set(['off', '0', 'false', 'no']);
const SWITCHED_ON = new Set(['', 'on', '1', 'true', 'yes']);

/**
 * Where the cache files go, or null when there is no safe place: STOCKWATCH_COMPILE_CACHE names a
 * directory, `off` (`0`, `false`, `no`) turns the cache off, `on` (or unset) keeps the default:
 * stockwatch-v8-cache-UID in the temp dir.
 */
export function cacheDir(env: NodeJS.ProcessEnv): string | null {
  const setting = (env.STOCKWATCH_COMPILE_CACHE ?? '').trim();
  if (SWITCHED_OFF.has(setting.toLowerCase())) return null;
  if (typeof process.getuid !== 'function') return null;
  const uid = process.getuid();
  const dir = SWITCHED_ON.has(setting.toLowerCase()) ? path.join(os.tmpdir(), `stockwatch-v8-cache-${uid}`) : path.resolve(setting);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // lstat: a symlink planted by someone else is refused like any other foreign entry.
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/** What a process's cache file is kept apart by, besides its command. */
export interface CacheContext {
  /** The installation the modules come from: two checkouts would otherwise evict each other's modules. */
  root: string;
  execArgv: string[];
  /** NODE_OPTIONS. */
  options: string;
}

const CURRENT: CacheContext = { root: path.resolve(__dirname, '..'), execArgv: process.execArgv, options: process.env.NODE_OPTIONS ?? '' };

/**
 * The cache file of one command: commands load different modules, each keeps its own set. So does
 * each installation, and each set of Node options (they change what V8 accepts): processes that
 * differ there never keep rewriting one file.
 */
export function cacheFile(dir: string, command: string, context: CacheContext = CURRENT): string | null {
  if (!/^[a-z][a-z-]{0,30}$/.test(command)) return null;
  const tag = crypto.createHash('sha1').update(JSON.stringify([context.root, context.execArgv, context.options])).digest('hex').slice(0, 8);
  return path.join(dir, `${command}-node${process.versions.node}-${process.arch}-${tag}-v${FORMAT}.bin`);
}

/** Removes the command's files of other Node versions: they can never be read again. */
function removeOtherVersions(file: string): void {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const command = name.slice(0, name.indexOf('-node'));
  const current = `${command}-node${process.versions.node}-`;
  for (const other of fs.readdirSync(dir)) {
    if (other.startsWith(`${command}-node`) && !other.startsWith(current)) fs.rmSync(path.join(dir, other), { force: true });
  }
}

function sha1(text: string): string {
  return crypto.createHash('sha1').update(text).digest('base64');
}

/**
 * A cache file: [uint32 index length][SHA-1 of the rest][index JSON][data...]. V8 does not check
 * its data for damage (damaged bytecode can crash the process), so the whole file is checked here;
 * a damaged or unreadable file reads as empty.
 */
function readCache(file: string): { index: Record<string, Entry>; data: Buffer } {
  try {
    const bytes = fs.readFileSync(file);
    const indexLength = bytes.readUInt32LE(0);
    const rest = bytes.subarray(HEAD_BYTES);
    if (!crypto.createHash('sha1').update(rest).digest().equals(bytes.subarray(4, HEAD_BYTES))) throw new Error('damaged');
    const index = JSON.parse(rest.subarray(0, indexLength).toString('utf8')) as Record<string, Entry>;
    return { index, data: rest.subarray(indexLength) };
  } catch {
    return { index: {}, data: Buffer.alloc(0) };
  }
}

function writeCache(file: string, compiled: Compiled[]): void {
  const index: Record<string, Entry> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const { filename, hash, script } of compiled) {
    // Taken now, at exit, the data also holds the functions compiled while the command ran.
    const data = script.createCachedData();
    index[filename] = { hash, offset, length: data.length };
    chunks.push(data);
    offset += data.length;
  }
  const rest = Buffer.concat([Buffer.from(JSON.stringify(index), 'utf8'), ...chunks]);
  const head = Buffer.alloc(HEAD_BYTES);
  head.writeUInt32LE(rest.length - offset);
  crypto.createHash('sha1').update(rest).digest().copy(head, 4);
  // Written aside and renamed: a concurrent reader sees the old file or the new one, whole.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([head, rest]), { mode: 0o600 });
    fs.renameSync(tmp, file);
    removeOtherVersions(file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Compiles every CommonJS module loaded from now on with the cached bytecode of `command`'s
 * previous run. Does nothing where the cache could change what a developer sees: under the
 * inspector, or with source maps on (Node's own compile registers them).
 */
export function installCompileCache(command: string, env: NodeJS.ProcessEnv = process.env): void {
  if (process.execArgv.some((a) => a.startsWith('--inspect')) || process.sourceMapsEnabled) return;
  const dir = cacheDir(env);
  const file = dir === null ? null : cacheFile(dir, command);
  if (file === null) return;
  const { index, data } = readCache(file);
  const compiled: Compiled[] = [];
  let stale = false;

  const loader = Module as unknown as Loader;
  loader.prototype._compile = function compileWithCache(this: LoaderModule, content: string, filename: string): unknown {
    const hash = sha1(content);
    const entry = index[filename];
    const cachedData = entry !== undefined && entry.hash === hash ? data.subarray(entry.offset, entry.offset + entry.length) : undefined;
    // The wrapper comes first, so a leading `#!` line is no longer at the start where V8 allows it.
    const source = content.startsWith('#!') ? `//${content}` : content;
    const script = new vm.Script(loader.wrap(source), {
      filename,
      cachedData,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (cachedData === undefined || script.cachedDataRejected === true) stale = true;
    compiled.push({ filename, hash, script });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, makeRequire(loader, this), this, filename, path.dirname(filename));
  };

  process.once('exit', () => {
    if (!stale) return;
    try {
      writeCache(file, compiled);
    } catch {
      // The cache is an optimisation; the next run compiles as usual.
    }
  });
}

/** The `require` a module sees, as Node's own loader makes it. */
function makeRequire(loader: Loader, mod: LoaderModule): NodeJS.Require {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) => loader._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => loader._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = loader._extensions;
  require.cache = loader._cache;
  return require;
}
