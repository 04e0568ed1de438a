/** Consumer lag (end − position) vs commit trail (end − committed), without a broker (src/ingest/kafka/lag.ts). */
import { describe, expect, it } from 'vitest';
import { partitionLags } from '../../../src/ingest/kafka/lag.js';

describe('partitionLags', () => {
  const ends = [{ partition: 0, high: 10_000, low: 0 }, { partition: 1, high: 500, low: 200 }, { partition: 2, high: 80, low: 0 }];

  it('lag from the position, trail from the commit: a detector caught up with commits 1 h behind shows lag 0', () => {
    const committed = new Map([[0, 6_000], [1, -1], [2, 80]]);
    const position = new Map([[0, 10_000], [1, 450]]);
    const out = partitionLags('pos.gateway', ends, (p) => committed.get(p) ?? null, (p) => position.get(p));
    expect(out).toEqual([
      { topic: 'pos.gateway', partition: 0, lag: 0, commitTrail: 4_000 },
      // Nothing committed: the trail counts from the log start.
      { topic: 'pos.gateway', partition: 1, lag: 50, commitTrail: 300 },
      // Not held by this process: no lag, only the group's trail.
      { topic: 'pos.gateway', partition: 2, lag: null, commitTrail: 0 },
    ]);
  });

  it('never negative (a position or commit read after a newer end offset)', () => {
    const out = partitionLags('t', [{ partition: 0, high: 100, low: 0 }], () => 120, () => 130);
    expect(out).toEqual([{ topic: 't', partition: 0, lag: 0, commitTrail: 0 }]);
  });
});
