/**
 * The simulator's boundary share (SimOptions.boundaryRate): off, the output is
 * byte-for-byte what it was; on, events really land on each window edge of
 * the rules and 1 ms either side (counted from the stamped events here, not
 * from what the generator meant to do).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { AnyEvent, Stream } from '../../src/events/index.js';
import { simulate, type SimOptions } from '../../src/sim/index.js';

const base: SimOptions = { seed: 5, minutes: 70, tps: 1, startMs: Date.UTC(2026, 2, 2, 23, 20) };

function run(o: SimOptions): { digest: string; events: { stream: Stream; e: AnyEvent; delay: number }[] } {
  const h = createHash('sha256');
  const events: { stream: Stream; e: AnyEvent; delay: number }[] = [];
  for (const r of simulate(o).records) {
    h.update(`${r.stream}\t${r.arrivalMs}\t${r.line}\n`);
    if (r.bad === undefined && r.redelivery === undefined) events.push({ stream: r.stream, e: JSON.parse(r.line) as AnyEvent, delay: r.arrivalMs - r.trueMs });
  }
  return { digest: h.digest('hex'), events };
}

/** Pairs (a, b) of `xs` grouped by key with b.t - a.t in want (a set of gaps). */
function gapsHit(xs: readonly { key: string; t: number }[], want: ReadonlySet<number>): number {
  const by = new Map<string, number[]>();
  for (const x of xs) by.set(x.key, [...(by.get(x.key) ?? []), x.t]);
  let n = 0;
  for (const ts of by.values()) for (const a of ts) for (const b of ts) if (want.has(b - a)) n++;
  return n;
}

const around = (edge: number) => new Set([edge - 1, edge, edge + 1]);

describe('simulate: boundary scenarios', () => {
  it('change nothing when off (rate 0 or absent)', () => {
    expect(run({ ...base, boundaryRate: 0 }).digest).toBe(run(base).digest);
  });

  it('put events exactly on every window edge and 1 ms either side when on', () => {
    const { digest, events } = run({ ...base, boundaryRate: 0.1 });
    expect(digest).not.toBe(run(base).digest);
    const r = DEFAULT_RULES;
    const bank = events.filter((x) => x.stream === 'bank').map((x) => x.e as AnyEvent & { rrn: string; orig_rrn: string | null; card_token: string | null; amount_minor: number | null });
    const debits = bank.filter((e) => e.event_type === 'AUTH_APPROVED');
    const debitAt = new Map(debits.map((e) => [e.rrn, e.event_time]));
    const reversalGaps = bank.filter((e) => e.event_type === 'REVERSAL_APPLIED' && e.orig_rrn !== null && debitAt.has(e.orig_rrn)).map((e) => e.event_time - debitAt.get(e.orig_rrn!)!);
    const byCard = debits.map((e) => ({ key: `${e.card_token}|${e.merchant_id}|${e.amount_minor}`, t: e.event_time }));
    const terminal = events.filter((x) => x.stream === 'terminal').map((x) => x.e);
    const faults = terminal.filter((e) => e.event_type === 'DEVICE_FAULT').map((e) => ({ key: e.terminal_id, t: e.event_time }));
    const received = new Map(terminal.filter((e) => e.event_type === 'RESPONSE_RECEIVED').map((e) => [`${e.terminal_id}|${e.stan}`, e.event_time]));
    const failGaps = terminal.filter((e) => e.event_type === 'TXN_FAILED' && received.has(`${e.terminal_id}|${e.stan}`)).map((e) => e.event_time - received.get(`${e.terminal_id}|${e.stan}`)!);
    const smallAttempts = bank.filter((e) => (e.event_type === 'AUTH_APPROVED' || e.event_type === 'AUTH_DECLINED') && e.amount_minor === r.cardTesting.maxAmountMinor);
    const midnight = Date.UTC(2026, 2, 3);

    expect(reversalGaps.filter((g) => around(r.debits.reversalGraceMs).has(g)).length, 'reversal grace').toBeGreaterThan(0);
    expect(reversalGaps.filter((g) => around(r.debits.resolutionHorizonMs).has(g)).length, 'resolution horizon').toBeGreaterThan(0);
    expect(gapsHit(byCard, around(r.duplicateDebit.windowMs)), 'duplicate window').toBeGreaterThan(0);
    expect(gapsHit(byCard, new Set([0])) - byCard.length, 'duplicates at equal time').toBeGreaterThan(0);
    expect(failGaps.filter((g) => g >= -1 && g <= 1).length, 'TXN_FAILED at the response time').toBeGreaterThan(0);
    expect(gapsHit(smallAttempts.map((e) => ({ key: e.card_token ?? '', t: e.event_time })), around(r.cardTesting.windowMs)), 'card-testing window').toBeGreaterThan(0);
    expect(gapsHit(debits.map((e) => ({ key: e.card_token ?? '', t: e.event_time })), around(r.cardVelocity.windowMs)), 'card-velocity window').toBeGreaterThan(0);
    expect(gapsHit(faults, around(r.terminalFaultSpike.windowMs)), 'fault-spike window').toBeGreaterThan(0);
    expect(events.filter((x) => around(midnight).has(x.e.event_time)).length, 'UTC midnight').toBeGreaterThan(0);
    expect(events.filter((x) => around(r.time.maxDelayMs).has(x.delay)).length, 'max delay').toBeGreaterThan(10);
  });
});
