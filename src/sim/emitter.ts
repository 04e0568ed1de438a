/**
 * Where events leave the generator: stamps an id, picks the arrival time
 * (true time + up to max delay, or 2-8 minutes late when a scenario asks),
 * adds redeliveries and broken lines, and releases records in arrival order.
 *
 * Ordering: generation runs forward in true time, one slice at a time. Every
 * event generated later happens at or after the current slice's end, and
 * arrives no earlier than it happens, so a record whose arrival is before the
 * slice end can be released: the queue only holds what is still in flight
 * (about max delay worth of events, plus rare late ones).
 */
import { createHash } from 'node:crypto';
import type { AnyEvent, Stream } from '../events/index.js';
import { ArrivalQueue, LATE, REDELIVERY } from './arrival-queue.js';
import { BAD_KINDS, type BadKind, badLine } from './bad-records.js';
import { toLine } from './lines.js';
import type { Rng } from './rng.js';
import type { SimRecord } from './types.js';
import type { UuidFactory } from './uuid.js';

export interface EmitOptions {
  /** Arrive this long after the event happened instead of within max delay. */
  lateByMs?: number;
}

export interface BadRecordInfo {
  readonly stream: Stream;
  readonly kind: BadKind;
  readonly reason: string;
  readonly line: string;
  readonly lineSha256: string;
  readonly source: AnyEvent;
  readonly trueMs: number;
}

export interface EmitterConfig {
  readonly maxDelayMs: number;
  readonly redeliveryRate: number;
  readonly badRecordRate: number;
  /** Per stream, true times by which one bad line of each kind must have been written. */
  readonly mandatoryBad: ReadonlyMap<Stream, { at: number; kind: BadKind }[]>;
  /** Boundary runs: this share of events arrives exactly max delay -1, 0 or +1 ms after it happens (own random stream). */
  readonly edgeDelay?: { readonly share: number; readonly rng: Rng } | null;
}

const EDGE_DELAY_OFFSETS = [-1, 0, 1] as const;

export class Emitter {
  private readonly queue: ArrivalQueue;
  private seq = 0;
  private readonly due: Map<Stream, { at: number; kind: BadKind }[]>;
  /** Events generated per stream (without redeliveries and bad lines). */
  readonly events: Record<Stream, number> = { terminal: 0, gateway: 0, bank: 0 };
  maxPending = 0;

  constructor(
    startMs: number,
    private readonly rng: Rng,
    private readonly ids: UuidFactory,
    private readonly cfg: EmitterConfig,
    private readonly onBad: (info: BadRecordInfo) => void,
  ) {
    this.queue = new ArrivalQueue(startMs, cfg.maxDelayMs);
    this.due = new Map([...cfg.mandatoryBad].map(([s, list]) => [s, [...list].sort((a, b) => a.at - b.at)]));
  }

  get pending(): number {
    return this.queue.size;
  }

  /** Assigns the event's id, schedules its line(s), and returns it (never mutate it afterwards). */
  emit<E extends AnyEvent>(stream: Stream, trueMs: number, event: E, opts?: EmitOptions): E {
    event.event_id = this.ids.next();
    this.events[stream]++;
    // Serialised now, while the object is young; only the bytes wait for their arrival time.
    const line = toLine(stream, event);
    const rng = this.rng;
    let arrival: number;
    if (opts?.lateByMs !== undefined) {
      arrival = trueMs + opts.lateByMs;
      this.push(arrival, trueMs, stream, LATE, event.terminal_id, line);
    } else {
      arrival = trueMs + rng.int(0, this.cfg.maxDelayMs);
      const edge = this.cfg.edgeDelay;
      if (edge && edge.rng.chance(edge.share)) arrival = trueMs + this.cfg.maxDelayMs + edge.rng.pick(EDGE_DELAY_OFFSETS);
      this.push(arrival, trueMs, stream, 0, event.terminal_id, line);
      if (rng.chance(this.cfg.redeliveryRate)) {
        // Same bytes again, later in the file but still within max delay: a redelivery is a duplicate, not late data.
        this.push(rng.int(arrival, trueMs + this.cfg.maxDelayMs), trueMs, stream, REDELIVERY, event.terminal_id, line);
      }
    }
    const due = this.due.get(stream);
    let kind: BadKind | undefined;
    if (due !== undefined && due.length > 0 && due[0].at <= trueMs) kind = (due.shift() as { kind: BadKind }).kind;
    else if (rng.chance(this.cfg.badRecordRate)) kind = rng.pick(BAD_KINDS);
    if (kind !== undefined) this.addBad(kind, stream, trueMs, arrival, event);
    return event;
  }

  private addBad(kind: BadKind, stream: Stream, trueMs: number, arrivalMs: number, source: AnyEvent): void {
    const { line, reason } = badLine(kind, stream, source, this.ids.next(), this.rng);
    this.push(arrivalMs, trueMs, stream, 0, source.terminal_id, line, reason);
    this.onBad({ stream, kind, reason, line, lineSha256: createHash('sha256').update(line).digest('hex'), source, trueMs });
  }

  private push(arrivalMs: number, trueMs: number, stream: Stream, flags: number, key: string, line: string, bad?: string): void {
    this.queue.push(arrivalMs, this.seq++, trueMs, stream, flags, key, line, bad);
    if (this.queue.size > this.maxPending) this.maxPending = this.queue.size;
  }

  /** Releases, in arrival order, every record arriving before `beforeMs`. */
  release(beforeMs: number): Generator<SimRecord> {
    return this.queue.release(beforeMs);
  }
}
