/**
 * docs/metrics.md lists every metric the code registers, with its type and
 * labels, and nothing else (in the manner of fastify's errors-in-docs test).
 */
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/index.js';

const DOC = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');

interface Row { name: string; type: string; labels: string[] }

function documented(): Row[] {
  const rows: Row[] = [];
  for (const line of DOC.split('\n')) {
    const m = /^\| `(posguard_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|/.exec(line);
    if (m === null) continue;
    const labels = [...m[3].matchAll(/`([a-z_]+)`/g)].map((x) => x[1]).sort();
    rows.push({ name: m[1], type: m[2], labels });
  }
  return rows;
}

function registered(): { rows: Row[]; all: string[] } {
  const registry = new Registry();
  createMetrics({ registry });
  const rows: Row[] = [];
  const all: string[] = [];
  for (const m of registry.getMetricsAsArray()) {
    const metric = m as unknown as { name: string; type: string; labelNames: string[] };
    all.push(metric.name);
    if (!metric.name.startsWith('posguard_')) continue;
    rows.push({ name: metric.name, type: metric.type, labels: [...metric.labelNames].sort() });
  }
  return { rows, all };
}

describe('docs/metrics.md', () => {
  const doc = documented();
  const code = registered();

  it('documents every posguard_ metric the code registers, with its type and labels', () => {
    expect(doc.length).toBeGreaterThan(20);
    const byName = new Map(doc.map((r) => [r.name, r]));
    for (const r of code.rows) expect(byName.get(r.name), `${r.name} is missing from docs/metrics.md`).toEqual(r);
  });

  it('documents nothing the code does not register', () => {
    const names = new Set(code.rows.map((r) => r.name));
    for (const r of doc) expect(names.has(r.name), `${r.name} is in docs/metrics.md but not registered`).toBe(true);
    expect(new Set(doc.map((r) => r.name)).size).toBe(doc.length);
  });

  it('names follow the Prometheus conventions', () => {
    for (const r of code.rows) {
      if (r.type === 'counter') expect(r.name, r.name).toMatch(/_total$/);
      else expect(r.name, r.name).not.toMatch(/_total$/);
      expect(r.name).toMatch(/^posguard_[a-z][a-z0-9_]*[a-z]$/);
    }
  });

  it('the process defaults it names are registered', () => {
    const named = [...DOC.matchAll(/`((?:process|nodejs)_[a-z0-9_]+)`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    for (const n of named) expect(code.all, n).toContain(n);
  });
});
