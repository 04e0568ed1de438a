/** The scenario catalogue: every injected story, by group. */
import type { Scenario } from './common.js';
import { DEBIT_SCENARIOS } from './debits.js';
import { LATE_SCENARIOS } from './late.js';
import { ORPHAN_SCENARIOS } from './orphans.js';
import { PATTERN_SCENARIOS } from './patterns.js';

export type { Scenario } from './common.js';

export const SCENARIOS: readonly Scenario[] = [...ORPHAN_SCENARIOS, ...DEBIT_SCENARIOS, ...PATTERN_SCENARIOS, ...LATE_SCENARIOS];
