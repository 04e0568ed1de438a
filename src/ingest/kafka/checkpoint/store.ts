/**
 * `CheckpointStore` on a compacted Kafka topic (docs/kafka.md, "Checkpoints").
 *
 * write(): into the slot that does not hold the latest complete checkpoint,
 * the chunks (and tombstones for chunk indices the slot no longer needs),
 * then the manifest naming their count and sha256; each send acknowledged by
 * every in-sync replica (idempotent producer, acks=all), so write() resolves
 * only once the checkpoint is durable. A crash before the manifest leaves the
 * slot unreadable and the other slot, the previous checkpoint, as the latest.
 * readLatest(): scans the key's partition and returns the newest slot whose
 * manifest and chunks all match (format/slots.ts); the same pass keeps the
 * chunks of the group's segments there for the readSegments of the restore
 * (kept.ts), which reads them once instead of scanning the partition again.
 *
 * Operations on one key are serialised; keys are independent. Bounded: per key
 * known to this process, a few numbers (where its slots are); a read holds at
 * most the two slots of one key.
 *
 * Segments of a checkpoint chain (segments.ts): writeSegment streams pieces
 * into chunks, holding one record batch; readSegments holds the chunks of the
 * segments asked for (a chain: about twice its base, deflated); listSegments
 * a few numbers per segment found; deleteSegments sends tombstones. Kept
 * between a readLatest and the readSegments after it: at most the segments of
 * one group present in one state partition (kept.ts).
 */
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { PosguardError } from '../../../errors.js';
import { logger, type Logger } from '../../../util/log.js';
import type {
  CheckpointExpectation, CheckpointKey, CheckpointMeta, CheckpointObserver, CheckpointStore, CheckpointWritten, ReadLatestResult, SegmentId, SegmentListing, SegmentRead, SegmentRef,
} from '../../checkpoint-store.js';
import { kafkaCall } from '../topics.js';
import { chunkKey, chunksOf, encodeManifest, manifestKey, otherSlot, SEQ_HEADER, sha256, STORE_FORMAT, statePartition, type Slot } from './format.js';
import { endOffset, scanKey, scanPartition, type ScanOptions, type ScanResult } from './scan.js';
import { KeptSegments, keptChunksOf, type KeptChunks } from './kept.js';
import { assembleSegment, chunkStream, SegmentCollector, segmentChunkKey, SegmentLister } from './segments.js';
import { chooseLatest, type WriterState } from './slots.js';
import { testHoldBeforeManifest } from './test-hold.js';
import { checkStateTopic, type StateTopicInfo } from './topic.js';

export interface KafkaCheckpointStoreOptions {
  /** A kafkajs client (ingest/kafka/client.ts createKafka). */
  readonly kafka: Kafka;
  /** The state topic (run config topics.state). */
  readonly topic: string;
  /** Largest chunk in bytes; clamped to the topic's max.message.bytes less 16 KiB for keys and headers. Default: that. */
  readonly chunkBytes?: number;
  /** Longest a read may take. Default 60 s. */
  readonly readTimeoutMs?: number;
  readonly observer?: CheckpointObserver;
  readonly log?: Logger;
  readonly now?: () => number;
}

/** Room left in a record batch for record keys, headers and framing. */
const BATCH_MARGIN_BYTES = 16 * 1024;
/**
 * A scan's fetch size per partition (at least the topic's largest batch): a fetch of one message's worth
 * read a 287 MB chain in ~290 round trips, 7.5 s; 32 MiB: 3.9 s (64 MiB: 3.8 s). Memory: one fetch per scan being decoded.
 */
const SCAN_FETCH_BYTES = 32 * 1024 * 1024;
/** A read that found nothing usable while the partition grew is retried this often (a writer raced the scan). */
const READ_ATTEMPTS = 3;

type State = 'created' | 'opening' | 'open' | 'closing' | 'closed';

const NO_EXPECTATION: CheckpointExpectation = { formatVersion: -1, rulesVersion: '' };

