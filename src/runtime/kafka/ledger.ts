/**
 * What a rebuilt partition must know about what earlier runs already wrote
 * (docs/kafka.md, "Offsets and restarts"). A rebuild re-reads from the
 * committed offsets and re-decides every anomaly at or above the floor F; the
 * ledger, loaded from ClickHouse before it starts, keeps that re-decision
 * from fighting what is stored:
 *
 *  - an emission identical to the stored current state (same decision, no
 *    evidence event the stored version lacks) is not written again;
 *  - a pattern anomaly (card patterns, fault spikes) whose stored trigger is
 *    earlier is not replaced: a rebuild that lacks the start of a window can
 *    only fire later or not at all, never earlier than the truth;
 *  - a stored debit anomaly the rebuild never re-emits by its decision time
 *    (its watermark passed event_time + reversal grace) was decided by the
 *    crashed run on evidence that has since changed: it gets a RETRACTED
 *    version, so no stale OPEN anomaly survives a restart.
 */
import type { Anomaly, AnomalyKind, Evidence, EvidenceEvent } from '../../events/anomaly.js';
import type { StoredAnomalies } from '../../sinks/clickhouse/stored-anomalies.js';
import type { LedgerEntryState } from './checkpoint/state.js';
import { PosguardError } from '../../errors.js';
import type { Logger } from '../../util/log.js';

/** Rows per read of the ledger load: bounds the memory of one ClickHouse answer. */
export const LEDGER_PAGE_ROWS = 50_000;

export const DEBIT_KINDS: ReadonlySet<AnomalyKind> = new Set(['ORPHAN_DEBIT', 'AMOUNT_MISMATCH', 'DUPLICATE_DEBIT']);
export const PATTERN_KINDS: ReadonlySet<AnomalyKind> = new Set(['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE']);

interface Stored {
  row: Anomaly;
  sig: string;
  /** The rebuild emitted (or matched) this id. */
  touched: boolean;
  /** Input partition whose bank topic carried the debit (learned while re-reading). */
  partition: number | null;
}

/** The decision as the engine compares it (status, cause, related, identity), plus the trigger. */
export function signature(a: Anomaly): string {
  return `${a.status}|${a.cause ?? ''}|${a.related_rrns.join(',')}|${a.terminal_id ?? ''}|${a.stan ?? ''}|${a.rrn ?? ''}|${a.amount_minor ?? ''}|${a.currency ?? ''}|${a.event_time}`;
}

/** True when `a` lists an evidence event that `stored` does not. */
function addsEvidence(a: Anomaly, stored: Anomaly): boolean {
  const old = stored.evidence;
  for (const stream of ['terminal', 'gateway', 'bank'] as const) {
    const ids = new Set((old?.[stream] ?? []).map((e) => e.event_id));
    if (a.evidence[stream].some((e) => !ids.has(e.event_id))) return true;
  }
  return false;
}

export interface LedgerStats {
  loaded: number;
  suppressedIdentical: number;
  suppressedLaterTrigger: number;
  retracted: number;
}

export class Ledger {
  private readonly stored = new Map<string, Stored>();
  /** Debit anomalies to watch, by rrn: the bank event tells which partition decides them. */
  private readonly byRrn = new Map<string, Stored[]>();
  readonly stats: LedgerStats = { loaded: 0, suppressedIdentical: 0, suppressedLaterTrigger: 0, retracted: 0 };

