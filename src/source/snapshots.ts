// Saved overviews (SPEC section 6): one file per poll, named by the poll's time, read back by
// `replay`. Written `2026-11-30T080500Z.json.gz` (no colons: portable to every file system);
// read with or without colons, gzipped or plain. Any other file in a snapshot folder is an error
// that names it, so that a stray file never silently becomes (or hides) a poll.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { oneLine, UserError } from '../errors';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** `2026-11-30T08:05:00Z` or `2026-11-30T080500Z` (fractions of a second allowed), then `.json` or `.json.gz`. */
const NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(:?)(\d{2})\5(\d{2})(\.\d{1,9})?Z\.json(\.gz)?$/;

/** Our temporary files (see writeSnapshot): `.<final name>.<pid>.<random>.tmp`. */
const TEMP = /^\..+\.tmp$/;
/** A temporary file this old is left over from a crash, not a write in progress. */
const STALE_TEMP_MS = 3_600_000;

export interface SnapshotFile {
  /** The file's path (the folder joined with its name). */
  path: string;
  name: string;
  /** The time in its name, ms since the epoch. */
  atMs: number;
  gzip: boolean;
}

/** The name a snapshot taken at `atMs` is written under (whole seconds, UTC, no colons). */
export function snapshotName(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 19).replace(/:/g, '') + 'Z.json.gz';
}

/** The time and encoding a snapshot's name says, or null when it is not a snapshot's name. */
export function parseSnapshotName(name: string): { atMs: number; gzip: boolean } | null {
  const m = NAME.exec(name);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 6, 7].map((i) => Number(m[i]));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const millis = m[8] === undefined ? 0 : Math.floor(Number(`0${m[8]}`) * 1000);
  const atMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 2026-02-30 over into March: refuse days the month does not have.
  if (new Date(atMs).getUTCDate() !== day) return null;
  return { atMs, gzip: m[9] !== undefined };
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'ENOTDIR') return 'not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EROFS') return 'read-only file system';
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/**
 * The snapshots in `dir`, oldest first. Throws a UserError naming the folder when it cannot be
 * read, naming the file when something else is in it, and naming both when two files hold one time.
 */
export function listSnapshots(dir: string): SnapshotFile[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new UserError(`snapshot folder ${dir}: ${describeFsError(err)}`);
  }
  const files: SnapshotFile[] = [];
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (TEMP.test(entry.name)) throw new UserError(`${file}: an unfinished snapshot (left by an interrupted write): delete it`);
    const parsed = entry.isDirectory() ? null : parseSnapshotName(entry.name);
    if (parsed === null) {
      throw new UserError(`${file}: not a snapshot (expected names like 2026-11-30T080500Z.json.gz or 2026-11-30T08:05:00Z.json)`);
    }
    files.push({ path: file, name: entry.name, ...parsed });
  }
  files.sort((a, b) => a.atMs - b.atMs || (a.name < b.name ? -1 : 1));
  for (let i = 1; i < files.length; i++) {
    if (files[i].atMs === files[i - 1].atMs) {
      throw new UserError(`${files[i - 1].path} and ${files[i].name}: two snapshots of the same time (${new Date(files[i].atMs).toISOString()}): keep one`);
    }
  }
  return files;
}

/**
 * The body a snapshot holds (gunzipped when its name says .gz), or why it holds none: a file that
 * is not gzip data is a body that is not an overview (a failed poll), not bad input. Rejects with
 * a UserError when the file cannot be read at all.
 */
export async function readSnapshot(file: SnapshotFile): Promise<{ body: Buffer } | { error: string }> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file.path);
  } catch (err) {
    throw new UserError(`${file.path}: cannot read: ${describeFsError(err)}`);
  }
  if (!file.gzip) return { body: bytes };
  try {
    return { body: await gunzip(bytes, { chunkSize: gunzipChunk(bytes) }) };
  } catch (err) {
    return { error: `not gzip data (${describeFsError(err)})` };
  }
}

