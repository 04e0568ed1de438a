/**
 * Two detector instances in one consumer group with `--assignment spread`
 * (registry-less JSON values),
 * started together so the group rebalances under them: each rebuilds what
 * it is given from the committed offsets, and together they find what one
 * instance finds. No orphan is lost or doubled.
 *
 * What one instance cannot share with another is documented (docs/kafka.md):
 * card patterns see only the instance's own partitions, and a reversal read
 * on a partition of the other instance cannot settle a debit; those are left
 * out of the comparison, by construction from the data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { runSimulateKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { validateEvent } from '../../../src/ingest/validate.js';
import { simulate } from '../../../src/sim/index.js';
import { SIM, crossPartitionDuplicates, expectSameAnomalies, expected, partitionOf, type Expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, startCli, storedAnomalies, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 4;
const INSTANCE_KINDS = new Set(['ORPHAN_DEBIT', 'AMOUNT_MISMATCH', 'DUPLICATE_DEBIT', 'TERMINAL_FAULT_SPIKE']);

/** Debit rrns settled (or explained) by an event of a partition the co-partition assigner may give the other instance. */
function crossInstanceRrns(exp: Expected): Set<string> {
  const out = new Set<string>();
  for (const r of simulate(SIM).records) {
    if (r.stream === 'terminal' || r.bad !== undefined) continue;
    let v;
    try {
      v = validateEvent(r.stream, JSON.parse(r.line));
    } catch {
      continue;
    }
    if (!v.ok) continue;
    const orig = (v.event as { orig_rrn: string | null }).orig_rrn;
    if (orig === null) continue;
    const debitTerminal = exp.bankTerminal.get(orig);
    if (debitTerminal === undefined) continue;
    // Two members: partition p goes to member p mod 2.
    if (partitionOf(v.event.terminal_id, PARTITIONS) % 2 !== partitionOf(debitTerminal, PARTITIONS) % 2) out.add(orig);
  }
  return out;
}

describeKafka('two posguard run instances in one group, partitions spread', (env) => {
  const topics = uniqueTopics('group');
  const group = uniqueGroup('group');
  const dirs = [mkdtempSync(join(tmpdir(), 'posguard-kafka-group-a-')), mkdtempSync(join(tmpdir(), 'posguard-kafka-group-b-'))];
  let exp: Expected;
  const outputs: string[] = [];
  const codes: (number | string)[] = [];
  let merged: Anomaly[] = [];
  const perInstance: Anomaly[][] = [];

  beforeAll(async () => {
    exp = expected();
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    // Through the function `posguard simulate --kafka` calls.
    const sent = await runSimulateKafka({ brokers: env.brokers, format: 'json', topics, ...SIM, progress: false });
    expect(sent.sent.terminal + sent.sent.gateway + sent.sent.bank).toBe(exp.records);
    const args = (dir: string) => [
      'run', '--brokers', env.brokers, '--format', 'json', '--group', group, '--assignment', 'spread', '--data', dir, '--until-end',
      '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq,
      '--commit-interval-ms', '250', '--status-interval-ms', '500', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000',
    ];
    const children = dirs.map((d) => startCli(args(d), { SCHEMA_REGISTRY_URL: '' }));
    for (const c of children) {
      codes.push(await c.exited);
      outputs.push(c.output());
    }
    for (const d of dirs) perInstance.push(await storedAnomalies(d));
    // The union of both stores, the highest version of each anomaly winning (as one shared ClickHouse would keep it).
    const best = new Map<string, Anomaly>();
    for (const list of perInstance) for (const a of list) if ((best.get(a.anomaly_id)?.version ?? -1) < a.version) best.set(a.anomaly_id, a);
    merged = [...best.values()];
  }, 200_000);

  afterAll(async () => {
    if (process.env.POSGUARD_TEST_VERBOSE) for (const o of outputs) process.stderr.write(`----\n${o}`);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('both instances ran to the end and exited 0, and both were given partitions', () => {
    expect(codes, outputs.join('\n----\n').slice(-4000)).toEqual([0, 0]);
    for (const o of outputs) expect(o).toMatch(/joined group [^\n]*: partitions \d/);
  });

  it('together find the single-instance anomalies: no orphan lost, none twice, none contradicting', () => {
    const cross = crossInstanceRrns(exp);
    const except = crossPartitionDuplicates(exp, PARTITIONS);
    for (const a of [...exp.reference, ...merged]) if (a.rrn !== null && (cross.has(a.rrn) || a.related_rrns.some((r) => cross.has(r)))) except.add(a.anomaly_id);
    const ref = exp.reference.filter((a) => INSTANCE_KINDS.has(a.kind));
    expect(ref.filter((a) => a.kind === 'ORPHAN_DEBIT').length).toBeGreaterThan(50);
    expectSameAnomalies(merged.filter((a) => INSTANCE_KINDS.has(a.kind)), ref, except);
    // Orphans by id: every one of the reference is stored, and none of those left out above is invented.
    const stored = new Set(merged.filter((a) => a.kind === 'ORPHAN_DEBIT' && a.status !== 'RETRACTED').map((a) => a.anomaly_id));
    for (const a of exp.reference) if (a.kind === 'ORPHAN_DEBIT' && !except.has(a.anomaly_id)) expect(stored.has(a.anomaly_id)).toBe(true);
    // Where both instances wrote an anomaly at the same version, they wrote the same decision.
    const [a, b] = perInstance.map((l) => new Map(l.map((x) => [x.anomaly_id, x])));
    for (const [id, x] of a) {
      const y = b.get(id);
      if (y !== undefined && y.version === x.version) expect([y.status, y.cause]).toEqual([x.status, x.cause]);
    }
  });
});