export class KafkaCheckpointStore implements CheckpointStore {
  private state: State = 'created';
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private info: StateTopicInfo | null = null;
  private readonly writers = new Map<string, WriterState>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Segment chunks the last readLatest scan passed over, for the restore's readSegments. */
  private readonly kept = new KeptSegments();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: KafkaCheckpointStoreOptions) {
    this.log = o.log ?? logger().child({ component: 'checkpoint' });
    this.now = o.now ?? Date.now;
  }

  /** The chunk size in force (after open). */
  get chunkBytes(): number {
    const limit = (this.info?.maxMessageBytes ?? 1_048_588) - BATCH_MARGIN_BYTES;
    return Math.max(1, Math.min(this.o.chunkBytes ?? limit, limit));
  }

  async open(): Promise<void> {
    if (this.state !== 'created') throw new PosguardError('PG_INTERNAL', `checkpoint store: open() when ${this.state}`);
    this.state = 'opening';
    this.admin = this.o.kafka.admin();
    await kafkaCall('connect', () => this.admin!.connect());
    this.info = await checkStateTopic(this.admin, this.o.topic);
    this.producer = this.o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await kafkaCall('connect the checkpoint producer', () => this.producer!.connect());
    this.state = 'open';
    this.log.info(`checkpoints in ${this.o.topic}: ${this.info.partitions} partitions, max.message.bytes ${this.info.maxMessageBytes}, chunks of ${this.chunkBytes} bytes`);
  }

  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    // Operations already queued finish; new ones are refused.
    this.state = 'closing';
    await Promise.allSettled([...this.queues.values()]);
    this.kept.drop();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.state = 'closed';
  }

  write(key: CheckpointKey, payload: Uint8Array, meta: CheckpointMeta): Promise<CheckpointWritten> {
    return this.serial(key, async () => {
      const started = this.now();
      try {
        const w = await this.writeOnce(key, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), meta, started);
        this.o.observer?.written({ partition: key.partition, bytes: w.bytes, chunks: w.chunks, durationMs: w.durationMs, takenAtWallMs: meta.takenAtWallMs });
        return w;
      } catch (e) {
        // What reached the topic is unknown: learn it again before the next write of this key.
        this.writers.delete(mapKey(key));
        this.o.observer?.writeFailed({ partition: key.partition });
        throw e;
      }
    });
  }

  readLatest(key: CheckpointKey, expect: CheckpointExpectation, from?: number | null): Promise<ReadLatestResult> {
    return this.serial(key, async () => {
      const started = this.now();
      const result = await this.read(key, expect, true, from ?? null);
      // A restore with a partition lacking a usable checkpoint falls back: it reads no chain, so what was kept goes now.
      if (!result.ok) this.kept.drop();
      const ok = result.ok ? result.checkpoint : null;
      this.o.observer?.read({
        partition: key.partition, result: result.ok ? 'ok' : result.reason, skipped: result.skipped.map((s) => s.reason),
        durationMs: this.now() - started, bytes: ok?.payload.length ?? 0, takenAtWallMs: ok?.meta.takenAtWallMs ?? null,
      });
      this.report(key, result);
      return result;
    });
  }

  writeSegment(id: SegmentId, pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<SegmentRef> {
    return this.serial(segmentLane(id), async () => {
      const partition = statePartition(id, this.ready().info.partitions);
      // One record batch at a time: the segment is never held whole here.
      let batch: Message[] = [];
      let held = 0;
      // Where the first batch landed, and only the first: a later batch's offset would skip the chunks before it.
      let offset: number | null | undefined;
      const send = async () => {
        const at = await this.sendAll(batch);
        if (offset === undefined) offset = at;
      };
      const budget = this.ready().info.maxMessageBytes - 1024;
      const total = await chunkStream(pieces, this.chunkBytes, async (value, i) => {
        if (held + value.length > budget) {
          await send();
          batch = [];
          held = 0;
        }
        batch.push({ key: segmentChunkKey(id, i), value, partition });
        held += value.length + 256;
      });
      await send();
      return offset == null ? { ...id, ...total } : { ...id, ...total, offset };
    });
  }

  async readSegments(refs: readonly SegmentRef[]): Promise<SegmentRead[]> {
    if (refs.length === 0) return [];
    const { admin, info } = this.ready();
    const bySp = new Map<number, SegmentRef[]>();
    for (const r of refs) {
      const sp = statePartition(r, info.partitions);
      bySp.set(sp, [...(bySp.get(sp) ?? []), r]);
    }
    // Taken whatever happens: what a readLatest kept serves only the readSegments of its restore.
    const kept = this.kept.take();
    // One scan per state partition holding any of them (a chain's segments all share one).
    const per = await Promise.all([...bySp].map(([partition, mine]) => this.segmentsIn(partition, mine, kept?.partition === partition ? kept : null)));
    const byName = new Map(per.flat().map((r) => [mapKey(segmentLane(r.ref)), r]));
    return refs.map((r) => byName.get(mapKey(segmentLane(r)))!);
  }

  /**
   * The segments `mine` of state partition `partition`: from what a readLatest
   * scan kept when it holds each of them and the partition has not grown since
   * (a scan now would read the same records), else by a scan.
   */
  private async segmentsIn(partition: number, mine: readonly SegmentRef[], kept: KeptChunks | null): Promise<SegmentRead[]> {
    const { admin } = this.ready();
    const chunks = kept === null ? null : keptChunksOf(kept, mine);
    if (chunks !== null && (await endOffset(admin, this.o.topic, partition)).high === kept!.endOffset) return mine.map((r, i) => assembleSegment(r, chunks[i]));
    const got = new SegmentCollector(mine);
    // Each segment's chunks lie at or above where its first one landed (when the ref says).
    const from = mine.every((r) => r.offset !== undefined) ? Math.min(...mine.map((r) => r.offset!)) : null;
    await scanPartition(this.o.kafka, admin, mine[0].group, this.scanOptions(partition, from), (m) => got.apply(m));
    return got.result(mine);
  }

  async listSegments(group: string, partition: number, before?: number): Promise<SegmentListing[]> {
    const { admin, info } = this.ready();
    const found = new SegmentLister(group, partition);
    const o = this.scanOptions(statePartition({ group, partition }, info.partitions));
    await scanPartition(this.o.kafka, admin, group, before === undefined ? o : { ...o, until: before }, (m) => found.apply(m));
    return found.result();
  }

  async deleteSegments(refs: readonly SegmentListing[]): Promise<void> {
    if (refs.length === 0) return;
    const { info } = this.ready();
    const tombstones: Message[] = [];
    for (const r of refs) for (let i = 0; i < r.chunks; i++) tombstones.push({ key: segmentChunkKey(r, i), value: null, partition: statePartition(r, info.partitions) });
    await this.sendAll(tombstones);
  }

  private report(key: CheckpointKey, r: ReadLatestResult): void {
    const what = `checkpoint of ${key.group}/${key.partition}`;
    if (r.ok && r.skipped.length > 0) this.log.warn(`${what}: using checkpoint ${r.checkpoint.seq}, passed over a newer one: ${r.skipped.map((s) => `${s.reason} (${s.detail})`).join('; ')}`);
    else if (!r.ok && r.reason !== 'missing') this.log.warn(`${what}: none usable: ${r.reason} (${r.detail})`);
  }

  /**
   * `keep`: keep the group's segment chunks the scan passes over (a restore's readLatest; not a writer learning its slots).
   * `from`: scan from there. What a writer must know (every chunk index of both slots) may lie below, so such a
   * read teaches the writer nothing: its first write learns from a whole scan.
   */
  private async read(key: CheckpointKey, expect: CheckpointExpectation, keep: boolean, from: number | null): Promise<ReadLatestResult> {
    const { admin, info } = this.ready();
    const partition = statePartition(key, info.partitions);
    for (let attempt = 1; ; attempt++) {
      const scan = await this.scanOnce(key, partition, keep, from);
      const { result, writer } = chooseLatest(key, scan.records, expect);
      if (from === null) this.writers.set(mapKey(key), writer);
      if (result.ok || attempt >= READ_ATTEMPTS) return result;
      // Compaction may have removed records the scan was about to read, their newer versions lying past its end.
      if ((await endOffset(admin, this.o.topic, partition)).high === scan.endOffset) return result;
    }
  }

  /** One scan of the key's records; `keep`: the group's segment chunks it passes over are kept as well (kept.ts). */
  private async scanOnce(key: CheckpointKey, partition: number, keep: boolean, from: number | null): Promise<ScanResult> {
    const { admin } = this.ready();
    if (!keep) return scanKey(this.o.kafka, admin, key, this.scanOptions(partition, from));
    const keeping = this.kept.scan(partition, key.group);
    let end: number | null = null;
    try {
      const scan = await scanKey(this.o.kafka, admin, key, this.scanOptions(partition, from), (m) => keeping.apply(m));
      end = scan.endOffset;
      return scan;
    } finally {
      keeping.end(end);
    }
  }

  private async writeOnce(key: CheckpointKey, payload: Buffer, meta: CheckpointMeta, started: number): Promise<CheckpointWritten> {
    const { info } = this.ready();
    const w = this.writers.get(mapKey(key)) ?? (await this.learn(key));
    const slot: Slot = w.completeSlot === null ? 'a' : otherSlot(w.completeSlot);
    const seq = w.maxSeq + 1;
    const partition = statePartition(key, info.partitions);
    const chunks = chunksOf(payload, this.chunkBytes);
    const records: Message[] = chunks.map((value, i) => ({ key: chunkKey(key, slot, i), value, headers: { [SEQ_HEADER]: String(seq) }, partition }));
    for (let i = chunks.length; i < w.chunkSpan[slot]; i++) records.push({ key: chunkKey(key, slot, i), value: null, partition });
    const offset = await this.sendAll(records);
    await testHoldBeforeManifest(`${key.group}/${key.partition}`);
    const manifest = encodeManifest({
      store: STORE_FORMAT, group: key.group, partition: key.partition, slot, seq, chunks: chunks.length, bytes: payload.length, sha256: sha256(payload), meta,
    });
    await this.sendAll([{ key: manifestKey(key, slot), value: manifest, partition }]);
    this.writers.set(mapKey(key), { maxSeq: seq, completeSlot: slot, chunkSpan: { ...w.chunkSpan, [slot]: chunks.length } });
    return { seq, bytes: payload.length, chunks: chunks.length, durationMs: this.now() - started, offset };
  }

  /** Where a key's slots stand, from the topic (first write of a key in this process). */
  private async learn(key: CheckpointKey): Promise<WriterState> {
    await this.read(key, NO_EXPECTATION, false, null);
    return this.writers.get(mapKey(key))!;
  }

  /**
   * Sends in record batches that fit the topic's limit, each acknowledged by all in-sync replicas.
   * Returns the offset the first record got (null when none was sent or the broker did not say).
   */
  private async sendAll(records: readonly Message[]): Promise<number | null> {
    const { producer, info } = this.ready();
    // Kept chunks of a partition written to are stale (and no restore reads a chain while this process writes one).
    for (const r of records) this.kept.dropPartition(r.partition!);
    const budget = info.maxMessageBytes - 1024;
    let batch: Message[] = [];
    let size = 0;
    let first: number | null = null;
    let sent = false;
    const flush = async () => {
      if (batch.length === 0) return;
      const messages = batch;
      batch = [];
      size = 0;
      const meta = await kafkaCall(`write a checkpoint to ${this.o.topic}`, () => producer.send({ topic: this.o.topic, acks: -1, messages }));
      if (!sent) {
        const at = meta.find((m) => m.partition === messages[0].partition)?.baseOffset;
        first = at === undefined ? null : Number(at);
        sent = true;
      }
    };
    for (const r of records) {
      const bytes = (r.value === null ? 0 : (r.value as Buffer).length) + String(r.key).length + 128;
      if (size + bytes > budget) await flush();
      batch.push(r);
      size += bytes;
    }
    await flush();
    return first;
  }

  private scanOptions(partition: number, from: number | null = null): ScanOptions {
    const maxBytesPerPartition = Math.max(SCAN_FETCH_BYTES, this.ready().info.maxMessageBytes + BATCH_MARGIN_BYTES);
    return { topic: this.o.topic, partition, maxBytesPerPartition, timeoutMs: this.o.readTimeoutMs ?? 60_000, ...(from === null ? {} : { from }) };
  }

  private ready(): { admin: Admin; producer: Producer; info: StateTopicInfo } {
    if (this.state !== 'open' && this.state !== 'closing') throw new PosguardError('PG_INTERNAL', `checkpoint store: used when ${this.state}`);
    return { admin: this.admin!, producer: this.producer!, info: this.info! };
  }

  private serial<T>(key: CheckpointKey, fn: () => Promise<T>): Promise<T> {
    if (this.state !== 'open') return Promise.reject(new PosguardError('PG_INTERNAL', `checkpoint store: used when ${this.state}`));
    const k = mapKey(key);
    const next = (this.queues.get(k) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.queues.set(k, next);
    const clear = () => {
      if (this.queues.get(k) === next) this.queues.delete(k);
    };
    next.then(clear, clear);
    return next;
  }
}

const mapKey = (k: CheckpointKey): string => `${k.partition}\u0000${k.group}`;
/** Segments queue apart from the records of their partition (a barrier writes the segment, then the records). */
const segmentLane = (id: SegmentId): CheckpointKey => ({ group: `${id.group}\u0000seg\u0000${id.epoch}\u0000${id.barrier}`, partition: id.partition });
