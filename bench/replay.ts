/**
 * Replay against its own input parsing, in one process and one run: the
 * parse floor (read the three JSONL files and JSON.parse every line, nothing
 * else) next to `posguard replay` of the same files (read, split, parse,
 * validate, detect, write the outputs), and their ratio. The issue-16 target
 * is replay ≤ 2.0× the floor on a data set of ≥ 900k events. Rates are wall
 * clock; CPU-µs per event (main thread and helpers, process.cpuUsage) are
 * printed too, as they move less when the machine is shared.
 *
 * The data set is `posguard simulate --seed 7 --minutes 21 --tps 100`
 * (~926k events), generated once and kept in the temp folder.
 *
 *   node --expose-gc --import tsx bench/replay.ts [--minutes 21] [--tps 100]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayJob } from '../src/runtime/replay.js';

const STREAMS = ['terminal', 'gateway', 'bank'] as const;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
}

/** The simulated data set, made once per parameters and kept in the temp folder. */
function dataSet(minutes: number, tps: number): string {
  const dir = join(tmpdir(), `posguard-bench-replay-s7-${minutes}m-${tps}tps`);
  if (STREAMS.every((s) => existsSync(join(dir, `${s}.jsonl`)))) return dir;
  const r = spawnSync(process.execPath, ['bin/posguard.js', 'simulate', '--out', dir, '--seed', '7', '--minutes', String(minutes), '--tps', String(tps)], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`simulate failed with exit code ${r.status}`);
  return dir;
}

interface Pass {
  events: number;
  wallS: number;
  cpuS: number;
}

async function measured(fn: () => Promise<number> | number): Promise<Pass> {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const events = await fn();
  const c = process.cpuUsage(c0);
  return { events, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 };
}

/** The floor: each file read whole, split at newlines, every line JSON.parse'd (broken lines count too). */
function parseFloor(dir: string): number {
  let lines = 0;
  for (const s of STREAMS) {
    const text = readFileSync(join(dir, `${s}.jsonl`), 'utf8');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      try {
        JSON.parse(text.slice(start, nl));
      } catch {
        // the simulator's broken lines: parsed (and refused) like the rest
      }
      lines++;
      start = nl + 1;
    }
  }
  return lines;
}

async function replay(dir: string, out: string): Promise<number> {
  const r = await replayJob({
    inputs: { terminal: join(dir, 'terminal.jsonl'), gateway: join(dir, 'gateway.jsonl'), bank: join(dir, 'bank.jsonl') },
    outputs: { anomalies: join(out, 'anomalies.jsonl'), deadLetters: join(out, 'dlq.jsonl'), late: join(out, 'late.jsonl') },
  });
  const bad = r.summary.bad.terminal + r.summary.bad.gateway + r.summary.bad.bank;
  return r.events + bad;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const dir = dataSet(arg('--minutes', 21), arg('--tps', 100));
const out = mkdtempSync(join(tmpdir(), 'posguard-bench-replay-out-'));
try {
  const rep = await measured(() => replay(dir, out));
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const floors = [await measured(() => parseFloor(dir)), await measured(() => parseFloor(dir))];
  const floor = floors[0].wallS <= floors[1].wallS ? floors[0] : floors[1];
  const rows: [string, string][] = [
    ['lines (events + bad lines)', fmt(rep.events)],
    ['parse floor: read + JSON.parse', `${fmt(floor.events / floor.wallS)} lines/s, ${((floor.cpuS * 1e6) / floor.events).toFixed(2)} CPU-µs/line (faster of 2)`],
    ['replay (posguard replay, JSONL outputs)', `${fmt(rep.events / rep.wallS)} lines/s, ${((rep.cpuS * 1e6) / rep.events).toFixed(2)} CPU-µs/line, peak RSS ${fmt(rssMb)} MB`],
    ['replay ÷ parse floor (wall)', `${(rep.wallS / floor.wallS).toFixed(2)}×  (target ≤ 2.0×)`],
    ['replay ÷ parse floor (CPU)', `${(rep.cpuS / floor.cpuS).toFixed(2)}×`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n');
} finally {
  rmSync(out, { recursive: true, force: true });
}
