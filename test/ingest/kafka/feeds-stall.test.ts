/**
 * A silent terminal partition against the real broker (../shared/spec/feeds.md,
 * "Stalled feeds"): 30 simulated minutes are produced minute by minute, every
 * 400 ms; terminal partition 2 holds back its records of minutes [12, 24)
 * while everything else flows, then sends that backlog before minute 24 (a
 * connector coming back). Short feed rules: quiet after 1 s, released after
 * 1.5 s stalled.
 *
 * While terminal 2 is stalled, the other partitions keep deciding and no
 * orphan of partition 2 is raised; once it is released, partition 2 decides
 * again and what it decides carries feed_gaps [terminal]; the backlog
 * retracts the false orphans, and once the input is quiet (the run's clock
 * moved 6 h on) the final anomalies equal the batch reference on the
 * complete data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { compareAnomalies, formatReport } from '../../../src/eval/compare.js';
import { SIM_DEFAULTS } from '../../../src/sim/index.js';
import { expected, partitionOf, type Expected } from './fixtures.js';
import { JsonProducer, simRecords, startLiveRun, until, type LiveRun, type SimRec } from './feed-fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 4;
const SILENT = 2;
const MIN = 60_000;
/** Short grace and windows, so that decisions come within the half hour; retention 13 min holds what the backlog touches. */
const RULES: Rules = buildRules({
  debits: { reversalGraceMs: 60_000, resolutionHorizonMs: 600_000 },
  duplicateDebit: { windowMs: 120_000 },
  cardTesting: { windowMs: 120_000 },
  cardVelocity: { windowMs: 120_000 },
  terminalFaultSpike: { windowMs: 120_000 },
});
const SIM = { seed: 11, minutes: 30, tps: 1, startMs: SIM_DEFAULTS.startMs, rules: RULES };
const HOLD = { from: 12, to: 24 }; // simulated minutes of terminal partition 2 held back

