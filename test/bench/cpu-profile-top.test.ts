/**
 * bench/cpu-profile-top.ts sums a profile's self time per frame and per file
 * or package: a frame's samples are its own, not its children's.
 */
import { describe, expect, it } from 'vitest';
import { profileTop } from '../../bench/cpu-profile-top.js';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe('cpu profile top', () => {
  it('sums self time per frame and per file, largest first', () => {
    const p = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
        { id: 2, callFrame: frame('encode', 'file:///w/src/sinks/clickhouse/tables.ts'), children: [3] },
        { id: 3, callFrame: frame('readString', 'file:///w/node_modules/avsc/lib/utils.js') },
        { id: 4, callFrame: frame('', 'file:///w/node_modules/@kafkajs/confluent-schema-registry/dist/x.js') },
        { id: 5, callFrame: frame('(garbage collector)', '') },
      ],
      samples: [2, 2, 3, 4, 5, 5, 5, 2],
      timeDeltas: [10, 20, 5, 7, 100, 100, 100, 30],
    };
    const top = profileTop(p);
    expect(top.totalUs).toBe(372);
    expect(top.frames).toEqual([
      ['(garbage collector)', 300],
      ['encode src/sinks/clickhouse/tables.ts', 60],
      ['(anonymous) npm:@kafkajs/confluent-schema-registry', 7],
      ['readString npm:avsc', 5],
    ]);
    expect(top.files.map(([f]) => f)).toEqual(['(garbage collector)', 'src/sinks/clickhouse/tables.ts', 'npm:@kafkajs/confluent-schema-registry', 'npm:avsc']);
  });
});
