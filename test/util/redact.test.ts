import { afterEach, describe, expect, it } from 'vitest';
import { clearSecrets, redact, redactUrl, registerSecret, registerUrlSecret } from '../../src/util/redact.js';

describe('redact', () => {
  afterEach(() => clearSecrets());

  it('masks the userinfo of every URL in a text, whatever the scheme', () => {
    expect(redactUrl('to https://u:p4ss@reg.example/x and http://only-user@ch:8123/ and kafka://a:b@k:9092'))
      .toBe('to https://***@reg.example/x and http://***@ch:8123/ and kafka://***@k:9092');
    expect(redactUrl('no userinfo: https://reg.example/a@b')).toBe('no userinfo: https://reg.example/a@b');
  });

  it('masks registered secrets anywhere, plain and URL-encoded, the longest first', () => {
    registerSecret('s3cr3t+/=');
    registerSecret('s3cr3t+/=-and-more');
    registerUrlSecret('https://user:p%40ss-word@host/');
    expect(redact('a s3cr3t+/=-and-more b s3cr3t%2B%2F%3D c s3cr3t+/= d p@ss-word')).toBe('a *** b *** c *** d ***');
  });

  it('ignores values too short to mask without mangling every line', () => {
    registerSecret('ab');
    registerSecret('');
    registerSecret(null);
    expect(redact('ab cd')).toBe('ab cd');
  });
});
