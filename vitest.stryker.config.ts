import { defineConfig } from 'vitest/config';

/** The decision-level tests Stryker runs against each mutant (stryker.config.mjs). */
export default defineConfig({
  test: {
    // bounds.test.ts: the state census (memory bounds) the decision files report to, e.g. shared-duplicates.ts's entries.
    include: ['test/detect/**/*.test.ts', 'test/engine/**/*.test.ts', 'test/eval/**/*.test.ts', 'test/metrics/bounds.test.ts'],
    // The CLI run and the simulator-fed equivalence (a minute of CPU) stay out: the
    // hand-derived cases and the random/edge equivalence runs are what kill mutants.
    exclude: ['test/eval/eval-command.test.ts', 'test/engine/simulator-equivalence.test.ts'],
    testTimeout: 60_000,
  },
});
