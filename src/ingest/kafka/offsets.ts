/**
 * Which offset of an input partition is safe to commit, and what a commit
 * promises (docs/kafka.md, "Offsets and restarts").
 *
 * A commit of partition p is the pair (offset C per topic, floor F) with
 * metadata {F, epoch}:
 *  - every anomaly of p with event_time < F is final and durable in ClickHouse;
 *  - every event an anomaly with event_time >= F depends on is at an offset >= C,
 *    so a restart that re-reads from C rebuilds the state those anomalies need.
 *
 * The tracker keeps, per topic-partition, blocks of consumed offsets with the
 * largest event time in each block. C is the first block that may hold an
 * event with time >= F - lookBack; whole blocks older than that are dropped,
 * so memory is one small entry per block, not per event. Using the block's
 * first offset errs on the safe side (it re-reads a few records more).
 */

/** Records per block: memory vs. how many extra records a restart re-reads. */
const BLOCK_RECORDS = 256;

interface Block {
  first: number;
  maxTime: number;
  count: number;
}

export class OffsetLog {
  private blocks: Block[] = [];
  private head = 0;
  /** The next offset to consume (last consumed + 1). */
  next: number;
  private dropBelow = -Infinity;

  constructor(readonly start: number) {
    this.next = start;
  }

  /**
   * A consumed record: `eventTime` null for a record that carries no event
   * (a dead letter): it never holds the commit back.
   */
  add(offset: number, eventTime: number | null): void {
    this.next = offset + 1;
    const t = eventTime ?? -Infinity;
    const last = this.blocks.length > this.head ? this.blocks[this.blocks.length - 1] : undefined;
    if (last !== undefined && last.count < BLOCK_RECORDS) {
      last.count++;
      if (t > last.maxTime) last.maxTime = t;
      return;
    }
    this.blocks.push({ first: offset, maxTime: t, count: 1 });
  }

  /**
   * The smallest offset whose record may have event time >= minTime.
   * `minTime` only ever grows (callers pass a monotone bound); blocks below
   * it are forgotten.
   */
  safeOffset(minTime: number): number {
    if (minTime > this.dropBelow) this.dropBelow = minTime;
    while (this.head < this.blocks.length && this.blocks[this.head].maxTime < this.dropBelow) this.head++;
    if (this.head > 1024 && this.head * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.head);
      this.head = 0;
    }
    return this.head < this.blocks.length ? this.blocks[this.head].first : this.next;
  }

  /** Blocks held (for tests and the status line). */
  size(): number {
    return this.blocks.length - this.head;
  }

  /** Plain data for a checkpoint: [first, maxTime (null = no event), count] per block held. */
  toState(): OffsetLogState {
    const blocks: [number, number | null, number][] = [];
    for (let i = this.head; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      blocks.push([b.first, Number.isFinite(b.maxTime) ? b.maxTime : null, b.count]);
    }
    return { start: this.start, next: this.next, dropBelow: Number.isFinite(this.dropBelow) ? this.dropBelow : null, blocks };
  }

  static fromState(s: OffsetLogState): OffsetLog {
    const log = new OffsetLog(s.start);
    log.next = s.next;
    log.dropBelow = s.dropBelow ?? -Infinity;
    log.blocks = s.blocks.map(([first, maxTime, count]) => ({ first, maxTime: maxTime ?? -Infinity, count }));
    return log;
  }
}

export interface OffsetLogState {
  readonly start: number;
  readonly next: number;
  readonly dropBelow: number | null;
  readonly blocks: readonly (readonly [number, number | null, number])[];
}

/** The checkpoint a commit stands for: the epoch of its writer and its barrier number. */
export interface CheckpointRef {
  readonly epoch: number;
  readonly barrier: number;
}

