/**
 * `npm run bench`: every benchmark, each in its own process (clean heap, no
 * JIT state shared), printed as tables. Figures vary with machine load:
 * compare ratios measured in one run. docs/benchmarks.md has the latest.
 */
import { spawnSync } from 'node:child_process';

const BENCHES: { title: string; args: string[] }[] = [
  { title: 'engine throughput (stage 1, debit kinds)', args: ['bench/engine.ts'] },
  { title: 'engine state size: attempts waiting for the issuer', args: ['bench/engine.ts', '--heap'] },
  { title: 'engine state size: terminal-side attempts', args: ['bench/engine.ts', '--heap', '--terminal-only'] },
  { title: 'card patterns (stage 2)', args: ['bench/patterns.ts'] },
  { title: 'engine checkpoint: snapshot size and cost (issue 13)', args: ['bench/engine-snapshot.ts'] },
  { title: 'card patterns: checkpoint size and time (issue 13)', args: ['bench/pattern-snapshot.ts'] },
  { title: 'replay against its parse floor (read + JSON.parse of the same files)', args: ['bench/replay.ts'] },
  { title: 'ClickHouse sink (embedded chdb)', args: ['bench/clickhouse-sink.ts'] },
  { title: 'backtest: events_raw through two detectors (embedded chdb)', args: ['bench/backtest.ts'] },
];

let failed = 0;
for (const b of BENCHES) {
  process.stdout.write(`\n## ${b.title}\n\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', ...b.args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(failed with exit code ${r.status})\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
