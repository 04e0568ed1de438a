/**
 * Suppressions against the embedded ClickHouse: add, list and remove (with
 * who and when kept), a suppression added while the detector writes stamps
 * the later anomaly versions at the next reload, and the open view and the
 * money-at-risk query leave suppressed debits out while reporting them apart.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { addSuppression, listSuppressions, loadActive, removeSuppression, suppressionProblem } from '../../src/suppress/store.js';
import { Suppressor } from '../../src/suppress/suppressor.js';
import { openTestDb, rows, type TestDb } from '../sinks/helpers/chdb.js';
import { documentedQueries } from '../sinks/helpers/queries-doc.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('suppressions');
});
afterAll(async () => db?.dispose());

const NOW = Date.now();
const HOUR = 3_600_000;
// Ten minutes ago, but never before today's UTC midnight: query 1 counts today's orphans (failed in CI at 00:0x UTC).
const EVENT_TIME = Math.max(NOW - 10 * 60_000, NOW - (NOW % (24 * HOUR)));
const orphan = (id: string, over: Partial<Anomaly> = {}): Anomaly => ({
  anomaly_id: id, kind: 'ORPHAN_DEBIT', cause: 'ISSUER_LATE_APPROVAL', status: 'OPEN', severity: 'critical', version: 1,
  event_time: EVENT_TIME, detected_at: NOW, terminal_id: 'TRM00001', merchant_id: 'MRC01', card_token: 'tok_abc', rrn: id, stan: '000001',
  issuer_id: 'BNK0101', amount_minor: 1000, currency: 'EUR', related_rrns: [], evidence: { terminal: [], gateway: [], bank: [] }, ...over,
});

describe('suppress add / list / remove', () => {
  it('appends an add row and a tombstone; list shows active ones, --all also who removed one and when', async () => {
    const a = await addSuppression(db.client, { kind: 'CARD_VELOCITY', scope: 'merchant', value: 'MRC09', untilMs: NOW + 24 * HOUR, reason: 'fuel station' }, 'alice', NOW);
    const b = await addSuppression(db.client, { kind: 'TERMINAL_FAULT_SPIKE', scope: 'terminal', value: 'TRM00042', untilMs: NOW + HOUR, reason: 'reader swap' }, 'alice', NOW + 1);
    expect(a).toMatch(/^sup_[0-9a-f]{12}$/);
    expect((await listSuppressions(db.client)).map((s) => s.suppression_id)).toEqual([a, b]);
    const removed = await removeSuppression(db.client, b, 'bob', 'swap done', NOW + 5_000);
    expect(removed).toMatchObject({ suppression_id: b, kind: 'TERMINAL_FAULT_SPIKE', scope: 'terminal', value: 'TRM00042', created_by: 'alice' });
    expect((await listSuppressions(db.client)).map((s) => s.suppression_id)).toEqual([a]);
    const all = await listSuppressions(db.client, { all: true });
    expect(all.find((s) => s.suppression_id === b)).toMatchObject({ active: false, removed: true, removed_by: 'bob', removal_reason: 'swap done', reason: 'reader swap', created_by: 'alice' });
    // Nothing is updated in place: the add row and the tombstone are both stored.
    expect(await rows(db.client, `SELECT action, changed_by FROM suppressions WHERE suppression_id = '${b}' ORDER BY changed_at`)).toEqual([
      { action: 'add', changed_by: 'alice' }, { action: 'remove', changed_by: 'bob' },
    ]);
    await expect(removeSuppression(db.client, b, 'bob', '', NOW)).rejects.toMatchObject({ code: 'PG_USAGE', message: expect.stringMatching(/already removed by bob/) });
    await expect(removeSuppression(db.client, 'sup_000000000000', 'bob', '', NOW)).rejects.toMatchObject({ code: 'PG_UNKNOWN_SUPPRESSION' });
    await removeSuppression(db.client, a, 'bob', '', NOW + 6_000);
  });

  it('an expired suppression is listed with --all but is not active and is not loaded', async () => {
    const id = await addSuppression(db.client, { kind: 'CARD_TESTING', scope: 'card', value: 'tok_exp', untilMs: Date.now() + 300, reason: 'short' }, 'alice', Date.now());
    expect((await loadActive(db.client, 100)).rows.map((r) => r.id)).toContain(id);
    await new Promise((r) => setTimeout(r, 400));
    expect((await loadActive(db.client, 100)).rows.map((r) => r.id)).not.toContain(id);
    expect((await listSuppressions(db.client, { all: true })).find((s) => s.suppression_id === id)).toMatchObject({ active: false, removed: false });
  });
});

describe('a suppression added while the detector writes', () => {
  it('stamps later anomalies and later versions at the next reload; the open view and money at risk leave them out and report them apart', async () => {
    const suppressor = new Suppressor((cap) => loadActive(db.client, cap), { reloadIntervalMs: 50, log: () => {} });
    await suppressor.start();
    const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
    const write = (a: Anomaly) => sink.anomaly(suppressor.stamp(a));
    try {
      write(orphan('live-a'));
      write(orphan('live-other', { terminal_id: 'TRM00002', amount_minor: 300 }));
      await sink.flush();

      const id = await addSuppression(db.client, { kind: 'ORPHAN_DEBIT', scope: 'terminal', value: 'TRM00001', untilMs: Date.now() + HOUR, reason: 'terminal in repair, debits refunded by the merchant' }, 'alice', Date.now());
      // Two reloads: one already in flight when the suppression was added may have read the table before it.
      const reloads = suppressor.stats.reloads;
      while (suppressor.stats.reloads < reloads + 2) await new Promise((r) => setTimeout(r, 20));

      write(orphan('live-a', { version: 2, cause: 'RESPONSE_LOST_TO_TERMINAL' })); // a later version of an anomaly written before
      write(orphan('live-b', { amount_minor: 2500 })); // a new one on the same terminal
      write(orphan('live-c', { kind: 'DUPLICATE_DEBIT', cause: null })); // same terminal, another kind
      await sink.flush();

      expect(await rows(db.client, "SELECT anomaly_id, version, suppressed_by FROM anomalies WHERE startsWith(anomaly_id, 'live-') ORDER BY anomaly_id, version")).toEqual([
        { anomaly_id: 'live-a', version: 1, suppressed_by: '' },
        { anomaly_id: 'live-a', version: 2, suppressed_by: id },
        { anomaly_id: 'live-b', version: 1, suppressed_by: id },
        { anomaly_id: 'live-c', version: 1, suppressed_by: '' },
        { anomaly_id: 'live-other', version: 1, suppressed_by: '' },
      ]);
      expect(await rows(db.client, "SELECT anomaly_id, suppressed_by FROM anomalies_current WHERE startsWith(anomaly_id, 'live-') ORDER BY anomaly_id"))
        .toEqual([{ anomaly_id: 'live-a', suppressed_by: id }, { anomaly_id: 'live-b', suppressed_by: id }, { anomaly_id: 'live-c', suppressed_by: '' }, { anomaly_id: 'live-other', suppressed_by: '' }]);
      expect((await rows<{ anomaly_id: string }>(db.client, "SELECT anomaly_id FROM anomalies_open WHERE startsWith(anomaly_id, 'live-') ORDER BY anomaly_id")).map((r) => r.anomaly_id))
        .toEqual(['live-c', 'live-other']);

      // docs/queries.md question 1: the suppressed money is out of the total and in its own column.
      const q1 = documentedQueries().find((q) => q.title.startsWith('1. How much'))!;
      expect(await rows(db.client, q1.sql)).toEqual([expect.objectContaining({
        issuer_id: 'BNK0101', currency: 'EUR', open_orphans: 1, amount_at_risk_minor: 300, suppressed_orphans: 2, suppressed_amount_minor: 3500,
      })]);

      // Removed: the next version is written without the stamp and the anomaly is open again.
      await removeSuppression(db.client, id, 'bob', 'repair done', Date.now());
      await suppressor.reload();
      write(orphan('live-b', { version: 2, amount_minor: 2500 }));
      await sink.flush();
      expect(await rows(db.client, "SELECT anomaly_id FROM anomalies_open WHERE anomaly_id = 'live-b'")).toEqual([{ anomaly_id: 'live-b' }]);
      // live-a got no new version: still stamped, but its suppression is no longer active, so it is open again too.
      expect(await rows(db.client, "SELECT anomaly_id, suppressed FROM anomalies_labelled WHERE anomaly_id = 'live-a'")).toEqual([{ anomaly_id: 'live-a', suppressed: 0 }]);
      expect(await rows(db.client, "SELECT anomaly_id FROM anomalies_open WHERE anomaly_id = 'live-a'")).toEqual([{ anomaly_id: 'live-a' }]);

      // docs/analysts-tools.md, "Which suppressions are silencing what": live-a is still stamped, live-b no longer.
      const overview = /### Which suppressions are silencing what\n\n```sql\n([\s\S]*?)```/.exec(readFileSync(new URL('../../docs/analysts-tools.md', import.meta.url), 'utf8'))![1];
      const row = (await rows<Record<string, unknown>>(db.client, overview)).find((r) => r.suppression_id === id);
      expect(row).toMatchObject({ anomalies_stamped: 1, still_open: 1, open_orphan_amount_minor: 1000, active: 0 });
    } finally {
      suppressor.close();
      await sink.close();
    }
  });
});

describe('anomalies_open follows the suppressions active now, not only the stamp', () => {
  it('removing a suppression brings back the open orphan it hid; adding one hides the open orphan it covers; expiry too', async () => {
    const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
    const open = async () => (await rows<{ anomaly_id: string }>(db.client, "SELECT anomaly_id FROM anomalies_open WHERE startsWith(anomaly_id, 'q-') ORDER BY anomaly_id")).map((r) => r.anomaly_id);
    try {
      const hid = await addSuppression(db.client, { kind: 'ORPHAN_DEBIT', scope: 'card', value: 'tok_q1', untilMs: Date.now() + HOUR, reason: 'refunded by hand' }, 'alice', Date.now());
      sink.anomaly(orphan('q-stamped', { card_token: 'tok_q1', terminal_id: 'TRM00091', suppressed_by: hid }));
      sink.anomaly(orphan('q-unstamped', { card_token: 'tok_q2', terminal_id: 'TRM00092', merchant_id: 'MRC92' }));
      sink.anomaly(orphan('q-other-kind', { kind: 'DUPLICATE_DEBIT', cause: null, card_token: 'tok_q2', terminal_id: 'TRM00092', merchant_id: 'MRC92' }));
      await sink.flush();
      expect(await open()).toEqual(['q-other-kind', 'q-unstamped']);

      // Removed, with no new version of the orphan: it is open again.
      await removeSuppression(db.client, hid, 'bob', 'not refunded after all', Date.now());
      expect(await open()).toEqual(['q-other-kind', 'q-stamped', 'q-unstamped']);

      // Added after the orphan was written (no stamp on it): it leaves the open view at once; the other kind stays.
      const later = await addSuppression(db.client, { kind: 'ORPHAN_DEBIT', scope: 'merchant', value: 'MRC92', untilMs: Date.now() + 400, reason: 'merchant refunds' }, 'alice', Date.now());
      expect(await open()).toEqual(['q-other-kind', 'q-stamped']);
      expect(await rows(db.client, "SELECT anomaly_id, suppressed_by, suppressed FROM anomalies_labelled WHERE anomaly_id = 'q-unstamped'")).toEqual([{ anomaly_id: 'q-unstamped', suppressed_by: '', suppressed: 1 }]);
      expect(later).toMatch(/^sup_/);

      // Expired: back again.
      await new Promise((r) => setTimeout(r, 500));
      expect(await open()).toEqual(['q-other-kind', 'q-stamped', 'q-unstamped']);
    } finally {
      await sink.close();
    }
  });
});

describe('suppression free text and values: no clear card number (checked as text)', () => {
  const now = Date.parse('2026-03-02T08:00:00Z');
  const base = { kind: 'ORPHAN_DEBIT', scope: 'terminal', value: 'TRM00001', untilMs: now + 3_600_000, reason: 'maintenance' };

  it('refuses a card number as the value of any scope, not only --card', () => {
    expect(suppressionProblem(base, now)).toBeNull();
    expect(suppressionProblem({ ...base, value: 'x4111111111111111' }, now)).toBe('--terminal: that looks like a clear card number; give the terminal id');
    expect(suppressionProblem({ ...base, scope: 'merchant', value: '4111-1111-1111-1111' }, now)).toMatch(/^--merchant: that looks like a clear card number/);
    expect(suppressionProblem({ ...base, scope: 'card', value: '4111111111111111' }, now)).toMatch(/^--card: .*card_token/);
  });

  it('reads the reason as text, not as JSON', () => {
    expect(suppressionProblem({ ...base, reason: '{"created_at": 4111111111111111}' }, now)).toMatch(/^--reason: contains what looks like a clear card number/);
  });

  it('checks the reason of a remove before touching the store', async () => {
    const client = {} as unknown as Parameters<typeof removeSuppression>[0];
    await expect(removeSuppression(client, 'sup_000000000000', 'ana', 'card 4111 1111 1111 1111 was fine', now)).rejects.toMatchObject({ code: 'PG_USAGE', message: expect.stringMatching(/^--reason: contains what looks like a clear card number/) });
  });
});
