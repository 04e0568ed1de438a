// Mutation testing (docs/testing.md, "Mutation testing"): `npm run test:mutation`.
// Mutates the decision code only; runs the decision-level test files, with
// per-test coverage so each mutant runs only the tests that reach it.
// Subset for CI: `npm run test:mutation:ci` (STRYKER_SUBSET=ci).
const FULL = [
  'src/detect/**/*.ts',
  // Checkpoint encoding (issue 13): no decisions; the snapshot round-trip tests cover it.
  '!src/detect/patterns/state/**',
  'src/events/anomaly.ts',
  'src/engine/engine.ts',
  'src/engine/attempt-index.ts',
  'src/engine/attempt-fields.ts',
  'src/engine/attempt-lifecycle.ts',
  'src/engine/debit-decisions.ts',
  'src/engine/debit-groups.ts',
  'src/engine/card-facts.ts',
  'src/engine/watermark.ts',
  'src/engine/shared-duplicates.ts',
  'src/eval/compare.ts',
];
// The standing check in CI (.ci/run): the orphan cause table, amount mismatch,
// evidence and the shared duplicate index; it fails below 90 %.
const CI = [
  'src/detect/orphan-debit.ts',
  'src/detect/amount-mismatch.ts',
  'src/detect/evidence.ts',
  'src/engine/shared-duplicates.ts',
];
const SUBSET = process.env.STRYKER_SUBSET === 'ci';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  checkers: ['typescript'],
  // The checker type-checks the mutated sources only (tests are not mutated): a third of the work.
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: SUBSET ? CI : FULL,
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  timeoutMS: 4_000,
  timeoutFactor: 1.5,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  // STRYKER_REPORT names the report files, so runs over parts of the code keep theirs apart.
  htmlReporter: { fileName: `reports/mutation/${process.env.STRYKER_REPORT ?? 'mutation'}.html` },
  jsonReporter: { fileName: `reports/mutation/${process.env.STRYKER_REPORT ?? 'mutation'}.json` },
  thresholds: { high: 90, low: 80, break: SUBSET ? 90 : null },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['.stryker-tmp*', 'reports', 'data', 'out'],
  cleanTempDir: true,
};
