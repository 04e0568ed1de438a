/**
 * `posguard label`: an analyst's verdict on an anomaly (confirmed,
 * false_positive, expected), one from the command line or many from a CSV,
 * appended to anomaly_labels. Everything is checked before anything is
 * written: a bad row or an unknown id writes nothing.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PosguardError } from '../../errors.js';
import { maskPans } from '../../util/pan.js';
import { analystName } from '../../sinks/clickhouse/analyst-store.js';
import {
  LABELS, MAX_CSV_ROWS, MAX_REPORTED_ROWS, appendLabels, labelProblem, readLabelCsv, unknownAnomalies, type LabelInput,
} from '../../labels/labels.js';
import { openClickHouse } from '../../sinks/clickhouse/connection.js';
import { resolveTarget } from '../../config/clickhouse-target.js';

interface LabelFlags {
  as?: string;
  note?: string;
  csv?: string;
  data?: string;
}

const HELP_AFTER = `
Labels are appended to the anomaly_labels table (never updated in place) with
who (the OS user; the ClickHouse user with CLICKHOUSE_URL) and when. The
latest label per anomaly is in anomaly_labels_latest and anomalies_labelled.

CSV: a header naming anomaly_id,label,note (note optional), one label per row,
at most ${MAX_CSV_ROWS} rows. Every row is checked first; a bad row or an unknown
anomaly id is reported with its row and line number and nothing is written.

Examples:
  $ posguard label 3f2a9c0d1e8b4f7a6c5d4e3f2a1b0c9d --as confirmed --note "customer called, refund issued"
  $ posguard label 3f2a9c0d1e8b4f7a6c5d4e3f2a1b0c9d --as expected --data ./data
  $ posguard label --csv reviewed-2026-03-02.csv
`;

export function registerLabel(program: Command): void {
  program
    .command('label')
    .description('label an anomaly as confirmed, false_positive or expected (or many from a CSV); see docs/analysts-tools.md')
    .argument('[anomaly_id]', 'the anomaly to label (from anomalies_current or a dashboard row)')
    .option('--as <label>', `the verdict: ${LABELS.join(', ')}`)
    .option('--note <text>', 'why (free text, no card numbers)')
    .option('--csv <file>', 'label many: a CSV with columns anomaly_id,label,note')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL')
    .addHelpText('after', HELP_AFTER)
    .action(async (id: string | undefined, flags: LabelFlags) => {
      const labels = flags.csv !== undefined ? await fromCsv(id, flags) : [fromFlags(id, flags)];
      const target = resolveTarget({ dataDir: flags.data, env: process.env });
      const ch = await openClickHouse(target, { create: false });
      try {
        const unknown = await unknownAnomalies(ch.client, labels.map((l) => l.anomaly_id));
        if (unknown.size > 0) {
          const bad = labels.filter((l) => unknown.has(l.anomaly_id));
          if (flags.csv !== undefined) for (const l of bad.slice(0, MAX_REPORTED_ROWS)) process.stderr.write(`posguard: ${flags.csv} ${l.where}: no anomaly has the id ${maskPans(l.anomaly_id)}\n`);
          const more = bad.length > MAX_REPORTED_ROWS ? ` (${bad.length - MAX_REPORTED_ROWS} more not listed)` : '';
          throw new PosguardError('PG_UNKNOWN_ANOMALY', flags.csv === undefined
            ? `no anomaly has the id ${maskPans(bad[0].anomaly_id)}; nothing was written`
            : `${bad.length} of ${labels.length} rows name an unknown anomaly${more}; nothing was written`);
        }
        const by = analystName(target, process.env);
        await appendLabels(ch.client, labels, by, Date.now());
        process.stdout.write(labels.length === 1
          ? `labelled ${labels[0].anomaly_id} as ${labels[0].label} (by ${by})\n`
          : `labelled ${labels.length} anomalies (${summarise(labels)}) by ${by}\n`);
      } finally {
        await ch.close();
      }
    });
}

function fromFlags(id: string | undefined, flags: LabelFlags): LabelInput {
  if (id === undefined) throw new PosguardError('PG_USAGE', 'give an anomaly id and --as, or --csv FILE (see posguard label --help)');
  if (flags.as === undefined) throw new PosguardError('PG_USAGE', `--as: required with an anomaly id (one of ${LABELS.join(', ')})`);
  const l: LabelInput = { anomaly_id: id.trim(), label: flags.as.trim().toLowerCase(), note: flags.note ?? '', where: id };
  const problem = labelProblem(l);
  if (problem !== null) throw new PosguardError('PG_USAGE', problem);
  return l;
}

async function fromCsv(id: string | undefined, flags: LabelFlags): Promise<LabelInput[]> {
  const file = flags.csv!;
  if (id !== undefined || flags.as !== undefined || flags.note !== undefined) {
    throw new PosguardError('PG_USAGE', '--csv takes the ids, labels and notes from the file: drop the anomaly id, --as and --note');
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const { labels, problems } = readLabelCsv(text, file);
  if (problems.length === 0) return labels;
  for (const p of problems.slice(0, MAX_REPORTED_ROWS)) process.stderr.write(`posguard: ${p}\n`);
  const more = problems.length > MAX_REPORTED_ROWS ? ` (${problems.length - MAX_REPORTED_ROWS} more not listed)` : '';
  throw new PosguardError('PG_LABELS_INVALID', `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}${more}; nothing was written`);
}

function summarise(labels: readonly LabelInput[]): string {
  const n = new Map<string, number>();
  for (const l of labels) n.set(l.label, (n.get(l.label) ?? 0) + 1);
  return [...n].map(([k, v]) => `${v} ${k}`).join(', ');
}
