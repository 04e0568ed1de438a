/**
 * Deciding and re-deciding the debit anomalies of an attempt, and emitting a
 * new version whenever the decision (or the evidence behind it) changes. The
 * detectors decide (src/detect/debit-detectors.ts); this file feeds them and
 * turns what they say into anomaly versions and golden records.
 */
import type { Rules } from '../config/rules.js';
import { anomalyId, type Anomaly, type Evidence, type EvidenceEvent } from '../events/anomaly.js';
import { debitFacts } from '../detect/debit-facts.js';
import type { DebitDetector, DebitVerdict } from '../detect/debit-detectors.js';
import { debitBefore } from '../detect/duplicate-debit.js';
import { evidenceOf } from '../detect/evidence.js';
import type { DebitGroups, DebitOwner } from './debit-groups.js';
import type { EngineCounters, EngineOutput } from './engine-types.js';
import { goldenRecord } from './golden-record.js';
import { H_DEBIT_AMOUNT, H_DEBIT_AT, S_DECIDED, S_HAS_ANOMALY, type LiveAttempt } from './live-attempt.js';

export class DebitDecisions {
  constructor(
    private readonly rules: () => Rules,
    private readonly detectors: readonly DebitDetector[],
    private readonly groups: DebitGroups,
    private readonly out: EngineOutput,
    private readonly counters: EngineCounters,
    /** Wall clock for `detected_at` only; never used for decisions. */
    private readonly now: () => number,
    /** The engine these decisions belong to: debits it holds are re-decided here, others by their owner. */
    private readonly self: DebitOwner,
  ) {}

  /** (Re)computes the debit anomalies of x and emits what changed. */
  evaluate(x: LiveAttempt): void {
    // Stryker disable next-line ConditionalExpression: equivalent: `→ false`, since every caller passes a debit being decided or already decided (lifecycle, changed(), reevaluate), and a debit only ever moves, never goes (→ true, killed, is hidden with it)
    if (Number.isNaN(x.n[H_DEBIT_AT])) return;
    const r = this.rules();
    const graceMs = r.debits.reversalGraceMs;
    const f = debitFacts(x, graceMs, r.debits.resolutionHorizonMs);
    this.groups.noteDecided(x);
    // Only the debits of x's duplicate window that are not reversed within the grace can be its first charge
    // (duplicate-debit.ts); a debit reversed within the grace has none (hot keys: docs/semantics.md, "Memory bounds").
    const group = f.reversedWithinGrace ? undefined
      : this.groups.firstCandidates(x, r.duplicateDebit.windowMs, graceMs, (y) => debitFacts(y, graceMs, r.debits.resolutionHorizonMs).reversedWithinGrace);
    // A first charge released from the group (its retention ended first) still counts for a duplicate already emitted.
    const firsts = x.info?.dupFirsts;
    const pool = firsts ? [...new Set([...(group ?? []), ...firsts])] : group;
    for (const d of this.detectors) this.reconcile(x, d, d.decide(x, f, pool, r));
  }

  /** x's evidence changed: debits that may count x as their first charge are re-decided. */
  reevaluateLaterDuplicates(x: LiveAttempt): void {
    const windowMs = this.rules().duplicateDebit.windowMs;
    for (const z of this.groups.laterDecided(x, windowMs)) {
      // Stryker disable next-line ConditionalExpression: equivalent: `→ false`, since DuplicateGroup.laterDecided (the only source of z, own or shared groups) starts at x's neighbours and never returns x (→ true, killed, is hidden with it)
      if (z === x) continue;
      // Stryker disable next-line ConditionalExpression: equivalent: `→ false`, since laterDecided returns only decided members (→ true, killed, is hidden with it)
      if ((z.state & S_DECIDED) === 0) continue;
      // Stryker disable next-line ConditionalExpression: `!debitBefore(x, z)` → false is equivalent: re-deciding a debit that cannot count x as its first charge changes nothing (→ true, killed, is hidden with it)
      if (!debitBefore(x, z)) continue;
      // Stryker disable next-line ConditionalExpression: equivalent: `→ false`, since laterDecided already stops at x's debit time + windowMs (a debit whose time moves is filed again) (→ true, killed, is hidden with it)
      if (z.n[H_DEBIT_AT] - x.n[H_DEBIT_AT] > windowMs) continue;
      const owner = z.info?.owner;
      if (owner &&
        // Stryker disable next-line ConditionalExpression: equivalent: `owner !== this.self` → true, since when the owner is this engine its reevaluate() evaluates z (decided) here all the same
        owner !== this.self) owner.reevaluate(z);
      else this.evaluate(z);
    }
  }