/** What posguard stores in the offset commit's metadata (Kafka keeps up to 4 KB). */
export interface CommitMeta {
  /** The floor F (epoch ms); null = -infinity (nothing is final yet). */
  readonly floor: number | null;
  /** Rebuild generation of this partition: every rebuild claims epoch + 1 before it emits. */
  readonly epoch: number;
  /**
   * With checkpoints (docs/kafka.md, "Checkpoints"): the committed offset is the
   * position the checkpoint `ck` was taken at, and `rebuildFrom` the offset a
   * rebuild without it starts from (the floor's offset, as without checkpoints).
   */
  readonly ck?: CheckpointRef | null;
  readonly rebuildFrom?: number | null;
  /** With `ck`: the state topic's offset (in the partition holding this partition's checkpoints) a restore reads from: `ck`, its chain and anything newer lie at or above. */
  readonly stateFrom?: number | null;
}

export function encodeMeta(m: CommitMeta): string {
  const o: Record<string, unknown> = { posguard: 1, F: m.floor, e: m.epoch };
  if (m.ck != null) o.ck = [m.ck.epoch, m.ck.barrier];
  if (m.rebuildFrom != null) o.r = m.rebuildFrom;
  if (m.ck != null && m.stateFrom != null) o.s = m.stateFrom;
  return JSON.stringify(o);
}

/** Metadata written by something else (or nothing) reads as "no floor, epoch -1". */
export function decodeMeta(s: string | null | undefined): CommitMeta | null {
  if (s === null || s === undefined || s === '') return null;
  try {
    const o = JSON.parse(s) as { posguard?: unknown; F?: unknown; e?: unknown; ck?: unknown; r?: unknown; s?: unknown };
    if (o.posguard !== 1 || !Number.isSafeInteger(o.e)) return null;
    const floor = o.F === null ? null : Number.isFinite(o.F) ? (o.F as number) : null;
    const ck = Array.isArray(o.ck) && o.ck.length === 2 && o.ck.every((x) => Number.isSafeInteger(x)) ? { epoch: o.ck[0] as number, barrier: o.ck[1] as number } : null;
    const rebuildFrom = Number.isSafeInteger(o.r) && (o.r as number) >= 0 ? (o.r as number) : null;
    const stateFrom = ck !== null && Number.isSafeInteger(o.s) && (o.s as number) >= 0 ? (o.s as number) : null;
    return { floor, epoch: o.e as number, ck, rebuildFrom, stateFrom };
  } catch {
    return null;
  }
}

/**
 * Anomaly and transaction versions after a rebuild: `epoch * 2^12 + v`.
 * A rebuilt partition emits versions above everything an earlier epoch wrote
 * (ReplacingMergeTree keeps the highest), so the rebuilt, complete state wins
 * even where the crashed run got further in version numbers. Epoch 0 (the
 * first run on a group) keeps the engine's own 1, 2, 3...
 */
export const VERSION_BITS = 12;
export const MAX_ENGINE_VERSION = (1 << VERSION_BITS) - 1;
/** UInt32 columns: 2^20 epochs. */
export const MAX_EPOCH = 2 ** (32 - VERSION_BITS) - 1;

export function epochVersion(epoch: number, version: number): number {
  return epoch * (MAX_ENGINE_VERSION + 1) + Math.min(version, MAX_ENGINE_VERSION);
}

/** The three spans of the commit rule, from the rules in force (docs/kafka.md). */
export interface CommitSpans {
  /** R: how long after W an attempt without anomaly can still change (the engine's retention). */
  readonly retentionMs: number;
  /** Extra margin below W - R: terminal stamps run up to the drift late, arrivals up to maxDelay. */
  readonly floorSlackMs: number;
  /** L: how far before an anomaly's event time the events it depends on can be stamped. */
  readonly lookBackMs: number;
  /** Anomalies still OPEN pin the floor this long after their event time. */
  readonly horizonMs: number;
}

export function commitSpans(r: import('../../config/rules.js').Rules): CommitSpans {
  return {
    retentionMs: r.debits.reversalGraceMs + r.duplicateDebit.windowMs + r.time.allowedLatenessMs,
    floorSlackMs: r.time.terminalMaxDriftMs + r.time.maxDelayMs,
    lookBackMs: r.time.terminalMaxDriftMs + r.time.maxDelayMs + r.time.allowedLatenessMs
      + Math.max(r.debits.reversalGraceMs, r.terminalFaultSpike.windowMs, r.cardTesting.windowMs, r.cardVelocity.windowMs),
    horizonMs: r.debits.resolutionHorizonMs,
  };
}
