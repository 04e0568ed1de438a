import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, PosguardError, isPosguardError } from '../src/errors.js';

describe('error codes', () => {
  it('every code is documented in docs/errors.md, and nothing else is', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(PG_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('carries code, retriable flag and context', () => {
    const e = new PosguardError('PG_KAFKA', 'broker down', { retriable: true, context: { broker: 'x' } });
    expect(isPosguardError(e)).toBe(true);
    expect([e.code, e.retriable, e.context.broker]).toEqual(['PG_KAFKA', true, 'x']);
    expect(Object.isFrozen(e.context)).toBe(true);
  });
});
