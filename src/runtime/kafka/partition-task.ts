/**
 * Stage 1 for one input partition number p: terminal p, gateway p and bank p
 * feed one Engine (the topics are co-partitioned), with its own watermark and
 * fault-spike detector; its card facts go to the process's CardStage.
 *
 * Besides the engine it keeps what the commit rule needs: per topic an
 * OffsetLog of consumed offsets and event times, and the "pins" (debit
 * anomalies, which the engine holds until the resolution horizon whatever
 * their status, and which a restart must therefore re-read).
 */
import type { Rules } from '../../config/rules.js';
import type { Anomaly } from '../../events/anomaly.js';
import { TerminalFaultSpikes } from '../../detect/patterns/fault-spike.js';
import type { CardPatternDetector } from '../../detect/patterns/types.js';
import { Engine, type EngineCounters } from '../../engine/engine.js';
import type { EngineOptions } from '../../engine/engine-types.js';
import type { SharedDuplicates } from '../../engine/shared-duplicates.js';
import type { TransactionRecord } from '../../events/transaction.js';
import { STREAMS, type AnyEvent, type SourceRef, type Stream } from '../../events/index.js';
import { DEBIT_KINDS } from './ledger.js';
import { OffsetLog, commitSpans, encodeMeta } from '../../ingest/kafka/offsets.js';
import { snapNum, unsnapNum } from '../../util/snapshot-num.js';
import type { TaskOwnState } from './checkpoint/state.js';
import { stateCensus } from '../../util/state-census.js';
import { ForeignOnlyRrns } from './foreign-only.js';

export interface TaskOutput {
  /** An anomaly from this partition's engine (already floor-checked). */
  anomaly(task: PartitionTask, a: Anomaly): void;
  transaction(task: PartitionTask, t: TransactionRecord): void;
  late(task: PartitionTask, stream: Stream, e: AnyEvent, ref: SourceRef | null): void;
}

export interface TaskCommit {
  readonly offsets: Record<Stream, number>;
  readonly floor: number;
  readonly metadata: string;
}

interface Foreign {
  readonly stream: Stream;
  readonly e: AnyEvent;
  readonly ref: SourceRef;
  /** Wall clock when queued. */
  readonly at: number;
  /** The orig_rrn of a reversal broadcast to every engine (reversal-router.ts): its golden record alone is not this engine's. */
  readonly origRrn: string | null;
}

/** Anomalies decided per terminal, i.e. by this partition alone. */
const PARTITION_KINDS = new Set(['ORPHAN_DEBIT', 'AMOUNT_MISMATCH', 'DUPLICATE_DEBIT', 'TERMINAL_FAULT_SPIKE']);

export class PartitionTask {
  readonly engine: Engine;
  /** This partition's fault-spike windows (its engine feeds them; a checkpoint holds them). */
  readonly faultSpikes: TerminalFaultSpikes;
  logs: Record<Stream, OffsetLog>;
  /** Debit anomalies the engine still holds (any status, until t + horizon): anomaly_id → event_time. */
  readonly pins = new Map<string, number>();
  /** The committed floor: only grows. Starts at the floor read at rebuild. */
  floor: number;
  /** Ref of the event being pushed, for the engine's late() callback. */
  private ref: SourceRef | null = null;
  suppressedBelowFloor = 0;
  foreignDelivered = 0;
  /** Events of its own topics pushed since the rebuild. */
  ownEvents = 0;
  /** Records (good or bad) read per own topic since the rebuild: the feed rules' "a record was read". */
  readonly recordsRead: Record<Stream, number> = { terminal: 0, gateway: 0, bank: 0 };
  /** Streams of this partition released by the feed rules now (feed-rules.ts): stamped on every anomaly decided meanwhile. */
  feedGaps: readonly Stream[] = [];
  /** Largest event_time pushed per stream (own and foreign events). */
  private maxTime: Record<Stream, number> = { terminal: -Infinity, gateway: -Infinity, bank: -Infinity };
  private foreign: Record<Stream, Foreign[]> = { terminal: [], gateway: [], bank: [] };
  /** rrns whose reversal-only golden record here came from a broadcast reversal (foreign-only.ts). */
  private readonly foreignOnly = new ForeignOnlyRrns();
  private delivering = false;

