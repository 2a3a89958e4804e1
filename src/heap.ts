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
import { setFlagsFromString } from 'node:v8';

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
