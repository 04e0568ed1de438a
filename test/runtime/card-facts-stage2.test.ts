/**
 * A member's stage 2 (card-facts/stage2.ts) without a broker: tasks built per
 * generation of the card-facts group, records below the next expected offset
 * or of another generation skipped, bad records counted, the epoch stamped
 * into every version, and the end of a bounded input seen only once every
 * source has sent it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { CardFact } from '../../src/detect/patterns/types.js';
import { epochVersion } from '../../src/ingest/kafka/offsets.js';
import { encodeFactRecord, encodeWatermark } from '../../src/runtime/kafka/card-facts/record.js';
import { CardFactsStage2 } from '../../src/runtime/kafka/card-facts/stage2.js';
import { createLogger } from '../../src/util/log.js';

const T0 = Date.UTC(2026, 2, 2, 8);

/** Six small declined attempts of one card at three merchants within minutes: card testing at the default rules. */
function testing(card: string): CardFact[] {
  return Array.from({ length: 6 }, (_, i) => ({
    event_id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, event_time: T0 + i * 30_000, rrn: String(100000000000 + i), card_token: card,
    merchant_id: `MERCHANT000000${i % 3}`, terminal_id: `T000000${i % 2}`, stan: String(100000 + i), issuer_id: 'ISS', txn_type: 'SALE', amount_minor: 100 + i,
    currency: 'EUR', approved: false, debit: false, lat: null, lon: null, late: false,
  }));
}

function setup() {
  const written: Anomaly[] = [];
  const s2 = new CardFactsStage2({ sources: 2, rules: () => DEFAULT_RULES, now: () => 0, log: createLogger({ level: 'silent' }), write: (a) => written.push(a) });
  return { s2, written };
}

describe('CardFactsStage2', () => {
  it('decides a card whose facts come from two sources once both have passed them, the epoch in the version', () => {
    const { s2, written } = setup();
    s2.assigned(1, [{ partition: 0, start: 10, epoch: 3 }]);
    const values = [
      ...testing('tok_a').map((f, i) => encodeFactRecord(i % 2, f)),
      encodeWatermark(0, T0 + 3_600_000, 3, false),
    ];
    values.forEach((v, i) => s2.record(1, 0, 10 + i, v));
    expect(written).toEqual([]); // source 1 has said nothing
    expect(s2.waitingFor()).toEqual([0, 1]);
    s2.record(1, 0, 10 + values.length, encodeWatermark(1, Infinity, 0, false));
    expect(written.map((a) => a.kind)).toContain('CARD_TESTING');
    expect(written.every((a) => a.version >= epochVersion(3, 1) && a.version < epochVersion(4, 0))).toBe(true);
    expect(s2.ended()).toBe(false);
    expect(s2.waitingFor()).toEqual([0]);
    s2.record(1, 0, 11 + values.length, encodeWatermark(0, Infinity, 3, false));
    expect(s2.ended()).toBe(true);
    expect(s2.counters).toEqual({ records: values.length + 2, bad: 0, skipped: 0 });
  });

  it('skips records below the next offset, of an old generation or of a partition not held; counts bad ones and goes on', () => {
    const { s2 } = setup();
    s2.assigned(2, [{ partition: 1, start: 0, epoch: 0 }]);
    const [f] = testing('tok_b');
    s2.record(2, 1, 0, encodeFactRecord(0, f));
    s2.record(2, 1, 0, encodeFactRecord(0, f)); // the same offset again
    s2.record(1, 1, 1, encodeFactRecord(0, f)); // an old generation's batch
    s2.record(2, 0, 0, encodeFactRecord(0, f)); // not held
    s2.record(2, 1, 1, Buffer.from('nonsense'));
    s2.record(2, 1, 2, encodeWatermark(0, T0, 0, false));
    expect(s2.counters).toEqual({ records: 3, bad: 1, skipped: 3 });
    expect(s2.partitions()).toEqual([{ partition: 1, frontier: -Infinity, pending: 1 }]);
    // A new generation starts over: fresh tasks, the old one's held fact gone.
    s2.assigned(3, [{ partition: 1, start: 0, epoch: 1 }]);
    expect(s2.partitions()).toEqual([{ partition: 1, frontier: -Infinity, pending: 0 }]);
    s2.record(3, 1, 0, encodeFactRecord(0, f));
    expect(s2.partitions()[0].pending).toBe(1);
  });
});
