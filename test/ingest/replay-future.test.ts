/**
 * rules.time.maxFutureMs in replay (../shared/spec/feeds.md: "max_future
 * applies against the wall clock there too"), with an injected wall clock: a
 * record stamped further ahead is a dead letter `event_time_in_future` and
 * changes nothing else; the same record is an event when the clock has caught up.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayJob } from '../../src/runtime/replay.js';
import { simulate, SIM_DEFAULTS } from '../../src/sim/index.js';

const dir = mkdtempSync(join(tmpdir(), 'posguard-replay-future-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIM = { seed: 21, minutes: 6, tps: 2, startMs: SIM_DEFAULTS.startMs, badRecordRate: 0 };
/** The wall clock the replays run at: an hour after the simulated traffic starts. */
const NOW = SIM.startMs + 3_600_000;
const FAR = NOW + 10 * 365 * 86_400_000;

const farLine = JSON.stringify({
  event_id: '00000000-0000-4000-8000-00000000f00d', event_time: FAR, terminal_id: 'FUTURE01', merchant_id: 'MERFUTURE000001', stan: '000001',
  event_type: 'DEVICE_FAULT', txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null,
  response_code: null, failure_reason: null, fault_component: 'PRINTER', orig_stan: null, lat: null, lon: null,
});

async function replay(tag: string, withFar: boolean, now: number) {
  const lines: Record<string, string[]> = { terminal: [], gateway: [], bank: [] };
  for (const r of simulate(SIM).records) lines[r.stream].push(r.line);
  if (withFar) lines.terminal.splice(10, 0, farLine);
  const inputs = { terminal: join(dir, `${tag}-t.jsonl`), gateway: join(dir, `${tag}-g.jsonl`), bank: join(dir, `${tag}-b.jsonl`) };
  for (const s of ['terminal', 'gateway', 'bank'] as const) writeFileSync(inputs[s], lines[s].join('\n') + '\n');
  const outputs = { anomalies: join(dir, `${tag}-a.jsonl`), deadLetters: join(dir, `${tag}-d.jsonl`), late: join(dir, `${tag}-l.jsonl`) };
  await replayJob({ inputs, outputs, now: () => now });
  const read = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const anomalies = read(outputs.anomalies).map((a) => JSON.stringify({ ...a, detected_at: 0 }));
  return { anomalies, deadLetters: read(outputs.deadLetters) as { stream: string; line: number; reason: string }[] };
}

describe('replay and max_future', () => {
  it('makes a record ten years ahead of the wall clock a dead letter that changes nothing else', async () => {
    const clean = await replay('clean', false, NOW);
    const far = await replay('far', true, NOW);
    expect(clean.deadLetters).toEqual([]);
    expect(far.deadLetters).toHaveLength(1);
    const d = far.deadLetters[0];
    expect(d.stream).toBe('terminal');
    expect(d.line).toBe(11);
    expect(d.reason).toContain(`event_time_in_future: field event_time: ${new Date(FAR).toISOString()} is ${FAR - NOW} ms ahead`);
    expect(d.reason).toContain('rules.time.maxFutureMs allows 900000 ms');
    expect(clean.anomalies.length).toBeGreaterThan(3);
    expect(far.anomalies).toEqual(clean.anomalies);
  }, 60_000);

  it('reads the injected clock: once the wall clock is there, the same record is an event', async () => {
    const later = await replay('later', true, FAR);
    expect(later.deadLetters).toEqual([]);
  }, 60_000);
});
