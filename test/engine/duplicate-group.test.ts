/**
 * One duplicate-debit group (src/engine/duplicate-group.ts): debits kept in
 * debit-time order, a decision reads only its window's open members, members
 * found reversed within the grace leave the open list until the grace
 * changes, and later decided members come back in join order.
 */
import { describe, expect, it } from 'vitest';
import { DuplicateGroup } from '../../src/engine/duplicate-group.js';
import { H_DEBIT_AT, HEADER, S_DECIDED, type LiveAttempt } from '../../src/engine/live-attempt.js';

/** What the group reads of an attempt: its debit time and its decided flag. */
function debit(debitAt: number, name: string, decided = false): LiveAttempt {
  const n = new Float64Array(HEADER);
  n[H_DEBIT_AT] = debitAt;
  return { n, state: decided ? S_DECIDED : 0, rrn: name } as unknown as LiveAttempt;
}
const names = (xs: readonly LiveAttempt[]) => xs.map((x) => x.rrn).sort();
const never = () => false;

describe('DuplicateGroup', () => {
  it('firstCandidates: the members in [t - window, t], out-of-order joins included, later ones not', () => {
    const g = new DuplicateGroup();
    const [a, b, c, d, e] = [debit(100, 'a'), debit(300, 'b'), debit(200, 'c'), debit(500, 'd'), debit(300, 'e')];
    for (const x of [a, b, c, d, e]) g.add(x);
    expect(names(g.firstCandidates(b, 100, 1, never))).toEqual(['b', 'c', 'e']);
    expect(names(g.firstCandidates(b, 200, 1, never))).toEqual(['a', 'b', 'c', 'e']);
    expect(names(g.firstCandidates(d, 200, 1, never))).toEqual(['b', 'd', 'e']);
    expect(names(g.firstCandidates(a, 1_000, 1, never))).toEqual(['a']);
  });

  it('a member found reversed leaves the open list for that grace; another grace reopens it', () => {
    const g = new DuplicateGroup();
    const [a, b, x] = [debit(100, 'a'), debit(150, 'b'), debit(200, 'x')];
    for (const y of [a, b, x]) g.add(y);
    const asked: string[] = [];
    const aReversed = (y: LiveAttempt) => (asked.push(y.rrn!), y === a);
    expect(names(g.firstCandidates(x, 500, 10, aReversed))).toEqual(['b', 'x']);
    expect(asked.sort()).toEqual(['a', 'b']);
    asked.length = 0;
    expect(names(g.firstCandidates(x, 500, 10, aReversed))).toEqual(['b', 'x']);
    expect(asked).toEqual(['b']); // a is not asked again
    expect(names(g.firstCandidates(x, 500, 20, never))).toEqual(['a', 'b', 'x']);
  });

  it('remove takes a member out of both lists; the group stays ordered', () => {
    const g = new DuplicateGroup();
    const [a, b, c] = [debit(100, 'a'), debit(200, 'b'), debit(300, 'c')];
    for (const y of [a, b, c]) g.add(y);
    g.remove(b);
    g.remove(b); // twice: nothing
    expect(g.size).toBe(2);
    expect(names(g.firstCandidates(c, 500, 1, never))).toEqual(['a', 'c']);
    g.remove(a);
    g.remove(c);
    expect(g.size).toBe(0);
    const d = debit(50, 'd');
    g.add(d);
    expect(names(g.firstCandidates(d, 500, 1, never))).toEqual(['d']);
  });

  it('laterDecided: decided members in [t, t + window], equal times included, up to the latest decided, in join order', () => {
    const g = new DuplicateGroup();
    const x = debit(100, 'x', true);
    const later = [debit(400, 'p', true), debit(100, 'q', true), debit(150, 'r', true), debit(120, 's'), debit(900, 't', true)];
    g.add(x);
    for (const y of later) g.add(y);
    expect(g.laterDecided(x, 500).map((y) => y.rrn)).toEqual(['p', 'q', 'r']);
    expect(g.laterDecided(x, 200).map((y) => y.rrn)).toEqual(['q', 'r']);
    expect(g.laterDecided(debit(0, 'stranger'), 500)).toEqual([]);
  });

  it('laterDecided stops at the latest decided member: a member decided after joining is found once noted', () => {
    const g = new DuplicateGroup();
    const x = debit(100, 'x', true);
    const y = debit(200, 'y');
    g.add(x);
    g.add(y);
    y.state |= S_DECIDED;
    expect(g.laterDecided(x, 500)).toEqual([]);
    g.noteDecided(y);
    expect(g.laterDecided(x, 500)).toEqual([y]);
  });
});
