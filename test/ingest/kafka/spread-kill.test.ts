/**
 * Issue 14: a member killed mid-run under `--assignment spread`. Two
 * `posguard run --until-end` members share four input partitions; once both
 * run a stage 2 and A has read part of its input, A gets SIGKILL. B reads its
 * own input to the end and takes its final decisions, staying in both
 * groups; when A's session expires, B is given A's input partitions (rebuilt
 * from A's commits) and A's card-facts partitions (re-read from their start
 * under a new epoch), reads them to the end and only then leaves. The card
 * patterns stored (A's rows and B's, highest version of each) equal the
 * batch reference exactly.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { cleanUpMembers, describeKafka, spreadInput, mergedStores, startCli, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 4;
const CARD_KINDS = new Set(['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL']);
const CARD_SIM = Object.freeze({ seed: 1, minutes: 50, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 40) });

/** The largest record count A's status lines report. */
const recordsRead = (out: string) => Math.max(0, ...[...out.matchAll(/(\d+) records \(/g)].map((m) => Number(m[1])));

describeKafka('spread: a member killed mid-run, its partitions of both stages taken over', (env) => {
  const topics = uniqueTopics('kill');
  const group = uniqueGroup('kill');
  const dirs = [0, 1].map((i) => mkdtempSync(join(tmpdir(), `posguard-kafka-kill-${i}-`)));
  let exp: Expected;
  const outputs: string[] = [];
  let codes: (number | string)[] = [];
  let merged: Anomaly[] = [];
  let readAtKill = 0;

  beforeAll(async () => {
    exp = expected(CARD_SIM);
    const { sent, args } = await spreadInput(env.brokers, group, topics, PARTITIONS, CARD_SIM);
    expect(sent).toBe(exp.records);
    const [a, b] = dirs.map((d) => startCli(args(d), { SCHEMA_REGISTRY_URL: '' }));
    await Promise.all([a, b].map((c) => c.waitFor(/card facts: reading partitions? \d/, 60_000)));
    const deadline = Date.now() + 60_000;
    while (recordsRead(a.output()) < 2_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    readAtKill = recordsRead(a.output());
    a.proc.kill('SIGKILL');
    codes = [await a.exited, await b.exited];
    outputs.push(a.output(), b.output());
    merged = await mergedStores(dirs);
  }, 300_000);

  afterAll(() => cleanUpMembers(env.brokers, outputs, dirs, topics));

  it('A died mid-run; B took over both stages, read everything to the end and exited 0', () => {
    expect(codes, outputs[1].slice(-6000)).toEqual(['SIGKILL', 0]);
    expect(readAtKill).toBeGreaterThan(0);
    expect(readAtKill).toBeLessThan(exp.records);
    // B finished its own input first and waited, then was given all four partitions of both groups.
    expect(outputs[1]).toMatch(/input read to its end here; waiting for the end of input of partitions? [\d, ]+ on the card facts/);
    expect(outputs[1]).toMatch(/joined group [^\n]*: partitions 0, 1, 2, 3/);
    expect(outputs[1]).toMatch(/card facts: reading partitions 0 from \d+ \(epoch \d+\), 1 from \d+ \(epoch \d+\), 2 from \d+ \(epoch \d+\), 3 from/);
  });

  it('the card patterns stored equal the batch reference exactly, every kind present', () => {
    const ref = exp.reference.filter((a) => CARD_KINDS.has(a.kind));
    for (const k of CARD_KINDS) expect(ref.filter((a) => a.kind === k).length, k).toBeGreaterThan(0);
    expectSameAnomalies(merged.filter((a) => CARD_KINDS.has(a.kind)), ref);
  });
});