/**
 * Output chunk for gunzipping `gz`: the size its gzip trailer announces (ISIZE, the body's length
 * mod 2^32), within bounds. zlib's default 16 KiB chunk makes a 5 MB body ~300 round trips to the
 * main thread plus a concat; one chunk of the right size is one. ISIZE is only a hint: a wrong one
 * costs speed, never bytes.
 */
function gunzipChunk(gz: Buffer): number {
  const announced = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  return Math.min(Math.max(announced, zlib.constants.Z_MIN_CHUNK, 64 * 1024), 64 * 1024 * 1024);
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir never returns where the kernel refuses
 * a new entry (`/proc/x`), when one level gives the refusal (ENOENT) at once.
 */
function makeDirectories(dir: string): void {
  const parent = path.dirname(dir);
  if (parent !== dir && fs.statSync(parent, { throwIfNoEntry: false }) === undefined) makeDirectories(parent);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    // Made meanwhile (two daemons starting on one new SNAPSHOT_DIR): fine if it is a folder.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(dir).isDirectory()) throw err;
  }
}

/** Creates `dir` when missing and checks that files can be written there; a UserError naming it otherwise. */
export function ensureSnapshotDir(dir: string, what = 'snapshot folder'): void {
  try {
    const stat = fs.statSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) makeDirectories(dir);
    else if (!stat.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new UserError(`${what} ${dir}: not writable (${describeFsError(err)})`);
  }
}

/**
 * Saves `body` (the overview's bytes as the API sent them) as `dir/<time>.json.gz`. Atomic: written
 * to a temporary file, then renamed, so that a reader (or a crash) never sees half a snapshot.
 * Resolves to the snapshot's path.
 */
export async function writeSnapshot(dir: string, body: Buffer, atMs: number): Promise<string> {
  const name = snapshotName(atMs);
  const final = path.join(dir, name);
  const temp = path.join(dir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  const zipped = await gzip(body);
  try {
    await fs.promises.writeFile(temp, zipped);
    await fs.promises.rename(temp, final);
  } catch (err) {
    await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    throw new UserError(`cannot save the snapshot ${final}: ${describeFsError(err)}`);
  }
  return final;
}

/**
 * What SNAPSHOT_DIR does with each good overview: saves it, then deletes what SNAPSHOT_KEEP
 * retires, saved or not (a folder filled to the last byte must still lose its old snapshots).
 * Never rejects: each failure is one line for the log.
 */
export async function keepSnapshot(dir: string, body: Buffer, atMs: number, keepMs: number): Promise<string[]> {
  const problems: string[] = [];
  await writeSnapshot(dir, body, atMs).catch((err: unknown) => problems.push(`snapshot not saved: ${oneLine(err)}`));
  await pruneSnapshots(dir, atMs - keepMs).catch((err: unknown) => problems.push(`old snapshots not deleted from SNAPSHOT_DIR: ${oneLine(err)}`));
  return problems;
}

/**
 * Deletes the snapshots in `dir` whose time is before `beforeMs`, and temporary files left by a
 * crash; anything else in the folder is left alone. Resolves to the names deleted.
 */
export async function pruneSnapshots(dir: string, beforeMs: number): Promise<string[]> {
  const names = await fs.promises.readdir(dir);
  const deleted: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const parsed = parseSnapshotName(name);
    let old = parsed !== null && parsed.atMs < beforeMs;
    if (parsed === null && TEMP.test(name)) {
      const stat = await fs.promises.stat(file).catch(() => null);
      // By the wall clock, not the poll's time: the file system stamped it.
      old = stat !== null && stat.mtimeMs < Date.now() - STALE_TEMP_MS;
    }
    if (!old) continue;
    await fs.promises.rm(file, { force: true });
    deleted.push(name);
  }
  return deleted;
}
