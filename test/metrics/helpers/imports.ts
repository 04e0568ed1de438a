export { createMetrics, DEAD_LETTER_REASONS, deadLetterReason, OpenOrphans } from '../../../src/metrics/index.js';
export { perStreamWatermarks as perStreamWatermarksForTest } from '../../../src/metrics/sources.js';
