/**
 * Imports flow one way (test/architecture/layers.ts, docs/architecture.md).
 * A failure names the importing file and line, the imported file, and the
 * row of the table it breaks; known violations of the restructuring in
 * flight are listed in KNOWN_VIOLATIONS and may only disappear.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_VIOLATIONS, LAYERS, layerOf, type KnownViolation } from './layers.js';
import { REPO_ROOT, readSourceFile, readSourceTree, type ImportEdge } from './source-graph.js';

/** Imports that cross into a layer their own layer's row does not list. */
function violationsOf(edges: readonly ImportEdge[]): ImportEdge[] {
  return edges.filter((e) => {
    const from = layerOf(e.from);
    const to = layerOf(e.to);
    return from !== to && LAYERS[from] !== undefined && !LAYERS[from].mayImport.includes(to);
  });
}

const key = (v: { from: string; to: string }): string => `${v.from} → ${v.to}`;

function describeViolation(e: ImportEdge): string {
  const from = layerOf(e.from);
  const allowed = LAYERS[from]?.mayImport.join(', ') || 'nothing';
  return `${e.from}:${e.line} imports ${e.to}${e.typeOnly ? ' (type only)' : ''}: ${from} may import only ${allowed} (test/architecture/layers.ts)`;
}

const tree = readSourceTree();
const edges = tree.flatMap((f) => f.imports);

describe('import direction (test/architecture/layers.ts)', () => {
  it('reads a plausible graph', () => {
    // Guards the check itself: a parser that found nothing would pass everything.
    expect(tree.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
  });

  it('reads every kind of import, `.js` suffix resolved to the `.ts` file', () => {
    const sample = readSourceFile('test/architecture/fixtures/sample.ts');
    expect(sample.imports.map((e) => [e.line, e.to, e.typeOnly])).toEqual([
      [5, 'src/runtime/lifecycle.ts', true], // import type
      [6, 'src/runtime/lifecycle.ts', false], // import
      [7, 'src/ingest/source.ts', true], // export type … from
      [9, 'src/errors.ts', true], // import('…').T
      [12, 'src/runtime/lifecycle.ts', false], // await import(…)
    ]);
  });

  it('has a row for every layer in src/', () => {
    const missing = [...new Set(tree.map((f) => layerOf(f.path)))].filter((l) => LAYERS[l] === undefined);
    expect(missing, 'new folder(s) in src/: add a row to LAYERS with its job and what it may import').toEqual([]);
    const unknownTargets = Object.entries(LAYERS).flatMap(([name, l]) => l.mayImport.filter((t) => LAYERS[t] === undefined).map((t) => `${name} → ${t}`));
    expect(unknownTargets, 'LAYERS names a layer that has no row').toEqual([]);
  });

  it('lets nothing import cli, and only cli import runtime', () => {
    for (const [name, l] of Object.entries(LAYERS)) {
      expect(l.mayImport, `${name} may not import cli`).not.toContain('cli');
      if (name !== 'cli') expect(l.mayImport, `only cli may import runtime, not ${name}`).not.toContain('runtime');
    }
  });

  it('has no import against the table except the known ones', () => {
    const known = new Set(KNOWN_VIOLATIONS.map(key));
    const unexpected = violationsOf(edges).filter((e) => !known.has(key(e)));
    expect(unexpected.map(describeViolation), 'imports against the layer table').toEqual([]);
  });

  it('has no stale KNOWN_VIOLATIONS entry', () => {
    const present = new Set(violationsOf(edges).map(key));
    const stale = KNOWN_VIOLATIONS.filter((v) => !present.has(key(v)));
    expect(stale.map((v: KnownViolation) => `stale allowlist entry: remove it from KNOWN_VIOLATIONS: ${key(v)} (${v.removedBy})`)).toEqual([]);
  });

  it('lists each known violation once', () => {
    const keys = KNOWN_VIOLATIONS.map(key);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i), 'duplicate KNOWN_VIOLATIONS entries').toEqual([]);
  });
});

/** The "may import" column of docs/architecture.md's folder table, "base" spelled out. */
function documentedTable(): Record<string, string[]> {
  const doc = readFileSync(join(REPO_ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.split('\n## Folders and what they may import')[1]?.split('\n## ')[0] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return Object.fromEntries(
    rows.map((row) => {
      const cells = row.split('|').map((c) => c.trim());
      const layer = cells[1]!.replace(/`/g, '').replace(/\/$/, '').replace(/\.ts$/, '');
      const targets = cells[3] === 'nothing' ? [] : cells[3]!.split(',').map((t) => t.trim());
      return [layer, targets.flatMap((t) => (t === 'base' ? ['events', 'config', 'util', 'errors'] : [t])).sort()];
    }),
  );
}

describe('docs/architecture.md', () => {
  it('shows the same table as test/architecture/layers.ts', () => {
    const enforced = Object.fromEntries(Object.entries(LAYERS).map(([name, l]) => [name, [...l.mayImport].sort()]));
    expect(documentedTable()).toEqual(enforced);
  });
});

describe('the violation finder', () => {
  // Proves the check can fail: each of these is an import the table forbids.
  const edge = (from: string, to: string): ImportEdge => ({ from, to, line: 1, typeOnly: false });

  it.each([
    ['detect never imports engine', 'src/detect/orphan-debit.ts', 'src/engine/engine.ts'],
    ['sinks never import ingest', 'src/sinks/jsonl-writer.ts', 'src/ingest/source.ts'],
    ['ingest never imports sim', 'src/ingest/jsonl.ts', 'src/sim/index.ts'],
    ['ingest never imports sinks', 'src/ingest/kafka/dlq.ts', 'src/sinks/types.ts'],
    ['ingest never imports engine', 'src/ingest/validate.ts', 'src/engine/engine.ts'],
    ['engine never imports ingest', 'src/engine/engine.ts', 'src/ingest/source.ts'],
    ['engine never imports sinks', 'src/engine/engine.ts', 'src/sinks/types.ts'],
    ['engine never imports runtime', 'src/engine/engine.ts', 'src/runtime/lifecycle.ts'],
    ['nothing imports cli', 'src/runtime/lifecycle.ts', 'src/cli/main.ts'],
    ['only cli imports runtime', 'src/sinks/types.ts', 'src/runtime/lifecycle.ts'],
    ['eval never imports engine', 'src/eval/reference.ts', 'src/engine/engine.ts'],
    ['eval never imports detect', 'src/eval/reference.ts', 'src/detect/orphan-debit.ts'],
    ['the base never imports up', 'src/util/heap.ts', 'src/engine/engine.ts'],
    ['errors imports nothing', 'src/errors.ts', 'src/util/log.ts'],
  ])('%s', (_rule, from, to) => {
    expect(violationsOf([edge(from, to)])).toHaveLength(1);
  });

  it.each([
    ['cli → runtime', 'src/cli/commands/run.ts', 'src/runtime/lifecycle.ts'],
    ['runtime → engine', 'src/runtime/lifecycle.ts', 'src/engine/engine.ts'],
    ['engine → detect', 'src/engine/engine.ts', 'src/detect/orphan-debit.ts'],
    ['within one layer', 'src/ingest/kafka/kafka-source.ts', 'src/ingest/source.ts'],
    ['down to the base', 'src/detect/orphan-debit.ts', 'src/config/rules.ts'],
  ])('allows %s', (_rule, from, to) => {
    expect(violationsOf([edge(from, to)])).toEqual([]);
  });
});