  constructor(
    readonly partition: number,
    readonly epoch: number,
    /** Anomalies (and golden records) below this were final and durable before the rebuild. */
    readonly floorAtStart: number,
    starts: Record<Stream, number>,
    private readonly rules: () => Rules,
    cards: CardPatternDetector,
    private readonly out: TaskOutput,
    /** Duplicate-debit groups shared by every partition engine of this process. */
    duplicateGroups?: SharedDuplicates,
    /** Builds the engine from its options: a new one, or one restored from a checkpoint. */
    makeEngine: (opts: EngineOptions) => Engine = (opts) => new Engine(opts),
  ) {
    this.floor = floorAtStart;
    this.logs = { terminal: new OffsetLog(starts.terminal), gateway: new OffsetLog(starts.gateway), bank: new OffsetLog(starts.bank) };
    // Memory bounds (docs/semantics.md): posguard_state_entries.
    stateCensus.track('foreign_reversals', this, (t) => STREAMS.reduce((n, s) => n + t.foreign[s].length, 0));
    stateCensus.track('offset_log_blocks', this, (t) => STREAMS.reduce((n, s) => n + t.logs[s].size(), 0));
    const emit = (a: Anomaly) => this.onAnomaly(a);
    this.faultSpikes = new TerminalFaultSpikes(rules, emit);
    this.engine = makeEngine({
      rules,
      duplicateGroups,
      cardPatterns: cards,
      faultSpikes: this.faultSpikes,
      output: {
        anomaly: emit,
        transaction: (t) => {
          // A golden record entirely below the floor comes from a partial re-read of an attempt that was final before.
          const m = maxTime(t);
          if (m !== -Infinity && m < this.floorAtStart) {
            this.suppressedBelowFloor++;
            return;
          }
          if (this.foreignOnly.drops(t, this.engine.watermark)) return;
          this.out.transaction(this, t);
        },
        late: (stream, e) => this.out.late(this, stream, e, this.ref),
      },
    });
  }

  /** An event of this partition's own topics. */
  push(stream: Stream, e: AnyEvent, ref: SourceRef): void {
    this.ownEvents++;
    this.pushNow(stream, e, ref);
    this.deliverDue(stream);
  }

  private pushNow(stream: Stream, e: AnyEvent, ref: SourceRef): void {
    if (e.event_time > this.maxTime[stream]) this.maxTime[stream] = e.event_time;
    this.ref = ref;
    this.engine.push(stream, e);
    this.ref = null;
  }

  /** A record (good or bad) was read from own topic `stream`: a released stream is back at once, not at the next tick. */
  recordRead(stream: Stream): void {
    this.recordsRead[stream]++;
    if (this.feedGaps.length > 0 && this.feedGaps.includes(stream)) this.feedGaps = this.feedGaps.filter((s) => s !== stream);
  }

  /** Largest event time pushed on `stream` (−∞ before any). */
  maxEventTime(stream: Stream): number {
    return this.maxTime[stream];
  }

  private onAnomaly(found: Anomaly): void {
    // Decided while a stream of this partition was released: on incomplete input (docs/semantics.md, "Live feeds").
    const a = this.feedGaps.length > 0 ? { ...found, feed_gaps: this.feedGaps } : found;
    if (PARTITION_KINDS.has(a.kind) && a.event_time < this.floorAtStart) {
      this.suppressedBelowFloor++;
      return;
    }
    // Pinned whatever its status (issue 17, group-exact flake): the engine holds the attempt until
    // t + horizon and its evidence still grows after OPEN (a late reversal's gateway messages after
    // AUTO_RESOLVED); unpinned, the floor passed it and a rebuild dropped that version as final.
    if (DEBIT_KINDS.has(a.kind)) this.pins.set(a.anomaly_id, a.event_time);
    this.out.anomaly(this, a);
  }

  /**
   * This partition's floor now (docs/kafka.md):
   *   F_p = max(floor, min(W - R - slack, oldest pin)).
   * The runner commits every partition of the process at the minimum over
   * them, since reversals are shared across partitions (deliverForeign).
   */
  floorNow(): number {
    const s = commitSpans(this.rules());
    const w = this.engine.watermark;
    let minPin = Infinity;
    for (const [id, t] of this.pins) {
      if (t + s.horizonMs <= w) this.pins.delete(id); // released by the engine: cannot change any more
      else if (t < minPin) minPin = t;
    }
    return Math.max(this.floor, Math.min(w - s.retentionMs - s.floorSlackMs, minPin));
  }

  /**
   * Nothing read since the rebuild and nothing held: this partition constrains
   * no other, and its own floor stays where it was (an idle partition must not
   * hold every other partition's commits back).
   */
  untouched(): boolean {
    return this.ownEvents === 0 && this.engine.openAttempts() === 0 && this.foreign.terminal.length === 0 && this.foreign.gateway.length === 0 && this.foreign.bank.length === 0;
  }

  /** The commit for floor F: per topic, the first offset that may hold an event stamped >= F - L. */
  commitAt(floor: number): TaskCommit {
    const bound = floor - commitSpans(this.rules()).lookBackMs;
    const offsets = {} as Record<Stream, number>;
    for (const st of STREAMS) offsets[st] = this.logs[st].safeOffset(bound);
    return { offsets, floor, metadata: encodeMeta({ floor: Number.isFinite(floor) ? floor : null, epoch: this.epoch }) };
  }

