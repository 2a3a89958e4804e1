// The runs_out rate history in Redis: one hash, `<prefix>:state:history`, whose fields hold each
// track's table (src/engine/forecast.ts) as packed binary, cut into pieces of just under 1 MiB:
//
//   field  `<track id>\x1f<piece number>`        value  bytes <piece> of the table's encoding
//
//   table  "SWH1" | atMs float64 | size uint32 | hashLo uint32[size] | hashHi uint32[size]
//          | rate float32[size] | weight float32[size] | last int32[size] | age uint16[size]
//          (little-endian)
//
// 22 bytes per series, whatever the ids look like (an item is known by a 64-bit hash of its ids,
// not by them). Pieces of 1 MiB - 64 bytes fill jemalloc's size classes: one 4.4 MB string would be
// given a 5 MiB allocation. The table is written whole by every poll, in the poll's own commit,
// so it can never disagree with the alerts it fired.
import * as os from 'node:os';
import type { History, SeriesTable } from '../engine/forecast';

const MAGIC = 0x31485753; // "SWH1" read as a little-endian uint32
const HEADER = 16;
/** Bytes per series. */
export const RECORD_BYTES = 4 + 4 + 4 + 4 + 4 + 2;
/** Payload per hash field: a whole jemalloc size class (1 MiB) less Redis' own header. */
export const PIECE_BYTES = 1048576 - 64;
const SEP = '\u001f';
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The table as the bytes described above. */
export function encodeTable(t: SeriesTable): Buffer {
  const n = t.size;
  const buf = Buffer.allocUnsafe(HEADER + n * RECORD_BYTES);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeDoubleLE(t.atMs, 4);
  buf.writeUInt32LE(n, 12);
  let off = HEADER;
  for (const column of [t.hashLo, t.hashHi, t.rate, t.weight, t.last]) {
    const bytes = Buffer.from(column.buffer, column.byteOffset, n * 4);
    bytes.copy(buf, off);
    if (!LITTLE_ENDIAN) buf.subarray(off, off + n * 4).swap32();
    off += n * 4;
  }
  Buffer.from(t.age.buffer, t.age.byteOffset, n * 2).copy(buf, off);
  if (!LITTLE_ENDIAN) buf.subarray(off, off + n * 2).swap16();
  return buf;
}

/** The table back from its bytes; throws an Error saying what is wrong. */
export function decodeTable(bytes: Uint8Array): SeriesTable {
  // A copy of our own: aligned for the typed arrays, and not shared with a Buffer pool.
  const own = new Uint8Array(bytes.byteLength);
  own.set(bytes);
  return tableOf(own);
}

/** `own`: bytes in an ArrayBuffer of their own, from offset 0 (the typed arrays are views of it). */
function tableOf(own: Uint8Array): SeriesTable {
  if (own.byteLength < HEADER) throw new Error(`${own.byteLength} bytes, shorter than the header`);
  const view = new DataView(own.buffer);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('not a history table (unknown format)');
  const atMs = view.getFloat64(4, true);
  const n = view.getUint32(12, true);
  if (own.byteLength !== HEADER + n * RECORD_BYTES) throw new Error(`${own.byteLength} bytes for ${n} series, expected ${HEADER + n * RECORD_BYTES}`);
  if (!Number.isFinite(atMs)) throw new Error('its time is not a number');
  if (!LITTLE_ENDIAN) {
    Buffer.from(own.buffer, HEADER, n * 20).swap32();
    Buffer.from(own.buffer, HEADER + n * 20, n * 2).swap16();
  }
  const b = own.buffer;
  return {
    atMs,
    size: n,
    hashLo: new Uint32Array(b, HEADER, n),
    hashHi: new Uint32Array(b, HEADER + n * 4, n),
    rate: new Float32Array(b, HEADER + n * 8, n),
    weight: new Float32Array(b, HEADER + n * 12, n),
    last: new Int32Array(b, HEADER + n * 16, n),
    age: new Uint16Array(b, HEADER + n * 20, n),
  };
}

/** The hash fields and values that hold `history`. */
export function historyFields(history: History): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const [id, table] of history) {
    const buf = encodeTable(table);
    for (let piece = 0, off = 0; off < buf.byteLength || piece === 0; piece++, off += PIECE_BYTES) {
      out.push([`${id}${SEP}${piece}`, buf.subarray(off, off + PIECE_BYTES)]);
    }
  }
  return out;
}

/**
 * The history from the hash's fields. A track that cannot be read is left out (its rates start
 * over) and named in `problems`: a damaged history must not stop the alerts.
 */
export function decodeHistory(fields: Record<string, Buffer>): { history: Map<string, SeriesTable>; problems: string[] } {
  const pieces = new Map<string, Buffer[]>();
  const problems: string[] = [];
  for (const field in fields) {
    const cut = field.lastIndexOf(SEP);
    const piece = cut < 0 ? NaN : Number(field.slice(cut + 1));
    if (!Number.isSafeInteger(piece) || piece < 0) {
      problems.push(`rate history: field ${JSON.stringify(field)} is not <track>\\x1f<piece>: ignored`);
      continue;
    }
    const id = field.slice(0, cut);
    let list = pieces.get(id);
    if (list === undefined) pieces.set(id, (list = []));
    list[piece] = fields[field];
  }
  const history = new Map<string, SeriesTable>();
  for (const [id, list] of pieces) {
    try {
      let total = 0;
      for (let i = 0; i < list.length; i++) {
        if (list[i] === undefined) throw new Error(`piece ${i} of ${list.length} is missing`);
        total += list[i].byteLength;
      }
      const whole = new Uint8Array(total);
      let off = 0;
      for (const part of list) {
        whole.set(part, off);
        off += part.byteLength;
      }
      history.set(id, tableOf(whole));
    } catch (err) {
      problems.push(`rate history of ${id}: ${(err as Error).message}; its rates start over`);
    }
  }
  return { history, problems };
}