  /** The attempt's golden record, one version more. */
  reemitGolden(x: LiveAttempt): void {
    if (!this.out.transaction) return;
    x.touch();
    const info = x.infoOrCreate();
    const rec = goldenRecord(x, info.txnVersion + 1);
    info.txnVersion = rec.version;
    this.out.transaction(rec);
  }

  /** Emits a new version when the decision for (x, kind) differs from the last one emitted. */
  private reconcile(x: LiveAttempt, d: DebitDetector, verdict: DebitVerdict<LiveAttempt> | null): void {
    const kind = d.kind;
    const info = x.infoOrCreate();
    const prev = info.emitted?.get(kind);
    let c = verdict;
    if (c === null) {
      if (prev === undefined || prev.status === 'RETRACTED') return;
      c = { status: 'RETRACTED', cause: prev.cause, related: [] };
    }
    const related = c.related.map((y) => y.rrn!);
    const relatedList = c.status === 'RETRACTED' && prev ? prev.related_rrns : related;
    // Evidence that arrives after the decision without changing it still belongs to the final state
    // (the batch reference sees it), so a changed evidence list is a change too.
    const evidence = evidenceOf([x, ...c.related], d.evidenceScope, this.rules().debits.resolutionHorizonMs);
    if (prev !== undefined && prev.status === c.status && prev.cause === c.cause && sameList(prev.related_rrns, relatedList)
      && prev.stan === x.stanText && prev.terminal_id === x.tid && sameEvidence(prev.evidence, evidence)) return;
    const a: Anomaly = {
      anomaly_id: prev?.anomaly_id ?? anomalyId(kind, x.rrn!),
      kind,
      cause: c.cause,
      status: c.status,
      severity: d.severity(this.rules()),
      version: (prev?.version ?? 0) + 1,
      event_time: x.n[H_DEBIT_AT],
      detected_at: this.now(),
      terminal_id: x.tid,
      merchant_id: info.bankMerchant ?? x.mid,
      card_token: info.bankCard,
      rrn: x.rrn,
      stan: x.stanText,
      issuer_id: info.issuer,
      amount_minor: x.n[H_DEBIT_AMOUNT],
      currency: info.bankCurrency,
      related_rrns: relatedList,
      evidence,
    };
    x.touch();
    (info.emitted ??= new Map()).set(kind, a);
    x.state |= S_HAS_ANOMALY;
    // Stryker disable next-line LogicalOperator: equivalent: `||` stores the related list of every DUPLICATE_DEBIT version, i.e. also the empty one of a RETRACTED version, as `>= 0` below (other kinds have no related debits)
    if (kind === 'DUPLICATE_DEBIT' &&
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: `→ true` and `>= 0`, with which a RETRACTED duplicate stores an empty dupFirsts; the pool built from it is the group (or empty, where no group means no duplicate either) (`<= 0`, killed, is hidden with them)
      c.related.length > 0) {
      info.dupFirsts = [...c.related];
      // The first charges stay held to their horizon too: a late reversal of one still resolves this duplicate.
      for (const y of c.related) {
        y.touch();
        y.state |= S_HAS_ANOMALY;
      }
    }
    this.counters.anomalyVersions++;
    this.out.anomaly(a);
  }
}

function sameEvidence(a: Evidence, b: Evidence): boolean {
  const same = (xs: readonly EvidenceEvent[], ys: readonly EvidenceEvent[]) => xs.length === ys.length && xs.every((e, i) => e.event_id === ys[i].event_id);
  return same(a.terminal, b.terminal) && same(a.gateway, b.gateway) && same(a.bank, b.bank);
}

// Every mutant making sameList answer "same" for different lists is equivalent: the related list changes only
// with the related debits, and each brings its own debit event into the evidence, so sameEvidence (on the same
// condition) sees the change; a RETRACTED version keeps the previous list. The comments below hide those.
function sameList(a: readonly string[], b: readonly string[]): boolean {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: equivalent: `→ false` and `return true` (above) (→ true, killed, is hidden with them)
  if (a.length !== b.length) return false;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: `→ false` and `<=` (reads undefined on both sides) (above) (`>=`, which hangs on empty lists, is hidden with them)
  for (let i = 0; i < a.length; i++)
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: equivalent: `→ false` and `return true` (above) (→ true, killed, is hidden with them)
    if (a[i] !== b[i]) return false;
  return true;
}
