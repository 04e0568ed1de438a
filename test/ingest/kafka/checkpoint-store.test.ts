/**
 * The checkpoint store against the real broker (docs/kafka.md, "Checkpoints"):
 * round trips small and chunked, several keys, the latest wins, what a crash
 * mid-write leaves on the topic (chunks without a manifest, a manifest with a
 * chunk missing, a corrupted chunk) falls back to the previous complete
 * checkpoint with the reason, format and rules refused, and a new store
 * instance (a restarted process) finds the latest.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CheckpointKey, CheckpointMeta } from '../../../src/ingest/checkpoint-store.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { chunkKey, encodeManifest, manifestKey, SEQ_HEADER, sha256, statePartition, STORE_FORMAT, type Slot } from '../../../src/ingest/kafka/checkpoint/format.js';
import { scanKey } from '../../../src/ingest/kafka/checkpoint/scan.js';
import { assemble } from '../../../src/ingest/kafka/checkpoint/slots.js';
import { KafkaCheckpointStore } from '../../../src/ingest/kafka/checkpoint/store.js';
import { createStateTopic } from '../../../src/ingest/kafka/checkpoint/topic.js';
import { createMetrics } from '../../../src/metrics/index.js';
import { deleteTestTopics, describeKafka, ROOT, uniqueGroup, uniqueTopics } from './helpers.js';

const EXPECT = { formatVersion: 1, rulesVersion: 'a1b2c3d4e5f6' };
const PARTITIONS = 2;

function meta(over: Partial<CheckpointMeta> = {}): CheckpointMeta {
  return { formatVersion: 1, rulesVersion: EXPECT.rulesVersion, offsets: { terminal: 10, gateway: 20, bank: 30 }, takenAtEventMs: 1_700_000_000_000, takenAtWallMs: Date.now(), ...over };
}

describeKafka('checkpoint store on a compacted topic', (env) => {
  const topic = uniqueTopics('ckpt').state;
  const made = [topic];
  let kafka: Kafka;
  let raw: Producer;
  const stores: KafkaCheckpointStore[] = [];
  const newStore = async (o: { chunkBytes?: number; topic?: string; observer?: ReturnType<typeof createMetrics>['checkpoint'] } = {}) => {
    const s = new KafkaCheckpointStore({ kafka, topic: o.topic ?? topic, chunkBytes: o.chunkBytes ?? 100_000, observer: o.observer });
    stores.push(s);
    await s.open();
    return s;
  };
  /** Records as a writer that crashed would have left them (no store involved). */
  const produce = (key: CheckpointKey, records: { key: string; value: Buffer | null; seq?: number }[]) => raw.send({
    topic, acks: -1,
    messages: records.map((r) => ({ key: r.key, value: r.value, partition: statePartition(key, PARTITIONS), headers: r.seq === undefined ? {} : { [SEQ_HEADER]: String(r.seq) } })),
  });
  const manifestOf = (key: CheckpointKey, slot: Slot, seq: number, payload: Buffer, chunks: number, over: Record<string, unknown> = {}) =>
    encodeManifest({ store: STORE_FORMAT, group: key.group, partition: key.partition, slot, seq, chunks, bytes: payload.length, sha256: sha256(payload), meta: meta(), ...over } as never);

  /** What each slot of `key` holds on the topic: [seq, payload] when complete, else the reason. */
  const slotsOnTopic = async (key: CheckpointKey) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const scan = await scanKey(kafka, admin, key, { topic, partition: statePartition(key, PARTITIONS), maxBytesPerPartition: 2 * 1024 * 1024, timeoutMs: 30_000 });
      const view = (slot: Slot) => {
        const a = assemble(key, slot, scan.records[slot]);
        return a === null ? null : a.ok ? [a.manifest.seq, a.payload.toString()] as const : a.rejection.reason;
      };
      return { a: view('a'), b: view('b') };
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    kafka = createKafka({ brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' });
    const admin = kafka.admin();
    await admin.connect();
    await createStateTopic(admin, topic, PARTITIONS, null);
    await admin.disconnect();
    raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await raw?.disconnect();
    await deleteTestTopics(env.brokers, made);
  });

  it('refuses to open on a missing topic with PG_STATE_TOPIC', async () => {
    const s = new KafkaCheckpointStore({ kafka, topic: `${topic}.missing` });
    await expect(s.open()).rejects.toMatchObject({ code: 'PG_STATE_TOPIC' });
    await s.close();
  });

  it('round-trips a small payload and its meta; a new store instance (a restart) finds it', async () => {
    const key = { group: uniqueGroup('small'), partition: 0 };
    const m = meta({ takenAtEventMs: 1_700_000_123_456 });
    const w = await (await newStore()).write(key, Buffer.from('engine state'), m);
    expect(w).toMatchObject({ seq: 1, bytes: 12, chunks: 1 });
    const r = await (await newStore()).readLatest(key, EXPECT);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.checkpoint.payload.toString()).toBe('engine state');
    expect(r.checkpoint.meta).toEqual(m);
    expect([r.checkpoint.seq, r.skipped]).toEqual([1, []]);
  });

  it('chunks 5 MB into 100 kB pieces and reads it back byte for byte', async () => {
    const key = { group: uniqueGroup('big'), partition: 1 };
    const payload = randomBytes(5 * 1024 * 1024);
    const w = await (await newStore({ chunkBytes: 100_000 })).write(key, payload, meta());
    expect(w.chunks).toBe(Math.ceil(payload.length / 100_000));
    const r = await (await newStore()).readLatest(key, EXPECT);
    expect(r.ok && r.checkpoint.payload.equals(payload)).toBe(true);
  }, 60_000);

  it('says where a checkpoint landed; a read from there finds it and anything newer, a read past it does not (what it skipped is not read)', async () => {
    const key = { group: uniqueGroup('from'), partition: 0 };
    const other = { group: key.group, partition: 2 };
    const store = await newStore({ chunkBytes: 5 });
    await store.write(key, Buffer.from('older state, three chunks'), meta());
    const second = await store.write(key, Buffer.from('second one'), meta());
    // Another key of the same state partition writes in between.
    await store.write(other, Buffer.from('noise'), meta());
    const third = await store.write(key, Buffer.from('third'), meta());
    expect(Number.isSafeInteger(second.offset)).toBe(true);
    expect(third.offset!).toBeGreaterThan(second.offset!);
    const read = (from: number) => newStore().then((s) => s.readLatest(key, EXPECT, from));
    const fromSecond = await read(second.offset!);
    expect(fromSecond.ok && [fromSecond.checkpoint.seq, fromSecond.checkpoint.payload.toString(), fromSecond.checkpoint.offset]).toEqual([3, 'third', third.offset]);
    expect(fromSecond.ok && [fromSecond.previous?.seq, fromSecond.previous?.offset]).toEqual([2, second.offset]);
    // From one past the second's first chunk: the second is not seen whole (its chunk 0 was skipped), the third is.
    const past = await read(second.offset! + 1);
    expect(past.ok && [past.checkpoint.seq, past.previous]).toEqual([3, null]);
    // From past everything: nothing.
    const none = await read(third.offset! + 10);
    expect(none.ok).toBe(false);
    // A segment says where it landed; a read of it starts there.
    const ref = await store.writeSegment({ group: key.group, partition: 0, epoch: 1, barrier: 1 }, [Buffer.from('segment bytes')]);
    expect(ref.offset!).toBeGreaterThan(third.offset!);
    const [seg] = await (await newStore()).readSegments([ref]);
    expect(seg.ok && seg.bytes.toString()).toBe('segment bytes');
    const [misplaced] = await (await newStore()).readSegments([{ ...ref, offset: ref.offset! + 1 }]);
    expect(misplaced.ok).toBe(false);
  }, 60_000);

  it('keeps keys apart (groups, partitions sharing a state partition) and the latest of each wins', async () => {
    const group = uniqueGroup('keys');
    const keys = [{ group, partition: 1 }, { group, partition: 3 }, { group: `${group}-other`, partition: 1 }];
    const store = await newStore({ chunkBytes: 4 });
    for (let round = 1; round <= 3; round++) {
      for (const [i, key] of keys.entries()) await store.write(key, Buffer.from(`key ${i} round ${round}`), meta());
    }
    const reader = await newStore();
    for (const [i, key] of keys.entries()) {
      const r = await reader.readLatest(key, EXPECT);
      expect(r.ok && [r.checkpoint.seq, r.checkpoint.payload.toString()]).toEqual([3, `key ${i} round 3`]);
    }
    // Slots alternate: the newest in one, the one before it complete in the other.
    expect(await slotsOnTopic(keys[1])).toEqual({ a: [3, 'key 1 round 3'], b: [2, 'key 1 round 2'] });
  }, 60_000);

  it('chunks written without their manifest (a crash mid-write) leave the previous checkpoint; the next write completes', async () => {
    const key = { group: uniqueGroup('crash'), partition: 0 };
    const store = await newStore({ chunkBytes: 5 });
    await store.write(key, Buffer.from('first checkpoint'), meta());
    await store.write(key, Buffer.from('second checkpoint'), meta());
    // Checkpoint 3 goes to slot a (b holds 2): its chunks land, the manifest never does.
    await produce(key, [0, 1, 2].map((i) => ({ key: chunkKey(key, 'a', i), value: Buffer.from(`third-${i}`), seq: 3 })));
    const r = await (await newStore()).readLatest(key, EXPECT);
    expect(r.ok && [r.checkpoint.seq, r.checkpoint.payload.toString()]).toEqual([2, 'second checkpoint']);
    // A restarted writer learns where the slots stand and overwrites the broken slot, not the good one.
    const next = await (await newStore({ chunkBytes: 5 })).write(key, Buffer.from('fourth'), meta());
    expect(next.seq).toBe(3);
    const after = await (await newStore()).readLatest(key, EXPECT);
    expect(after.ok && [after.checkpoint.seq, after.checkpoint.payload.toString(), after.skipped]).toEqual([3, 'fourth', []]);
    // On the topic: the new checkpoint in slot a, and the previous one still complete in slot b (the fallback of the next crash).
    expect(await slotsOnTopic(key)).toEqual({ a: [3, 'fourth'], b: [2, 'second checkpoint'] });
  }, 60_000);

  it('SIGKILL of the writing process mid-write (chunks on the topic, no manifest): the previous checkpoint; a restarted writer completes the next', async () => {
    const key = { group: uniqueGroup('sigkill'), partition: 0 };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/ingest/kafka/checkpoint-crash-child.ts')], {
      cwd: ROOT, env: { ...process.env, CKPT_BROKERS: env.brokers, CKPT_TOPIC: topic, CKPT_GROUP: key.group, POSGUARD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const exited = new Promise<string | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)));
    await new Promise<void>((res, rej) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('MID-WRITE')) res();
      });
      void exited.then(() => rej(new Error(`the writer exited before MID-WRITE: ${out}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).toContain('TWO-DONE');
    // The crash really was mid-write: slot a holds chunks of checkpoint 3 under the manifest of checkpoint 1.
    const admin = kafka.admin();
    await admin.connect();
    const scan = await scanKey(kafka, admin, key, { topic, partition: statePartition(key, PARTITIONS), maxBytesPerPartition: 2 * 1024 * 1024, timeoutMs: 30_000 });
    await admin.disconnect();
    const third = [...scan.records.a.chunks.values()].filter((c) => c.seq === 3).length;
    expect(third).toBeGreaterThanOrEqual(20);
    expect(third).toBeLessThan(Math.ceil((5 * 1024 * 1024) / 100_000));
    const r = await (await newStore()).readLatest(key, EXPECT);
    expect(r.ok && [r.checkpoint.seq, r.checkpoint.payload.toString(), r.skipped]).toEqual([2, 'second', []]);
    await (await newStore()).write(key, Buffer.from('after the crash'), meta());
    expect(await slotsOnTopic(key)).toEqual({ a: [3, 'after the crash'], b: [2, 'second'] });
  }, 90_000);

  it('a manifest naming a chunk that is missing: the previous checkpoint, with the reason', async () => {
    const key = { group: uniqueGroup('gap'), partition: 1 };
    const store = await newStore({ chunkBytes: 100 });
    await store.write(key, Buffer.from('one'), meta());
    await store.write(key, Buffer.from('two'), meta());
    const payload = Buffer.from('AAAABBBBCCCCDDDD');
    await produce(key, [0, 1, 3].map((i) => ({ key: chunkKey(key, 'a', i), value: payload.subarray(i * 4, i * 4 + 4), seq: 3 })));
    await produce(key, [{ key: manifestKey(key, 'a'), value: manifestOf(key, 'a', 3, payload, 4) }]);
    const r = await (await newStore()).readLatest(key, EXPECT);
    expect(r.ok && r.checkpoint.payload.toString()).toBe('two');
    expect(r.skipped).toEqual([{ reason: 'corrupt', seq: 3, detail: 'slot a, checkpoint 3: chunk 2 of 4 is missing' }]);
  }, 60_000);

  it('a corrupted chunk fails the sha256: the previous checkpoint, with the reason', async () => {
    const key = { group: uniqueGroup('flip'), partition: 0 };
    const store = await newStore({ chunkBytes: 100 });
    await store.write(key, Buffer.from('one'), meta());
    await store.write(key, Buffer.from('two'), meta());
    const payload = Buffer.from('the third state');
    const flipped = Buffer.from(payload);
    flipped[4] ^= 0x01;
    await produce(key, [{ key: chunkKey(key, 'a', 0), value: flipped, seq: 3 }, { key: manifestKey(key, 'a'), value: manifestOf(key, 'a', 3, payload, 1) }]);
    const r = await (await newStore()).readLatest(key, EXPECT);
    expect(r.ok && r.checkpoint.payload.toString()).toBe('two');
    expect(r.skipped.map((s) => [s.reason, s.seq])).toEqual([['corrupt', 3]]);
    expect(r.skipped[0].detail).toContain('sha256');
  }, 60_000);

  it('refuses another state format, another store format and other rules, saying which', async () => {
    const store = await newStore();
    const fmt = { group: uniqueGroup('fmt'), partition: 0 };
    await store.write(fmt, Buffer.from('v2 state'), meta({ formatVersion: 2 }));
    const r1 = await store.readLatest(fmt, EXPECT);
    expect(r1.ok ? 'ok' : [r1.reason, r1.detail]).toEqual(['incompatible_format', 'checkpoint 1: state format 2, this posguard reads 1']);
    const rules = { group: uniqueGroup('rules'), partition: 1 };
    await store.write(rules, Buffer.from('state'), meta({ rulesVersion: 'ffffffffffff' }));
    const r2 = await store.readLatest(rules, EXPECT);
    expect(r2.ok ? 'ok' : [r2.reason, r2.detail]).toEqual(['different_rules', `checkpoint 1: taken under rules ffffffffffff, the rules now are ${EXPECT.rulesVersion}`]);
    const envelope = { group: uniqueGroup('envelope'), partition: 0 };
    await produce(envelope, [{ key: chunkKey(envelope, 'a', 0), value: Buffer.from('x'), seq: 1 }, { key: manifestKey(envelope, 'a'), value: manifestOf(envelope, 'a', 1, Buffer.from('x'), 1, { store: STORE_FORMAT + 1 }) }]);
    const r3 = await store.readLatest(envelope, EXPECT);
    expect(r3.ok ? 'ok' : [r3.reason, r3.detail]).toEqual(['incompatible_format', `slot a: store format ${STORE_FORMAT + 1}, this posguard reads ${STORE_FORMAT}`]);
    const none = await store.readLatest({ group: uniqueGroup('none'), partition: 1 }, EXPECT);
    expect(none.ok ? 'ok' : none.reason).toBe('missing');
  }, 60_000);

  it('feeds the checkpoint metrics: writes, size, age, reads by result', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, processDefaults: false });
    const store = await newStore({ observer: metrics.checkpoint });
    const key = { group: uniqueGroup('metrics'), partition: 1 };
    await store.write(key, Buffer.alloc(1234), meta({ takenAtWallMs: Date.now() - 5_000 }));
    await store.readLatest(key, EXPECT);
    await store.readLatest({ group: uniqueGroup('metrics-none'), partition: 0 }, EXPECT);
    const text = await registry.metrics();
    expect(text).toContain('posguard_checkpoint_writes_total{result="ok"} 1');
    expect(text).toContain('posguard_checkpoint_size_bytes{partition="1"} 1234');
    expect(text).toContain('posguard_checkpoint_reads_total{result="ok"} 1');
    expect(text).toContain('posguard_checkpoint_reads_total{result="missing"} 1');
    expect(text).toContain('posguard_checkpoint_duration_seconds_count{operation="write"} 1');
    expect(text).toContain('posguard_checkpoint_duration_seconds_count{operation="read"} 2');
    const age = Number(/posguard_checkpoint_age_seconds\{partition="1"\} ([\d.]+)/.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(5);
    expect(age).toBeLessThan(60);
  }, 60_000);

  it('a write the broker refuses rejects with PG_KAFKA (never resolves as durable), is counted, and the previous checkpoint stays the latest', async () => {
    const strict = `${topic}.strict`;
    made.push(strict);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: strict, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const registry = new Registry();
    const metrics = createMetrics({ registry, processDefaults: false });
    const store = await newStore({ topic: strict, chunkBytes: 50_000, observer: metrics.checkpoint });
    const key = { group: uniqueGroup('refused'), partition: 0 };
    await store.write(key, Buffer.from('good'), meta());
    // (AlterConfigs replaces the topic's whole configuration, hence the policy again.)
    // The topic's limit drops below the chunk size the store learnt at open: the broker refuses the next chunks.
    const limit = (value: string) => admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: strict, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'max.message.bytes', value }] }] });
    await limit('10000');
    await expect(store.write(key, randomBytes(200_000), meta())).rejects.toMatchObject({ code: 'PG_KAFKA' });
    await limit('1048588');
    const r = await (await newStore({ topic: strict })).readLatest(key, EXPECT);
    expect(r.ok && [r.checkpoint.seq, r.checkpoint.payload.toString()]).toEqual([1, 'good']);
    // The same store goes on with the next checkpoint.
    expect((await store.write(key, Buffer.from('better'), meta())).seq).toBe(2);
    await admin.disconnect();
    const text = await registry.metrics();
    expect(text).toContain('posguard_checkpoint_writes_total{result="failed"} 1');
    expect(text).toContain('posguard_checkpoint_writes_total{result="ok"} 2');
  }, 90_000);

  it('after the log cleaner compacted the topic, the latest checkpoint is still complete', async () => {
    const eager = `${topic}.eager`;
    made.push(eager);
    const admin = kafka.admin();
    await admin.connect();
    // Segments roll on every append after 100 ms and any dirt is cleanable: the cleaner works as hard as it can.
    const config = { 'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '100', 'min.compaction.lag.ms': '0' };
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: eager, numPartitions: 1, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }] });
    const store = await newStore({ topic: eager, chunkBytes: 10 });
    const key = { group: uniqueGroup('compacted'), partition: 0 };
    const sizes = [95, 23, 61, 18, 40, 77, 12, 55];
    for (const [i, n] of sizes.entries()) {
      await store.write(key, Buffer.from(`${i}`.padEnd(n, '.')), meta());
      await new Promise((r) => setTimeout(r, 150));
    }
    const written = sizes.reduce((s, n) => s + Math.ceil(n / 10) + 1, 0);
    const scan = async () => scanKey(kafka, admin, key, { topic: eager, partition: 0, maxBytesPerPartition: 1024 * 1024, timeoutMs: 30_000 });
    let read = (await scan()).recordsRead;
    for (let waited = 0; read >= written * 0.6 && waited < 60_000; waited += 2_000) {
      await new Promise((r) => setTimeout(r, 2_000));
      read = (await scan()).recordsRead;
    }
    await admin.disconnect();
    expect(read, 'the cleaner removed overwritten records').toBeLessThan(written * 0.6);
    const r = await (await newStore({ topic: eager })).readLatest(key, EXPECT);
    expect(r.ok && [r.checkpoint.seq, r.checkpoint.payload.length, r.skipped]).toEqual([8, 55, []]);
  }, 120_000);

  it('cuts chunks to the topic\'s max.message.bytes, so a large checkpoint is accepted', async () => {
    const small = `${topic}.small`;
    made.push(small);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: small, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'max.message.bytes', value: '200000' }] }] });
    await admin.disconnect();
    const store = await newStore({ topic: small, chunkBytes: 10_000_000 });
    expect(store.chunkBytes).toBe(200_000 - 16 * 1024);
    const key = { group: uniqueGroup('limit'), partition: 0 };
    const payload = randomBytes(1024 * 1024);
    expect((await store.write(key, payload, meta())).chunks).toBe(Math.ceil(payload.length / store.chunkBytes));
    const r = await store.readLatest(key, EXPECT);
    expect(r.ok && r.checkpoint.payload.equals(payload)).toBe(true);
  }, 60_000);
});
