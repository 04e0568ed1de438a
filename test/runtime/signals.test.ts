/** SIGINT/SIGTERM: the first stops the input (the job drains and closes), the second exits now with 128 + n. */
import { afterEach, describe, expect, it } from 'vitest';
import { signalExitCode, watchShutdownSignals } from '../../src/runtime/signals.js';
import { configureLogger } from '../../src/util/log.js';

afterEach(() => configureLogger());

describe('watchShutdownSignals', () => {
  it('first signal: stop; second: exit now with the shell code; lines say so; removing the watcher restores the listeners', () => {
    const lines: string[] = [];
    configureLogger({ destination: { write: (l: string) => void lines.push(l) } });
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
    const stops: string[] = [];
    const exits: number[] = [];
    const unwatch = watchShutdownSignals({ stop: (s) => stops.push(s), exitNow: (code) => exits.push(code) });
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1);
    process.emit('SIGTERM');
    expect(stops).toEqual(['SIGTERM']);
    expect(exits).toEqual([]);
    process.emit('SIGINT');
    expect(stops).toEqual(['SIGTERM']);
    expect(exits).toEqual([130]);
    unwatch();
    expect({ int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') }).toEqual(before);
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; component: string; msg: string });
    expect(parsed.map((l) => [l.level, l.component])).toEqual([['info', 'runtime'], ['warn', 'runtime']]);
    expect(parsed[0].msg).toMatch(/^SIGTERM: stopping the input, then draining and closing/);
    expect(parsed[1].msg).toMatch(/^SIGINT again: exiting now/);
  });

  it('exit codes are 128 + the signal number', () => {
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });
});
