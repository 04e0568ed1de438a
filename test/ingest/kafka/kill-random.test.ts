/**
 * SIGKILL at seeded random moments against the real broker (issue 13, point 5):
 * the simulator's traffic is fed live (paced over FEED_MS) while `posguard run`
 * is killed with SIGKILL KILLS times, each time restarted on the same group
 * and data; a last run with --until-end reads to the end. Then: the stored
 * anomalies equal the batch reference, nothing twice in the current-state
 * views, and — when the run has checkpoints (`--checkpoint-interval-ms` in
 * `posguard run --help`) — each restart re-read at most about two checkpoint
 * intervals of input, and one kill fell in the middle of a checkpoint write
 * (POSGUARD_TEST_CHECKPOINT_HOLD, src/ingest/kafka/checkpoint/test-hold.ts).
 * Without checkpoints (today's rebuild from the commit floor) the re-read is
 * measured and reported, not bounded.
 *
 * Seed: POSGUARD_KILL_SEED (default 7); the kill moments and the held write
 * are drawn from it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { createStateTopic } from '../../../src/ingest/kafka/checkpoint/topic.js';
import { openRecordProducer, type RecordProducer } from '../../../src/ingest/kafka/producer.js';
import { simulate, type SimRecord } from '../../../src/sim/index.js';
import { Rng } from '../../../src/sim/rng.js';
import { startPositions } from '../../../bench/recovery.js';
import { SIM, expectRecoveredOutput, expected, type Expected } from './fixtures.js';
import { cliCommand, createTestTopics, deleteTestTopics, describeKafka, ROOT, startCli, uniqueGroup, uniqueTopics, type Child } from './helpers.js';

const PARTITIONS = 4;
const KILLS = 3;
const FEED_MS = 50_000;
const INTERVAL_MS = 2_000;
const SEED = Number(process.env.POSGUARD_KILL_SEED ?? 7);
const NO_REGISTRY = { SCHEMA_REGISTRY_URL: '' };
/** Checkpoint keys written per barrier: one per partition, the process part inside the lowest one's (docs/kafka.md). */
const KEYS_PER_BARRIER = PARTITIONS;

/** Whether this build's `posguard run` takes checkpoints (the flag exists). */
function checkpointsAvailable(): boolean {
  const help = execFileSync(process.execPath, [...cliCommand(), 'run', '--help'], { cwd: ROOT, encoding: 'utf8' });
  return help.includes('--checkpoint-interval-ms');
}

/** The input fed live: FEED_MS of wall time for the whole simulation, in slices every 250 ms; `sentBy(t)` = records sent by then. */
class LiveFeed {
  private readonly sent: { at: number; n: number }[] = [{ at: 0, n: 0 }];
  readonly done: Promise<void>;

