// src/heap.ts: the collection poll --once runs between its stages, without leaving gc() exposed.
import { runInNewContext } from 'node:vm';
import { collectGarbage } from '../src/heap';

/** A WeakRef to an object nothing else holds (made in a function of its own: no stack slot keeps it). */
const unreachable = (): WeakRef<object> => new WeakRef({ payload: new Array(1000).fill('x') });

/** A WeakRef's target is kept until the current job ends. */
const nextJob = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('collectGarbage', () => {
  test('frees what nothing holds', async () => {
    const ref = unreachable();
    await nextJob();
    collectGarbage(0);
    expect(ref.deref()).toBeUndefined();
  });

  test('does nothing while the heap holds less than its threshold', async () => {
    const ref = unreachable();
    await nextJob();
    collectGarbage(Number.MAX_SAFE_INTEGER);
    expect(ref.deref()).toBeDefined();
  });

  test('leaves gc() unexposed to code and contexts made afterwards', () => {
    collectGarbage(0);
    collectGarbage(0);
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
