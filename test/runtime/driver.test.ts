/**
 * The driver on simulated traffic into a memory sink: bad records become
 * counted dead letters, a sink over its high-water mark holds the source at
 * `ready()`, the end of input closes every window, a stop does not.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { SimSource, type ArrivingLine } from '../../src/ingest/sim-source.js';
import type { Source } from '../../src/ingest/source.js';
import { Driver } from '../../src/runtime/driver.js';
import { Lifecycle } from '../../src/runtime/lifecycle.js';
import { simulate } from '../../src/sim/index.js';
import type { DeadLetter, RawEventRecord, Sink } from '../../src/sinks/types.js';

const START = Date.UTC(2026, 2, 2, 8);
const records = (): ArrivingLine[] => [...simulate({ seed: 9, minutes: 6, tps: 4, startMs: START, badRecordRate: 0.005 }).records];

class MemorySink implements Sink {
  anomalies: Anomaly[] = [];
  raw: RawEventRecord[] = [];
  late: RawEventRecord[] = [];
  dead: DeadLetter[] = [];
  transactions = 0;
  flushed = 0;
  pendingRows = 0;
  log: string[] = [];
  private releaseDrain: (() => void) | null = null;
  anomaly(a: Anomaly): void {
    this.anomalies.push(a);
  }
  transaction(): void {
    this.transactions++;
  }
  rawEvent(r: RawEventRecord): void {
    this.raw.push(r);
  }
  lateEvent(r: RawEventRecord): void {
    this.late.push(r);
  }
  deadLetter(d: DeadLetter): void {
    this.dead.push(d);
  }
  backlog(): number {
    return this.pendingRows;
  }
  drain(): Promise<void> {
    if (this.pendingRows < 100) return Promise.resolve();
    this.log.push(`drain waits at ${this.raw.length}`);
    return new Promise((res) => (this.releaseDrain = res));
  }
  /** The "database" catches up. */
  catchUp(): void {
    this.pendingRows = 0;
    this.log.push(`caught up at ${this.raw.length}`);
    this.releaseDrain?.();
  }
  async flush(): Promise<void> {
    this.flushed++;
  }
  async close(): Promise<void> {}
}

describe('Driver', () => {
  it('pushes every event, turns bad records into counted dead letters, stamps anomalies before they are counted and stored, ends the engine and flushes', async () => {
    const recs = records();
    const sink = new MemorySink();
    const lifecycle = new Lifecycle('test');
    const states: string[] = [];
    lifecycle.onChange((s) => states.push(s));
    const driver = new Driver({
      source: new SimSource(recs, { spanMs: 6 * 60_000, wallMs: 0 }), sink, rules: () => DEFAULT_RULES, lifecycle, now: () => 42,
      stamp: (a) => ({ ...a, suppressed_by: a.kind === 'ORPHAN_DEBIT' ? 'sup-1' : '' }),
    });
    const r = await driver.run();
    expect(states).toEqual(['running', 'draining']);
    expect(r.stoppedBy).toBeNull();
    expect(r.events).toBe(sink.raw.length);
    expect(r.events + sink.dead.length).toBe(recs.length);
    expect(sink.dead.length).toBeGreaterThan(0);
    expect(sink.dead.every((d) => d.source === 'simulator' && d.received_at === 42 && d.line !== null)).toBe(true);
    expect(r.summary.bad.terminal + r.summary.bad.gateway + r.summary.bad.bank).toBe(sink.dead.length);
    expect(r.counters.events.terminal + r.counters.events.gateway + r.counters.events.bank).toBe(r.events);
    // End of input decided every attempt; what the summary counts is what the sink got, stamped.
    expect(driver.pipeline.engine.openAttempts()).toBe(0);
    expect(sink.anomalies.length).toBeGreaterThan(0);
    expect(sink.anomalies.filter((a) => a.kind === 'ORPHAN_DEBIT').every((a) => a.suppressed_by === 'sup-1')).toBe(true);
    expect(r.summary.moneyAtRisk(true).size).toBeGreaterThan(0);
    expect(sink.transactions).toBeGreaterThan(0);
    expect(sink.flushed).toBe(1);
  });

  it('a sink over its high-water mark holds the source at ready() until it drains', async () => {
    const sink = new MemorySink();
    const pushedAtReady: number[] = [];
    const lines = records().filter((r) => r.stream === 'terminal' && r.line.startsWith('{"')).slice(0, 150).map((r) => r.line);
    // A source that asks ready() after every 50 events; each chunk adds 100 rows to the sink's backlog (its high-water mark).
    const source: Source = {
      name: 'chunks', open: async () => undefined, stop: () => undefined, close: async () => undefined,
      run: async (into) => {
        for (let i = 0; i < lines.length; i++) {
          into.event('terminal', JSON.parse(lines[i]), { source: 'chunks', line: i + 1 });
          if ((i + 1) % 50 === 0) {
            sink.pendingRows += 100;
            pushedAtReady.push(i + 1);
            await into.ready();
          }
        }
      },
    };
    const driver = new Driver({ source, sink, rules: () => DEFAULT_RULES });
    const running = driver.run();
    await new Promise((res) => setTimeout(res, 20));
    expect(sink.raw.length).toBe(50);
    expect(sink.log).toEqual(['drain waits at 50']);
    sink.catchUp();
    await new Promise((res) => setTimeout(res, 20));
    expect(sink.raw.length).toBe(100);
    sink.catchUp();
    await new Promise((res) => setTimeout(res, 20));
    sink.catchUp();
    await running;
    expect(sink.log).toEqual(['drain waits at 50', 'caught up at 50', 'drain waits at 100', 'caught up at 100', 'drain waits at 150', 'caught up at 150']);
    expect(pushedAtReady).toEqual([50, 100, 150]);
  });

  it('stop() ends the input early: what was decided is flushed, attempts still open are not decided', async () => {
    const sink = new MemorySink();
    let driver!: Driver;
    const inner = new SimSource(records(), { spanMs: 6 * 60_000, wallMs: 0 });
    let n = 0;
    const source: Source = {
      name: 'simulator', open: async () => undefined, stop: () => inner.stop(), close: async () => undefined,
      run: (into) => inner.run({ ...into, event: (s, e, ref) => {
        into.event(s, e, ref);
        if (++n === 2_000) driver.stop('SIGTERM');
      } }),
    };
    driver = new Driver({ source, sink, rules: () => DEFAULT_RULES });
    const r = await driver.run();
    expect(r.stoppedBy).toBe('SIGTERM');
    expect(r.events).toBe(2_000);
    expect(driver.pipeline.engine.openAttempts()).toBeGreaterThan(0);
    expect(sink.flushed).toBe(1);
    // A second stop (another signal) changes nothing.
    driver.stop('SIGINT');
    expect(r.stoppedBy).toBe('SIGTERM');
  });
});
