// Snapshot file names (SPEC section 6): written without colons, read with or without, plain or
// gzipped; a folder lists in time order, and anything else in it is an error that names it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import zlib from 'node:zlib';
import { keepSnapshot, listSnapshots, parseSnapshotName, pruneSnapshots, readSnapshot, snapshotName, writeSnapshot } from '../../src/source/snapshots';

const T = Date.parse('2026-11-30T08:05:00Z');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swtest-snap-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const touch = (name: string, body = '{}'): void => fs.writeFileSync(path.join(dir, name), body);

describe('snapshot names', () => {
  it('are written in whole UTC seconds without colons, gzipped', () => {
    expect(snapshotName(T)).toBe('2026-11-30T080500Z.json.gz');
    expect(snapshotName(T + 999)).toBe('2026-11-30T080500Z.json.gz');
  });

  it('are read with or without colons, plain or gzipped, with fractions of a second', () => {
    expect(parseSnapshotName('2026-11-30T080500Z.json.gz')).toEqual({ atMs: T, gzip: true });
    expect(parseSnapshotName('2026-11-30T08:05:00Z.json.gz')).toEqual({ atMs: T, gzip: true });
    expect(parseSnapshotName('2026-11-30T080500Z.json')).toEqual({ atMs: T, gzip: false });
    expect(parseSnapshotName('2026-11-30T08:05:00Z.json')).toEqual({ atMs: T, gzip: false });
    expect(parseSnapshotName('2026-11-30T08:05:00.250Z.json')).toEqual({ atMs: T + 250, gzip: false });
    expect(parseSnapshotName(snapshotName(T))?.atMs).toBe(T);
  });

  it.each([
    'notes.txt',
    '2026-11-30T080500Z.json.bak',
    '2026-11-30T08:0500Z.json', // colons in one place only
    '2026-11-30T080500.json', // no Z: not UTC
    '2026-02-30T080500Z.json', // no such day
    '2026-11-30T250500Z.json',
    '2026-11-30.json',
  ])('refuses %s', (name) => {
    expect(parseSnapshotName(name)).toBeNull();
  });
});

describe('listSnapshots', () => {
  it('lists every kind of name in time order, whatever the order of the names', () => {
    touch('2026-11-30T08:10:00Z.json');
    touch('2026-11-30T080500Z.json.gz');
    touch('2026-11-29T235959Z.json');
    expect(listSnapshots(dir).map((f) => [f.name, new Date(f.atMs).toISOString(), f.gzip])).toEqual([
      ['2026-11-29T235959Z.json', '2026-11-29T23:59:59.000Z', false],
      ['2026-11-30T080500Z.json.gz', '2026-11-30T08:05:00.000Z', true],
      ['2026-11-30T08:10:00Z.json', '2026-11-30T08:10:00.000Z', false],
    ]);
  });

  it('names any other file in the folder', () => {
    touch('2026-11-30T080500Z.json');
    touch('README.md');
    expect(() => listSnapshots(dir)).toThrow(`${path.join(dir, 'README.md')}: not a snapshot`);
  });

  it('names a sub-folder, a leftover temporary file, and two files of one time', () => {
    fs.mkdirSync(path.join(dir, 'old'));
    expect(() => listSnapshots(dir)).toThrow(`${path.join(dir, 'old')}: not a snapshot`);
    fs.rmdirSync(path.join(dir, 'old'));
    touch('.2026-11-30T080500Z.json.gz.123.abc.tmp');
    expect(() => listSnapshots(dir)).toThrow(/\.tmp: an unfinished snapshot/);
    fs.rmSync(path.join(dir, '.2026-11-30T080500Z.json.gz.123.abc.tmp'));
    touch('2026-11-30T080500Z.json');
    touch('2026-11-30T08:05:00Z.json.gz');
    expect(() => listSnapshots(dir)).toThrow(/two snapshots of the same time \(2026-11-30T08:05:00.000Z\)/);
  });

  it('says when the folder is missing', () => {
    expect(() => listSnapshots(path.join(dir, 'nope'))).toThrow(`snapshot folder ${path.join(dir, 'nope')}: not found`);
  });
});

describe('writeSnapshot, readSnapshot, pruneSnapshots', () => {
  it('writes the body gzipped under its time, leaving no temporary file, and reads it back', async () => {
    const body = Buffer.from('{"warehouses":[],"products":[],"items":[]}');
    const file = await writeSnapshot(dir, body, T);
    expect(file).toBe(path.join(dir, '2026-11-30T080500Z.json.gz'));
    expect(fs.readdirSync(dir)).toEqual(['2026-11-30T080500Z.json.gz']);
    expect(zlib.gunzipSync(fs.readFileSync(file)).equals(body)).toBe(true);
    const [listed] = listSnapshots(dir);
    expect(await readSnapshot(listed)).toEqual({ body });
  });

  it('a .gz that is not gzip data reads as a body that is no overview, not as bad input', async () => {
    touch('2026-11-30T080500Z.json.gz', 'plain text');
    const [listed] = listSnapshots(dir);
    expect(await readSnapshot(listed)).toEqual({ error: expect.stringMatching(/^not gzip data/) });
  });

  it('a failed write names the file and leaves nothing behind', async () => {
    const gone = path.join(dir, 'gone');
    await expect(writeSnapshot(gone, Buffer.from('{}'), T)).rejects.toThrow(`cannot save the snapshot ${path.join(gone, '2026-11-30T080500Z.json.gz')}: not found`);
  });

  it('keepSnapshot prunes even when the save fails: a full folder frees itself', async () => {
    touch('2026-11-20T080500Z.json.gz');
    // The snapshot's own name taken by a folder with something in it: the rename fails.
    fs.mkdirSync(path.join(dir, '2026-11-30T080500Z.json.gz'));
    touch('2026-11-30T080500Z.json.gz/x');
    const problems = await keepSnapshot(dir, Buffer.from('{}'), T, 7 * 86_400_000);
    expect(problems).toEqual([expect.stringMatching(/^snapshot not saved: cannot save the snapshot .*2026-11-30T080500Z\.json\.gz: /)]);
    expect(fs.existsSync(path.join(dir, '2026-11-20T080500Z.json.gz'))).toBe(false);
  });

  it('prunes snapshots older than the cut and stale temporary files, and nothing else', async () => {
    touch('2026-11-20T080500Z.json.gz');
    touch('2026-11-23T08:05:00Z.json');
    touch('2026-11-23T080501Z.json.gz');
    touch('2026-11-30T080500Z.json.gz');
    touch('notes.txt');
    touch('.2026-11-01T080500Z.json.gz.1.a.tmp');
    touch('.2026-11-30T080500Z.json.gz.1.b.tmp');
    const hourAgo = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(path.join(dir, '.2026-11-01T080500Z.json.gz.1.a.tmp'), hourAgo, hourAgo);
    const deleted = await pruneSnapshots(dir, Date.parse('2026-11-23T08:05:01Z'));
    expect(deleted.sort()).toEqual(['.2026-11-01T080500Z.json.gz.1.a.tmp', '2026-11-20T080500Z.json.gz', '2026-11-23T08:05:00Z.json']);
    expect(fs.readdirSync(dir).sort()).toEqual(['.2026-11-30T080500Z.json.gz.1.b.tmp', '2026-11-23T080501Z.json.gz', '2026-11-30T080500Z.json.gz', 'notes.txt']);
  });
});
