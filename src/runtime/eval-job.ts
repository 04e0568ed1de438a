/**
 * `posguard eval` without the command line: reads the replay files and the
 * engine's anomaly file, computes the batch reference (src/eval) and
 * compares. It runs no pipeline and writes nothing, so it does not use the
 * driver: the reference needs every event in memory at once (it is the batch
 * twin of the streaming engine), and the engine's side is a file `posguard
 * replay` wrote. It sits in the runtime because it reads the replay files
 * through ingest, which the oracle in src/eval may not import.
 */
import { DEFAULT_RULES, loadRulesFile } from '../config/rules.js';
import { readJsonlFile } from '../ingest/jsonl.js';
import { readAnomalyFile } from '../eval/anomaly-file.js';
import { compareAnomalies, type Report } from '../eval/compare.js';
import { referenceAnomalies } from '../eval/reference.js';

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
