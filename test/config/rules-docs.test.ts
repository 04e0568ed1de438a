/** docs/rules.md and rules/default.yaml must cover every field of RULES_SCHEMA, with the schema's defaults. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, loadRulesFile, RULES_SCHEMA } from '../../src/config/rules.js';

interface Field { readonly path: string; readonly def: unknown }

function schemaFields(): Field[] {
  const out: Field[] = [];
  for (const [section, s] of Object.entries(RULES_SCHEMA.properties)) {
    for (const [name, p] of Object.entries((s as { properties: Record<string, { default: unknown }> }).properties)) {
      out.push({ path: `${section}.${name}`, def: p.default });
    }
  }
  return out;
}

describe('rules documentation', () => {
  const doc = readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8');
  const fields = schemaFields();

  it('docs/rules.md has a row for every field, with the schema default', () => {
    expect(fields.length).toBeGreaterThan(30);
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const f of fields) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${f.path}\` |`));
      if (row === undefined) {
        missing.push(f.path);
        continue;
      }
      const cells = row.split(' | ');
      if (cells[2] !== `\`${String(f.def)}\``) wrong.push(`${f.path}: documented ${cells[2]}, schema ${String(f.def)}`);
    }
    expect(missing).toEqual([]);
    expect(wrong).toEqual([]);
  });

  it('docs/rules.md documents no field the schema does not have', () => {
    const known = new Set(fields.map((f) => f.path));
    const rows = [...doc.matchAll(/^\| `([a-zA-Z]+\.[a-zA-Z]+)` \|/gm)].map((m) => m[1]);
    expect(rows.filter((r) => !known.has(r))).toEqual([]);
  });

  it('rules/default.yaml sets every field to its default', () => {
    const path = new URL('../../rules/default.yaml', import.meta.url).pathname;
    expect(loadRulesFile(path)).toEqual(DEFAULT_RULES);
    const text = readFileSync(path, 'utf8');
    for (const f of fields) {
      const name = f.path.split('.')[1];
      expect(text, f.path).toMatch(new RegExp(`^ {2}${name}: ${String(f.def)}\\b`, 'm'));
    }
  });

  it('every example rules file is valid', () => {
    for (const name of ['default.yaml', 'strict.yaml', 'patterns-off.yaml']) {
      expect(() => loadRulesFile(new URL(`../../rules/${name}`, import.meta.url).pathname), name).not.toThrow();
    }
  });
});
