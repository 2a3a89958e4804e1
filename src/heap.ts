// How far the heap may grow between full garbage collections. V8 lets it grow up to 4x: a poll at
// 200,000 items with 95 % of them firing holds ~400 MB and peaked at ~770 MB of RSS, mostly garbage
// (the body's text, Redis's replies) that a collection far later would have freed. At most +75 %
// it peaks at ~660 MB, for a few more collections (docs/performance.md, fourth pass). V8 reads the
// flag each time it sizes the heap anew, so setting it first thing in a process is enough.
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 75;

export function boundHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
