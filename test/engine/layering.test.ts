/**
 * Engine and detectors import one way (issue 10): the engine calls the
 * detectors, which read attempts through AttemptView (src/detect/attempt-view.ts)
 * and never the engine's storage; the shared vocabulary sits below both
 * (src/events, src/config, src/util, src/errors.ts), which import nothing above them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level folder (or file) of src/ each relative import of `file` lands in. */
function importedAreas(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)).split('/')[0]);
}

function offenders(area: string, forbidden: (target: string) => boolean): string[] {
  const root = join(SRC, area);
  const files = statSync(root).isDirectory() ? tsFiles(root) : [root];
  return files.flatMap((f) => importedAreas(f).filter(forbidden).map((t) => `${relative(SRC, f)} -> ${t}`));
}

describe('import direction between engine, detect and the layers below', () => {
  it('the scan sees imports (sanity: the engine imports detect)', () => {
    expect(offenders('engine', (t) => t === 'detect').length).toBeGreaterThan(0);
  });

  it('detect never imports the engine', () => {
    expect(offenders('detect', (t) => t === 'engine')).toEqual([]);
  });

  it('events, config, util and errors.ts import only each other', () => {
    const below = new Set(['events', 'config', 'util', 'errors.js']);
    for (const area of ['events', 'config', 'util', 'errors.ts']) expect(offenders(area, (t) => !below.has(t))).toEqual([]);
  });
});
