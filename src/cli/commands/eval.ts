/**
 * `posguard eval`: measures the engine's anomaly output against the batch
 * reference (src/eval) on the same replay files. It is a measurement, so it
 * exits 0 whatever the figures; only unreadable inputs or a bad rules file fail
 * (one line, exit 2, through main.ts).
 */
import type { Command } from 'commander';
import { DEFAULT_RULES, loadRulesFile } from '../../config/rules.js';
import { readAnomalyFile } from '../../eval/anomaly-file.js';
import { compareAnomalies, formatReport, type Report } from '../../eval/compare.js';
import { referenceAnomalies } from '../../eval/reference.js';
import { readJsonlFile } from '../../ingest/jsonl.js';

export interface EvalOptions {
  readonly terminal: string;
  readonly gateway: string;
  readonly bank: string;
  readonly anomalies: string;
  readonly rules?: string;
  readonly json?: boolean;
}

export interface EvalInputs {
  readonly terminal: { readonly events: number; readonly badLines: number };
  readonly gateway: { readonly events: number; readonly badLines: number };
  readonly bank: { readonly events: number; readonly badLines: number };
  readonly anomalies: { readonly versions: number; readonly badLines: number };
}

export interface EvalResult {
  readonly inputs: EvalInputs;
  readonly report: Report;
}

/** Reads the inputs, computes the reference and the comparison. Throws PosguardError on unreadable input. */
export async function runEval(opts: EvalOptions): Promise<EvalResult> {
  const rules = opts.rules === undefined ? DEFAULT_RULES : loadRulesFile(opts.rules);
  // Read one after another: a missing file fails before the others are parsed.
  const terminal = await readJsonlFile('terminal', opts.terminal);
  const gateway = await readJsonlFile('gateway', opts.gateway);
  const bank = await readJsonlFile('bank', opts.bank);
  const engine = await readAnomalyFile(opts.anomalies);
  const reference = referenceAnomalies({ terminal: terminal.events, gateway: gateway.events, bank: bank.events }, rules);
  return {
    inputs: {
      terminal: { events: terminal.events.length, badLines: terminal.bad.length },
      gateway: { events: gateway.events.length, badLines: gateway.bad.length },
      bank: { events: bank.events.length, badLines: bank.bad.length },
      anomalies: { versions: engine.anomalies.length, badLines: engine.bad.length },
    },
    report: compareAnomalies(engine.anomalies, reference),
  };
}

export function formatInputs(i: EvalInputs): string {
  const s = (name: string, x: { events: number; badLines: number }) => `${name} ${x.events} events (${x.badLines} bad lines skipped)`;
  return `inputs: ${s('terminal', i.terminal)}, ${s('gateway', i.gateway)}, ${s('bank', i.bank)}; `
    + `anomalies ${i.anomalies.versions} versions (${i.anomalies.badLines} bad lines skipped)\n`;
}

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
