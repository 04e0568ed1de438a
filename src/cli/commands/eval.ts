/**
 * `posguard eval`: measures the engine's anomaly output against the batch
 * reference (src/eval) on the same replay files. It is a measurement, so it
 * exits 0 whatever the figures; only unreadable inputs or a bad rules file fail
 * (one line, exit 2, through main.ts). The work is in src/runtime/eval-job.ts.
 */
import type { Command } from 'commander';
import { formatReport } from '../../eval/compare.js';
import { formatInputs, runEval, type EvalOptions } from '../../runtime/eval-job.js';

export { formatInputs, runEval, type EvalInputs, type EvalOptions, type EvalResult } from '../../runtime/eval-job.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('measure the engine\'s anomalies against the batch reference (docs/semantics.md applied to all events at once)')
    .requiredOption('--terminal <file>', 'terminal events, JSONL')
    .requiredOption('--gateway <file>', 'gateway events, JSONL')
    .requiredOption('--bank <file>', 'bank-core events, JSONL')
    .requiredOption('--anomalies <file>', 'the engine\'s anomaly output, JSONL, one anomaly version per line')
    .option('--rules <file>', 'rules file (YAML or JSON); default: the spec\'s defaults')
    .option('--json', 'print the inputs and the report as JSON instead of a table')
    .action(async (opts: EvalOptions) => {
      const result = await runEval(opts);
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatInputs(result.inputs) + '\n' + formatReport(result.report));
    });
}
