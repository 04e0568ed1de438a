import { describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES } from '../../src/config/rules.js';
import { rulesStamp } from '../../src/config/rules-version.js';

describe('rules version', () => {
  it('names the thresholds, not the file: same rules in another order or spelled out give the same version', () => {
    const spelled = buildRules({ debits: { resolutionHorizonMs: 86_400_000, reversalGraceMs: 300_000 }, time: { maxDelayMs: 60_000 } });
    expect(rulesStamp(spelled).version).toBe(rulesStamp(DEFAULT_RULES).version);
    expect(rulesStamp(DEFAULT_RULES).version).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.parse(rulesStamp(DEFAULT_RULES).json)).toEqual(JSON.parse(JSON.stringify(DEFAULT_RULES)));
  });

  it('changes with any threshold', () => {
    const stricter = buildRules({ cardTesting: { minAttempts: 5 } });
    expect(rulesStamp(stricter).version).not.toBe(rulesStamp(DEFAULT_RULES).version);
  });
});