  /**
   * A reversal read from another partition (bank REVERSAL_APPLIED, REVERSAL_REJECTED, REFUND_POSTED;
   * gateway REVERSAL_*: linked by orig_rrn, which may name a debit of another
   * terminal, e.g. a refund posted at the next lane). Queued until this
   * partition's own stream has reached its time, so pushing it never moves
   * this engine's watermark ahead of its own input.
   */
  offerForeign(stream: Stream, e: AnyEvent, ref: SourceRef, now: number, origRrn: string | null = null): void {
    const q = this.foreign[stream];
    const f: Foreign = { stream, e, ref, at: now, origRrn };
    // Kept in event-time order (they come nearly sorted): the head is the next one due.
    let i = q.length;
    while (i > 0 && q[i - 1].e.event_time > e.event_time) i--;
    q.splice(i, 0, f);
    this.deliverDue(stream);
  }

  /** Pushes the queued foreign reversals of `stream` this partition's own input has reached. */
  private deliverDue(stream: Stream): void {
    const q = this.foreign[stream];
    if (q.length === 0 || this.delivering) return;
    this.delivering = true;
    let n = 0;
    while (n < q.length && q[n].e.event_time <= this.maxTime[stream]) {
      this.pushForeign(q[n++]);
    }
    if (n > 0) q.splice(0, n);
    this.foreignDelivered += n;
    this.delivering = false;
  }

  private pushForeign(f: Foreign): void {
    // Not held here: the reversal-only record it makes belongs to the partition it was read from.
    if (f.origRrn !== null && !this.engine.holdsAttempt(f.origRrn)) this.foreignOnly.note(f.origRrn, f.e.event_time);
    this.pushNow(f.stream, f.e, f.ref);
  }

  /**
   * Pushes the foreign reversals that waited longer than `idleMs` (this
   * partition is idle: nothing else will move it), or all of them (`all`, at
   * the end of a bounded input).
   */
  deliverForeign(all: boolean, now: number, idleMs: number): number {
    let n = 0;
    for (const stream of STREAMS) {
      const q = this.foreign[stream];
      const keep: Foreign[] = [];
      for (const f of q) {
        if (all || now - f.at > idleMs) {
          this.pushForeign(f);
          n++;
        } else keep.push(f);
      }
      this.foreign[stream] = keep;
    }
    this.foreignDelivered += n;
    return n;
  }

  /** Every topic-partition of this task has been read up to `ends`. */
  reached(ends: Record<Stream, number>): boolean {
    return STREAMS.every((s) => this.logs[s].next >= ends[s]);
  }

  get counters(): EngineCounters {
    return this.engine.counters;
  }

  /** This task's own bookkeeping for a checkpoint (the engine and fault spikes are snapshotted by their owners). */
  ownState(): TaskOwnState {
    const streams = <U>(f: (s: Stream) => U): Record<Stream, U> => ({ terminal: f('terminal'), gateway: f('gateway'), bank: f('bank') });
    return {
      v: 1, partition: this.partition, floor: snapNum(this.floor), floorAtStart: snapNum(this.floorAtStart),
      pins: [...this.pins], logs: streams((s) => this.logs[s].toState()), maxTime: streams((s) => snapNum(this.maxTime[s])),
      foreign: streams((s) => this.foreign[s].map((f) => ({ e: f.e, ref: f.ref, origRrn: f.origRrn }))),
      foreignOnly: this.foreignOnly.toState(), ownEvents: this.ownEvents, feedGaps: [...this.feedGaps],
      suppressedBelowFloor: this.suppressedBelowFloor, foreignDelivered: this.foreignDelivered,
    };
  }

  /** Restores ownState() into a task built with the same partition (its queued foreign reversals wait from `now`). */
  restoreOwn(s: TaskOwnState, now: number): void {
    this.floor = unsnapNum(s.floor);
    for (const [id, t] of s.pins) this.pins.set(id, t);
    this.logs = { terminal: OffsetLog.fromState(s.logs.terminal), gateway: OffsetLog.fromState(s.logs.gateway), bank: OffsetLog.fromState(s.logs.bank) };
    this.maxTime = { terminal: unsnapNum(s.maxTime.terminal), gateway: unsnapNum(s.maxTime.gateway), bank: unsnapNum(s.maxTime.bank) };
    for (const st of STREAMS) this.foreign[st] = s.foreign[st].map((f) => ({ stream: st, e: f.e, ref: f.ref, at: now, origRrn: f.origRrn }));
    this.foreignOnly.restore(s.foreignOnly);
    this.ownEvents = s.ownEvents;
    this.feedGaps = s.feedGaps;
    this.suppressedBelowFloor = s.suppressedBelowFloor;
    this.foreignDelivered = s.foreignDelivered;
  }
}

function maxTime(t: TransactionRecord): number {
  let m = -Infinity;
  for (const v of [t.terminal_started_at, t.terminal_request_at, t.terminal_response_at, t.terminal_final_at, t.gateway_received_at,
    t.gateway_forwarded_at, t.gateway_issuer_response_at, t.gateway_response_sent_at, t.bank_auth_at, t.bank_reversal_at]) {
    if (v !== null && v > m) m = v;
  }
  return m;
}
