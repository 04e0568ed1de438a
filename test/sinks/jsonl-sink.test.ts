/** JSONL files behind the Sink interface: the replay line shapes, one file per output, close once. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import type { AnyEvent } from '../../src/events/index.js';
import { JsonlSink } from '../../src/sinks/jsonl-sink.js';

const read = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);

describe('JsonlSink', () => {
  it('writes anomalies and golden records as they are, late events as {stream, event}, dead letters as {source, stream, line, reason, payload}; raw events nowhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-jsonl-sink-'));
    const paths = { anomalies: join(dir, 'a.jsonl'), deadLetters: join(dir, 'd.jsonl'), late: join(dir, 'l.jsonl'), transactions: join(dir, 't.jsonl') };
    const sink = new JsonlSink(paths);
    await sink.open();
    const event = { event_id: 'e1', event_time: 5 } as unknown as AnyEvent;
    sink.anomaly({ anomaly_id: 'x', version: 1 } as unknown as Anomaly);
    sink.transaction({ txn_key: 'k' } as unknown as TransactionRecord);
    sink.rawEvent();
    sink.lateEvent({ stream: 'bank', event, ref: { source: 'bank.jsonl', line: 3 } });
    sink.deadLetter({ source: 'gateway.jsonl', stream: 'gateway', line: 7, partition: null, offset: null, reason: 'not valid JSON', payload: '{', received_at: 123 });
    expect(sink.backlog()).toBe(0);
    await sink.drain();
    await sink.flush();
    await Promise.all([sink.close(), sink.close()]);
    await sink.close();
    expect(read(paths.anomalies)).toEqual([{ anomaly_id: 'x', version: 1 }]);
    expect(read(paths.transactions)).toEqual([{ txn_key: 'k' }]);
    expect(readFileSync(paths.late, 'utf8')).toBe('{"stream":"bank","event":{"event_id":"e1","event_time":5}}\n');
    expect(readFileSync(paths.deadLetters, 'utf8')).toBe('{"source":"gateway.jsonl","stream":"gateway","line":7,"reason":"not valid JSON","payload":"{"}\n');
    expect([sink.anomalies.lines, sink.deadLetters.lines, sink.late.lines, sink.transactions!.lines]).toEqual([1, 1, 1, 1]);
  });

  it('writes feed_gaps with the anomaly when it was decided while a feed was released, and no field for complete input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-jsonl-sink-'));
    const sink = new JsonlSink({ anomalies: join(dir, 'a.jsonl'), deadLetters: join(dir, 'd.jsonl'), late: join(dir, 'l.jsonl') });
    await sink.open();
    sink.anomaly({ anomaly_id: 'x', version: 2, feed_gaps: ['terminal', 'bank'] } as unknown as Anomaly);
    sink.anomaly({ anomaly_id: 'y', version: 1 } as unknown as Anomaly);
    await sink.close();
    const [gapped, complete] = read(join(dir, 'a.jsonl')) as Partial<Anomaly>[];
    expect(gapped.feed_gaps).toEqual(['terminal', 'bank']);
    expect(complete).not.toHaveProperty('feed_gaps');
  });

  it('without a transactions path no golden-record file is created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-jsonl-sink-'));
    const sink = new JsonlSink({ anomalies: join(dir, 'a.jsonl'), deadLetters: join(dir, 'd.jsonl'), late: join(dir, 'l.jsonl') });
    await sink.open();
    sink.transaction({ txn_key: 'k' } as unknown as TransactionRecord);
    await sink.close();
    expect(sink.transactions).toBeNull();
    expect(existsSync(join(dir, 't.jsonl'))).toBe(false);
  });

  it('an unwritable output is a clear error at open()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-jsonl-sink-'));
    const sink = new JsonlSink({ anomalies: dir, deadLetters: join(dir, 'd.jsonl'), late: join(dir, 'l.jsonl') });
    await expect(sink.open()).rejects.toThrow(`cannot write ${dir}: EISDIR`);
  });
});
