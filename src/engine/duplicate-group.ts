/**
 * One duplicate-debit group (same card, merchant, amount and currency): its
 * held debits in debit-time order, so that a decision reads only the debits
 * of its duplicate window, not the whole group. A hot key (a card charged
 * 100,000 times an hour at one merchant for one amount) then costs per debit
 * what its window holds that can still matter, not what the group holds.
 *
 * Two linked lists over the same nodes:
 * - every member, by debit time (equal times in join order): the later
 *   debits a changed debit may be the first charge of;
 * - the members not known to be reversed within the grace ("open"): the
 *   first charges a debit can have. A member found reversed within the grace
 *   leaves this list for good; that fact only ever turns true for a debit
 *   whose time is fixed (reversals are only added, and a debit whose time
 *   moves leaves and joins again as a new node), except when a rules reload
 *   changes the grace, which reopens every member.
 * Removal is O(1); joining walks back from the newest member (in-order input:
 * O(1); an out-of-order debit: the debits held after it).
 */
import { H_DEBIT_AT, S_DECIDED, type LiveAttempt } from './live-attempt.js';

interface Node {
  readonly x: LiveAttempt;
  /** Debit time when it joined (a debit whose time moves leaves and joins again). */
  readonly t: number;
  /** Join order: later debits are re-decided in it, as before the lists existed. */
  readonly seq: number;
  prev: Node | null;
  next: Node | null;
  open: boolean;
  openPrev: Node | null;
  openNext: Node | null;
}

export class DuplicateGroup {
  private readonly nodes = new Map<LiveAttempt, Node>();
  private head: Node | null = null;
  private tail: Node | null = null;
  private openHead: Node | null = null;
  private openTail: Node | null = null;
  private seq = 0;
  /** The grace the open list was pruned with. */
  private openGraceMs = NaN;
  /** Latest debit time of a member decided so far: no member after it is decided. */
  private maxDecidedAt = -Infinity;

  get size(): number {
    return this.nodes.size;
  }

  /** The members in join order (tests, metrics). */
  members(): LiveAttempt[] {
    return [...this.nodes.keys()];
  }

  add(x: LiveAttempt): void {
    const t = x.n[H_DEBIT_AT];
    const node: Node = { x, t, seq: this.seq++, prev: null, next: null, open: true, openPrev: null, openNext: null };
    this.nodes.set(x, node);
    let after = this.tail;
    while (after !== null && after.t > t) after = after.prev;
    node.prev = after;
    node.next = after === null ? this.head : after.next;
    if (node.next !== null) node.next.prev = node;
    else this.tail = node;
    if (after !== null) after.next = node;
    else this.head = node;
    this.linkOpen(node);
    if ((x.state & S_DECIDED) !== 0) this.noteDecided(x);
  }

  /** True when x was a member. */
  remove(x: LiveAttempt): boolean {
    const node = this.nodes.get(x);
    if (node === undefined) return false;
    this.nodes.delete(x);
    if (node.prev !== null) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.tail = node.prev;
    this.unlinkOpen(node);
    return true;
  }

  /** x's decision was taken: later members up to its time may now be re-decided against a changed debit. */
  noteDecided(x: LiveAttempt): void {
    const node = this.nodes.get(x);
    if (node !== undefined && node.t > this.maxDecidedAt) this.maxDecidedAt = node.t;
  }

  /**
   * The members that can be x's first charge: not reversed within `graceMs`
   * (`reversed` tells, and a member it names leaves the open list), with a
   * debit time in [x's time − windowMs, x's time]. x included when open.
   */
  firstCandidates(x: LiveAttempt, windowMs: number, graceMs: number, reversed: (y: LiveAttempt) => boolean): LiveAttempt[] {
    if (graceMs !== this.openGraceMs) this.reopen(graceMs);
    const t = x.n[H_DEBIT_AT];
    const own = this.nodes.get(x);
    const out: LiveAttempt[] = [];
    // Start at x itself when it is open, else at the newest open member.
    let node = own !== undefined && own.open ? own : this.openTail;
    if (node === own && own !== undefined) {
      for (let n = own.openNext; n !== null && n.t <= t;) {
        const next = n.openNext;
        if (!this.prunedReversed(n, reversed)) out.push(n.x);
        n = next;
      }
    }
    while (node !== null && node.t >= t - windowMs) {
      const prev = node.openPrev;
      if (node.t <= t && (node.x === x || !this.prunedReversed(node, reversed))) out.push(node.x);
      node = prev;
    }
    return out;
  }

