/** runJob: resources closed on success and on error; signals watched from start to the very end. */
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../src/runtime/job.js';
import { configureLogger } from '../../src/util/log.js';

afterEach(() => configureLogger());
const quiet = () => configureLogger({ destination: { write: () => undefined } });

describe('runJob', () => {
  it('returns the body result after closing everything in reverse order; the lifecycle ends closed', async () => {
    const closed: string[] = [];
    const states: string[] = [];
    const r = await runJob('t', async (job) => {
      job.lifecycle.onChange((s) => states.push(s));
      job.resources.defer('a', () => void closed.push('a'));
      job.resources.defer('b', () => void closed.push('b'));
      return 42;
    }, { signals: false });
    expect(r).toBe(42);
    expect(closed).toEqual(['b', 'a']);
    expect(states).toEqual(['closing', 'closed']);
  });

  it('on an error: closes everything, rethrows the body error (not a closer failure, which is logged)', async () => {
    const lines: string[] = [];
    configureLogger({ destination: { write: (l: string) => void lines.push(l) } });
    const closed: string[] = [];
    await expect(runJob('demo', async (job) => {
      job.resources.defer('a', () => void closed.push('a'));
      job.resources.defer('b', () => {
        throw new Error('b broke');
      });
      job.resources.defer('c', () => void closed.push('c'));
      throw new Error('sink flush failed');
    }, { signals: false })).rejects.toThrow('sink flush failed');
    expect(closed).toEqual(['c', 'a']);
    const msgs = lines.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg);
    expect(msgs).toEqual(['closing b failed', 'demo: closing after a failure also failed']);
  });

  it('the first signal reaches every stop handler (one registered later at once); a second exits now, even while closing', async () => {
    quiet();
    const before = process.listenerCount('SIGINT');
    const exits: number[] = [];
    const stops: string[] = [];
    await runJob('t', async (job) => {
      job.onStop((s) => stops.push(`early ${s}`));
      process.emit('SIGINT');
      job.onStop((s) => stops.push(`late ${s}`));
      job.requestStop('SIGTERM');
      // A closer that is slow, during which the operator signals again.
      job.resources.defer('slow sink', () => void process.emit('SIGTERM'));
      expect(process.listenerCount('SIGINT')).toBe(before + 1);
    }, { signals: { exitNow: (code) => exits.push(code) } });
    expect(stops).toEqual(['early SIGINT', 'late SIGINT']);
    expect(exits).toEqual([143]);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
