/**
 * `posguard backtest --rules candidate.yaml`: what a rule change would have
 * done on history. Re-runs the detector over events_raw under the rules in
 * force and the candidate rules and prints the difference (docs/backtest.md).
 * Every input is checked before ClickHouse is opened, so a bad rules file or
 * period costs one line and nothing else.
 */
import type { Command } from 'commander';
import { loadRulesFile } from '../../config/rules.js';
import { PosguardError } from '../../errors.js';
import { diffLine, renderReport } from '../../backtest/render.js';
import { runBacktest } from '../../runtime/backtest-job.js';
import { rulesInForce } from '../../backtest/rules-in-force.js';
import { DEFAULT_PAGE_ROWS, SERVER_PAGE_ROWS } from '../../backtest/events-source.js';
import { parseMarginMs, parseTimeBound } from '../../backtest/period.js';
import { openClickHouse } from '../../sinks/clickhouse/connection.js';
import { resolveTarget } from '../../config/clickhouse-target.js';
import { JsonlWriter } from '../../sinks/jsonl-writer.js';

export interface BacktestCliOptions {
  rules: string;
  baselineRules?: string;
  from?: string;
  to?: string;
  data?: string;
  out?: string;
  warmup?: string;
  settle?: string;
  examples: string;
}

const EXAMPLES = `
Examples:
  # card testing at 5 small attempts instead of 6, on everything events_raw holds
  $ printf 'cardTesting:\\n  minAttempts: 5\\n' > candidate.yaml
  $ posguard backtest --rules candidate.yaml --data ./data

  # last week, against the rules file production runs with, full diff as JSON lines
  $ posguard backtest --rules candidate.yaml --baseline-rules rules.yaml --from now-7d --to now --out diff.jsonl

  # one November day on a ClickHouse server
  $ CLICKHOUSE_URL=https://ch.example:8443 posguard backtest --rules candidate.yaml --from 2026-11-01T00:00Z --to 2026-11-02T00:00Z

Periods: ISO-8601 with a zone, a date (UTC midnight), now, or now-<n><s|m|h|d|w>.
Anomalies whose event_time is in [--from, --to) are counted; events before and
after are read too (warm-up, settle), see docs/backtest.md. Nothing is written to ClickHouse.
`;

export async function runBacktestCommand(o: BacktestCliOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const candidate = loadRulesFile(o.rules);
  const baselineFile = o.baselineRules === undefined ? undefined : loadRulesFile(o.baselineRules);
  const now = Date.now();
  const fromMs = o.from === undefined ? undefined : parseTimeBound('--from', o.from, now);
  const toMs = o.to === undefined ? undefined : parseTimeBound('--to', o.to, now);
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) {
    throw new PosguardError('PG_USAGE', `--from (${new Date(fromMs).toISOString()}) must be before --to (${new Date(toMs).toISOString()})`);
  }
  const warmupMs = o.warmup === undefined ? undefined : parseMarginMs('--warmup', o.warmup);
  const settleMs = o.settle === undefined ? undefined : parseMarginMs('--settle', o.settle);
  const examples = Number(o.examples);
  if (!Number.isInteger(examples) || examples < 0) throw new PosguardError('PG_USAGE', `--examples: expected a whole number, got ${JSON.stringify(o.examples)}`);
  const out = o.out === undefined ? null : new JsonlWriter(o.out);
  await out?.ready();

  const target = resolveTarget({ dataDir: o.data, env: process.env });
  const ch = await openClickHouse(target, { create: false });
  try {
    const pageRows = target.kind === 'server' ? SERVER_PAGE_ROWS : DEFAULT_PAGE_ROWS;
    // Without --baseline-rules, the rules the detector recorded with the period's anomalies are the ones in force.
    const inForce = baselineFile === undefined ? await rulesInForce(ch.client, fromMs, toMs) : { rules: baselineFile, name: o.baselineRules!, note: null };
    const r = await runBacktest(ch.client, { baseline: inForce.rules, candidate, fromMs, toMs, warmupMs, settleMs, pageRows });
    if (out !== null) {
      for (const e of r.entries) {
        out.write(diffLine(e, r.labels.get(e.anomaly_id)));
        if (out.congested) await out.drain();
      }
    }
    write(renderReport(r, { baseline: inForce.name, baselineNote: inForce.note, candidate: o.rules, out: o.out }, examples));
  } finally {
    await out?.close();
    await ch.close();
  }
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description('re-run the detector over events_raw under candidate rules and the rules in force, and print what would change (read-only)')
    .requiredOption('--rules <file>', 'candidate rules file (YAML or JSON), validated as for `replay --rules`')
    .option('--baseline-rules <file>', 'the rules in force (default: the rules recorded with the period\'s anomalies, else the spec defaults)')
    .option('--from <time>', 'period start, inclusive (default: the earliest event in events_raw)')
    .option('--to <time>', 'period end, exclusive (default: just after the latest event in events_raw)')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL')
    .option('--out <file>', 'write the full diff, one JSON line per added, removed or changed anomaly')
    .option('--warmup <duration>', 'events read before --from (default: computed from the rules, see docs/backtest.md)')
    .option('--settle <duration>', 'events read after --to (default: grace or resolution horizon + drift + delay)')
    .option('--examples <n>', 'examples shown per change and kind', '3')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: BacktestCliOptions) => {
      await runBacktestCommand(opts);
    });
}
