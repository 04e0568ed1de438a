/**
 * The replay job: the three JSONL files (src/ingest/jsonl-source.ts) through
 * the driver into JSONL outputs (src/sinks/jsonl-sink.ts). No server needed.
 */
import { DEFAULT_RULES, loadRulesFile } from '../config/rules.js';
import { JsonlSource, type JsonlFiles } from '../ingest/jsonl-source.js';
import { JsonlSink, type JsonlSinkPaths } from '../sinks/jsonl-sink.js';
import { fileSuppressor } from '../suppress/file.js';
import { Driver, type DriverResult } from './driver.js';
import { runJob } from './job.js';

export interface ReplayJobOptions {
  readonly inputs: JsonlFiles;
  readonly outputs: JsonlSinkPaths;
  /** Rules file (YAML or JSON); the spec's defaults when absent. */
  readonly rulesFile?: string;
  /** Suppressions to stamp anomalies with (JSON lines of `posguard suppress list --format json`). */
  readonly suppressionsFile?: string;
  /** Wall clock for rules.time.maxFutureMs (tests inject one). Default Date.now. */
  readonly now?: () => number;
  /** Longest input line accepted (characters); longer ones are dead letters. Default JSONL_MAX_LINE_CHARS (1 MiB). */
  readonly maxLineChars?: number;
}

export interface WrittenFile {
  readonly lines: number;
  readonly path: string;
}

export interface ReplayJobResult extends DriverResult {
  readonly written: { readonly anomalies: WrittenFile; readonly deadLetters: WrittenFile; readonly late: WrittenFile };
}

export async function replayJob(o: ReplayJobOptions): Promise<ReplayJobResult> {
  // Checked in this order, before any output file is created: a bad rules file, then a bad suppressions file.
  const rules = o.rulesFile === undefined ? DEFAULT_RULES : loadRulesFile(o.rulesFile);
  return runJob('replay', async (job) => {
    const suppressor = o.suppressionsFile === undefined ? null : await fileSuppressor(o.suppressionsFile);
    const sink = job.resources.own('output files', new JsonlSink(o.outputs), (s) => s.close());
    await sink.open();
    const source = job.resources.own('input files', new JsonlSource(o.inputs, { now: o.now ?? Date.now, maxFutureMs: () => rules.time.maxFutureMs }, o.maxLineChars), (s) => s.close());
    const driver = new Driver({
      source, sink, rules: () => rules, lifecycle: job.lifecycle,
      stamp: suppressor === null ? undefined : (a) => suppressor.stamp(a),
      transactions: sink.transactions !== null,
    });
    await source.open();
    job.onStop((signal) => driver.stop(signal));
    const result = await driver.run();
    await sink.close();
    const file = (w: { lines: number; path: string }): WrittenFile => ({ lines: w.lines, path: w.path });
    return { ...result, written: { anomalies: file(sink.anomalies), deadLetters: file(sink.deadLetters), late: file(sink.late) } };
  });
}
