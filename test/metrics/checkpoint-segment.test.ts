/**
 * The segment histograms of the checkpoint family (STATE_FORMAT 2): one
 * observation per durable barrier, by kind, bytes and items in their buckets.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerCheckpointMetrics } from '../../src/metrics/families/checkpoint.js';

describe('checkpoint segment metrics', () => {
  it('counts bases and deltas apart, with their bytes and items', async () => {
    const registry = new Registry();
    const view = registerCheckpointMetrics(registry, () => 0);
    view.segment({ kind: 'base', bytes: 5_000, upserts: 900, removes: 0 });
    view.segment({ kind: 'delta', bytes: 800, upserts: 3, removes: 2 });
    view.segment({ kind: 'delta', bytes: 900, upserts: 40, removes: 0 });
    const text = await registry.metrics();
    expect(text).toContain('posguard_checkpoint_segment_bytes_count{kind="base"} 1');
    expect(text).toContain('posguard_checkpoint_segment_bytes_sum{kind="delta"} 1700');
    expect(text).toContain('posguard_checkpoint_segment_bytes_bucket{le="4096",kind="base"} 0');
    expect(text).toContain('posguard_checkpoint_segment_bytes_bucket{le="16384",kind="base"} 1');
    expect(text).toContain('posguard_checkpoint_segment_items_sum{kind="delta"} 45');
    expect(text).toContain('posguard_checkpoint_segment_items_bucket{le="10",kind="delta"} 1');
    expect(text).toContain('posguard_checkpoint_segment_items_bucket{le="1000",kind="base"} 1');
  });
});
