/**
 * Issue 14, stage 2 over Kafka: three `posguard run --assignment spread`
 * processes in one group over six input partitions, the third started once
 * the first two have joined (both groups rebalance; on this small input it
 * may come when they are ending, and then takes every partition over from
 * their commits and the card-facts topic's start).
 * Stage 1 publishes card facts and watermarks to the card-facts topic; each
 * member's stage 2 reads the card-facts partitions its group gives it. The
 * card patterns (CARD_TESTING, CARD_VELOCITY, IMPOSSIBLE_TRAVEL) they store
 * together equal the batch reference exactly: no card lost where its facts
 * came from partitions held by different members, none twice.
 *
 * Each member writes to its own embedded store (no ClickHouse server here):
 * the union, highest version of each anomaly, is what a shared store holds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { cleanUpMembers, describeKafka, spreadInput, mergedStores, startCli, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 6;
const CARD_KINDS = new Set(['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL']);
// 50 minutes: long enough for a velocity hour's worth of one card's debits in this data (seed 1).
const CARD_SIM = Object.freeze({ seed: 1, minutes: 50, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 40) });

describeKafka('three posguard run instances, partitions spread: card patterns through the card-facts topic', (env) => {
  const topics = uniqueTopics('cards');
  const group = uniqueGroup('cards');
  const dirs = [0, 1, 2].map((i) => mkdtempSync(join(tmpdir(), `posguard-kafka-cards-${i}-`)));
  let exp: Expected;
  const outputs: string[] = [];
  const codes: (number | string)[] = [];
  let merged: Anomaly[] = [];

  beforeAll(async () => {
    exp = expected(CARD_SIM);
    const { sent, args } = await spreadInput(env.brokers, group, topics, PARTITIONS, CARD_SIM);
    expect(sent).toBe(exp.records);
    const children = dirs.slice(0, 2).map((d) => startCli(args(d), { SCHEMA_REGISTRY_URL: '' }));
    // The third member joins once the first two are reading: every partition of both groups may move.
    const deadline = Date.now() + 60_000;
    while (!children.every((c) => /joined group/.test(c.output())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    children.push(startCli(args(dirs[2]), { SCHEMA_REGISTRY_URL: '' }));
    for (const c of children) {
      codes.push(await c.exited);
      outputs.push(c.output());
    }
    merged = await mergedStores(dirs);
  }, 300_000);

  afterAll(() => cleanUpMembers(env.brokers, outputs, dirs, topics));

  it('all three ran to the end and exited 0; the card-facts topic was created with the input\'s partition count', () => {
    expect(codes, outputs.join('\n----\n').slice(-6000)).toEqual([0, 0, 0]);
    expect(outputs.join('\n')).toContain(`created the card-facts topic ${topics.cardFacts} (${PARTITIONS} partitions)`);
    // Each summary counts what the member wrote to and read from the card facts; none was bad.
    const read = outputs.map((o) => /card facts \(spread\)\s+(\d+) written \(facts and markers\), (\d+) read in stage 2, 0 bad/.exec(o));
    expect(read.every((m) => m !== null && Number(m[1]) > 0)).toBe(true);
    expect(read.reduce((n, m) => n + Number(m![2]), 0)).toBeGreaterThan(0);
  });

  it('store exactly the card patterns of the batch reference, every kind present', () => {
    const ref = exp.reference.filter((a) => CARD_KINDS.has(a.kind));
    for (const k of CARD_KINDS) expect(ref.filter((a) => a.kind === k).length, k).toBeGreaterThan(0);
    expectSameAnomalies(merged.filter((a) => CARD_KINDS.has(a.kind)), ref);
    // More than one member decided cards: stage 2 really was spread.
    const readers = outputs.filter((o) => /card facts: reading partitions? \d/.test(o));
    expect(readers.length).toBeGreaterThan(1);
  });
});
