/** `posguard replay`: JSONL files in, anomaly versions out, no server needed. */
import type { Command } from 'commander';
import { loadRulesFile, DEFAULT_RULES, type Rules } from '../../config/rules.js';
import { createPipeline } from '../../runtime/pipeline.js';
import { RunSummary } from '../../runtime/summary.js';
import { replayFiles } from '../../ingest/replay.js';
import { JsonlWriter } from '../../sinks/jsonl-writer.js';
import { fileSuppressor } from '../../suppress/file.js';

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
}

export async function runReplay(o: ReplayOptions): Promise<RunSummary> {
  const rules: Rules = o.rules ? loadRulesFile(o.rules) : DEFAULT_RULES;
  const suppressor = o.suppressions ? await fileSuppressor(o.suppressions) : null;
  const out = new JsonlWriter(o.out);
  const dlq = new JsonlWriter(o.dlq ?? `${o.out}.dlq.jsonl`);
  const late = new JsonlWriter(o.late ?? `${o.out}.late.jsonl`);
  const txns = o.transactions ? new JsonlWriter(o.transactions) : null;
  await Promise.all([out.ready(), dlq.ready(), late.ready(), txns?.ready()]);
  const summary = new RunSummary();
  const { engine } = createPipeline(() => rules, {
    anomaly: (found) => {
      const a = suppressor?.stamp(found) ?? found;
      summary.anomaly(a);
      out.write(a);
    },
    transaction: txns ? (t) => txns.write(t) : undefined,
    late: (stream, event) => late.write({ stream, event }),
  });
  const started = performance.now();
  await replayFiles(o, {
    event: (stream, e) => engine.push(stream, e),
    bad: (b) => {
      summary.bad[b.stream]++;
      dlq.write({ source: b.file, stream: b.stream, line: b.line, reason: b.reason, payload: b.payload });
    },
    pause: async () => {
      for (const w of [out, dlq, late, txns]) if (w?.congested) await w.drain();
    },
  });
  engine.end();
  await Promise.all([out.close(), dlq.close(), late.close(), txns?.close()]);
  const seconds = (performance.now() - started) / 1000;
  if (!o.quiet) {
    const total = engine.counters.events.terminal + engine.counters.events.gateway + engine.counters.events.bank;
    process.stderr.write(summary.render(engine.counters, {
      'elapsed': `${seconds.toFixed(2)} s (${Math.round(total / seconds)} events/s)`,
      'anomaly versions written': `${out.lines} to ${o.out}`,
      'dead letters written': `${dlq.lines} to ${dlq.path}`,
      'late events written': `${late.lines} to ${late.path}`,
    }));
  }
  return summary;
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
    .action(async (opts: ReplayOptions) => {
      await runReplay(opts);
    });
}
