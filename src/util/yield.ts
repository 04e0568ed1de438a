/**
 * One macrotask turn: timers, I/O completions (heartbeat responses, insert
 * completions) and scrapes run before the caller goes on. A resolved await
 * is not enough: it runs before any of them.
 */
export const yieldToIo = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** A generator's work done at once (its yields are the points where drainYielding may hand the event loop back). */
export function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * A generator's work done in slices of about `sliceMs`, handing the event
 * loop back (`pause`) between them: a restore that builds hundreds of
 * thousands of items goes on heartbeating (a 7 s synchronous build cost a
 * member with a 6 s session its membership, again at every rejoin).
 */
export async function drainYielding<T>(steps: Generator<void, T>, pause: () => Promise<void> = yieldToIo, sliceMs = 20, nowMs: () => number = () => performance.now()): Promise<T> {
  let from = nowMs();
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    if (nowMs() - from >= sliceMs) {
      await pause();
      from = nowMs();
    }
  }
}
