/**
 * An attempt's life in event time: decided at debit + reversal grace, closed
 * (golden record) once its windows have passed, released when nothing can
 * change it any more. One timer entry per attempt (lazy deletion: H_DUE holds
 * the time of the live entry), fired as the watermark passes it.
 */
import type { Rules } from '../config/rules.js';
import { TimeHeap } from '../util/heap.js';
import type { AttemptIndex } from './attempt-index.js';
import type { DebitDecisions } from './debit-decisions.js';
import type { DebitGroups } from './debit-groups.js';
import type { EngineCounters } from './engine-types.js';
import { H_DEBIT_AT, H_DUE, H_LAST_HI, S_CLOSED, S_DECIDED, S_HAS_ANOMALY, type LiveAttempt } from './live-attempt.js';

export class AttemptLifecycle {
  private readonly timers = new TimeHeap<LiveAttempt>();
  /** End of input: every decision is taken before anything is released. */
  private ended = false;

  constructor(
    private readonly rules: () => Rules,
    private readonly index: AttemptIndex,
    private readonly groups: DebitGroups,
    private readonly decisions: DebitDecisions,
    private readonly counters: EngineCounters,
  ) {}

  /** Timer entries held (live and superseded ones). */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** How long an attempt is kept past its last event. */
  retentionMs(): number {
    const r = this.rules();
    // A debit must outlive every later debit of its group's decision (t + window + grace).
    return r.debits.reversalGraceMs + r.duplicateDebit.windowMs + r.time.allowedLatenessMs;
  }

  /** New evidence on an attempt: decided ones are re-evaluated now. */
  changed(x: LiveAttempt): void {
    if ((x.state & S_DECIDED) !== 0) {
      this.decisions.evaluate(x);
      this.decisions.reevaluateLaterDuplicates(x);
      if ((x.state & S_CLOSED) !== 0) this.decisions.reemitGolden(x);
    }
    this.schedule(x);
  }

  /** Fires every timer entry the watermark w has passed. */
  advance(w: number): void {
    while (this.timers.size > 0 && this.timers.peekTime() <= w) {
      const due = this.timers.peekTime();
      const x = this.timers.pop();
      if (x.n[H_DUE] !== due) continue; // superseded or released
      x.touch();
      x.n[H_DUE] = 0;
      this.fire(x, w, due);
    }
  }

  /** From now on nothing is released by a timer (end of input releases everything at once). */
  end(): void {
    this.ended = true;
  }

  /** x leaves the engine's state; `w`: the watermark now. */
  release(x: LiveAttempt, w: number): void {
    if (Number.isNaN(x.n[H_DUE])) return; // already released
    x.touch();
    this.index.unlink(x);
    // Shared with other engines: it stays findable until every engine is past its release time.
    if (x.info?.group) this.groups.release(x, w);
    x.n[H_DUE] = NaN;
    this.counters.released++;
  }

  /** The next moment this attempt needs attention, given what it holds. */
  private nextDue(x: LiveAttempt): number {
    const r = this.rules();
    const n = x.n;
    const debitAt = n[H_DEBIT_AT];
    const hasDebit = !Number.isNaN(debitAt);
    if (hasDebit && (x.state & S_DECIDED) === 0) return debitAt + r.debits.reversalGraceMs;
    const lastHi = n[H_LAST_HI];
    if ((x.state & S_CLOSED) === 0) return Math.max(lastHi, hasDebit ? debitAt : -Infinity) + r.debits.reversalGraceMs;
    let release = Math.max(lastHi, hasDebit ? debitAt : -Infinity) + this.retentionMs();
    if ((x.state & S_HAS_ANOMALY) !== 0 && hasDebit) release = Math.max(release, debitAt + r.debits.resolutionHorizonMs);
    return release;
  }

  private schedule(x: LiveAttempt): void {
    const due = this.nextDue(x);
    const cur = x.n[H_DUE];
    // An entry at an earlier or equal time already exists: it will reschedule when it fires.
    if (cur !== 0 && cur <= due) return;
    x.touch();
    x.n[H_DUE] = due;
    this.timers.push(due, x);
  }

  private fire(x: LiveAttempt, w: number, due: number): void {
    const r = this.rules();
    const n = x.n;
    const hasDebit = !Number.isNaN(n[H_DEBIT_AT]);
    if (hasDebit && (x.state & S_DECIDED) === 0 && w >= n[H_DEBIT_AT] + r.debits.reversalGraceMs) {
      x.state |= S_DECIDED;
      this.counters.decisions++;
      this.decisions.evaluate(x);
      this.decisions.reevaluateLaterDuplicates(x);
    }
    if ((x.state & S_CLOSED) === 0 && (!hasDebit || (x.state & S_DECIDED) !== 0)
      && w >= Math.max(n[H_LAST_HI], hasDebit ? n[H_DEBIT_AT] : -Infinity) + r.debits.reversalGraceMs) {
      x.state |= S_CLOSED;
      this.decisions.reemitGolden(x);
    }
    if (this.ended) return;
    // Release only from an entry scheduled at the release time itself: when the watermark
    // jumps, later debits of the group must be decided (they come first in time order)
    // before this one leaves the group.
    if ((x.state & S_CLOSED) !== 0 && due >= this.nextDue(x)) {
      this.release(x, w);
      return;
    }
    this.schedule(x);
  }

  /** @internal state: the timer heap and the end flag, for src/engine/state (issue 13). */
  stateParts(): { timers: TimeHeap<LiveAttempt>; ended: boolean; setEnded(ended: boolean): void } {
    return { timers: this.timers, ended: this.ended, setEnded: (ended) => { this.ended = ended; } };
  }
}
