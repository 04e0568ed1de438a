/**
 * The checkpoint barrier's order and its failure path (runtime/kafka/checkpoint/
 * checkpointer.ts), with an in-memory store and fake run parts: snapshot, then
 * flush, then every write, then the commit; a failed write commits nothing;
 * a fallback at restore is one warning and one count.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { CheckpointStore, ReadLatestResult } from '../../src/ingest/checkpoint-store.js';
import type { CommitPlan } from '../../src/ingest/kafka/partition-targets.js';
import type { RebuildPlan } from '../../src/ingest/kafka/rebuild.js';
import { Checkpointer } from '../../src/runtime/kafka/checkpoint/checkpointer.js';
import type { BarrierSnapshot } from '../../src/runtime/kafka/checkpoint/snapshot.js';
import { decodeState, STATE_FORMAT, type StateRecord } from '../../src/runtime/kafka/checkpoint/state.js';
import { createLogger } from '../../src/util/log.js';

function lines(): { log: ReturnType<typeof createLogger>; got: { level: string; msg: string }[] } {
  const got: { level: string; msg: string }[] = [];
  const log = createLogger({ level: 'info', destination: { write: (l: string) => { const o = JSON.parse(l) as { level: string; msg: string }; got.push(o); } } });
  return { log, got };
}

const record = (p: number, barrier: number): StateRecord => ({ v: STATE_FORMAT, barrier, epoch: 1, task: {} as StateRecord['task'], engineId: p, engine: { p }, faultSpikes: {}, process: null });

function setup(o: { failWrite?: number } = {}) {
  const steps: string[] = [];
  const written = new Map<number, Buffer>();
  const store: CheckpointStore = {
    open: async () => undefined,
    close: async () => undefined,
    write: async (key, payload) => {
      steps.push(`write p${key.partition}`);
      if (key.partition === o.failWrite) throw new Error('broker said no');
      written.set(key.partition, Buffer.from(payload));
      return { seq: 1, bytes: payload.length, chunks: 1, durationMs: 1 };
    },
    readLatest: async (): Promise<ReadLatestResult> => ({ ok: false, reason: 'missing', detail: 'nothing written', skipped: [] }),
  };
  const commits: CommitPlan[] = [];
  const restores: string[] = [];
  const { log, got } = lines();
  const ck = new Checkpointer({ group: 'g', rules: () => DEFAULT_RULES, store, log, now: Date.now, metrics: { restore: (r) => restores.push(r) } }, {
    snapshot: (barrier): BarrierSnapshot => {
      steps.push(`snapshot ${barrier}`);
      const meta = { offsets: { terminal: 5, gateway: 6, bank: 7 }, takenAtEventMs: 1, takenAtWallMs: 2 };
      return { barrier, records: [0, 1].map((p) => ({ key: { group: 'g', partition: p }, record: record(p, barrier), meta })), plan: { entries: [], committed: () => steps.push('committed') } };
    },
    atBatchBoundary: async (fn) => {
      steps.push('hold');
      return fn();
    },
    flushOutputs: async () => {
      steps.push('flush');
    },
    commitExactly: async (plan) => {
      steps.push('commit');
      commits.push(plan);
    },
  });
  return { ck, steps, written, commits, got, restores };
}

describe('checkpoint barrier', () => {
  it('holds the input, snapshots, flushes, writes every partition, then commits', async () => {
    const t = setup();
    expect(await t.ck.take('interval')).toBe(true);
    expect(t.steps).toEqual(['hold', 'snapshot 1', 'flush', 'write p0', 'write p1', 'commit']);
    expect(decodeState(t.written.get(1)!)).toEqual(record(1, 1));
    expect(await t.ck.take('shutdown', false)).toBe(true);
    expect(t.steps.slice(6)).toEqual(['snapshot 2', 'flush', 'write p0', 'write p1', 'commit']);
    expect(t.got.filter((l) => /checkpoint 2 \(shutdown\): 2 partitions, \d+ bytes/.test(l.msg))).toHaveLength(1);
  });

  it('commits nothing when a write fails, and says so once', async () => {
    const t = setup({ failWrite: 1 });
    expect(await t.ck.take('interval')).toBe(false);
    expect(t.commits).toHaveLength(0);
    expect(t.steps).not.toContain('commit');
    const warns = t.got.filter((l) => l.level === 'warn');
    expect(warns.map((w) => w.msg)).toEqual(['checkpoint 1 (interval) not written, offsets not committed (the previous checkpoint stays the latest): broker said no']);
    expect(t.ck.failures).toBe(1);
  });

  it('falls back at restore with one warning and one count, and numbers its next barrier above the committed one', async () => {
    const t = setup();
    const plan: RebuildPlan = { p: 0, epoch: 2, floor: 0, starts: { terminal: 0, gateway: 0, bank: 0 }, checkpoint: { epoch: 1, barrier: 41 }, committed: { terminal: 5, gateway: 6, bank: 7 }, logStart: { terminal: 0, gateway: 0, bank: 0 } };
    const d = await t.ck.restore([plan], () => 1);
    expect(d).toBeNull();
    expect(t.restores).toEqual(['missing']);
    expect(t.got.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['no checkpoint restored (missing: p0: nothing written): rebuilding 1 partition from the committed offsets']);
    await t.ck.take('interval');
    expect(t.steps).toContain('snapshot 42');
  });
});
