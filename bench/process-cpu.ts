/**
 * CPU of a whole child process as the OS accounts it: the command runs under
 * GNU time (`/usr/bin/time`, Debian package `time`), which reports the
 * wait4() rusage of the process it started: user + system time of every
 * thread, from exec to exit. For `posguard run` that takes in the embedded
 * ClickHouse (chdb runs its threads inside the node process), the tsx start-up
 * and the final flush, which a reading taken inside the run would miss.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TIME_BIN = '/usr/bin/time';

/** One line, in a file of its own (-o): the command's own stderr cannot be mistaken for it. */
const TIME_FORMAT = 'process-cpu: wall_s=%e user_s=%U sys_s=%S max_rss_kb=%M';

export interface ProcessCpu {
  /** Launch to exit. */
  readonly wallS: number;
  readonly userS: number;
  readonly sysS: number;
  readonly maxRssKb: number;
}

/** GNU time's report (TIME_FORMAT). It writes "Command exited with non-zero status N" before it when the command failed. */
export function parseTimeReport(text: string): ProcessCpu {
  const m = /^process-cpu: wall_s=(\d+(?:\.\d+)?) user_s=(\d+(?:\.\d+)?) sys_s=(\d+(?:\.\d+)?) max_rss_kb=(\d+)$/m.exec(text);
  if (m === null) throw new Error(`no CPU report from ${TIME_BIN} in: ${JSON.stringify(text.slice(0, 300))}`);
  return { wallS: Number(m[1]), userS: Number(m[2]), sysS: Number(m[3]), maxRssKb: Number(m[4]) };
}

/** (user + system) CPU-µs per record. */
export function cpuUsPerRecord(cpu: ProcessCpu, records: number): number {
  return ((cpu.userS + cpu.sysS) * 1e6) / records;
}

/** The children of a process (Linux /proc), empty once it has none or is gone. */
function childrenOf(pid: number | undefined): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  return pid !== undefined && existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

export interface TimedRun {
  readonly code: number | null;
  /** stdout and stderr interleaved, the last `keepChars` of them. */
  readonly output: string;
  readonly cpu: ProcessCpu;
}

/** Runs argv under GNU time; rejects when time is missing, the command runs past timeoutMs, or no report came. */
export async function runTimed(argv: readonly string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; keepChars?: number }): Promise<TimedRun> {
  if (!existsSync(TIME_BIN)) throw new Error(`${TIME_BIN} not found (apt-get install time): it measures the child's CPU`);
  const dir = mkdtempSync(join(tmpdir(), 'posguard-bench-cpu-'));
  const report = join(dir, 'time.txt');
  const keep = o.keepChars ?? 200_000;
  try {
    const p = spawn(TIME_BIN, ['-f', TIME_FORMAT, '-o', report, ...argv], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (b: Buffer) => (output = (output + b.toString('utf8')).slice(-keep));
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    // TERM to the command itself (GNU time would die of it and leave the command running): the command
    // drains and exits, and time still writes its report.
    const timer = setTimeout(() => childrenOf(p.pid).forEach((pid) => process.kill(pid, 'SIGTERM')), o.timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      p.on('error', reject);
      p.on('close', (c) => resolve(c));
    }).finally(() => clearTimeout(timer));
    return { code, output, cpu: parseTimeReport(existsSync(report) ? readFileSync(report, 'utf8') : '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
