import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, PosguardError, isPosguardError } from '../src/errors.js';

describe('error codes', () => {
  it('every code is documented in docs/errors.md, and nothing else is', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(PG_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('the three "not found" codes point at each other', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const row = (code: string) => doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`))!;
    for (const code of ['PG_UNKNOWN_ANOMALY', 'PG_UNKNOWN_SUPPRESSION']) expect(row(code)).toContain('see `PG_NOT_FOUND`');
    const note = doc.slice(doc.indexOf('**Three "not found" codes, one meaning.**'));
    expect(note.length).toBeLessThan(doc.length);
    for (const code of ['PG_NOT_FOUND', 'PG_UNKNOWN_ANOMALY', 'PG_UNKNOWN_SUPPRESSION']) expect(note.split('\n\n')[0]).toContain(`\`${code}\``);
  });

  it('carries code, retriable flag and context', () => {
    const e = new PosguardError('PG_KAFKA', 'broker down', { retriable: true, context: { broker: 'x' } });
    expect(isPosguardError(e)).toBe(true);
    expect([e.code, e.retriable, e.context.broker]).toEqual(['PG_KAFKA', true, 'x']);
    expect(Object.isFrozen(e.context)).toBe(true);
  });
});
