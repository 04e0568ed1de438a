/**
 * The in-process stage 2: card facts from several partition engines, merged
 * by frontier, give CardPatterns exactly the calls one engine over all the
 * input would give it, so the anomalies are the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';
import { CardStage } from '../../../src/runtime/kafka/card-stage.js';

const T0 = Date.UTC(2026, 2, 2, 8);

function facts(seed: number, n: number): CardFact[] {
  let x = seed >>> 0 || 1;
  const r = (k: number) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % k;
  };
  const out: CardFact[] = [];
  for (let i = 0; i < n; i++) {
    const approved = r(3) === 0;
    const small = r(4) !== 0;
    out.push({
      event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      event_time: T0 + i * 20_000 + r(15_000),
      rrn: String(100000000000 + i), card_token: `tok_${r(4)}`, merchant_id: `MERCHANT${String(r(5)).padStart(7, '0')}`,
      terminal_id: `T${String(r(12)).padStart(7, '0')}`, stan: String(100000 + i), issuer_id: 'ISS', txn_type: 'SALE',
      amount_minor: small ? 100 + r(1900) : 400_000 + r(900_000), currency: 'EUR', approved, debit: approved,
      lat: r(2) === 0 ? 48.85 + r(2) * 3 : 52.5, lon: r(2) === 0 ? 2.35 + r(2) * 10 : 13.4, late: false,
    });
  }
  return out;
}

const byTime = (a: CardFact, b: CardFact) => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : 1);
const finals = (l: Anomaly[]) => [...new Map(l.map((a) => [a.anomaly_id, `${a.kind}|${a.rrn}|${a.related_rrns.join(',')}|${a.version}`])).entries()].sort();

describe('CardStage', () => {
  it('equals one CardPatterns over all facts in order, however the sources interleave', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1e6 }), (seed, sources, mix) => {
      const all = facts(seed, 400).sort(byTime);
      const single: Anomaly[] = [];
      const one = new CardPatterns(() => DEFAULT_RULES, (a) => single.push(a));
      for (const f of all) one.push(f);
      one.advance(Infinity);

      const merged: Anomaly[] = [];
      const stage = new CardStage(() => DEFAULT_RULES, (a) => merged.push(a), 60_000, () => 0);
      // Each source gets the facts of its terminals, in order, and advances its frontier as an engine would.
      const part = (f: CardFact) => Number(f.terminal_id.slice(1)) % sources;
      const queues = Array.from({ length: sources }, (_, p) => all.filter((f) => part(f) === p));
      const det = queues.map((_, p) => stage.source(p));
      let m = mix;
      while (queues.some((q) => q.length > 0)) {
        m = (Math.imul(m, 1103515245) + 12345) >>> 0;
        let p = (m >>> 8) % sources;
        while (queues[p].length === 0) p = (p + 1) % sources;
        const q = queues[p];
        const k = Math.min(q.length, 1 + ((m >>> 16) % 7));
        for (const f of q.splice(0, k)) det[p].push(f);
        det[p].advance(q.length > 0 ? q[0].event_time - 1 : all[all.length - 1].event_time);
      }
      for (const d of det) d.advance(Infinity);
      expect(stage.pending()).toBe(0);
      expect(finals(merged)).toEqual(finals(single));
    }), { numRuns: 60 });
    // The generator must produce patterns at all.
    const probe: Anomaly[] = [];
    const one = new CardPatterns(() => DEFAULT_RULES, (a) => probe.push(a));
    for (const f of facts(7, 400).sort(byTime)) one.push(f);
    one.advance(Infinity);
    expect(probe.length).toBeGreaterThan(0);
  });

  it('stops waiting for a source idle longer than idleMs, and flags what it sends later as late', () => {
    let now = 0;
    const got: CardFact[] = [];
    const stage = new CardStage(() => DEFAULT_RULES, () => undefined, 1_000, () => now);
    (stage.patterns as unknown as { push: (f: CardFact) => void }).push = (f) => void got.push(f);
    const a = stage.source(0);
    const b = stage.source(1);
    const [f1, f2, f3] = facts(3, 3).sort(byTime);
    a.push(f1);
    a.push(f3);
    a.advance(f3.event_time);
    expect(got).toEqual([]); // b has said nothing yet: held
    now = 5_000;
    stage.touch(0);
    stage.pump();
    expect(got.map((f) => f.event_id)).toEqual([f1.event_id, f3.event_id]);
    b.push(f2);
    b.advance(f2.event_time);
    expect(got[2]).toMatchObject({ event_id: f2.event_id, late: true });
  });
});