  /**
   * The decided members a change of x may re-decide: debit time in
   * [x's time, x's time + windowMs], in join order.
   */
  laterDecided(x: LiveAttempt, windowMs: number): LiveAttempt[] {
    const own = this.nodes.get(x);
    if (own === undefined) return [];
    const hi = Math.min(own.t + windowMs, this.maxDecidedAt);
    const found: Node[] = [];
    for (let n = own.prev; n !== null && n.t === own.t; n = n.prev) found.push(n);
    for (let n = own.next; n !== null && n.t <= hi; n = n.next) found.push(n);
    return found.filter((n) => (n.x.state & S_DECIDED) !== 0).sort((a, b) => a.seq - b.seq).map((n) => n.x);
  }

  /** True (and n leaves the open list) when n's debit is reversed within the grace. */
  private prunedReversed(n: Node, reversed: (y: LiveAttempt) => boolean): boolean {
    if (!reversed(n.x)) return false;
    this.unlinkOpen(n);
    return true;
  }

  private linkOpen(node: Node): void {
    let after = this.openTail;
    while (after !== null && after.t > node.t) after = after.openPrev;
    node.open = true;
    node.openPrev = after;
    node.openNext = after === null ? this.openHead : after.openNext;
    if (node.openNext !== null) node.openNext.openPrev = node;
    else this.openTail = node;
    if (after !== null) after.openNext = node;
    else this.openHead = node;
  }

  private unlinkOpen(node: Node): void {
    if (!node.open) return;
    node.open = false;
    if (node.openPrev !== null) node.openPrev.openNext = node.openNext;
    else this.openHead = node.openNext;
    if (node.openNext !== null) node.openNext.openPrev = node.openPrev;
    else this.openTail = node.openPrev;
    node.openPrev = node.openNext = null;
  }

  /** Another grace (a rules reload): every member may be a first charge again. */
  private reopen(graceMs: number): void {
    this.openGraceMs = graceMs;
    let last: Node | null = null;
    this.openHead = this.head;
    for (let n = this.head; n !== null; n = n.next) {
      n.open = true;
      n.openPrev = last;
      n.openNext = null;
      if (last !== null) last.openNext = n;
      last = n;
    }
    this.openTail = last;
  }

  /** @internal state: members in list order (time, then join order), the open list as positions in it, the counters. */
  stateView(): { members: { x: LiveAttempt; t: number; seq: number }[]; open: number[]; seq: number; openGraceMs: number; maxDecidedAt: number } {
    const members: { x: LiveAttempt; t: number; seq: number }[] = [];
    const pos = new Map<Node, number>();
    for (let n = this.head; n !== null; n = n.next) pos.set(n, members.push({ x: n.x, t: n.t, seq: n.seq }) - 1);
    const open: number[] = [];
    for (let n = this.openHead; n !== null; n = n.openNext) open.push(pos.get(n)!);
    return { members, open, seq: this.seq, openGraceMs: this.openGraceMs, maxDecidedAt: this.maxDecidedAt };
  }

  /**
   * @internal state: the members in list order with whether each is on the open list, without the position
   * map of stateView() (a checkpoint walks every group each barrier); null when the open list is not a subsequence of the
   * member list in its order (it always is: both keep debit-time order; then use stateView()).
   */
  stateMembers(): { x: LiveAttempt; t: number; seq: number; open: boolean }[] | null {
    let o = this.openHead;
    for (let n = this.head; n !== null && o !== null; n = n.next) if (n === o) o = o.openNext;
    if (o !== null) return null;
    const out: { x: LiveAttempt; t: number; seq: number; open: boolean }[] = [];
    for (let n = this.head; n !== null; n = n.next) out.push({ x: n.x, t: n.t, seq: n.seq, open: n.open });
    return out;
  }

  /** @internal state: the join counter and the two frontiers. */
  stateCounters(): { seq: number; openGraceMs: number; maxDecidedAt: number } {
    return { seq: this.seq, openGraceMs: this.openGraceMs, maxDecidedAt: this.maxDecidedAt };
  }

  /** @internal state: rebuilds a fresh group from stateView() (the same lists, seqs and join order). */
  loadState(v: ReturnType<DuplicateGroup['stateView']>): void {
    const nodes: Node[] = v.members.map((m) => ({ x: m.x, t: m.t, seq: m.seq, prev: null, next: null, open: false, openPrev: null, openNext: null }));
    nodes.forEach((n, i) => { n.prev = nodes[i - 1] ?? null; n.next = nodes[i + 1] ?? null; });
    const open = v.open.map((i) => nodes[i]);
    open.forEach((n, i) => { n.open = true; n.openPrev = open[i - 1] ?? null; n.openNext = open[i + 1] ?? null; });
    for (const n of [...nodes].sort((a, b) => a.seq - b.seq)) this.nodes.set(n.x, n);
    this.head = nodes[0] ?? null;
    this.tail = nodes[nodes.length - 1] ?? null;
    this.openHead = open[0] ?? null;
    this.openTail = open[open.length - 1] ?? null;
    this.seq = v.seq;
    this.openGraceMs = v.openGraceMs;
    this.maxDecidedAt = v.maxDecidedAt;
  }
}
