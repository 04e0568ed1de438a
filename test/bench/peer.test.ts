/** bench/peer.ts: reading the Kafka Streams peer's figures back, its command line, and when it cannot run. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePeerPasses, parsePeerSummary, peerCommand, peerSkipReason } from '../../bench/peer.js';

/** stdout of run.sh as its README shows it: a table, then the summary line naming the warm pass. */
const STDOUT = `Kafka Streams peer (at_least_once, 2 stream threads, commit.interval.ms 1000, rocksdb stores; attempt join 600s window, 14400s grace, rrn join 120s window, 14400s grace)
| pass | JVM  | wall s | records/s | CPU-s | CPU-µs/record | candidates | dropped | broker CPU-s |
| 1    | cold |   41.3 |     32784 |  60.5 |          44.7 |       2726 |     111 |         13.7 |
| 2    | warm |   28.0 |     48272 |  41.2 |          30.4 |       2699 |     111 |          9.3 |
kafka-streams-peer: records=1353299 wall_s=28.04 records_per_s=48272 cpu_us_per_record=30.4 (pass 2, warm)
`;

describe('parsePeerSummary', () => {
  it('reads the summary line', () => {
    expect(parsePeerSummary(STDOUT)).toEqual({ records: 1353299, wallS: 28.04, recordsPerS: 48272, cpuUsPerRecord: 30.4, pass: 2, jvm: 'warm' });
  });

  it('takes the last summary line, and null when there is none (a failed run prints FAILED)', () => {
    const two = `${STDOUT}kafka-streams-peer: records=10 wall_s=1.00 records_per_s=10 cpu_us_per_record=5.0 (pass 1, cold)\n`;
    expect(parsePeerSummary(two)?.pass).toBe(1);
    expect(parsePeerSummary('kafka-streams-peer: FAILED (no pass completed)\n')).toBeNull();
  });
});

describe('parsePeerPasses', () => {
  const line = (o: object) => JSON.stringify({ system: 'kafka-streams at_least_once', config: { threads: 2 }, app_id: 'ksjoin-peer-1', ...o });
  it('reads each completed pass, leaving out failed and timed-out ones', () => {
    const jsonl = [
      line({ pass: 1, jvm: 'cold', records_in: 1000, wall_s: 4.5, records_per_s: 222, cpu_s: 6.25, cpu_us_per_record: 6250, orphan_candidates: 3, dropped_records: 1, broker_cpu_s: 1.5 }),
      line({ pass: 2, jvm: 'warm', records_in: 1000, wall_s: 2, records_per_s: 500, cpu_s: 3, cpu_us_per_record: 3000, orphan_candidates: 4, dropped_records: 0 }),
      line({ pass: 3, jvm: 'warm', records_in: 1000, timed_out: true, input_lag: 10 }),
      line({ pass: 4, jvm: 'warm', records_in: 1000, error: 'org.apache.kafka.common.errors.TimeoutException' }),
      '',
    ].join('\n');
    const passes = parsePeerPasses(jsonl);
    expect(passes.map((p) => p.pass)).toEqual([1, 2]);
    expect(passes[0]).toEqual({ pass: 1, jvm: 'cold', recordsIn: 1000, wallS: 4.5, recordsPerS: 222, cpuS: 6.25, cpuUsPerRecord: 6250, candidates: 3, dropped: 1, brokerCpuS: 1.5 });
    expect(passes[1].brokerCpuS).toBeNull();
    expect(passes[1].jvm).toBe('warm');
  });
});

describe('peerCommand', () => {
  it('passes the three topics and --json to run.sh', () => {
    const argv = peerCommand('/p', 'h:9092', { terminal: 'x.t', gateway: 'x.g', bank: 'x.b' }, '/tmp/f.jsonl');
    expect(argv.join(' ')).toBe('/p/run.sh --brokers h:9092 --terminal-topic x.t --gateway-topic x.g --bank-topic x.b --json /tmp/f.jsonl');
  });
});

describe('peerSkipReason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'posguard-peer-test-'));
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing peer folder and the variable that points to it', () => {
    expect(peerSkipReason(join(dir, 'absent'), {})).toMatch(/no peer at .*absent.*POSGUARD_PEER_DIR/);
  });

  it('refuses a secured Kafka (the peer speaks plaintext only)', () => {
    expect(peerSkipReason(dir, { KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toMatch(/plaintext/);
    expect(peerSkipReason(dir, { KAFKA_SSL: '1' })).toMatch(/plaintext/);
  });

  it('names a missing java', () => {
    // spawnSync looks java up on the PATH of this process: an empty PATH finds none.
    const path = process.env.PATH;
    process.env.PATH = '';
    try {
      expect(peerSkipReason(dir, {})).toMatch(/java is not on PATH/);
    } finally {
      process.env.PATH = path;
    }
  });
});
