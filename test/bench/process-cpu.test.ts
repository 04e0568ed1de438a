/** bench/process-cpu.ts: GNU time's report, and that it counts every thread of the child (chdb's run inside posguard's process). */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TIME_BIN, cpuUsPerRecord, parseTimeReport, runTimed } from '../../bench/process-cpu.js';

describe('parseTimeReport', () => {
  it('reads wall, user, sys and max RSS', () => {
    expect(parseTimeReport('process-cpu: wall_s=61.32 user_s=70.05 sys_s=6.40 max_rss_kb=812344\n')).toEqual({ wallS: 61.32, userS: 70.05, sysS: 6.4, maxRssKb: 812344 });
  });

  it('skips the line GNU time writes first when the command failed', () => {
    const r = parseTimeReport('Command exited with non-zero status 3\nprocess-cpu: wall_s=1.00 user_s=0.50 sys_s=0.25 max_rss_kb=100\n');
    expect(r.userS + r.sysS).toBe(0.75);
  });

  it('throws when there is no report (killed by a signal, or time missing)', () => {
    expect(() => parseTimeReport('Command terminated by signal 9\n')).toThrow(/no CPU report/);
    expect(() => parseTimeReport('')).toThrow(/no CPU report/);
  });
});

describe('cpuUsPerRecord', () => {
  it('is (user + sys) in µs over the records', () => {
    expect(cpuUsPerRecord({ wallS: 10, userS: 3, sysS: 1, maxRssKb: 0 }, 200_000)).toBe(20);
  });
});

describe.skipIf(!existsSync(TIME_BIN))('runTimed', () => {
  it('counts the CPU of a worker thread, not only the main thread, and passes the exit code on', async () => {
    // The worker spins until its own thread (/proc/thread-self) has used 0.4 s of CPU; the main thread only waits.
    const worker = `const fs = require('node:fs');
      const ticks = () => { const f = fs.readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
      let x = 0; while (ticks() < 40) { for (let i = 0; i < 1e5; i++) x += i; }`;
    const main = `const { Worker } = require('node:worker_threads');
      new Worker(${JSON.stringify(worker)}, { eval: true }).on('exit', () => { console.log('done'); process.exitCode = 7; });`;
    const r = await runTimed([process.execPath, '-e', main], { cwd: process.cwd(), env: process.env, timeoutMs: 30_000 });
    expect(r.code).toBe(7);
    expect(r.output).toContain('done');
    expect(r.cpu.userS + r.cpu.sysS).toBeGreaterThanOrEqual(0.39);
    expect(r.cpu.maxRssKb).toBeGreaterThan(0);
  });
});
