/**
 * One macrotask turn: timers, I/O completions (heartbeat responses, insert
 * completions) and scrapes run before the caller goes on. A resolved await
 * is not enough: it runs before any of them.
 */
export const yieldToIo = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
