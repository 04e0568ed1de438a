/**
 * The restore decision (runtime/kafka/checkpoint/restore.ts) and the state
 * encoding: which checkpoints a start may use, and everything else falls
 * back to the rebuild (never a wrong state).
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RebuildPlan } from '../../src/ingest/kafka/rebuild.js';
import { decodeMeta, encodeMeta } from '../../src/ingest/kafka/offsets.js';
import { decideRestore, readCheckpoints } from '../../src/runtime/kafka/checkpoint/restore.js';
import type { CheckpointStore } from '../../src/ingest/checkpoint-store.js';
import { withStateFrom } from '../../src/runtime/kafka/checkpoint/snapshot.js';
import { decodeState, encodeState, STATE_FORMAT, type StateRecord } from '../../src/runtime/kafka/checkpoint/state.js';

const offs = (n: number) => ({ terminal: n, gateway: n + 1, bank: n + 2 });

function plan(p: number, o: Partial<RebuildPlan> = {}): RebuildPlan {
  return { p, epoch: 3, floor: 1000, starts: offs(10), checkpoint: { epoch: 2, barrier: 7 }, committed: offs(50), logStart: offs(0), ...o };
}

function record(p: number, o: Partial<StateRecord> = {}, partitions = [0, 1]): StateRecord {
  const process = p === Math.min(...partitions) ? { partitions, cardStage: {}, sharedDuplicates: {}, attemptTable: null, ledger: [] } : null;
  return { v: STATE_FORMAT, barrier: 7, epoch: 2, task: {} as StateRecord['task'], engineId: p, engine: {}, faultSpikes: {}, process, ...o };
}

const segment = (barrier: number) => ({ group: 'g', partition: 0, epoch: 2, barrier, bytes: 10, chunks: 1, sha256: '0'.repeat(64) });
/** A read record; the lowest partition's names a chain ending at its barrier. */
const read = (p: number, rec: StateRecord, at = offs(50), chain = rec.process === null ? null : [segment(rec.barrier - 1), segment(rec.barrier)]) =>
  ({ ok: true as const, value: { p, record: rec, chain, offsets: at } });

