// src/heap.ts: the collection poll --once runs between its stages, without leaving gc() exposed.
import { runInNewContext } from 'node:vm';
import { collectGarbage } from '../src/heap';

/** A WeakRef to an object nothing else holds (made in a function of its own: no stack slot keeps it). */
const unreachable = (): WeakRef<object> => new WeakRef({ payload: new Array(1000).fill('x') });

describe('collectGarbage', () => {
  test('frees what nothing holds', async () => {
    const ref = unreachable();
    // A WeakRef's target is kept until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });

  test('leaves gc() unexposed to code and contexts made afterwards', () => {
    collectGarbage();
    collectGarbage();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
