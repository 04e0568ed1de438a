/** `posguard replay`: JSONL files in, anomaly versions out, no server needed. */
import { InvalidArgumentError, type Command } from 'commander';
import { replayJob, type ReplayJobResult } from '../../runtime/replay.js';
import type { RunSummary } from '../../runtime/summary.js';
import { exitCodeAfterStop } from '../exit-code.js';

export interface ReplayOptions {
  terminal: string;
  gateway: string;
  bank: string;
  out: string;
  dlq?: string;
  late?: string;
  transactions?: string;
  rules?: string;
  suppressions?: string;
  quiet?: boolean;
  maxLineChars?: number;
}

export async function runReplay(o: ReplayOptions): Promise<RunSummary> {
  const r = await replayJob({
    inputs: { terminal: o.terminal, gateway: o.gateway, bank: o.bank },
    outputs: { anomalies: o.out, deadLetters: o.dlq ?? `${o.out}.dlq.jsonl`, late: o.late ?? `${o.out}.late.jsonl`, transactions: o.transactions },
    rulesFile: o.rules,
    suppressionsFile: o.suppressions,
    maxLineChars: o.maxLineChars,
  });
  if (!o.quiet) process.stderr.write(renderReplaySummary(r));
  exitCodeAfterStop(r.stoppedBy);
  return r.summary;
}

export function renderReplaySummary(r: ReplayJobResult): string {
  const c = r.counters;
  const total = c.events.terminal + c.events.gateway + c.events.bank;
  const { anomalies, deadLetters, late } = r.written;
  return r.summary.render(c, {
    'elapsed': `${r.seconds.toFixed(2)} s (${Math.round(total / r.seconds)} events/s)`,
    'anomaly versions written': `${anomalies.lines} to ${anomalies.path}`,
    'dead letters written': `${deadLetters.lines} to ${deadLetters.path}`,
    'late events written': `${late.lines} to ${late.path}`,
    ...(r.stoppedBy === null ? {} : { 'stopped by': `${r.stoppedBy} (attempts still open were not decided)` }),
  });
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`--max-line-chars: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Replay the three JSONL streams through the detector and write every anomaly version as JSONL (no server needed).')
    .requiredOption('--terminal <file>', 'terminal events, JSONL')
    .requiredOption('--gateway <file>', 'gateway events, JSONL')
    .requiredOption('--bank <file>', 'bank-core events, JSONL')
    .requiredOption('--out <file>', 'anomaly versions, one JSON line each; the last line per anomaly_id is its final state')
    .option('--dlq <file>', 'dead letters: bad lines with file, line number and reason (default: <out>.dlq.jsonl)')
    .option('--late <file>', 'late events, kept for forensics (default: <out>.late.jsonl)')
    .option('--transactions <file>', 'also write the per-attempt golden records')
    .option('--rules <file>', 'rules file (YAML or JSON) overriding the spec defaults')
    .option('--suppressions <file>', 'stamp suppressed_by from these suppressions (JSON lines of `posguard suppress list --format json`)')
    .option('--max-line-chars <n>', 'a longer input line is a dead letter ("line too long"), never buffered whole (default 1048576)', positiveInt)
    .action(async (opts: ReplayOptions) => {
      await runReplay(opts);
    });
}