describe('checkpoint restore decision', () => {
  it('restores the checkpoint the commits name: starts at its positions, claims it with the rebuild offsets kept', () => {
    const d = decideRestore([plan(1), plan(0)], [read(1, record(1)), read(0, record(0))]);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.barrier).toBe(7);
    expect(d.plans.map((pl) => pl.p)).toEqual([0, 1]);
    expect(d.plans[0].starts).toEqual(offs(50));
    // The store said nowhere where the records lie: a later restore reads the state partitions whole.
    expect(d.plans[0].resume).toEqual({ checkpoint: { epoch: 2, barrier: 7 }, rebuildFrom: offs(10), stateFrom: null });
    expect(d.plans[0].epoch).toBe(3);
  });

  it('claims with each partition\'s state position: its record, and for the writer the chain\'s base when that lies lower', () => {
    const withOffsets = (r: ReturnType<typeof read>, offset: number, chainAt: number[] = []) =>
      ({ ...r, value: { ...r.value, offset, chain: r.value.chain?.map((s, i) => ({ ...s, offset: chainAt[i] })) ?? null } });
    const d = decideRestore([plan(0), plan(1)], [withOffsets(read(0, record(0)), 900, [400, 700]), withOffsets(read(1, record(1)), 35)]);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.plans.map((pl) => pl.resume?.stateFrom)).toEqual([400, 35]);
    // A segment the store did not place: the writer's partition is read whole.
    const e = decideRestore([plan(0), plan(1)], [withOffsets(read(0, record(0)), 900, [400]), withOffsets(read(1, record(1)), 35)]);
    expect(e.ok && e.plans.map((pl) => pl.resume?.stateFrom)).toEqual([null, 35]);
  });

  it('reads each partition from the state position its commit names; without a checkpoint named, from the start', async () => {
    const asked: [number, number | null | undefined][] = [];
    const store = {
      readLatest: async (key: { partition: number }, _e: unknown, from?: number | null) => {
        asked.push([key.partition, from]);
        return { ok: false, reason: 'missing', detail: 'none', skipped: [] };
      },
    } as unknown as CheckpointStore;
    await readCheckpoints(store, 'g', [plan(0, { stateFrom: 400 }), plan(1, { stateFrom: null }), plan(2, { checkpoint: null, stateFrom: 7 })], { formatVersion: STATE_FORMAT, rulesVersion: 'r' });
    expect(asked).toEqual([[0, 400], [1, null], [2, null]]);
  });

  it('a barrier\'s commit carries each partition\'s state position once its records are written (none where the store did not say)', () => {
    let committed = 0;
    const meta = encodeMeta({ floor: 5, epoch: 2, ck: { epoch: 2, barrier: 9 }, rebuildFrom: 3 });
    const entry = (partition: number) => ({ topic: 't', partition, offset: 40, floor: 5, metadata: meta });
    const plan = withStateFrom({ entries: [entry(0), entry(1), entry(2)], committed: () => void committed++, current: () => true }, new Map([[0, 400], [1, null]]));
    expect(plan.entries.map((e) => decodeMeta(e.metadata)?.stateFrom)).toEqual([400, null, null]);
    expect(decodeMeta(plan.entries[0].metadata)).toEqual({ ...decodeMeta(meta), stateFrom: 400 });
    plan.committed();
    expect(committed).toBe(1);
  });

  it('restores a newer checkpoint of the last owner whose commit did not happen (crash between write and commit)', () => {
    const d = decideRestore([plan(0), plan(1)], [read(0, record(0, { barrier: 8 })), read(1, record(1, { barrier: 8 }))]);
    expect(d.ok && d.barrier).toBe(8);
  });

  it('ignores a zombie\'s late write (an older epoch than the one claimed) and a barrier that did not complete everywhere', () => {
    const zombie = decideRestore([plan(0, { epoch: 4 }), plan(1, { epoch: 4 })], [read(0, record(0, { barrier: 8 })), read(1, record(1, { barrier: 8 }))]);
    expect(zombie).toMatchObject({ ok: false, reason: 'fenced' });
    const torn = decideRestore([plan(0), plan(1)], [read(0, record(0, { barrier: 8 })), read(1, record(1))]);
    expect(torn).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(!torn.ok && torn.detail).toContain('barrier 7, p0 has 8');
  });

  it('restores the barrier before a torn one from the partitions\' other slots, and only that barrier', () => {
    // The process died writing barrier 8: p0's record landed, p1's did not; p0 still holds 7 in its other slot.
    const withPrevious = (p: number, newest: StateRecord, previous: StateRecord | null) => {
      const r = read(p, newest);
      return { ...r, value: { ...r.value, previous: previous === null ? null : read(p, previous, offs(40)).value } };
    };
    const d = decideRestore([plan(0), plan(1)], [withPrevious(0, record(0, { barrier: 8 }), record(0)), withPrevious(1, record(1), record(1, { barrier: 6 }))]);
    expect(d).toMatchObject({ ok: true, barrier: 7, torn: 8 });
    if (!d.ok) return;
    expect(d.records.get(0)!.barrier).toBe(7);
    expect(d.records.get(1)!.barrier).toBe(7);
    expect(d.plans[0].starts).toEqual(offs(40)); // p0's positions are its barrier-7 checkpoint's
    expect(d.plans[1].starts).toEqual(offs(50));
    expect(d.chain.at(-1)!.barrier).toBe(7);
    // Nothing torn: the newest, torn null.
    expect(decideRestore([plan(0), plan(1)], [withPrevious(0, record(0), record(0, { barrier: 6 })), withPrevious(1, record(1), null)])).toMatchObject({ ok: true, barrier: 7, torn: null });
    // Two barriers apart: the other slot does not hold the lowest one either, a fallback as before.
    const apart = decideRestore([plan(0), plan(1)], [withPrevious(0, record(0, { barrier: 9 }), record(0, { barrier: 8 })), withPrevious(1, record(1), null)]);
    expect(apart).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('falls back when the partitions differ, a position was deleted by retention, or any read failed', () => {
    const other = decideRestore([plan(0), plan(1)], [read(0, record(0, {}, [0, 1, 2])), read(1, record(1, {}, [0, 1, 2]))]);
    expect(other).toMatchObject({ ok: false, reason: 'mismatch' });
    const low = decideRestore([plan(0, { logStart: { terminal: 0, gateway: 60, bank: 0 } }), plan(1)], [read(0, record(0)), read(1, record(1))]);
    expect(low).toMatchObject({ ok: false, reason: 'below_log_start' });
    const corrupt = decideRestore([plan(0), plan(1)], [read(0, record(0)), { ok: false, reason: 'corrupt', detail: 'p1: chunk 2 of 4 is missing' }]);
    expect(corrupt).toEqual({ ok: false, reason: 'corrupt', detail: 'p1: chunk 2 of 4 is missing' });
  });
});

describe('checkpoint state encoding', () => {
  it('round-trips a record with its chain manifest (or none) and refuses another STATE_FORMAT or garbage', () => {
    const r = record(0);
    const chain = [segment(6), segment(7)];
    expect(decodeState(encodeState(r, chain))).toEqual({ record: r, chain });
    expect(decodeState(encodeState(r, null))).toEqual({ record: r, chain: null });
    // A format-1 payload (the record alone, as before the chain) is refused, as is a future one.
    expect(() => decodeState(deflateSync(Buffer.from(JSON.stringify({ ...r, v: 1 }))))).toThrow(/format/);
    expect(() => decodeState(deflateSync(Buffer.from(JSON.stringify({ v: STATE_FORMAT + 1, chain, record: { ...r, v: STATE_FORMAT + 1 } }))))).toThrow(/format/);
    expect(() => decodeState(deflateSync(Buffer.from(JSON.stringify({ v: STATE_FORMAT, chain: [{ ...segment(7), sha256: 'x' }], record: r }))))).toThrow(/chain/);
    expect(() => decodeState(Buffer.from('not deflated'))).toThrow();
  });

  it('refuses as corrupt a lowest record without a chain, or with a chain that ends at another barrier', () => {
    const none = decideRestore([plan(0), plan(1)], [read(0, record(0), offs(50), null), read(1, record(1))]);
    expect(none).toMatchObject({ ok: false, reason: 'corrupt', detail: 'p0: the chain manifest is missing' });
    const behind = decideRestore([plan(0), plan(1)], [read(0, record(0), offs(50), [segment(5), segment(6)]), read(1, record(1))]);
    expect(behind).toMatchObject({ ok: false, reason: 'corrupt', detail: 'p0: the chain manifest ends at barrier 6, the record is of 7' });
    const ok = decideRestore([plan(0), plan(1)], [read(0, record(0)), read(1, record(1))]);
    expect(ok.ok && ok.chain.map((c) => c.barrier)).toEqual([6, 7]);
  });
});
