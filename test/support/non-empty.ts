/**
 * For `it.each` / `describe.each` over a computed list: an empty list would
 * silently run zero tests (a glob that stopped matching, a parser that stopped
 * finding), so it fails the file instead, naming what was expected.
 */
export function nonEmpty<T>(xs: readonly T[], what: string): T[] {
  if (xs.length === 0) throw new Error(`expected at least one ${what}, found none: the tests over them would silently not run`);
  return [...xs];
}