  /**
   * Loads the current state of every anomaly with event_time >= fromMs (-Infinity: all)
   * from the store (pattern kinds from the start of that UTC day), `pageRows` at a time
   * (the memory of one read), every row: no cap, since a row left out would be re-emitted
   * or wrongly retracted. The ledger holds the anomalies since the lowest floor: what the
   * rebuild will re-decide (docs/kafka.md, "Rebuild").
   */
  async load(store: StoredAnomalies, fromMs: number, pageRows = LEDGER_PAGE_ROWS): Promise<number> {
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const rows = await store.currentSince(fromMs, pageRows, after);
      for (const a of rows) this.add(a);
      total += rows.length;
      if (rows.length < pageRows) break;
      after = rows[rows.length - 1].anomaly_id;
    }
    this.stats.loaded += total;
    return total;
  }

  /** Adds one stored anomaly (load() and tests). */
  add(a: Anomaly): void {
    const prev = this.stored.get(a.anomaly_id);
    if (prev !== undefined && prev.row.version >= a.version) return;
    const s: Stored = { row: a, sig: signature(a), touched: false, partition: null };
    this.stored.set(a.anomaly_id, s);
    if (DEBIT_KINDS.has(a.kind) && a.status !== 'RETRACTED' && a.rrn !== null) {
      const list = this.byRrn.get(a.rrn);
      if (list === undefined) this.byRrn.set(a.rrn, [s]);
      else list.push(s);
    }
  }

  get size(): number {
    return this.stored.size;
  }

  /** A bank event of `rrn` was read from input partition p. */
  noteBank(partition: number, rrn: string): void {
    if (this.byRrn.size === 0) return;
    const list = this.byRrn.get(rrn);
    if (list !== undefined) for (const s of list) s.partition ??= partition;
  }

  /** True when `a` must be written; false when what is stored already says it. */
  admit(a: Anomaly): boolean {
    const s = this.stored.get(a.anomaly_id);
    if (s === undefined) return true;
    const sig = signature(a);
    if (PATTERN_KINDS.has(a.kind)) {
      if (s.row.event_time < a.event_time || (s.row.event_time === a.event_time && s.sig === sig)) {
        this.stats.suppressedLaterTrigger++;
        return false;
      }
      s.row = a;
      s.sig = sig;
      return true;
    }
    if (!s.touched) {
      s.touched = true;
      // The signature leaves evidence out: a re-decision that knows events the stored version
      // lacks (the crashed run died before writing them) must be written (issue 17, group-exact flake).
      if (s.sig === sig && !addsEvidence(a, s.row)) {
        this.stats.suppressedIdentical++;
        return false;
      }
    }
    return true;
  }

  /**
   * `a` with the evidence the stored version already lists added to its own. A rebuild
   * re-reads only from the committed offsets, so a debit anomaly it re-decides may lack
   * events an earlier run saw (a first charge's reversal before the offsets); those events
   * are still behind the decision and the stored record must not lose them.
   */
  withStoredEvidence(a: Anomaly): Anomaly {
    const s = this.stored.get(a.anomaly_id);
    if (s === undefined || !DEBIT_KINDS.has(a.kind)) return a;
    const union = (mine: readonly EvidenceEvent[], theirs: readonly EvidenceEvent[]): EvidenceEvent[] => {
      const ids = new Set(mine.map((e) => e.event_id));
      const extra = theirs.filter((e) => !ids.has(e.event_id));
      if (extra.length === 0) return [...mine];
      return [...mine, ...extra].sort((x, y) => x.event_time - y.event_time || (x.event_id < y.event_id ? -1 : 1));
    };
    const e = a.evidence;
    const old: Partial<Evidence> = s.row.evidence ?? {};
    return { ...a, evidence: { terminal: union(e.terminal, old.terminal ?? []), gateway: union(e.gateway, old.gateway ?? []), bank: union(e.bank, old.bank ?? []) } };
  }

  /**
   * Stored debit anomalies of `partition` (at or above its floor) whose
   * decision time the rebuild has passed without emitting them: they no longer hold. Each is returned once,
   * as a RETRACTED copy (the caller sets version and writes it).
   */
  retractionsDue(partition: number, watermark: number, graceMs: number, floor = -Infinity): Anomaly[] {
    if (this.byRrn.size === 0) return [];
    const out: Anomaly[] = [];
    for (const [rrn, list] of this.byRrn) {
      let keep = 0;
      for (const s of list) {
        if (s.touched) continue;
        // Below the partition's floor it was final before the rebuild: the rebuild does not re-decide it.
        if (s.partition !== partition || watermark < s.row.event_time + graceMs || s.row.event_time < floor) {
          list[keep++] = s;
          continue;
        }
        s.touched = true;
        this.stats.retracted++;
        out.push({ ...s.row, status: 'RETRACTED', detected_at: Date.now() });
      }
      list.length = keep;
      if (keep === 0) this.byRrn.delete(rrn);
    }
    return out;
  }

  /**
   * For a checkpoint: the stored anomalies at or above `minTime` (the lowest
   * floor: below it everything is final and nothing re-decides it), with
   * what the rebuild learnt of each. Restored, they keep suppressing,
   * merging evidence and retracting exactly as before the restart.
   */
  toState(minTime: number): LedgerEntryState[] {
    const out: LedgerEntryState[] = [];
    for (const s of this.stored.values()) if (s.row.event_time >= minTime) out.push({ row: s.row, touched: s.touched, partition: s.partition });
    return out;
  }

  /**
   * After a restore: what the crashed run stored since the floor (`stored`, loaded from ClickHouse),
   * including what it decided after the checkpoint. The restored run re-reads that tail, maybe in
   * another interleaving of the topics, and need not re-emit such an anomaly (a reversal arriving
   * before the decision this time, not after): left alone, a stale OPEN would stay stored
   * (kill-random.test.ts found one). So a stored row newer than this ledger joins it:
   * - one the restored engines decided before the checkpoint (`pinned`): they keep deciding it,
   *   and their next emission supersedes it (touched: written as it comes);
   * - a debit anomaly whose attempt a restored engine holds (`holder` gives its partition):
   *   untouched, so it is retracted at its decision time unless re-emitted, as after a rebuild;
   * - anything else (final, or a pattern): as a rebuild's ledger has it.
   * Returns how many rows joined.
   */
  absorbAfterRestore(stored: Ledger, pinned: (id: string) => boolean, holder: (rrn: string) => number | null): number {
    let n = 0;
    for (const s of stored.stored.values()) {
      const mine = this.stored.get(s.row.anomaly_id);
      if (mine !== undefined && mine.row.version >= s.row.version) continue;
      this.add(s.row);
      const joined = this.stored.get(s.row.anomaly_id)!;
      n++;
      if (pinned(s.row.anomaly_id)) joined.touched = true;
      else if (DEBIT_KINDS.has(s.row.kind) && s.row.rrn !== null) joined.partition = holder(s.row.rrn);
    }
    for (const [rrn, list] of this.byRrn) {
      const open = list.filter((x) => !x.touched && this.stored.get(x.row.anomaly_id) === x);
      if (open.length === 0) this.byRrn.delete(rrn);
      else this.byRrn.set(rrn, open);
    }
    return n;
  }

  static fromState(entries: readonly LedgerEntryState[]): Ledger {
    const l = new Ledger();
    for (const e of entries) {
      l.add(e.row);
      const s = l.stored.get(e.row.anomaly_id)!;
      s.touched = e.touched;
      s.partition = e.partition;
    }
    // add() listed every debit row by rrn; the touched ones are done with.
    for (const [rrn, list] of l.byRrn) {
      const open = list.filter((s) => !s.touched);
      if (open.length === 0) l.byRrn.delete(rrn);
      else l.byRrn.set(rrn, open);
    }
    return l;
  }
}

/** The ledger of a rebuild: the stored anomalies from the lowest planned floor on (none when nothing is planned). */
export async function loadRebuildLedger(stored: () => StoredAnomalies, plans: readonly { floor: number }[], log: Logger): Promise<Ledger> {
  const ledger = new Ledger();
  if (plans.length === 0) return ledger;
  const minFloor = plans.reduce((m, pl) => Math.min(m, pl.floor), Infinity);
  try {
    const n = await ledger.load(stored(), minFloor);
    if (n > 0) log.info(`rebuild: ${n} stored anomalies from ${Number.isFinite(minFloor) ? new Date(minFloor).toISOString() : 'the beginning'} loaded to reconcile re-emissions`);
  } catch (e) {
    throw new PosguardError('PG_CLICKHOUSE', `cannot read anomalies_current to rebuild: ${(e as Error).message}`, { cause: e, retriable: true });
  }
  return ledger;
}
