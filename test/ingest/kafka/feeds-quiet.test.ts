/**
 * A quiet night against the real broker (../shared/spec/feeds.md, "Idle
 * partitions"): the first three simulated minutes (historical timestamps,
 * cut in the middle of the traffic, so that decisions are pending) are
 * produced, then nothing. Once every stream-partition is quiet (1 s), the
 * input frontier F advances with the wall clock, every partition is idle and
 * follows F, and each pending decision is taken within quietAfter + a few
 * seconds after F passes it — instead of waiting for the morning's traffic.
 * The anomalies then equal the batch reference, none flagged with feed_gaps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import { compareAnomalies, formatReport } from '../../../src/eval/compare.js';
import { SIM_DEFAULTS } from '../../../src/sim/index.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { JsonProducer, referenceOf, simRecords, startLiveRun, until, type LiveRun } from './feed-fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 3;
const QUIET_MS = 1_000;
const GRACE_MS = 15_000;
/** Short delay, grace and windows: what is pending at the end of the input is due within ~20 s of event time. */
const RULES: Rules = buildRules({
  time: { maxDelayMs: 5_000 },
  debits: { reversalGraceMs: GRACE_MS, resolutionHorizonMs: 600_000 },
  duplicateDebit: { windowMs: 10_000 },
  cardTesting: { windowMs: 10_000 },
  cardVelocity: { windowMs: 10_000 },
  terminalFaultSpike: { windowMs: 10_000 },
});
const SIM = { seed: 13, minutes: 4, tps: 2, startMs: SIM_DEFAULTS.startMs, rules: RULES, faultRate: 0.2 };

describeKafka('a quiet night: the frontier follows the wall clock and pending decisions are taken', (env) => {
  const topics = uniqueTopics('quiet');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-quiet-'));
  let exp: { reference: Anomaly[] };
  let live: LiveRun;
  /** F as sampled every 25 ms, with the wall clock. */
  const frontier: { at: number; f: number }[] = [];
  let allQuietAt = 0;

  beforeAll(async () => {
    const all = simRecords(SIM, PARTITIONS);
    // Cut on a trusted clock (terminal clocks drift by minutes).
    const cut = all.findIndex((r) => r.stream !== 'terminal' && r.eventTime !== null && r.eventTime > SIM.startMs + 3 * 60_000);
    const records = all.slice(0, cut);
    exp = { reference: referenceOf(records, RULES) };
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: 1 });
    const producer = await JsonProducer.open(env.brokers, topics);
    await producer.send(records);
    await producer.close();
    live = await startLiveRun({ brokers: env.brokers, topics, group: uniqueGroup('quiet'), dataDir, rules: RULES, quietAfterMs: QUIET_MS, stallReleaseMs: 60_000 });
    const sample = setInterval(() => {
      const fig = live.run.feedFigures();
      frontier.push({ at: Date.now(), f: fig.frontier });
      if (allQuietAt === 0 && fig.idlePartitions === PARTITIONS) allQuietAt = Date.now();
    }, 25);
    try {
      await until(() => compareAnomalies(live.versions.map((v) => v.a), exp.reference).agree, 50_000, () => `the reference:\n${formatReport(compareAnomalies(live.versions.map((v) => v.a), exp.reference))}`).catch(() => undefined);
    } finally {
      // A decision comes in the tick F passes it, often before the next 25 ms sample: keep sampling a
      // little past the last decision, so that F (which never moves back) is seen past every due time.
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(sample);
    }
  }, 80_000);

  afterAll(async () => {
    await live?.run.stop('test over');
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('every partition goes idle and F then advances at the wall clock\'s pace', () => {
    expect(allQuietAt).toBeGreaterThan(0);
    const at = frontier.find((s) => s.at >= allQuietAt + 500)!;
    const last = frontier[frontier.length - 1];
    expect(last.at - at.at).toBeGreaterThan(3_000);
    // Event time moved as much as the wall clock did (ticks every 250 ms).
    expect(Math.abs((last.f - at.f) - (last.at - at.at))).toBeLessThan(600);
    // Historical timestamps: F is near the end of the simulated span, years before the wall clock.
    expect(last.f).toBeLessThan(SIM.startMs + 3 * 60_000 + 120_000);
  });

  it('each orphan pending at the quiet is decided within quietAfter + 3 s after F passes its decision time', () => {
    const firstAt = new Map<string, number>();
    for (const v of live.versions) if (!firstAt.has(v.a.anomaly_id)) firstAt.set(v.a.anomaly_id, v.at);
    const orphans = exp.reference.filter((a) => a.kind === 'ORPHAN_DEBIT');
    const pending = orphans.filter((a) => (firstAt.get(a.anomaly_id) ?? Infinity) > allQuietAt);
    expect(allQuietAt).toBeGreaterThan(0);
    expect(pending.length).toBeGreaterThan(2);
    const delays: number[] = [];
    for (const a of pending) {
      const due = a.event_time + GRACE_MS;
      const passed = frontier.find((s) => s.f >= due);
      delays.push((firstAt.get(a.anomaly_id) ?? NaN) - (passed?.at ?? NaN));
      expect(passed, `F never passed ${a.anomaly_id}'s decision time`).toBeDefined();
      expect(firstAt.get(a.anomaly_id), `${a.anomaly_id} never decided`).toBeDefined();
      expect(firstAt.get(a.anomaly_id)! - passed!.at, a.anomaly_id).toBeLessThanOrEqual(QUIET_MS + 3_000);
    }
    if (process.env.POSGUARD_TEST_VERBOSE) process.stderr.write(`quiet night: ${pending.length} of ${orphans.length} orphans pending at the quiet; decided ${Math.min(...delays)}..${Math.max(...delays)} ms after F passed them\n`);
  });

  it('ends with exactly the batch reference\'s anomalies, none flagged with a feed gap', () => {
    expect(exp.reference.length).toBeGreaterThan(10);
    const report = compareAnomalies(live.versions.map((v) => v.a), exp.reference);
    expect(report.agree, formatReport(report)).toBe(true);
    expect(live.versions.filter((v) => (v.a.feed_gaps ?? []).length > 0)).toEqual([]);
  });
});
