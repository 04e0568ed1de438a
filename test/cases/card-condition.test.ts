/** `posguard case --card`: a clear card number is refused however it is grouped; tokens and masked PANs pass. */
import { describe, expect, it } from 'vitest';
import { cardCondition } from '../../src/cases/search.js';

describe('cardCondition', () => {
  it('refuses a card number grouped with spaces, dashes, dots, underscores or slashes, without repeating it', () => {
    for (const card of ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '4111.1111.1111.1111', '4111_1111_1111_1111', '4111/1111/1111/1111']) {
      let message = '';
      try {
        cardCondition(card);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, card).toMatch(/^--card: that looks like a clear card number/);
      expect(message).not.toContain('1111');
    }
  });

  it('still takes a token and a masked PAN (dots as the mask too)', () => {
    expect(cardCondition('tok_abc.def')).toBe("card_token = 'tok_abc.def'");
    expect(cardCondition('465859******6518')).toMatch(/^masked_pan LIKE '465859%6518'$/);
    expect(cardCondition('465859......6518')).toMatch(/^masked_pan LIKE '465859%6518'$/);
  });
});
