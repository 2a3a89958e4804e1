// Flap control, end to end through replay: snapshot files -> replay's reader -> the daemon's step.
// The rule keys are built in code (the loader learns for/clear_at/keep_firing_for separately).
import * as fs from 'node:fs';
import { compileRuleSet } from '../../src/engine/evaluate';
import { lowAvailable, ruleSet } from '../engine/helpers';
import { MIN, overviewWith, replayFolder, tempFolder, toldPerPoll, writeSeries } from './helpers';

let dir: string;
beforeEach(() => {
  dir = tempFolder();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const replay = async (levels: number[], rule = lowAvailable()) => {
  writeSeries(dir, levels.map((l) => overviewWith(l)));
  return replayFolder(dir, compileRuleSet(ruleSet([rule])));
};
const noticesIn = (told: string[][]): number => told.filter((t) => t.length > 0).length;

describe('replay: clear_at', () => {
  const flapping = [9, 11, 9, 11, 9, 11, 9, 11, 9, 11];

  it('without clear_at, 10 polls alternating 9/11 around below 10 are 10 notices', async () => {
    const told = toldPerPoll(await replay(flapping));
    expect(noticesIn(told)).toBe(10);
    expect(told[1]).toEqual(['resolved low-available SKU-1']);
  });

  it('with clear_at 15, the same 10 polls are exactly one notice (new) and no resolved', async () => {
    const polls = await replay(flapping, lowAvailable({ clearAt: 15 }));
    expect(toldPerPoll(polls)).toEqual([['new low-available SKU-1'], [], [], [], [], [], [], [], [], []]);
    expect(polls[9].firing).toBe(1);
  });
});

describe('replay: for (three poll intervals)', () => {
  const rule = lowAvailable({ forMs: 15 * MIN });

  it('a one-poll dip sends nothing', async () => {
    const polls = await replay([20, 5, 20, 20, 20, 20, 20], rule);
    expect(noticesIn(toldPerPoll(polls))).toBe(0);
    expect(polls[1].pending).toBe(1);
    expect(polls[2].pending).toBe(0);
  });

  it('a dip that lasts sends one notice, once, when it has lasted three intervals', async () => {
    const polls = await replay([20, 5, 5, 5, 5, 5, 5, 5], rule);
    const told = toldPerPoll(polls);
    expect(told).toEqual([[], [], [], [], ['new low-available SKU-1'], [], [], []]);
    expect(polls.slice(1, 4).map((p) => p.pending)).toEqual([1, 1, 1]);
  });
});

describe('replay: keep_firing_for (three poll intervals)', () => {
  const rule = lowAvailable({ keepFiringForMs: 15 * MIN });

  it('a one-poll recovery sends nothing', async () => {
    const told = toldPerPoll(await replay([5, 20, 5, 5, 5], rule));
    expect(told).toEqual([['new low-available SKU-1'], [], [], [], []]);
  });

  it('a real recovery sends one resolved, once the recovery has lasted three intervals', async () => {
    const told = toldPerPoll(await replay([5, 20, 20, 20, 20, 20, 20], rule));
    // Recovered at poll 1; three intervals later (poll 4) the alert resolves.
    expect(told).toEqual([['new low-available SKU-1'], [], [], [], ['resolved low-available SKU-1'], [], []]);
  });
});
