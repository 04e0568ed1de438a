/**
 * The one state of a Kafka run (replacing the flags `stopping`, `finishing`
 * and `closed`): a `Lifecycle` (created → starting → running → draining →
 * closing → closed) plus why it ended.
 *
 *   start()                created → starting; running once the group is joined
 *   stop() (a signal)      → draining, cause 'stop'   (stop fetching, flush, commit, leave)
 *   end of input           → draining, cause 'end-of-input' (final decisions, flush, commit)
 *   a fatal error          → closing, cause 'error' (no drain: close what is open)
 *   close                  → closing → closed
 *
 * Every transition is forward only; asking for one already made (a second
 * signal, an error during the drain) is answered `false` so the caller returns
 * the shared promise instead of running it twice.
 */
import { Lifecycle, type LifecycleState } from '../lifecycle.js';

export type EndCause = 'stop' | 'end-of-input' | 'error';

export class RunState {
  private readonly lifecycle = new Lifecycle('kafka run');
  private endCause: EndCause | null = null;

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  get cause(): EndCause | null {
    return this.endCause;
  }

  /** created → starting. */
  starting(): void {
    this.lifecycle.to('starting');
  }

  /** starting → running; a no-op if a stop or an error came first. */
  running(): void {
    if (this.lifecycle.state === 'starting') this.lifecycle.to('running');
  }

  /** No new batches are taken: draining (for a stop or the end of input) or closing. */
  get draining(): boolean {
    return this.lifecycle.stopping;
  }

  /** A stop was asked or the run failed: waits and retries give up (the end of input still finishes its work). */
  get halted(): boolean {
    return this.endCause === 'stop' || this.endCause === 'error';
  }

  /** The end of input is being finished: the final decisions are taken by the drain, not by the periodic pump. */
  get finishingInput(): boolean {
    return this.endCause === 'end-of-input' && this.lifecycle.state === 'draining';
  }

  /** Closing or closed: nothing is committed any more. */
  get closed(): boolean {
    return this.lifecycle.state === 'closing' || this.lifecycle.state === 'closed';
  }

  /** → draining for `cause`; false when already draining or closed (the caller shares the first drain). */
  drain(cause: 'stop' | 'end-of-input'): boolean {
    if (this.lifecycle.stopping) return false;
    this.endCause = cause;
    this.lifecycle.to('draining');
    return true;
  }

  /** → closing; false when already closing or closed. A failure records cause 'error'. */
  close(failed: boolean): boolean {
    if (this.closed) return false;
    if (failed) this.endCause = 'error';
    this.lifecycle.to('closing');
    return true;
  }

  /** closing → closed. */
  closedDone(): void {
    this.lifecycle.to('closed');
  }
}