describeKafka('a silent terminal partition: stalled, released with feed_gaps, re-decided by its backlog', (env) => {
  const topics = uniqueTopics('stall');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-stall-'));
  let exp: Expected;
  let live: LiveRun;
  const marks = { silence: 0, stalled: 0, release: 0, backlog: 0 };
  const p = (a: Anomaly) => (a.terminal_id === null ? -1 : partitionOf(a.terminal_id, PARTITIONS));
  const between = (from: number, to: number) => live.versions.filter((v) => v.at > from && v.at < to).map((v) => v.a);

  beforeAll(async () => {
    exp = expected(SIM, RULES);
    const recs = simRecords(SIM, PARTITIONS);
    const minuteOf = (r: SimRec) => (r.eventTime === null ? -1 : Math.floor((r.eventTime - SIM.startMs) / MIN));
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: 1 });
    live = await startLiveRun({ brokers: env.brokers, topics, group: uniqueGroup('stall'), dataDir, rules: RULES, quietAfterMs: 1_000, stallReleaseMs: 1_500 });
    const producer = await JsonProducer.open(env.brokers, topics);
    // Records in arrival order, cut by the minute of the last event time seen (poison lines go with their neighbours);
    // terminal 2's records of the chunks [HOLD.from, HOLD.to) are held back (terminal clocks drift: by chunk, not by their own time).
    const chunks: SimRec[][] = [];
    const backlog: SimRec[] = [];
    let minute = 0;
    for (const r of recs) {
      minute = Math.max(minute, minuteOf(r));
      if (r.stream === 'terminal' && r.partition === SILENT && minute >= HOLD.from && minute < HOLD.to) backlog.push(r);
      else (chunks[minute] ??= []).push(r);
    }
    const watch = setInterval(() => {
      const f = live.run.feedFigures().states.terminal;
      if (marks.silence > 0 && marks.stalled === 0 && f.stalled > 0) marks.stalled = Date.now();
      if (marks.release === 0 && f.released > 0) marks.release = Date.now();
    }, 25);
    try {
      for (let m = 0; m < chunks.length; m++) {
        if (m === HOLD.from) marks.silence = Date.now();
        if (m === HOLD.to) {
          marks.backlog = Date.now();
          await producer.send(backlog);
        }
        await producer.send(chunks[m] ?? []);
        await new Promise((r) => setTimeout(r, 400));
      }
    } finally {
      clearInterval(watch);
      await producer.close();
    }
    // Everything read: every partition idle; then a quiet night of 6 h on the run's clock takes every pending decision.
    await until(() => live.run.feedFigures().idlePartitions === PARTITIONS, 20_000, () => `all partitions idle: ${JSON.stringify(live.run.feedFigures())}`);
    live.jump(6 * 3_600_000);
    await until(() => compareAnomalies(live.versions.map((v) => v.a), exp.reference).agree, 20_000, () => `the reference:\n${formatReport(compareAnomalies(live.versions.map((v) => v.a), exp.reference))}`).catch(() => undefined);
  }, 90_000);

  afterAll(async () => {
    await live?.run.stop('test over');
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('released terminal 2 after quietAfter + stallRelease, while the other partitions kept deciding', () => {
    expect(marks.release, 'terminal 2 was never released').toBeGreaterThan(0);
    // Stalled once quiet (1 s after its last record), released 1.5 s later (ticks every 250 ms, sampled every 25 ms).
    const stalledFor = marks.release - marks.stalled;
    expect(stalledFor).toBeGreaterThan(1_500 - 50);
    expect(stalledFor).toBeLessThan(1_500 + 600);
    expect(marks.release).toBeLessThan(marks.backlog);
    const others = between(marks.stalled, marks.backlog).filter((a) => p(a) !== SILENT && p(a) !== -1);
    expect(others.length).toBeGreaterThan(5);
  });

  it('raises no orphan of partition 2 while stalled, and flags every one decided after the release with feed_gaps [terminal]', () => {
    const firstSeen = new Map<string, number>();
    for (const v of live.versions) if (!firstSeen.has(v.a.anomaly_id)) firstSeen.set(v.a.anomaly_id, v.at);
    const newOrphansOf2 = (from: number, to: number) => live.versions.filter((v) => v.a.kind === 'ORPHAN_DEBIT' && p(v.a) === SILENT && firstSeen.get(v.a.anomaly_id) === v.at && v.at > from && v.at < to);
    expect(marks.stalled).toBeGreaterThan(marks.silence);
    // The release comes 1.5 s after the stall began (marks are sampled, so a little late): nothing new in the first second.
    expect(newOrphansOf2(marks.stalled, marks.stalled + 1_000).map((v) => v.a.anomaly_id)).toEqual([]);
    // And nothing decided on the missing terminal evidence without saying so, until the backlog came.
    expect(newOrphansOf2(marks.stalled, marks.backlog).filter((v) => !v.a.feed_gaps?.length).map((v) => v.a.anomaly_id)).toEqual([]);
    const flagged = newOrphansOf2(marks.stalled, marks.backlog);
    expect(flagged.length).toBeGreaterThan(3);
    if (process.env.POSGUARD_TEST_VERBOSE) process.stderr.write(`stall: stalled→released ${marks.release - marks.stalled} ms, silence→backlog ${marks.backlog - marks.silence} ms, ${flagged.length} new orphans of partition 2 flagged, ${between(marks.stalled, marks.backlog).filter((a) => p(a) !== SILENT).length} versions of other partitions meanwhile, ${live.versions.length} versions in all\n`);
    for (const v of flagged) expect(v.a.feed_gaps, v.a.anomaly_id).toEqual(['terminal']);
    // Versions of partition 2 decided on complete input (before the silence) carry no gap.
    for (const a of between(0, marks.silence).filter((x) => p(x) === SILENT)) expect(a.feed_gaps ?? [], a.anomaly_id).toEqual([]);
  });

  it('the commit floor moves again after the release, before the backlog comes', () => {
    const before = Math.max(...live.commits.filter((c) => c.at <= marks.stalled).map((c) => c.floor));
    const after = live.commits.filter((c) => c.at > marks.release && c.at < marks.backlog && c.partition !== SILENT);
    expect(after.length).toBeGreaterThan(0);
    expect(Math.max(...after.map((c) => c.floor))).toBeGreaterThan(before);
  });

  it('the backlog retracts the false orphans (without the gap), and the final anomalies equal the batch reference', () => {
    const reference = new Set(exp.reference.map((a) => a.anomaly_id));
    const falseOrphans = new Set(live.versions.filter((v) => v.a.feed_gaps?.includes('terminal') && v.a.kind === 'ORPHAN_DEBIT' && !reference.has(v.a.anomaly_id)).map((v) => v.a.anomaly_id));
    expect(falseOrphans.size).toBeGreaterThan(0);
    const last = new Map<string, Anomaly>();
    for (const { a } of live.versions) if ((last.get(a.anomaly_id)?.version ?? -1) <= a.version) last.set(a.anomaly_id, a);
    for (const id of falseOrphans) {
      expect(last.get(id)!.status, id).toBe('RETRACTED');
      expect(last.get(id)!.feed_gaps ?? [], id).toEqual([]);
    }
    expect(exp.reference.length).toBeGreaterThan(20);
    const report = compareAnomalies(live.versions.map((v) => v.a), exp.reference);
    expect(report.agree, formatReport(report)).toBe(true);
  });
});
