/**
 * The run's lag (runtime/kafka/reporting.ts): records behind each assigned
 * partition's log end, from the last fetch or, on a quiet partition no fetch
 * has reported, from the admin's refresh of the log ends.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPICS } from '../../src/ingest/kafka/topics.js';
import type { KafkaSource } from '../../src/ingest/kafka/kafka-source.js';
import { Reporting, type ReportingOptions } from '../../src/runtime/kafka/reporting.js';
import type { TaskManager } from '../../src/runtime/kafka/task-manager.js';

const topics = DEFAULT_TOPICS;
const log = (start: number, next: number) => ({ start, next });

function reporting(o: { hw?: Record<string, number>; admin?: Record<string, number>; startEnds?: Record<string, number>; logs: ReturnType<typeof log> }): Reporting {
  const source = {
    highWatermark: (t: string) => o.hw?.[t],
    logEnd: (t: string) => {
      const a = o.admin?.[t];
      const b = o.hw?.[t];
      return a === undefined ? b : b === undefined ? a : Math.max(a, b);
    },
    endOffset: (t: string) => o.startEnds?.[t],
  } as unknown as KafkaSource;
  const task = { partition: 0, logs: { terminal: o.logs, gateway: o.logs, bank: o.logs } };
  const tasks = { holdsState: true, tasks: () => [task] } as unknown as TaskManager;
  return new Reporting({ config: { topics }, tasks, source } as unknown as ReportingOptions);
}

const all = (n: number) => ({ [topics.terminal]: n, [topics.gateway]: n, [topics.bank]: n });

describe('run lag', () => {
  it('counts records behind the fetched high watermarks', () => {
    expect(reporting({ hw: all(130), logs: log(40, 100) }).lag()).toBe(90);
  });

  it('a quiet partition that no fetch reported: the admin\'s log end (a restored task, nothing new: lag 0, not unknown)', () => {
    expect(reporting({ admin: all(100), logs: log(40, 100) }).lag()).toBe(0);
    expect(reporting({ admin: all(112), logs: log(40, 100) }).lag()).toBe(36);
  });

  it('unknown while neither the fetch nor the admin has said, unless nothing was read of an empty log', () => {
    expect(reporting({ logs: log(40, 100) }).lag()).toBeNull();
    expect(reporting({ startEnds: all(40), logs: log(40, 40) }).lag()).toBe(0);
  });
});
