/** The commit rule's bookkeeping (no broker): offset blocks, commit metadata, epoch versions, the per-partition floor. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import type { CardFact, CardPatternDetector } from '../../../src/detect/patterns/types.js';
import type { BankEvent } from '../../../src/events/index.js';
import { OffsetLog, commitSpans, decodeMeta, encodeMeta, epochVersion, MAX_ENGINE_VERSION } from '../../../src/ingest/kafka/offsets.js';
import { PartitionTask } from '../../../src/runtime/kafka/partition-task.js';

describe('OffsetLog', () => {
  it('answers the first offset that may hold an event at or after the bound, and forgets whole blocks below it', () => {
    const log = new OffsetLog(100);
    expect(log.safeOffset(-Infinity)).toBe(100); // nothing consumed: where it started
    // 1,000 records, event times rising with jitter, plus a late straggler at offset 700.
    for (let i = 0; i < 1000; i++) log.add(100 + i, i === 600 ? 5 : 1_000 + i * 10 + (i % 7));
    expect(log.next).toBe(1100);
    expect(log.safeOffset(-Infinity)).toBe(100);
    // Bound 3,000: records from about offset 300 on are stamped >= 3000; the answer never skips one of them.
    const c = log.safeOffset(3_000);
    expect(c).toBeLessThanOrEqual(100 + 200);
    expect(c).toBeGreaterThanOrEqual(100);
    // A straggler stamped low does not hold the commit back (it is not needed), but it is re-read if behind C.
    expect(log.safeOffset(9_000)).toBeLessThanOrEqual(100 + 800);
    expect(log.safeOffset(9_000)).toBeGreaterThan(100 + 512);
    // Bounds only grow: asking for less later does not move back.
    expect(log.safeOffset(0)).toBe(log.safeOffset(9_000));
    // Past everything consumed: the next offset to read.
    expect(log.safeOffset(1e9)).toBe(1100);
  });

  it('lets dead letters (no event time) pass', () => {
    const log = new OffsetLog(0);
    for (let i = 0; i < 300; i++) log.add(i, null);
    expect(log.safeOffset(-1e15)).toBe(300);
  });
});

describe('commit metadata and versions', () => {
  it('round-trips the floor and epoch and ignores foreign metadata', () => {
    expect(decodeMeta(encodeMeta({ floor: 1_772_438_400_000, epoch: 3 }))).toEqual({ floor: 1_772_438_400_000, epoch: 3 });
    expect(decodeMeta(encodeMeta({ floor: null, epoch: 0 }))).toEqual({ floor: null, epoch: 0 });
    expect(decodeMeta('')).toBeNull();
    expect(decodeMeta('some other tool')).toBeNull();
    expect(decodeMeta('{"e":1}')).toBeNull();
  });

  it('puts every version of a later epoch above every version of an earlier one, keeping epoch 0 as 1, 2, 3', () => {
    expect(epochVersion(0, 1)).toBe(1);
    expect(epochVersion(0, 7)).toBe(7);
    expect(epochVersion(1, 1)).toBeGreaterThan(epochVersion(0, MAX_ENGINE_VERSION));
    expect(epochVersion(2, 1)).toBeGreaterThan(epochVersion(1, 50));
    expect(epochVersion(2 ** 20 - 1, MAX_ENGINE_VERSION)).toBeLessThanOrEqual(2 ** 32 - 1);
  });
});

describe('PartitionTask floor', () => {
  const noCards: CardPatternDetector = { push: (_f: CardFact) => undefined, advance: () => undefined, activeCards: () => 0 };
  const out = { anomaly: () => undefined, transaction: () => undefined, late: () => undefined };
  const t0 = Date.UTC(2026, 2, 2, 8);
  let n = 0;
  const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const bank = (t: number, type: BankEvent['event_type'], rrn: string): BankEvent => ({
    event_id: id(), event_time: t, terminal_id: 'TERM0001', merchant_id: 'MERCHANT0000001', stan: String(100000 + (n % 900000)).slice(0, 6),
    event_type: type, rrn, txn_type: 'SALE', amount_minor: 1000, currency: 'EUR', card_token: 'tok_1', issuer_id: 'ISS', account_ref: 'acct',
    auth_code: null, response_code: '00', orig_rrn: null,
  });
  const s = commitSpans(DEFAULT_RULES);

  it('follows the watermark minus retention and slack, and is held by an OPEN debit anomaly until its horizon', () => {
    const task = new PartitionTask(0, 0, -Infinity, { terminal: 0, gateway: 0, bank: 0 }, () => DEFAULT_RULES, noCards, out);
    expect(task.floorNow()).toBe(-Infinity);
    // Only bank traffic: the engine's watermark stays -infinity until all three streams spoke.
    const ref = { source: 'b', partition: 0, offset: '0' };
    task.push('bank', bank(t0, 'AUTH_APPROVED', '000000000001'), ref);
    expect(task.floorNow()).toBe(-Infinity);
    // A pin is what an OPEN debit anomaly leaves: simulate one (the engine would emit it at t0 + grace).
    task.pins.set('a1', t0);
    (task as unknown as { floor: number }).floor = -Infinity;
    expect(task.floorNow()).toBe(-Infinity);
    const c = task.commitAt(t0);
    expect(c.offsets).toEqual({ terminal: 0, gateway: 0, bank: 0 });
    expect(decodeMeta(c.metadata)).toEqual({ floor: t0, epoch: 0 });
    expect(s.retentionMs).toBe(25 * 60_000);
    expect(s.lookBackMs).toBeGreaterThan(s.retentionMs);
  });
});
