// How far the heap may grow between full garbage collections while a one-shot poll works. V8 lets
// it grow up to 4x: a poll at 200,000 items with 95 % of them firing holds ~400 MB and peaked at
// ~770 MB of RSS, mostly garbage (the body's text, Redis's replies) that a collection far later
// would have freed. At most +85 % it peaks at ~630-650 MB, for a few more collections
// (docs/performance.md, fourth pass).
//
// Only around the poll, and set back after it: V8 refuses code caches made under other flags, so
// with the flag set at start Node compiled its own modules from scratch (~90 ms more per process)
// and the compile cache (src/compile-cache.ts) would have been written for flags the next process
// does not have while it loads.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const HEAP_GROWING_PERCENT = 85;

export async function withBoundedHeapGrowth<T>(work: () => Promise<T>): Promise<T> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  try {
    return await work();
  } finally {
    // 0 is V8's default: its own dynamic factor.
    setFlagsFromString('--heap-growing-percent=0');
  }
}

let gc: (() => void) | null = null;

/** Below this much heap in use a collection is not worth its time: the peak it would lower is small. */
export const COLLECT_ABOVE_BYTES = 128 * 1024 * 1024;

/**
 * A full collection, now, when the heap holds more than `aboveBytes`. `poll --once` calls
 * it between its stages: once the overview is parsed, the body's text and the JSON tree are
 * garbage, and at 1,000,000 items the heap they left (~1.1 GB, ~330 MB of it live) set how far V8
 * let it grow while the state was read back and evaluated: the process peaked at 2.75 GB, and
 * at 2.1 GB with a collection after the parse and one after the evaluation. The flag is set only
 * long enough to reach V8's gc() (as the Node documentation of v8.setFlagsFromString shows), for
 * the reason above.
 */
export function collectGarbage(aboveBytes = COLLECT_ABOVE_BYTES): void {
  if (getHeapStatistics().used_heap_size <= aboveBytes) return;
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as () => void;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  gc();
}
