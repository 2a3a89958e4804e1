// QueueJobs.waitForDelivery reads the job states again as soon as a worker of this process reports
// a finished job, instead of only on its next poll of the states. Fake timers: with the clock
// stopped, only the report can end a pause.
import type { Queue } from 'bullmq';
import { QueueJobs, type SettledSubscription } from '../../src/delivery/jobs';
import { DELIVERY_QUEUES } from '../../src/delivery/route';

/** Delivery queues whose jobs are in the states `states` says (read on every call). */
function fakeQueues(states: Map<string, string>): Record<string, Queue> {
  const queue = { getJobState: async (id: string) => states.get(id) ?? 'unknown' } as unknown as Queue;
  return Object.fromEntries(Object.values(DELIVERY_QUEUES).map((name) => [name, queue]));
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

test('a finished job reported by a local worker is seen without waiting for the next read', async () => {
  const states = new Map([
    ['a', 'active'],
    ['b', 'waiting'],
  ]);
  const listeners = new Set<() => void>();
  const onSettled: SettledSubscription = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  let result: unknown = null;
  void new QueueJobs(fakeQueues(states)).waitForDelivery(['a', 'b'], 60_000, onSettled).then((r) => (result = r));
  await settle();
  expect(result).toBeNull();
  expect(listeners.size).toBe(1);

  states.set('a', 'completed');
  states.set('b', 'failed');
  for (const l of [...listeners]) l();
  await settle();
  expect(result).toEqual({ delivered: ['a'], failed: ['b'], pending: [] });
  // Nothing stays subscribed, and no timer is left behind.
  expect(listeners.size).toBe(0);
  expect(jest.getTimerCount()).toBe(0);
});

test('without reports it still reads the states every 20 ms, and gives up at the deadline', async () => {
  const states = new Map([['a', 'waiting']]);
  const jobs = new QueueJobs(fakeQueues(states));
  let result: unknown = null;
  void jobs.waitForDelivery(['a'], 1000, () => () => undefined).then((r) => (result = r));
  await settle();
  states.set('a', 'completed');
  await settle();
  expect(result).toBeNull();
  await jest.advanceTimersByTimeAsync(20);
  expect(result).toEqual({ delivered: ['a'], failed: [], pending: [] });

  states.set('b', 'delayed');
  result = null;
  void jobs.waitForDelivery(['b'], 1000).then((r) => (result = r));
  await jest.advanceTimersByTimeAsync(1100);
  expect(result).toEqual({ delivered: [], failed: [], pending: ['b'] });
});
