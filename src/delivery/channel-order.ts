// In-order delivery per channel. Each poll's notices join their channel's order (a sorted set,
// scored by poll generation, written in the poll's own commit); a delivery job goes out only when
// it is first in that order, and leaves it once delivered or given up. So a notice retried for an
// hour holds back the newer ones of its channel instead of being overtaken by them, and people
// read the changes in the order they happened.
import type { Redis } from 'ioredis';
import type { StateStore } from '../state/store';

export type Gate = 'go' | 'wait' | 'done';

export class ChannelOrder {
  constructor(
    private readonly redis: Redis,
    private readonly store: Pick<StateStore, 'orderKey' | 'inOutbox'>,
    /** The BullMQ state of a job of this channel's queue ('completed', 'failed', 'unknown', …). */
    private readonly jobState: (id: string) => Promise<string>,
  ) {}

  /**
   * 'go' when the job is first in its channel's order; 'wait' while an older notice is pending;
   * 'done' when it is no longer in the order at all: it was delivered (or given up) and this is a
   * re-run after a crash, so it must not go out again.
   */
  async gate(channel: string, jobId: string): Promise<Gate> {
    const key = this.store.orderKey(channel);
    for (;;) {
      const rank = await this.redis.zrank(key, jobId);
      if (rank === null) return 'done';
      if (rank === 0) return 'go';
      const [head] = await this.redis.zrange(key, '0', '0');
      if (head === undefined || head === jobId) continue;
      // A head that has finished (its daemon died between finishing and leaving the order) or that
      // no longer exists anywhere (removed by hand, expired) would block the channel for good.
      const state = await this.jobState(head);
      const finished = state === 'completed' || state === 'failed';
      const lost = state === 'unknown' && !(await this.store.inOutbox(head));
      if (!finished && !lost) return 'wait';
      await this.redis.zrem(key, head);
    }
  }

  async leave(channel: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.store.orderKey(channel), jobId);
  }
}