  constructor(producer: RecordProducer, records: readonly SimRecord[]) {
    const t0 = Date.now();
    this.done = (async () => {
      for (let i = 0; i < records.length;) {
        const to = Math.min(records.length, Math.ceil((records.length * (Date.now() - t0 + 250)) / FEED_MS));
        await producer.send(records.slice(i, to));
        i = to;
        this.sent.push({ at: Date.now(), n: i });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  sentBy(at: number): number {
    let n = 0;
    for (const s of this.sent) if (s.at <= at) n = s.n;
    return n;
  }
}

/** Records read by the run, from its last status line (≤ 200 ms old at the kill). */
const lastRecords = (out: string) => Number([...out.matchAll(/(\d+) records \(\d+\/s\), lag/g)].pop()?.[1] ?? NaN);
/** Records read by the run at wall time `at` (ms), from its last status line stamped at or before it (0 before any). */
function recordsAt(out: string, at: number): number {
  let n = 0;
  for (const m of out.matchAll(/"time":"([^"]+)"[^\n]*?"msg":"(\d+) records \(/g)) if (Date.parse(m[1]) <= at) n = Number(m[2]);
  return n;
}
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

interface Kill {
  /** Where the killed run had read to, summed over topics and partitions: its start positions + the records of its last status line. */
  readTo: number;
  /** Records the next run read again (from its start positions to `readTo`); NaN until it started. */
  reRead: number;
  bound: number;
  /** Killed while the test hook held a checkpoint write. */
  heldWrite: boolean;
  /** Killed while a barrier was being written (held, or a random kill that fell there). */
  duringWrite: boolean;
  /** How the next run began: 'restored' or the fallback's reason (rebuild), '' until it started. */
  next: string;
  output: string;
}

describeKafka('posguard run: SIGKILL at seeded random moments, restart, batch reference', (env) => {
  const topics = uniqueTopics('killrand');
  const group = uniqueGroup('killrand');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-killrand-'));
  const inputs = [topics.terminal, topics.gateway, topics.bank];
  const ck = checkpointsAvailable();
  const kills: Kill[] = [];
  let exp: Expected;
  let finalCode: number | string = -1;
  let finalOutput = '';
  let admin: Admin;
  let producer: RecordProducer;

  const args = (extra: string[] = []) => [
    'run', '--brokers', env.brokers, '--format', 'avro', '--group', group, '--data', dataDir,
    '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq, '--state-topic', topics.state,
    '--commit-interval-ms', '250', '--status-interval-ms', '200', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000',
    ...(ck ? ['--checkpoint-interval-ms', String(INTERVAL_MS)] : []), ...extra,
  ];

  /** The previous kill's re-read, from where run `c` started. */
  const started = (c: Child) => {
    const prev = kills[kills.length - 1];
    const starts = startPositions(c.output());
    if (prev === undefined || starts === null) return;
    prev.reRead = Math.max(0, prev.readTo - sum(starts));
    prev.next = /restored checkpoint \d+/.test(c.output()) ? 'restored' : (/no checkpoint restored \(([a-z_]+)/.exec(c.output())?.[1] ?? 'rebuilt');
  };

  /** The run's last barrier had begun writing and had not ended (committed or failed) when it was killed: a random kill can fall there too. */
  const writing = (out: string): boolean => {
    const begun = [...out.matchAll(/writing the checkpoint of barrier (\d+) \(/g)].map((m) => Number(m[1]));
    if (begun.length === 0) return false;
    const last = Math.max(...begun);
    return !new RegExp(`checkpoint ${last} \\([^)]*\\)(: \\d+ partitions.*offsets committed| not written)`).test(out);
  };

  /** One run killed: after `delayMs` of reading, or (held) once the test hook holds a checkpoint write. */
  async function killOne(feed: LiveFeed, delayMs: number, holdWrite: number | null): Promise<void> {
    const c: Child = startCli(args(), { ...NO_REGISTRY, ...(holdWrite !== null ? { POSGUARD_TEST_CHECKPOINT_HOLD: `${holdWrite}:60000` } : {}) });
    await c.waitFor(/\d+ records \(\d+\/s\), lag \d+,/, 60_000);
    started(c);
    if (holdWrite !== null) await c.waitFor(/POSGUARD_TEST_CHECKPOINT_HOLD: checkpoint write \d+ .* holding/, 60_000);
    else await new Promise((r) => setTimeout(r, delayMs));
    const at = Date.now();
    c.proc.kill('SIGKILL');
    await c.exited;
    const starts = startPositions(c.output());
    // About two checkpoint intervals of input: what the killed run read in the last two intervals (at its
    // own pace: after a restart it reads faster than the feed) or the feed sent in them, plus slack (a fetch,
    // a status period: ≤ 500 records).
    const readIn2 = lastRecords(c.output()) - recordsAt(c.output(), at - 2 * INTERVAL_MS - 250);
    const bound = Math.max(readIn2, feed.sentBy(at) - feed.sentBy(at - 2 * INTERVAL_MS)) + 500;
    kills.push({ readTo: starts === null ? NaN : sum(starts) + lastRecords(c.output()), reRead: NaN, bound, heldWrite: holdWrite !== null, duringWrite: holdWrite !== null || writing(c.output()), next: '', output: c.output() });
  }

  beforeAll(async () => {
    exp = expected();
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    admin = createKafka({ brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).admin();
    await admin.connect();
    // A just-created topic's metadata may lag on a busy broker (UNKNOWN_TOPIC_OR_PARTITION while waiting for leaders): again, it is then checked.
    for (let i = 0; ; i++) {
      try {
        await createStateTopic(admin, topics.state, PARTITIONS, null);
        break;
      } catch (e) {
        if (i >= 4) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    producer = await openRecordProducer({ kafka: { brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }, topics, registryUrl: null, format: 'avro' });
    const feed = new LiveFeed(producer, [...simulate(SIM).records]);
    const rng = new Rng(SEED);
    // The held write: a key of the 2nd–3rd barrier of that run (the 1st may come before anything was read).
    const heldKill = ck ? rng.int(1, KILLS - 1) : -1;
    for (let k = 0; k < KILLS; k++) {
      await killOne(feed, rng.between(2.5 * INTERVAL_MS, 4 * INTERVAL_MS), k === heldKill ? rng.int(KEYS_PER_BARRIER + 1, 3 * KEYS_PER_BARRIER) : null);
    }
    await feed.done;
    const last = startCli(args(['--until-end']), NO_REGISTRY);
    finalCode = await last.exited;
    finalOutput = last.output();
    started(last);
  }, 200_000);

  afterAll(async () => {
    if (process.env.POSGUARD_TEST_VERBOSE) for (const o of [...kills.map((k) => k.output), finalOutput]) process.stderr.write(`----\n${o}`);
    process.stderr.write(`kill-random (seed ${SEED}, checkpoints ${ck ? 'on' : 'off'}): re-read per restart ${kills.map((k) => `${k.reRead} (bound ${k.bound}, ${k.next}${k.duringWrite ? ', killed during a write' : ''})`).join(', ')}\n`);
    await producer?.close();
    await admin?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [...inputs, topics.dlq, topics.state]);
  });

  it('was killed at every planned moment while the feed ran, then read to the end', () => {
    expect(kills).toHaveLength(KILLS);
    for (const k of kills) expect(k.reRead, 'the run after the kill logged where it started').not.toBeNaN();
    expect(finalCode, finalOutput.slice(-3000)).toBe(0);
  });

  // With checkpoints on this failed in 2 of 5 runs (seed 7) until the restore's ledger learnt what the crashed run
  // stored after its checkpoint (Ledger.absorbAfterRestore): a stale OPEN ORPHAN_DEBIT stayed stored.
  it('ends with exactly the batch reference\'s anomalies, nothing twice in the current-state views', async () => {
    await expectRecoveredOutput(dataDir, exp);
  });

  it.runIf(ck)('restored from a checkpoint after every kill, and re-read at most about two checkpoint intervals of input after each kill outside a write', () => {
    for (const k of kills) expect(k.next).toBe('restored');
    const outside = kills.filter((x) => !x.duringWrite);
    expect(outside.length, 'at least one kill outside a write').toBeGreaterThan(0);
    for (const k of outside) expect(k.reRead, `re-read ${k.reRead} > bound ${k.bound}`).toBeLessThanOrEqual(k.bound);
  });

  // Killed while some keys of a barrier were written and one was not: the restart restores the barrier
  // before it, which every key still holds in its other slot (restore.ts atOneBarrier). Until 2026-12-07 it
  // fell back to the rebuild with reason `mismatch` when some keys had got their manifest. Never a half
  // checkpoint: the final output is checked above. Its re-read is printed, not bounded: the held write
  // kept the run reading for the hold, past its last durable barrier (measured 9,414 and 8,189 records
  // against bounds of 2,724 and 2,813).
  it.runIf(ck)('one kill fell during a checkpoint write: the barrier before it restored, never a half checkpoint', () => {
    const held = kills.filter((k) => k.heldWrite);
    expect(held).toHaveLength(1);
    expect(held[0].next).toBe('restored');
  });
});
