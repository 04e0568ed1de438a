/** Lifecycle (one state, forward only) and Resources (closed in reverse order of opening, once, all of them). */
import { describe, expect, it } from 'vitest';
import { isPosguardError } from '../../src/errors.js';
import { Lifecycle, Resources } from '../../src/runtime/lifecycle.js';
import { configureLogger } from '../../src/util/log.js';

describe('Lifecycle', () => {
  it('moves forward, repeats are no-ops, and says when it is stopping', () => {
    const l = new Lifecycle('job');
    const seen: string[] = [];
    l.onChange((s) => seen.push(s));
    expect(l.state).toBe('created');
    l.to('starting');
    l.to('running');
    l.to('running');
    expect(l.stopping).toBe(false);
    l.to('draining');
    expect(l.stopping).toBe(true);
    l.to('closed');
    expect(seen).toEqual(['starting', 'running', 'draining', 'closed']);
  });

  it('refuses to go back, naming the job and both states', () => {
    const l = new Lifecycle('replay');
    l.to('draining');
    let err: unknown;
    try {
      l.to('running');
    } catch (e) {
      err = e;
    }
    expect(isPosguardError(err) && err.code).toBe('PG_INTERNAL');
    expect((err as Error).message).toBe('replay: lifecycle cannot go from draining back to running');
    expect(l.state).toBe('draining');
  });
});

describe('Resources', () => {
  it('closes in reverse order of opening', async () => {
    const r = new Resources();
    const closed: string[] = [];
    for (const name of ['clickhouse', 'suppressor', 'metrics server', 'sink']) r.own(name, name, (n) => void closed.push(n));
    expect(r.names()).toEqual(['clickhouse', 'suppressor', 'metrics server', 'sink']);
    await r.closeAll();
    expect(closed).toEqual(['sink', 'metrics server', 'suppressor', 'clickhouse']);
    expect(r.names()).toEqual([]);
  });

  it('closes once: a second call (a signal during an error exit) gets the same promise and closes nothing again', async () => {
    const r = new Resources();
    let closes = 0;
    let release!: () => void;
    r.defer('slow', () => new Promise<void>((res) => {
      closes++;
      release = res;
    }));
    const first = r.closeAll();
    const second = r.closeAll();
    expect(second).toBe(first);
    release();
    await first;
    await r.closeAll();
    expect(closes).toBe(1);
  });

  it('one failing closer does not skip the others; the first failure is rethrown with the resource name, each is logged', async () => {
    const lines: string[] = [];
    configureLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    const r = new Resources();
    const closed: string[] = [];
    r.defer('a', () => void closed.push('a'));
    r.defer('b', () => {
      throw new Error('b broke');
    });
    r.defer('c', async () => {
      closed.push('c');
      throw new Error('c broke');
    });
    r.defer('d', () => void closed.push('d'));
    await expect(r.closeAll()).rejects.toThrow('closing c: c broke');
    expect(closed).toEqual(['d', 'c', 'a']);
    configureLogger();
    expect(lines.map((l) => JSON.parse(l) as { level: string; msg: string }).map((l) => `${l.level} ${l.msg}`)).toEqual([
      'debug closed d', 'warn closing c failed', 'warn closing b failed', 'debug closed a',
    ]);
  });

  it('refuses a resource opened after close began', async () => {
    const r = new Resources();
    await r.closeAll();
    expect(() => r.defer('late', () => undefined)).toThrow(/resource "late" opened after close began/);
  });
});
